// SPDX-License-Identifier: Apache-2.0
// `netwright run MODEL --input FILE … --output DIR`: inference of a model file (ONNX, MindIR,
// AIR, CNTK model-v2) on input tensors from .npy or ONNX TensorProto (.pb) files; each output is
// written as DIR/output_<k>.npy in the model's output order and listed with its name, element
// type, shape and statistics (--json for pipelines). Layer: app/cli.
#pragma once

#include <QStringList>

namespace netwright::cli {

int runRunCommand(const QStringList &arguments);

} // namespace netwright::cli
