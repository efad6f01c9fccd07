// SPDX-License-Identifier: Apache-2.0
// A node attribute with ONNX's attribute kinds (INT, FLOAT, STRING, INTS, FLOATS, TENSOR, STRINGS,
// GRAPH — the body of If, Loop and Scan).
// Layer: engine/graph. Names and defaults follow the ONNX operator specification.
#pragma once

#include "core/tensor.h"

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace netwright {

class Graph;

using Attribute = std::variant<int64_t, float, std::string, std::vector<int64_t>, std::vector<float>, Tensor,
                               std::vector<std::string>, std::shared_ptr<Graph>>;

} // namespace netwright
