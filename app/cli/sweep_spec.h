// SPDX-License-Identifier: Apache-2.0
// A sweep spec (JSON): a base run config (inline, or a file beside the spec), a `grid` of config
// key paths to value lists (their cartesian product), `random` trials drawn from ranges with a
// seed, and `seeds` (every trial once per seed). planSweep() turns it into named trials, each a
// whole run config, checking every key path against the run config schema and every value by
// parsing the trial's config — before anything is written. Layer: app/cli.
#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QStringList>

#include <utility>
#include <vector>

namespace netwright::cli {

struct SweepTrial {
    QString name;                                   // "lr=0.01,batch_size=64,seed=1"
    std::vector<std::pair<QString, QJsonValue>> values; // swept key path → this trial's value
    QByteArray config;                              // the trial's whole run config (JSON)
};

struct SweepPlan {
    QString specFile, folder;
    QJsonObject record;  // what <folder>/sweep.json holds: the spec with its base resolved
    QStringList keys;    // the swept key paths, in name order
    int baseThreads = 0; // the base's training.threads (best_config.json keeps it)
    std::vector<SweepTrial> trials;

    QString configPath(const SweepTrial &t) const; // <folder>/configs/<trial>.json
    QString runDir(const SweepTrial &t) const;     // <folder>/<trial>
};

// Whether `path` is a sweep spec rather than a run config: a JSON object with "grid" or "random".
bool isSweepSpec(const QString &path);
// The trials of `specFile` for the sweep folder `folder`. With `threadsPerTrial` > 0, a base that
// trains on every core (training.threads 0) gets that many threads per trial instead. Throws Error
// naming the spec file and the key; refuses a folder that holds another sweep. Writes nothing.
SweepPlan planSweep(const QString &specFile, const QString &folder, int threadsPerTrial = 0);
// Writes sweep.json and configs/<trial>.json (atomically; the same bytes again on a restart).
void writeSweepFolder(const SweepPlan &plan);

} // namespace netwright::cli
