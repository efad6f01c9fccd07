// SPDX-License-Identifier: Apache-2.0
// What the graph view draws, derived from a model description: one box per op node (parameters
// and constants are shown on their consumers, as Netron does), one per graph input and output,
// and — for large graphs — one per folded name scope ("layer1/0/conv1" folds into "layer1")
// until the user expands it. Edges carry the shape of the value they stand for, when known.
// Plain C++ (no Qt), so the rules are testable on their own. Layer: widgets.
#pragma once

#include "formats/model_description.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace netwright::widgets {

struct VisibleNode {
    enum class Kind { Op, Input, Output, Scope };
    Kind kind = Kind::Op;
    std::string id;           // unique: the node's name, "input:<name>", "output:<name>", "scope:<path>"
    std::string title;        // op type; "input"/"output"; the scope's path
    std::string subtitle;     // node name; the value's name; "<n> nodes"
    int modelNode = -1;       // Op: index into ModelDescription::nodes
    std::vector<int> members; // Scope: the model nodes folded inside
};

struct VisibleEdge {
    int from = 0, to = 0;     // indices into VisibleGraph::nodes
    std::string label;        // "[1,64,56,56]" when the shape is known
};

struct VisibleGraph {
    std::vector<VisibleNode> nodes;
    std::vector<VisibleEdge> edges;
    int index(const std::string &id) const; // -1 when absent
};

// The scope path of a node: MindSpore's fullname_with_scope (MindIR) or full_name (a graph dump),
// else the name's '/'-separated parts (PyTorch's ONNX names),
// without the last part (the node itself); empty when the node has no scope.
std::vector<std::string> scopeOf(const NodeDescription &node);
// Nodes whose op types hold values rather than compute them (Const, Constant): not drawn.
bool isValueNode(const NodeDescription &node);

// `expanded` holds scope paths ("layer1", "layer1/0") the user opened; with fold = false every
// node is drawn. valueShapes: value name → shape text, for edge labels.
VisibleGraph buildVisibleGraph(const ModelDescription &model, const std::map<std::string, std::string> &valueShapes,
                               const std::set<std::string> &expanded, bool fold);

// "[1,64,56,56]", "?" for unknown dimensions.
std::string shapeText(const std::vector<int64_t> &shape);
// Every shape the description states (inputs, outputs, parameters, values), by value name.
std::map<std::string, std::string> describedShapes(const ModelDescription &model);

} // namespace netwright::widgets
