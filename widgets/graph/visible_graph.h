// SPDX-License-Identifier: Apache-2.0
// What the graph view draws, derived from a model description: one box per op node (parameters
// and constants are drawn inside their consumers as rows, "W ⟨64×3×7×7⟩", as Netron does), one
// per graph input and output, for large graphs one per folded name scope ("layer1/0/conv1" folds
// into "layer1") until the user expands it, and the bodies of If/Loop/Scan (any node's subgraph)
// as clusters attached to their node — or, collapsed, as one box. Edges carry the shape of the
// value they stand for, when known. Plain C++ (no Qt), so the rules are testable. Layer: widgets.
#pragma once

#include "formats/model_description.h"

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace netwright::widgets {

// A weight or constant input drawn inside its consumer: "W" and "64×3×7×7".
struct NodeRow {
    std::string label, shape;
};

struct VisibleNode {
    enum class Kind { Op, Input, Output, Scope, Subgraph };
    Kind kind = Kind::Op;
    std::string id;           // unique: the node's name, "input:<name>", "output:<name>", "scope:<path>", "graph:<key>"
    std::string title;        // op type; "input"/"output"; the scope's path; the subgraph's attribute ("then_branch")
    std::string subtitle;     // node name; the value's name; "<n> nodes"
    int modelNode = -1;       // Op: index into ModelDescription::nodes
    std::vector<int> members; // Scope, Subgraph: the model nodes folded inside
    std::vector<NodeRow> rows; // Op: its weights and constant inputs
    int cluster = -1;         // the (innermost) cluster drawn around it; -1: none
    std::string graph;        // Subgraph: the key of the body it stands for
};

struct VisibleEdge {
    int from = 0, to = 0;     // indices into VisibleGraph::nodes
    std::string label;        // "1×64×56×56" when the shape is known
    bool attach = false;      // ties a subgraph to the node that owns it (drawn dashed, no value)
};

// An expanded subgraph: a frame around its nodes (and nested clusters).
struct VisibleCluster {
    std::string key;          // the body's graph name, as NodeDescription::graph states it
    std::string title;        // "then_branch", "body"; a graph's name when no node owns it
    std::string owner;        // the owning node's name ("If_0"); empty when none
    int parent = -1;          // the enclosing cluster; -1: the top graph
    int ownerNode = -1;       // the visible node of the owning op; -1 when not drawn
    int nodes = 0;            // model nodes inside (nested ones included)
};

struct VisibleGraph {
    std::vector<VisibleNode> nodes;
    std::vector<VisibleEdge> edges;
    std::vector<VisibleCluster> clusters;
    int index(const std::string &id) const; // -1 when absent
    int clusterIndex(const std::string &key) const;
};

// The scope path of a node: MindSpore's fullname_with_scope (MindIR) or full_name (a graph dump),
// else the name's '/'-separated parts (PyTorch's ONNX names),
// without the last part (the node itself); empty when the node has no scope.
std::vector<std::string> scopeOf(const NodeDescription &node);
// Nodes whose op types hold values rather than compute them (Const, Constant): not drawn.
bool isValueNode(const NodeDescription &node);

// The subgraphs of a model: graph key → the model node owning it (-1 when no node does, as for
// MindIR's function graphs), in the order met. The top graph (the first node's) is not listed.
std::vector<std::pair<std::string, int>> subgraphsOf(const ModelDescription &model);

// `expanded` holds scope paths ("layer1", "layer1/0") the user opened; with fold = false every
// node is drawn. valueShapes: value name → shape text, for edge labels and weight rows.
// collapsedGraphs: subgraph keys drawn as one box instead of a cluster.
VisibleGraph buildVisibleGraph(const ModelDescription &model, const std::map<std::string, std::string> &valueShapes,
                               const std::set<std::string> &expanded, bool fold, const std::set<std::string> &collapsedGraphs = {});

// "[1,64,56,56]", "?" for unknown dimensions.
std::string shapeText(const std::vector<int64_t> &shape);
// "batch×3×224×224" (Netron's edge labels): named free dimensions by name, "?" for the others,
// "scalar" for rank 0; "" when the shape is not known.
std::string shapeLabel(const ValueDescription &value);
// Every shape the description states (inputs, outputs, parameters, values), by value name.
std::map<std::string, std::string> describedShapes(const ModelDescription &model);

// A node name shortened at the front to what `fits`: "…/layer4/1/conv2" (whole '/'-parts
// dropped first, then characters), the name itself when it fits.
std::string shortenFront(const std::string &name, const std::function<bool(const std::string &)> &fits);

} // namespace netwright::widgets
