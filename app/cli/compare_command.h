// SPDX-License-Identifier: Apache-2.0
// `netwright compare RUN… [--json]`: runs side by side — name, model, data, the config keys whose
// values differ between them (flattened key paths), best and final test metrics of the task,
// training time, kept and best checkpoints. A sweep folder stands for its trials. Layer: app/cli.
#pragma once

#include <QStringList>

namespace netwright::cli {

// Exit codes: 0 shown, 1 bad input (a path that is no run directory, a damaged log), 2 usage.
int runCompareCommand(const QStringList &arguments);

} // namespace netwright::cli
