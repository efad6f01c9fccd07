// SPDX-License-Identifier: Apache-2.0
// Shows training progress on the console: on a terminal one line updated in place (epoch, step,
// loss, accuracy, images/s, ETA), otherwise plain lines every `logEvery` steps; epoch results
// always as lines of their own. Layer: app/cli.
#pragma once

#include "train/observer.h"

#include <chrono>
#include <cstdio>
#include <string>

namespace netwright::cli {

class ProgressReporter final : public TrainingObserver {
public:
    ProgressReporter(std::FILE *out, bool interactive, int logEvery);

    void onTrainBegin(const TrainBeginInfo &b) override;
    void onStep(const StepInfo &s) override;
    void onEpochEnd(const EpochInfo &e) override;
    void onEvaluation(const EvalInfo &e) override;
    void onTrainEnd(const TrainEndInfo &e) override;
    // A line of its own between progress updates (e.g. "checkpoint runs/…/x.ckpt").
    void note(const std::string &text);

private:
    using Clock = std::chrono::steady_clock;
    void clearLine();

    std::FILE *m_out;
    bool m_interactive;
    int m_logEvery;
    TrainBeginInfo m_begin;
    Clock::time_point m_start, m_epochStart, m_lastDraw;
    double m_smoothedLoss = 0.0, m_smoothedAcc = 0.0, m_imagesPerSecond = 0.0;
    const char *rateUnit() const { return m_begin.images ? "img/s" : "samples/s"; }
    std::string m_metricName = "accuracy"; // the step figure smoothed in m_smoothedAcc
    int64_t m_stepsSeen = 0, m_imagesSinceRate = 0;
    int64_t m_epochImages = 0; // trained by this process since the last evaluation (not before a resume)
    Clock::time_point m_rateStart;
    EpochInfo m_lastEpoch;
    bool m_lineOpen = false;
};

} // namespace netwright::cli
