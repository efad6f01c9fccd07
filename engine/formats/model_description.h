// SPDX-License-Identifier: Apache-2.0
// One description of what a model or checkpoint file holds, whatever its format: the graph
// (nodes with the op types and attributes as the format names them, inputs and outputs with
// shapes and dtypes) and the parameters with their values. `netwright inspect` prints it; the
// window will show it. Layer: engine/formats.
#pragma once

#include "core/tensor.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace netwright {

// A graph input, output or parameter: the dtype as the format names it ("float32", "Float16",
// "DT_FLOAT", …) and the shape, -1 for a dimension not fixed (its name in dimNames, if any).
struct ValueDescription {
    std::string name;
    std::string dtype;
    std::vector<int64_t> shape;
    bool shapeKnown = true;              // false: the format gives no shape
    std::vector<std::string> dimNames;   // symbolic dimensions ("batch"), aligned with shape
    std::optional<Tensor> value;         // parameters: the values when the file holds them
    std::string text;                    // a non-tensor value (a string, a counter, a summary)
    std::string heldBy;                  // a weight held by a node, not an initializer: that node
                                         // (an ONNX Constant: its name, or "#k" by position)
};

struct AttributeDescription {
    std::string name;
    std::string value; // rendered as the format states it: 3, 1.5, "NCHW", [1,1], <tensor float32 [8]>
};

struct NodeDescription {
    std::string name;
    std::string opType;                  // as the format names it: Conv, Conv2D, Convolution, MatMulV2
    std::vector<std::string> inputs, outputs;
    std::vector<AttributeDescription> attributes;
    std::string graph;                   // the (sub)graph it belongs to, when a file has several
};

struct ModelDescription {
    std::string format;                  // registry id: onnx, mindspore-ckpt, mindir, …
    std::string formatName;              // "ONNX", "MindSpore checkpoint", …
    std::vector<std::pair<std::string, std::string>> properties; // producer, versions, opsets, …
    std::vector<ValueDescription> inputs, outputs;
    std::vector<NodeDescription> nodes;
    std::vector<ValueDescription> parameters;
    // Types the file states for intermediate values (ONNX value_info, MindIR's node "shape"
    // attribute, AIR output descriptors), keyed as node inputs name them; for edge labels.
    std::vector<ValueDescription> values;
};

} // namespace netwright
