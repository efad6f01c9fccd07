// SPDX-License-Identifier: Apache-2.0
// TensorBoard event files beside metrics.jsonl (`tensorboard --logdir runs/`): each run writes
// events.out.tfevents.<secs>.<host>.<pid>.<n>, TFRecords (run/tfrecord.h) of Event protos
// (proto/tensorboard_event.proto): the file version, the run config as a text summary ("config"),
// then the scalars of every metrics record, written from the very records metrics.jsonl gets
// (metrics.jsonl stays the source of truth). A resumed run writes a new file that sorts after the
// others; the older files are first cut back exactly as metrics.jsonl is (truncateAfter), and the
// points a kill kept from reaching them (the file is flushed per epoch, per evaluation, every 10 s
// and at the end) are written again from metrics.jsonl, so across the files every logged step has
// one point. Layer: engine/run. Thread affinity: the training thread.
#pragma once

#include "config/run_config.h"
#include "run/metrics_log.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace netwright {

class TensorBoardLog {
public:
    static constexpr const char *kFilePrefix = "events.out.tfevents.";

    // The scalars a metrics record becomes, (tag, value): a step gives train/loss, train/lr,
    // train/accuracy (classification) or train/<its metric>; an epoch train/epoch_loss,
    // train/epoch_accuracy; an evaluation eval/loss, eval/accuracy and eval/<metric> (top5, r2, …).
    static std::vector<std::pair<std::string, double>> scalarsOf(const MetricsRecord &record);
    // Tags of epoch summaries and evaluations (kept at a checkpoint's step only when the
    // checkpoint was taken after them), as against the step's own tags.
    static bool isEpochTag(const std::string &tag);
    static bool isEventFileName(const std::string &name);
    // The events files in `runDir`, sorted (TensorBoard's reading order).
    static std::vector<std::string> eventFiles(const std::string &runDir);

    // When each training step of the run in `runDir` was logged: its train/loss point's wall time
    // (seconds since the Unix epoch) by global step, from its events files ({} when it has none).
    // metrics.jsonl keeps no clock; this is what the curves' wall-time axis reads for a finished
    // run. The steps a resume wrote again from metrics.jsonl carry the resume's time.
    static std::map<int64_t, double> stepWallTimes(const std::string &runDir);

    // Before a resume or a fork: cuts every events file in `runDir` back as MetricsLog::truncateAfter
    // cuts metrics.jsonl (points after `globalStep`; at it, the epoch and evaluation points unless
    // `afterEpochEnd`), and a record a kill cut short. Each file is rewritten atomically; an
    // emptied one is removed. Throws Error naming the file when it cannot be rewritten.
    static void truncateAfter(const std::string &runDir, int64_t globalStep, bool afterEpochEnd);

    // A writer for the run in `runDir` whose config is `config`. `resumedAt`: the global step a
    // resume continues from (-1: a new run). Nothing is written before the first record, so a
    // finished run that is resumed gets no new file.
    TensorBoardLog(std::string runDir, const RunConfig &config, int64_t resumedAt);
    ~TensorBoardLog();
    TensorBoardLog(const TensorBoardLog &) = delete;
    TensorBoardLog &operator=(const TensorBoardLog &) = delete;

    // Appends the record's scalars (MetricsLog's record sink). Throws Error naming the file.
    void write(const MetricsRecord &record);
    // The file written ("" before the first record).
    const std::string &path() const { return m_path; }

private:
    void open();
    void append(const std::string &serializedEvent);
    void flush();

    std::string m_dir, m_path, m_configJson;
    int64_t m_resumedAt;
    bool m_configWritten = false;          // an older file of the run holds the config text
    std::vector<std::string> m_replay;     // serialized Events: the points older files lack
    std::FILE *m_file = nullptr;
    std::chrono::steady_clock::time_point m_lastFlush;
};

} // namespace netwright
