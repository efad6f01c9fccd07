// SPDX-License-Identifier: Apache-2.0
// Writes every step and every evaluation of a run as JSON lines (metrics.jsonl), never
// downsampled. Layer: engine/train. Holds no wall-clock values, so two runs with the same seed
// and thread count write byte-identical logs; floats are printed with round-trip precision.
#pragma once

#include "train/observer.h"

#include <cstdio>
#include <string>

namespace netwright {

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

    // Before a resume: drops every record that comes after the checkpoint taken at `globalStep`
    // (its epoch summary and evaluation stay only when the checkpoint was taken after them), so
    // the resumed run appends exactly what an uninterrupted run would have written.
    static void truncateAfter(const std::string &path, int64_t globalStep, bool afterEpochEnd);

private:
    void write(const std::string &line);
    std::string m_path;
    std::FILE *m_file = nullptr;
};

} // namespace netwright
