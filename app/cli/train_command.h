// SPDX-License-Identifier: Apache-2.0
// `netwright train`: runs the configured training headless and writes a run directory.
// Layer: app/cli. Returns the process exit code (see README: 0 done, 1 error, 2 usage, 130 stopped).
#pragma once

#include <QStringList>

namespace netwright::cli {

int runTrainCommand(const QStringList &arguments);

} // namespace netwright::cli
