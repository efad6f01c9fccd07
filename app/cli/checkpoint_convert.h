// SPDX-License-Identifier: Apache-2.0
// The checkpoint side of `netwright convert IN OUT`: when OUT ends in .ckpt or .safetensors, the
// training state in IN is converted losslessly (engine/checkpoint/checkpoint_convert.h) instead of
// a graph. Layer: app/cli.
#pragma once

#include <QString>

namespace netwright::cli {

// Whether OUT names a checkpoint format (.ckpt, .safetensors).
bool isCheckpointOutput(const QString &out);
// Converts and prints what was written (as JSON with `json`). Throws Error.
void convertCheckpointFile(const QString &in, const QString &out, bool json);

} // namespace netwright::cli
