// SPDX-License-Identifier: Apache-2.0
// `netwright load-check CHECKPOINT MODEL [--map F] [--strict] [--json]`: which of a checkpoint's
// tensors a model's parameters would take (by name and shape, BatchNorm folded where the model has
// it folded), which are missing, unexpected or of another shape, and the renames that would fix
// them, as a --map file. Exit 1 in strict mode when anything does not match. Layer: app/cli.
#pragma once

#include <QStringList>

namespace netwright::cli {

int runLoadCheckCommand(const QStringList &arguments);

} // namespace netwright::cli
