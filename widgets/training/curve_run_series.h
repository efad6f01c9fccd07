// SPDX-License-Identifier: Apache-2.0
// One run overlaid in TrainingCurves (a run comparison): its points and its four graphs; and how a
// metrics log's steps become points. Internal to training_curves*.cpp. Layer: widgets.
#pragma once

#include "run/metrics_log.h"
#include "training/training_curves.h"

#include <QColor>
#include <QString>

#include <algorithm>
#include <utility>
#include <vector>

class QCPGraph;

namespace netwright::widgets {

struct TrainingCurves::RunSeries {
    QString name;
    QColor color;
    bool visible = true;
    QString figureName;                                   // "test accuracy", "test R²" …
    double wall0 = kUnknown;                              // its first step's wall time
    std::vector<CurvePoint> loss, lr, test;               // steps' loss and rate; the evaluations' figure shown
    std::vector<std::pair<QString, std::vector<CurvePoint>>> figures; // every evaluation series: "test loss", "test accuracy" …
    QCPGraph *smooth = nullptr, *raw = nullptr, *testGraph = nullptr, *lrGraph = nullptr;
};

// A metrics log's epoch length: its longest run of steps (a stopped run's last epoch is shorter).
inline int64_t stepsPerEpochOf(const std::vector<MetricsRecord> &records)
{
    int64_t steps = 0;
    for (const MetricsRecord &r : records)
        if (r.type == MetricsRecord::Type::Step)
            steps = std::max(steps, r.step);
    return steps;
}

// A step record's fractional epoch: the last step of the first epoch is at 1.0.
inline double fractionalEpoch(const MetricsRecord &step, int64_t stepsPerEpoch)
{
    if (stepsPerEpoch <= 0 || step.epoch <= 0)
        return kUnknown;
    return static_cast<double>(step.epoch - 1) + static_cast<double>(step.step) / static_cast<double>(stepsPerEpoch);
}

} // namespace netwright::widgets
