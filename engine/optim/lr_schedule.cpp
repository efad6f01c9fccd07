// SPDX-License-Identifier: Apache-2.0
#include "optim/lr_schedule.h"

#include "core/error.h"

#include <algorithm>
#include <cmath>

namespace netwright {

LrSchedule::LrSchedule(const ScheduleSettings &s, double baseLr, int64_t stepsPerEpoch, int64_t totalSteps)
    : m_s(s), m_base(baseLr), m_stepsPerEpoch(std::max<int64_t>(1, stepsPerEpoch)), m_totalSteps(std::max<int64_t>(1, totalSteps))
{
    check(baseLr > 0.0, "optimizer.lr must be positive, got " + std::to_string(baseLr) + ".");
    check(s.name == "constant" || s.name == "step" || s.name == "cosine",
          "Unknown schedule.name \"" + s.name + "\" (expected constant, step or cosine).");
    check(s.stepEpochs > 0, "schedule.step_epochs must be positive.");
    check(s.gamma > 0.0, "schedule.gamma must be positive.");
    check(s.minLr >= 0.0 && s.minLr <= baseLr, "schedule.min_lr must be in [0, optimizer.lr].");
    check(s.warmupSteps >= 0, "schedule.warmup_steps must not be negative.");
}

double LrSchedule::at(int64_t step) const
{
    if (step < m_s.warmupSteps)
        return m_base * static_cast<double>(step + 1) / static_cast<double>(m_s.warmupSteps);
    if (m_s.name == "step")
        return m_base * std::pow(m_s.gamma, static_cast<double>((step / m_stepsPerEpoch) / m_s.stepEpochs));
    if (m_s.name == "cosine") {
        const double span = static_cast<double>(std::max<int64_t>(1, m_totalSteps - m_s.warmupSteps));
        const double t = std::min(1.0, static_cast<double>(step - m_s.warmupSteps) / span);
        return m_s.minLr + (m_base - m_s.minLr) * 0.5 * (1.0 + std::cos(M_PI * t));
    }
    return m_base;
}

} // namespace netwright
