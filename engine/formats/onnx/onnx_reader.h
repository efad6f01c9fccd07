// SPDX-License-Identifier: Apache-2.0
// Reading ONNX ModelProto files (onnx.proto from Debian's libonnx-dev) into the model
// description: every node with its domain-qualified op type and attributes, graph inputs and
// outputs with dtypes and (symbolic) shapes, initializers as parameters with their values.
// Layer: engine/formats.
#pragma once

#include "formats/model_description.h"

#include <string>
#include <string_view>

namespace netwright::onnx_format {

ModelDescription describeOnnx(std::string_view bytes, const std::string &source);

} // namespace netwright::onnx_format
