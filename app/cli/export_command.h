// SPDX-License-Identifier: Apache-2.0
// `netwright export SOURCE --format onnx [--opset N] [--out FILE] [--static-batch]`: writes a
// trained model for other runtimes, then verifies the file by reading it back. Layer: app/cli.
#pragma once

#include <QStringList>

namespace netwright::cli {

int runExportCommand(const QStringList &arguments);

} // namespace netwright::cli
