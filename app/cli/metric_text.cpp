// SPDX-License-Identifier: Apache-2.0
#include "cli/metric_text.h"

namespace netwright::cli {

QString metricText(const std::string &metric, std::optional<double> value)
{
    if (!value)
        return QStringLiteral("-");
    if (metric == "accuracy" || metric == "top5")
        return QString::number(100.0 * *value, 'f', 2) + QStringLiteral(" %");
    return QString::number(*value, 'f', 4);
}

} // namespace netwright::cli
