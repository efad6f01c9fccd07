// SPDX-License-Identifier: Apache-2.0
// AIR import into a runnable, trainable engine graph: graph[0]'s Data ops become inputs (by
// their index), Const ops with a value tensor initializers (named without the "_const" suffix),
// and GE operators map back to the engine's ONNX-shaped ops — the inverse of air_export.h's
// table (MatMulV2 (+ BiasAdd) → Gemm, Conv2D → Conv, MaxPool/MaxPoolV3/AvgPool/AvgPoolV2,
// ReduceMeanD, BatchNorm, Relu/Relu6/LeakyRelu/Sigmoid/Tanh/ClipByValue, SoftmaxV2/LogSoftmaxV2,
// Flatten, Reshape, Add/Sub/Mul/RealDiv, TransposeD, ConcatD, Identity). Inputs resolve by name
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
