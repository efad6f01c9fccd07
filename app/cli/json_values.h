// SPDX-License-Identifier: Apache-2.0
// What the commands that print JSON share: a std::string as a QString, and a figure as a JSON
// number — null where it is not finite (JSON has no NaN; a diverged run's metrics). Layer: app.
#pragma once

#include <QJsonValue>
#include <QString>

#include <cmath>
#include <string>

namespace netwright::cli {

inline QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

inline QJsonValue number(double v)
{
    return std::isfinite(v) ? QJsonValue(v) : QJsonValue();
}

} // namespace netwright::cli
