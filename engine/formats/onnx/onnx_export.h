// SPDX-License-Identifier: Apache-2.0
// ONNX export of a model graph (opset 13 by default, 11–17 on request): the inference graph —
// training-only nodes (the loss) and their inputs (labels) are left out, Dropout becomes Identity
// — with every initializer as raw little-endian data, inputs and outputs typed with shapes (the
// batch dimension symbolic, "batch", unless a fixed batch is asked for or the input fixes one) and
// metadata_props.
// Pre-flight first: every op must exist in the target opset with the semantics the engine runs;
// otherwise Error lists them all and nothing is produced. Layer: engine/formats.
#pragma once

#include "graph/graph.h"

#include <string>
#include <utility>
#include <vector>

namespace netwright::onnx_format {

struct OnnxExportOptions {
    int64_t opset = 13;
    bool dynamicBatch = true;   // false: the batch the input fixes, else 1; true keeps a fixed batch too (exportBatch())
    std::string producerVersion;
    std::vector<std::pair<std::string, std::string>> metadata; // metadata_props, in order
};

// The serialized ModelProto. `model` reads one input (the data) and writes its outputs; a
// SoftmaxCrossEntropyLoss node and the labels input are dropped.
std::string exportOnnx(const Graph &model, const OnnxExportOptions &options);
// The op types the exporter can write at `opset` (for the pre-flight message and the docs).
std::vector<std::string> exportableOps();

} // namespace netwright::onnx_format
