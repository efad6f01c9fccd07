// SPDX-License-Identifier: Apache-2.0
// The model IR: an ONNX-shaped graph of nodes over named values, with initializers (the
// parameters and buffers). Layer: engine/graph. Invariant after validate(): every node input is
// a graph input, an initializer or an earlier node's output, and nodes are topologically sorted.
#pragma once

#include "graph/attribute.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace netwright {

struct Node {
    std::string name;
    std::string opType; // ONNX op type name, e.g. "Conv"
    std::vector<std::string> inputs; // value names; "" for an omitted optional input
    std::vector<std::string> outputs;
    std::map<std::string, Attribute> attributes;
    // The number of trailing `inputs` that are not ONNX inputs of the op but outer-scope values
    // its subgraphs (If's branches, Loop's and Scan's body) read by name: the importer appends
    // them so that validate() orders the node after their producers and refuses a name no scope
    // defines. Kernels feed them to the subgraph under the same names; exporters never write them.
    size_t implicitInputs = 0;

    bool hasAttribute(const std::string &key) const { return attributes.count(key) != 0; }
    int64_t attrInt(const std::string &key, int64_t fallback) const;
    float attrFloat(const std::string &key, float fallback) const;
    std::string attrString(const std::string &key, const std::string &fallback) const;
    std::vector<int64_t> attrInts(const std::string &key, const std::vector<int64_t> &fallback) const;
    std::vector<float> attrFloats(const std::string &key, const std::vector<float> &fallback) const;
    std::vector<std::string> attrStrings(const std::string &key, const std::vector<std::string> &fallback) const;
    // "Node "conv1" (Conv)": the prefix of every error about this node.
    std::string describe() const;
};

struct ValueInfo {
    std::string name;
    Shape shape; // -1 for a dimension fixed only at run time (the batch)
    DType dtype = DType::Float32;
};

class Graph {
public:
    std::string name;
    std::vector<ValueInfo> inputs;
    std::vector<ValueInfo> outputs;
    std::vector<Node> nodes;
    std::map<std::string, Tensor> initializers;
    // Initializers the optimizer updates; the rest (BatchNorm running statistics) are buffers.
    std::set<std::string> trainable;

    Node &addNode(std::string opType, std::string name, std::vector<std::string> inputs,
                  std::vector<std::string> outputs, std::map<std::string, Attribute> attributes = {});
    void addParameter(const std::string &name, Tensor value, bool isTrainable = true);

    // Checks names and wiring and sorts the nodes topologically; throws Error naming the node.
    void validate();
    const ValueInfo *findInput(const std::string &value) const;
    // Shapes of every value for the given input shapes (batch dims filled in), via each op's
    // shape rule; throws Error naming the node whose inputs do not fit.
    std::map<std::string, Shape> inferShapes(const std::map<std::string, Shape> &inputShapes) const;
    int64_t parameterCount() const;
};

// The loss ops the trainer appends after a model (softmax cross-entropy, the regression losses,
// sigmoid binary cross-entropy): what exporters and the inference graph leave out.
bool isTrainingLoss(const std::string &opType);
// Ops whose outputs differ from run to run (Dropout, the random generators): never folded ahead of a run.
bool isRandomOp(const std::string &opType);

} // namespace netwright
