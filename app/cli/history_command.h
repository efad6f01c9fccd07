// SPDX-License-Identifier: Apache-2.0
// `netwright history RUN_DIR`: the run's checkpoints from its checkpoint history — file, epoch, step,
// time, size, evaluation metrics, and whether it is kept or was deleted and by which rule. Also
// while another process is still writing the run. Layer: app/cli.
#pragma once

#include <QStringList>

namespace netwright::cli {

int runHistoryCommand(const QStringList &arguments);

} // namespace netwright::cli
