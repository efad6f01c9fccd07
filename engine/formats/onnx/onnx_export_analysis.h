// SPDX-License-Identifier: Apache-2.0
// What the ONNX exporter knows of a graph's values ahead of a run, at one setting of the free
// dimensions: shapes, element types and the values that fold from initializers and shapes, by
// each op's kernel rules. The writer compares two settings to tell what follows the batch.
// Private to engine/formats/onnx.
#pragma once

#include "graph/graph.h"

#include <map>
#include <string>
#include <vector>

namespace netwright::onnx_format::exporter {

// What the exporter knows of the values ahead of a run, for one setting of the free dimensions.
struct Analysis {
    std::map<std::string, Shape> shapes;
    std::map<std::string, DType> types;
    std::map<std::string, Tensor> constants; // initializers and what folds from them and from shapes
};

// What is known before any node runs: the data inputs at `inputs` and the initializers.
Analysis seedAnalysis(const std::map<std::string, Tensor> &initializers, const std::map<std::string, ValueInfo> &inputs);
// Adds the shapes, element types and folded values of every value `nodes` compute to `a` (seeded
// with what is known before them). What follows a node without a kernel, or whose shapes do not
// fit, stays unknown; an element type is known wherever the inputs' types are.
void analyse(Analysis &a, const std::vector<const Node *> &nodes);
// Same element type, shape and bytes.
bool sameTensor(const Tensor &a, const Tensor &b);

} // namespace netwright::onnx_format::exporter
