// SPDX-License-Identifier: Apache-2.0
// AIR import into a runnable, trainable engine graph: graph[0]'s Data ops become inputs (by
// their index), Const ops with a value tensor initializers (named without the "_const" suffix),
// and GE operators map back to the engine's ONNX-shaped ops — the inverse of air_export.h's
// table (MatMulV2 (+ BiasAdd) → Gemm, BatchMatMulV2 → MatMul, Conv2D → Conv, Conv2DTransposeD →
// ConvTranspose, the pools, Reduce*D, BatchNorm, LayerNorm, the unary math and activations,
// SoftmaxV2/LogSoftmaxV2, Flatten, Reshape, the binary and comparison ops, TransposeD, ConcatD,
// StridedSlice → Slice, GatherV2 → Gather, SplitD/SplitV → Split, PadD → Pad, Expand, Tile, Cast,
// Select/SelectV2 → Where, Squeeze/Unsqueeze, Identity). Inputs resolve by name
// ("<op>:<port>", control edges ignored), so op order does not matter. Operators outside the
// table, NCHW-only attributes in another layout, or a second output of an op that has only one
// in the engine are refused with an Error listing them; `inspect` still reads such files.
// Layer: engine/formats.
#pragma once

#include "graph/graph.h"

#include <string>
#include <string_view>

namespace netwright::air {

Graph importAir(std::string_view bytes, const std::string &source);

} // namespace netwright::air
