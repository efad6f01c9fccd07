// SPDX-License-Identifier: Apache-2.0
// `netwright resume RUN_DIR`: continues a run from its newest valid checkpoint, bit-identically
// to a run that was never interrupted. Layer: app/cli.
#pragma once

#include <QStringList>

namespace netwright::cli {

int runResumeCommand(const QStringList &arguments);

} // namespace netwright::cli
