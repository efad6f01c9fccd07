// SPDX-License-Identifier: Apache-2.0
// `netwright export SOURCE --format onnx|mindir|air|cntk [--opset N] [--out FILE] [--static-batch]`
// and `netwright convert IN OUT`: write a trained model (a run's checkpoint) or a model file of any
// graph format for other runtimes, verified by reading the file back. Layer: app/cli.
#pragma once

#include <QStringList>

namespace netwright::cli {

int runExportCommand(const QStringList &arguments);
int runConvertCommand(const QStringList &arguments);

} // namespace netwright::cli
