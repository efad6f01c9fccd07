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
    // Creates (truncates) the file; throws Error naming it when that fails.
    explicit MetricsLog(const std::string &path);
    ~MetricsLog() override;
    MetricsLog(const MetricsLog &) = delete;
    MetricsLog &operator=(const MetricsLog &) = delete;

    void onStep(const StepInfo &s) override;
    void onEpochEnd(const EpochInfo &e) override;
    void onEvaluation(const EvalInfo &e) override;
    void onTrainEnd(const TrainEndInfo &e) override;

private:
    void write(const std::string &line);
    std::string m_path;
    std::FILE *m_file = nullptr;
};

} // namespace netwright
