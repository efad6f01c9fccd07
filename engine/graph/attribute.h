// SPDX-License-Identifier: Apache-2.0
// A node attribute with ONNX's attribute kinds (INT, FLOAT, STRING, INTS, FLOATS, TENSOR).
// Layer: engine/graph. Names and defaults follow the ONNX operator specification.
#pragma once

#include "core/tensor.h"

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace netwright {

using Attribute = std::variant<int64_t, float, std::string, std::vector<int64_t>, std::vector<float>, Tensor>;

} // namespace netwright
