// SPDX-License-Identifier: Apache-2.0
// `netwright train --plan`: prints, without training, the checkpoints the configured run would
// write and what each keep rule would do with them. Layer: app/cli.
#pragma once

#include <string>

namespace netwright {
struct RunConfig;
struct PlanShape;
} // namespace netwright

namespace netwright::cli {

// Returns the exit code.
int printCheckpointPlan(const RunConfig &config, const std::string &directory, const PlanShape &shape, bool json);

} // namespace netwright::cli
