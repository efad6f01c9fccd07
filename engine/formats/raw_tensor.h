// SPDX-License-Identifier: Apache-2.0
// A tensor from little-endian raw bytes, as ONNX, MindIR and AIR store weights: the declared
// shape is checked against the bytes present BEFORE anything is allocated (DESIGN idea 4).
// Layer: engine/formats.
#pragma once

#include "core/tensor.h"

#include <string>
#include <string_view>
#include <vector>

namespace netwright {

// Throws Error "<what>: <n> bytes for <dtype> <shape> (<m> expected)" when they do not match.
Tensor tensorFromRaw(DType type, const std::vector<int64_t> &shape, std::string_view raw, const std::string &what);
// The element count of a declared shape, or an Error naming `what` (negative dims, overflow).
int64_t checkedNumel(const std::vector<int64_t> &shape, const std::string &what);

} // namespace netwright
