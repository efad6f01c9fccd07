// SPDX-License-Identifier: Apache-2.0
// ONNX TensorProto values as engine tensors, for the reader and the importer. Private to
// engine/formats/onnx (it includes onnx's generated code).
#pragma once

#include "core/tensor.h"
#include "formats/external_data.h"

#include <onnx/onnx_pb.h>

#include <optional>
#include <string>

namespace netwright::onnx_format {

// The value of an initializer or tensor attribute; nullopt for strings, complex numbers and
// external data without a reader. Sizes are checked against the declared shape before anything is
// allocated. External data comes through `external` (the tensor aliases its map).
std::optional<Tensor> onnxTensor(const onnx::TensorProto &p, const std::string &what, ExternalDataReader *external = nullptr);

} // namespace netwright::onnx_format
