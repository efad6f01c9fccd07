// SPDX-License-Identifier: Apache-2.0
// Every value's element type and shape ahead of a run, for inspection (edge labels, `netwright
// inspect --json`): the op rules (kernels' inferShapes and outputTypes, with constant folding)
// applied over the whole graph and into the subgraphs of If, Loop and Scan. Layer: engine/graph.
// Never throws for a node: where a rule refuses (an op without a kernel, inputs it cannot take),
// that node's outputs, and what depends on them, stay unknown.
#pragma once

#include "graph/graph.h"

#include <map>
#include <string>
#include <vector>

namespace netwright {

struct AnalysedValue {
    DType dtype = DType::Float32;
    bool shapeKnown = false;
    // -1 where the dimension follows a free dimension of the inputs; dimNames then holds the
    // input dimension's name when the value follows it exactly ("batch"), "" otherwise.
    Shape shape;
    std::vector<std::string> dimNames;
};

// A free input dimension the analysis had to fix to one size: the model refuses the probe sizes
// (Silero VAD's decoder runs on one 512-sample frame only), and this size leaves the most values known.
struct AssumedDimension {
    std::string input;
    size_t axis = 0;
    int64_t size = 0;
};

// Inputs' free dimensions (-1 in graph.inputs) are probed at two sizes (32·p and 64·p, else
// 512·p and 1024·p where those leave more values known): each named one (by
// `inputDimNames`, per input, aligned with its shape: ONNX's dim_param) at its own pair of sizes,
// the unnamed ones all at one shared pair (an input's batch then agrees with a state's batch). A
// dimension that differs between the probes is free: named after the input dimension it equals
// in both, else left unnamed. Keys: every graph input, initializer and node output, also those
// of subgraphs (sibling subgraphs sharing a name: the last one analysed).
// Where values stay unknown, each free dimension in turn is fixed to 1, 2, 4 … 8192 (both probes
// alike); the one size that leaves strictly the most values known is kept and named in `assumed`.
std::map<std::string, AnalysedValue> analyseShapes(const Graph &graph,
                                                   const std::map<std::string, std::vector<std::string>> &inputDimNames = {},
                                                   std::vector<AssumedDimension> *assumed = nullptr);

} // namespace netwright
