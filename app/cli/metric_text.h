// SPDX-License-Identifier: Apache-2.0
// A run's metric as the command tables (batch, sweep, compare) print it. Layer: app/cli.
#pragma once

#include <QString>

#include <optional>
#include <string>

namespace netwright::cli {

// Accuracy-like figures in %, the others to 4 decimals, "-" when not evaluated.
QString metricText(const std::string &metric, std::optional<double> value);

} // namespace netwright::cli
