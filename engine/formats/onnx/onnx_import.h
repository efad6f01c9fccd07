// SPDX-License-Identifier: Apache-2.0
// ONNX import (opsets 1–17) into a trainable engine graph. The engine's IR speaks ONNX (DESIGN
// idea 1), so nodes keep their op types and attributes; initializers become parameters — float
// tensors a gradient reaches are trainable, BatchNormalization statistics, Clip bounds and
// integer tensors (shapes, indices) are buffers — and Constant nodes become buffers too. A model
// with ops the engine has no kernel for still imports: missingOps names them, and running it says
// which. Layer: engine/formats.
#pragma once

#include "graph/graph.h"

#include <string>
#include <string_view>
#include <vector>

namespace netwright::onnx_format {

struct OnnxImport {
    Graph graph;
    int64_t opset = 0;                    // the ai.onnx opset the model imports
    std::vector<std::string> missingOps;  // op types the engine cannot run, sorted
};

// Throws Error naming `source` for a file that is not ONNX, an opset after 17, or a graph
// whose wiring does not hold.
OnnxImport importOnnx(std::string_view bytes, const std::string &source);
OnnxImport importOnnxFile(const std::string &path);

// A serialized TensorProto (ONNX's test data, `netwright run --input x.pb`) as a host tensor;
// Error naming `source` for bytes that do not parse, external data, strings or a size that does
// not match the dims.
Tensor decodeTensorProto(std::string_view bytes, const std::string &source);

} // namespace netwright::onnx_format
