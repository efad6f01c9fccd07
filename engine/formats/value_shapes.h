// SPDX-License-Identifier: Apache-2.0
// Every value of a described model — graph inputs, initializers and Constant-held weights, every
// node output, in subgraphs too — with its element type and shape, for `netwright inspect --json`
// and edge labels: the engine's shape analysis over an import of the same file where the format
// imports (ONNX, MindIR, AIR, CNTK), else what the file states. Layer: engine/formats.
#pragma once

#include "formats/model_description.h"
#include "graph/shape_analysis.h"

#include <map>
#include <string>
#include <vector>

namespace netwright {

struct ValueShapes {
    // By value name; shapeKnown false where neither the engine nor the file gives a shape.
    std::map<std::string, ValueDescription> values;
    // Empty when the engine analysed the graph; else why not (the file's stated types are used).
    std::string note;
    // Free input dimensions the analysis fixed to one size (the model refuses others).
    std::vector<AssumedDimension> assumed;
};

// `model` is describeFile(path). Never throws: a file the engine cannot import keeps its stated types.
ValueShapes valueShapes(const std::string &path, const ModelDescription &model);

} // namespace netwright
