// SPDX-License-Identifier: Apache-2.0
// The inference view of a model graph that every exporter writes: the loss node and the labels
// input left out, Dropout and Identity dissolved (their outputs alias their inputs), the one data
// input, the outputs, and the shape of every value — with -1 where a dimension follows the batch
// when the batch is dynamic (found by inferring shapes at two batch sizes). A batch the model's
// input fixes stays fixed. Layer: engine/formats.
#pragma once

#include "graph/graph.h"

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace netwright {

struct InferenceGraph {
    const Graph *graph = nullptr;
    std::vector<const Node *> nodes;           // the computing nodes, topologically sorted
    ValueInfo input;                           // shape[0] = -1 for a dynamic batch
    std::vector<ValueInfo> outputs;            // shapes as in `shapes`
    std::map<std::string, Shape> shapes;       // every value (inputs, initializers, node outputs)
    std::set<std::string> usedInitializers;    // initializers a node reads (after aliasing)

    // The value a name stands for once Dropout/Identity are gone.
    const std::string &source(const std::string &value) const;
    // An initializer by (resolved) name, or nullptr.
    const Tensor *initializer(const std::string &value) const;
    // The shape of a (resolved) value.
    const Shape &shape(const std::string &value) const { return shapes.at(source(value)); }
    // A float32 scalar initializer's value (Clip's bounds), or nullopt.
    std::optional<float> scalar(const std::string &value) const;

    std::map<std::string, std::string> aliases;
};

// The batch an export of `input` writes: -1 (free) when `dynamicBatch` asks for it and the input
// leaves the batch free; else the batch the input fixes, else 1. A fixed batch is kept even when a
// dynamic one is asked for: PyTorch's default export fixes it ([1,3,224,224]) and folds it into its
// constants (a Reshape to [1,512]), so the model may compute nothing else.
int64_t exportBatch(const ValueInfo &input, bool dynamicBatch);

// Throws Error when the graph has no data input or its shapes do not infer. `dynamicBatch` as
// exportBatch() takes it: input.shape[0] is -1 only when the model leaves the batch free.
InferenceGraph inferenceGraph(const Graph &model, bool dynamicBatch);
// The same for an exporter whose op table is `mappable`: when shapes do not infer (an op without a
// kernel), the Error lists every node the target cannot take instead.
InferenceGraph inferenceGraph(const Graph &model, bool dynamicBatch, const std::string &target,
                              const std::function<bool(const std::string &)> &mappable);

// The spatial attributes of a 2-D Conv/MaxPool/AveragePool, as the exporters write them: pads
// in (top, bottom, left, right) order, which MindSpore and GE share. Returns the problem (empty
// when the node maps): not 2-D, auto_pad, ceil_mode other than MaxPool's (which the writers map).
struct Window2d {
    std::vector<int64_t> kernel, strides, pads, dilations;
};
std::string window2d(const Node &node, const InferenceGraph &graph, Window2d &out);

// What a writer cannot take, for its pre-flight: grouped once per op type and reason ("Einsum (3
// nodes: "a", "b", "c"): not an ONNX op before opset 12"; one node as "Node "a" (Einsum): …"), in
// the order first met, plus problems that concern no one node. raise() throws them all as one
// Error: "Cannot export "<model>" to <target>: …. Nothing was written." (a no-op when empty).
class ExportProblems {
public:
    void add(const Node &n, const std::string &why);
    void add(const std::string &problem);
    bool empty() const { return m_order.empty() && m_general.empty(); }
    std::string list() const;
    void raise(const Graph &model, const std::string &target) const;

private:
    std::vector<std::pair<std::string, std::string>> m_order;                          // (op type, reason)
    std::map<std::pair<std::string, std::string>, std::vector<std::string>> m_nodes; // → node names
    std::vector<std::string> m_general;
};

} // namespace netwright
