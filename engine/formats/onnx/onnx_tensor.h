// SPDX-License-Identifier: Apache-2.0
// ONNX TensorProto values as engine tensors, for the reader and the importer. Private to
// engine/formats/onnx (it includes onnx's generated code).
#pragma once

#include "core/tensor.h"

#include <onnx/onnx_pb.h>

#include <optional>
#include <string>

namespace netwright::onnx_format {

// The value of an initializer or tensor attribute; nullopt for strings, complex numbers and
// external data. Sizes are checked against the declared shape before anything is allocated.
std::optional<Tensor> onnxTensor(const onnx::TensorProto &p, const std::string &what);

} // namespace netwright::onnx_format
