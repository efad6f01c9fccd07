// SPDX-License-Identifier: Apache-2.0
// MindSpore's `<prefix>-graph.meta` side file (../shared/formats/mindspore-ckpt.md section 10): a
// serialized mindspore.irpb.ModelProto (anf_ir.proto) that ModelCheckpoint writes once per run for
// MindInsight-style viewers. We write the forward training graph (network + loss) under
// MindSpore's primitive names (Conv2D, BiasAdd, MatMul, BatchNorm, …) and cell scopes, with the
// parameters typed as the run feeds them. Nothing reads it back to resume. Layer: engine/formats.
#pragma once

#include "formats/model_description.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace netwright {
class Graph;
}

namespace netwright::mindspore {

// batchSize fills the leading dimension of the data, label and activation shapes.
std::string encodeGraphMeta(const Graph &trainingGraph, int64_t batchSize);
// Atomically, with mode 0600 as MindSpore writes it.
void writeGraphMeta(const std::string &path, const Graph &trainingGraph, int64_t batchSize);

struct GraphMetaSummary {
    std::string name;
    size_t nodes = 0, parameters = 0, constants = 0;
    std::map<std::string, int> opCounts;
};
// Reads any graph.meta (ours or MindSpore's); throws Error naming the file when it is not one.
GraphMetaSummary readGraphMeta(const std::string &path);
// The whole dump as a model description: nodes with scopes and attributes, typed parameters
// (a dump holds no values), constants as properties, outputs.
ModelDescription describeGraphMeta(std::string_view bytes, const std::string &source);

} // namespace netwright::mindspore
