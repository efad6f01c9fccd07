// SPDX-License-Identifier: Apache-2.0
// One run overlaid in TrainingCurves (a run comparison): its points and its four graphs. Internal
// to training_curves*.cpp. Layer: widgets.
#pragma once

#include "training/training_curves.h"

#include <QColor>
#include <QString>

#include <vector>

class QCPGraph;

namespace netwright::widgets {

struct TrainingCurves::RunSeries {
    QString name;
    QColor color;
    bool visible = true;
    QString figureName;                                   // "test accuracy", "test R²" …
    std::vector<CurvePoint> loss, lr, test;               // steps' loss and rate; evaluations' figure
    QCPGraph *smooth = nullptr, *raw = nullptr, *testGraph = nullptr, *lrGraph = nullptr;
};

} // namespace netwright::widgets
