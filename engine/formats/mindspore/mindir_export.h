// SPDX-License-Identifier: Apache-2.0
// MindIR export (../shared/formats/mindir.md section 7): the attribute-style layout every
// MindSpore loader since 1.7 reads — mind_ir_version 1, one PrimitiveProto per operator instance
// referenced as "REF::<Prim>:<id>", weights as graph parameters with raw_data and ref_key, the
// output abstract as each node's "shape" attribute, tuple arguments as Constant nodes. Engine ops
// map to the MindSpore primitives of the same meaning (nn.Dense → MatMul(transpose_b) + BiasAdd,
// Conv → Conv2D, ConvTranspose → Conv2DBackpropInput, LayerNormalization → LayerNorm, N-D
// MatMul → BatchMatMul, Slice → StridedSlice, Unsqueeze → ExpandDims, Expand → BroadcastTo,
// Where → Select, element-wise and reduction ops by name …); LSTM, GRU and RNN are written as
// their exact step-by-step composition over the model's own W/R/B tensors. Shape arithmetic on
// constants (PyTorch's Shape → Gather → Concat → Reshape at a fixed batch) is folded into
// constants; at a free batch it is followed entry by entry, a Reshape target with the batch's
// dimension unknown is written with -1 there and a ConstantOfShape zero RNN state as no state
// (what still needs the batch at run time is refused: "export with --static-batch"). Pre-flight lists every op type that does not map, once, with its nodes and the
// reason, and nothing is produced. Layer: engine/formats.
#pragma once

#include "formats/external_data.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace netwright {
class Graph;
}

namespace netwright::mindspore {

struct MindirExportOptions {
    bool dynamicBatch = true;          // -1 (dynamic shape) unless the input fixes the batch; false: that batch, else 1
    std::string modelVersion = "2.2.14"; // ModelProto.model_version: the MindSpore version claimed
    std::vector<std::pair<std::string, std::string>> userInfo; // ModelProto.user_info (provenance)
    // Set: the split layout — every parameter as external data in the plan's file (mindirSplit()),
    // which the export fills and the caller writes. Null: raw_data inside the file.
    std::shared_ptr<ExternalDataPlan> externalData;
};

std::string exportMindir(const Graph &model, const MindirExportOptions &options);

} // namespace netwright::mindspore
