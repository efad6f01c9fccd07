// SPDX-License-Identifier: Apache-2.0
// A sweep's results: its trials sorted by the task's main metric (best first), written into the
// sweep folder as results.csv and results.json, and the best trial's run config as
// best_config.json (what `netwright train --config` reads). Layer: app/cli.
#pragma once

#include "cli/run_queue.h"
#include "cli/sweep_spec.h"

#include <QJsonObject>

#include <vector>

namespace netwright::cli {

struct SweepResults {
    std::string metric;            // the task's main metric ("accuracy", "r2", "f1")
    std::vector<size_t> order;     // indices into the plan's trials, best first (unevaluated last)
    QString bestConfig;            // <folder>/best_config.json, empty while no trial was evaluated
};

// `runs[i]` is the queue entry of `plan.trials[i]`. Writes the files atomically; throws Error.
SweepResults writeSweepResults(const SweepPlan &plan, const std::vector<QueuedRun> &runs);
// The results as the table `sweep` prints, and as its --json.
void printSweepTable(const SweepPlan &plan, const std::vector<QueuedRun> &runs, const SweepResults &results);
QJsonObject sweepJson(const SweepPlan &plan, const std::vector<QueuedRun> &runs, const SweepResults &results);

} // namespace netwright::cli
