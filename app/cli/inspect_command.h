// SPDX-License-Identifier: Apache-2.0
// `netwright inspect FILE`: what a model or checkpoint file holds — for now MindSpore .ckpt (every
// tensor with dtype, shape, min/max/mean/std and bytes), as text or --json. Layer: app/cli.
#pragma once

#include <QStringList>

namespace netwright::cli {

int runInspectCommand(const QStringList &arguments);

} // namespace netwright::cli
