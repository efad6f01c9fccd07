// SPDX-License-Identifier: Apache-2.0
// How the window writes a task's metric in a table (the run comparison, a sweep's trials):
// accuracy and top-5 as percentages, anything else with four decimals, "–" where there is none.
// Layer: app.
#pragma once

#include <QString>

#include <cmath>
#include <optional>
#include <string>

namespace netwright::gui {

inline QString metricText(const std::string &metric, std::optional<double> v)
{
    if (!v || !std::isfinite(*v))
        return QStringLiteral("–");
    if (metric == "accuracy" || metric == "top5")
        return QString::number(100.0 * *v, 'f', 2) + QStringLiteral(" %");
    return QString::number(*v, 'f', 4);
}

} // namespace netwright::gui
