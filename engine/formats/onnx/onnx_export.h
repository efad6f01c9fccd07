// SPDX-License-Identifier: Apache-2.0
// ONNX export of a model graph (opset 13 by default, 11–17 on request): the inference graph —
// training-only nodes (the loss) and the inputs only they read (labels) are left out, Dropout
// becomes Identity, BatchNormalization loses training_mode and its statistics outputs — with
// every initializer as raw little-endian data, every data input and output typed with shapes
// (the batch dimension symbolic, "batch", unless a fixed batch is asked for or the input fixes
// one) and metadata_props.
// The engine's IR has opset-13+ meaning (and accepts the attribute form of operands that moved to
// inputs); each node is written in the form the target opset defines: operands as attributes or
// inputs (Squeeze/Unsqueeze axes, Split split, ReduceSum axes before 13, Pad/Clip/TopK operands),
// and the ops the target lacks as exact compositions of ops it has (LayerNormalization before 17,
// GroupNormalization, Gelu and Mish always, HardSwish and Trilu before 14, Celu, GreaterOrEqual and
// LessOrEqual before 12, Shape start/end and CastLike before 15, Softmax's axis and RNN layout=1
// through Transposes before 13/14).
// If, Loop and Scan carry their subgraphs as GRAPH attributes, written the same way node by node
// (their own initializers, inputs and outputs typed as far as the file or the analysis knows them);
// the outer-scope values a subgraph reads stay names inside it, never inputs of the node
// (Node::implicitInputs). Scan-8's batch form becomes a Scan over the batch around a Scan-9+.
// Pre-flight first: whatever cannot be written is listed at once, once per op type and problem,
// and nothing is produced. Layer: engine/formats.
#pragma once

#include "formats/external_data.h"
#include "graph/graph.h"

#include <memory>

#include <string>
#include <utility>
#include <vector>

namespace netwright::onnx_format {

struct OnnxExportOptions {
    int64_t opset = 13;
    bool dynamicBatch = true;   // false: the batch the input fixes, else 1; true keeps a fixed batch too (exportBatch())
    std::string producerVersion;
    std::vector<std::pair<std::string, std::string>> metadata; // metadata_props, in order
    // Set: initializers of at least its threshold go to its data file as external data, and the
    // export fills it (the caller writes the file: writeExternalData). Null: all inline.
    std::shared_ptr<ExternalDataPlan> externalData;
};

// The serialized ModelProto. Its inputs are the model's inputs but "labels" and those only a
// training loss reads; a training-loss node (isTrainingLoss) and its outputs are dropped.
std::string exportOnnx(const Graph &model, const OnnxExportOptions &options);
// The op types the exporter writes at some opset of 11–17 (natively or as a composition).
std::vector<std::string> exportableOps();
// The first opset (11–17) at which the exporter writes `opType` (0: never). Attribute settings
// may still refuse a node at a later opset (the pre-flight names them).
int64_t firstExportOpset(const std::string &opType);

} // namespace netwright::onnx_format
