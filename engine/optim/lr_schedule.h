// SPDX-License-Identifier: Apache-2.0
// Learning-rate schedules as pure functions of the global step, so resuming needs only the step:
// constant, step (×gamma every step_epochs epochs), cosine (to min_lr at the last step), each
// optionally after a linear warm-up. Layer: engine/optim.
#pragma once

#include <cstdint>
#include <string>

namespace netwright {

struct ScheduleSettings {
    std::string name = "constant"; // constant, step, cosine
    int stepEpochs = 1;
    double gamma = 0.1;
    double minLr = 0.0;
    int64_t warmupSteps = 0;
};

class LrSchedule {
public:
    // Throws Error naming the schedule setting at fault.
    LrSchedule(const ScheduleSettings &settings, double baseLr, int64_t stepsPerEpoch, int64_t totalSteps);
    // The learning rate for the update made at 0-based global step `step`.
    double at(int64_t step) const;

private:
    ScheduleSettings m_s;
    double m_base;
    int64_t m_stepsPerEpoch, m_totalSteps;
};

} // namespace netwright
