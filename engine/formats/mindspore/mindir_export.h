// SPDX-License-Identifier: Apache-2.0
// MindIR export (../shared/formats/mindir.md section 7): the attribute-style layout every
// MindSpore loader since 1.7 reads — mind_ir_version 1, one PrimitiveProto per operator instance
// referenced as "REF::<Prim>:<id>", weights as graph parameters with raw_data and ref_key, the
// output abstract as each node's "shape" attribute, tuple arguments as Constant nodes. ONNX ops
// map to MindSpore primitives as nn.Dense, nn.Conv2d and friends compile: Gemm becomes
// MatMul(transpose_b) + BiasAdd, Conv becomes Conv2D (+ BiasAdd), BatchNormalization becomes
// BatchNorm + TupleGetItem, GlobalAveragePool becomes ReduceMean over (2, 3). Pre-flight lists
// every node that does not map, and nothing is produced. Layer: engine/formats.
#pragma once

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
};

std::string exportMindir(const Graph &model, const MindirExportOptions &options);

} // namespace netwright::mindspore
