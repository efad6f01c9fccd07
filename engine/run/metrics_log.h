// SPDX-License-Identifier: Apache-2.0
// metrics.jsonl: every step, epoch summary and evaluation of a run, never downsampled. One typed
// record, one writer (an observer), one reader (a line that does not parse, or a field of the
// wrong type, is an error naming the file, line and key; a cut last line is left out and said).
// Holds no wall-clock values, so two runs with the same seed and thread count write
// byte-identical logs; numbers are written with round-trip precision, non-finite ones as null.
// Layer: engine/run.
#pragma once

#include "train/observer.h"

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace netwright {

struct MetricsRecord {
    enum class Type { Step, Epoch, Eval, End };
    Type type = Type::Step;
    int64_t epoch = 0, step = 0, globalStep = 0, batchSize = 0; // step: all; epoch/eval: epoch, globalStep
    int64_t samples = 0, correct = 0;                            // epoch: samples; eval: samples, correct
    double loss = 0, accuracy = 0, lr = 0;                       // step; eval: loss, accuracy
    double trainLoss = 0, trainAccuracy = 0;                     // epoch
    int64_t epochsDone = 0;                                      // end
    bool stopped = false;                                        // end
    // Classification records carry accuracy (and eval: correct); the other tasks do not.
    bool hasAccuracy = true;
    // step: the task's step figure unless it is accuracy (mae, f1); eval: the task's metrics
    // besides accuracy (top5, r2, rmse, mae, f1, precision, recall, f1[label]).
    std::vector<Metric> metrics;
};

struct MetricsLogContents {
    bool exists = false;
    std::vector<MetricsRecord> records;
    int64_t tornLine = 0; // a cut last line that was left out (0: none)
};

// Reads `path`; a missing file is an empty log (exists = false). Throws Error naming file, line
// and key for a line that is not a metrics record.
MetricsLogContents readMetricsLog(const std::string &path);
// One record as its JSON line (newline included).
std::string metricsRecordLine(const MetricsRecord &record);

class MetricsLog final : public TrainingObserver {
public:
    // Creates (truncates) the file, or appends to it; throws Error naming it when that fails.
    explicit MetricsLog(const std::string &path, bool append = false);
    ~MetricsLog() override;
    MetricsLog(const MetricsLog &) = delete;
    MetricsLog &operator=(const MetricsLog &) = delete;

    void onStep(const StepInfo &s) override;
    void onEpochEnd(const EpochInfo &e) override;
    void onEvaluation(const EvalInfo &e) override;
    void onTrainEnd(const TrainEndInfo &e) override;

    // Told of every record once it is in the file (the TensorBoard events file writes the same
    // values: run/tensorboard_log.h).
    void setRecordSink(std::function<void(const MetricsRecord &)> sink) { m_sink = std::move(sink); }

    // Before a resume: drops every record that comes after the checkpoint taken at `globalStep`
    // (its epoch summary and evaluation stay only when the checkpoint was taken after them), so
    // the resumed run appends exactly what an uninterrupted run would have written. The file is
    // rewritten atomically; a cut last line goes, a damaged line stops it (Error names it).
    static void truncateAfter(const std::string &path, int64_t globalStep, bool afterEpochEnd);

private:
    void write(const MetricsRecord &record);
    std::string m_path;
    std::FILE *m_file = nullptr;
    std::function<void(const MetricsRecord &)> m_sink;
};

} // namespace netwright
