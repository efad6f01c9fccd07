// SPDX-License-Identifier: Apache-2.0
// MindIR import into a runnable, trainable engine graph: the main graph's parameters become
// initializers (raw_data, little-endian), its input the data input, and MindSpore primitives
// map back to the engine's ONNX-shaped ops — the reverse of everything mindir_export writes
// (MatMul (+ BiasAdd) to Gemm, BatchMatMul to MatMul, Conv2D / Conv2DBackpropInput (+ BiasAdd) to
// Conv / ConvTranspose, BatchNorm / LayerNorm + TupleGetItem, pooling, reductions, StridedSlice to
// Slice, Gather, ExpandDims/Squeeze, BroadcastTo, Tile, Split/SplitV, Pad, Select, activations,
// element-wise arithmetic and comparisons), Constant tensors used as data becoming initializers —
// while Load, Depend, UpdateState and monads (graph-mode side-effect plumbing) dissolve.
// Attribute-style (≥ 1.7) and legacy (≤ 1.6) files both import. A file using primitives outside
// that set, calling function graphs or keeping its weights in external data is refused with an
// Error that lists what is missing; `inspect` still reads it. Layer: engine/formats.
#pragma once

#include "graph/graph.h"

#include <string>
#include <string_view>

namespace netwright::mindspore {

Graph importMindir(std::string_view bytes, const std::string &source);

} // namespace netwright::mindspore
