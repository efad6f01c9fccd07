// SPDX-License-Identifier: Apache-2.0
#include "graph/visible_graph.h"

#include <algorithm>

namespace netwright::widgets {

int VisibleGraph::index(const std::string &id) const
{
    for (size_t i = 0; i < nodes.size(); ++i)
        if (nodes[i].id == id)
            return static_cast<int>(i);
    return -1;
}

std::vector<std::string> scopeOf(const NodeDescription &node)
{
    std::string path;
    for (const auto &a : node.attributes)
        if ((a.name == "fullname_with_scope" || a.name == "full_name") && a.value.size() > 2)
            path = a.value.substr(1, a.value.size() - 2); // quoted string
    if (path.empty())
        path = node.name;
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= path.size()) {
        const size_t slash = path.find('/', start);
        const std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        if (!part.empty())
            parts.push_back(part);
        if (slash == std::string::npos)
            break;
        start = slash + 1;
    }
    if (!parts.empty())
        parts.pop_back();
    if (!parts.empty() && parts.front() == "Default")
        parts.erase(parts.begin()); // MindSpore's root cell
    return parts;
}

bool isValueNode(const NodeDescription &node)
{
    return node.inputs.empty() && (node.opType == "Const" || node.opType == "Constant");
}

std::string shapeText(const std::vector<int64_t> &shape)
{
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i)
        s += (i ? "," : "") + (shape[i] < 0 ? std::string("?") : std::to_string(shape[i]));
    return s + "]";
}

std::map<std::string, std::string> describedShapes(const ModelDescription &model)
{
    std::map<std::string, std::string> shapes;
    for (const auto *list : {&model.values, &model.parameters, &model.inputs, &model.outputs})
        for (const auto &v : *list)
            if (v.shapeKnown && !v.name.empty())
                shapes[v.name] = shapeText(v.shape);
    return shapes;
}

VisibleGraph buildVisibleGraph(const ModelDescription &model, const std::map<std::string, std::string> &valueShapes,
                               const std::set<std::string> &expanded, bool fold)
{
    // An Identity of a parameter (how PyTorch's exporter shares a weight) only names a value:
    // drawn as the parameter it forwards, i.e. not at all.
    std::set<std::string> parameters;
    for (const auto &p : model.parameters)
        parameters.insert(p.name);
    auto hidden = [&](const NodeDescription &n) {
        if (isValueNode(n))
            return true;
        if (n.opType != "Identity" || n.inputs.size() != 1 || !parameters.count(n.inputs[0]))
            return false;
        for (const auto &out : n.outputs)
            parameters.insert(out); // what it forwards counts as a parameter too
        return true;
    };
    std::vector<bool> skip(model.nodes.size());
    for (size_t i = 0; i < model.nodes.size(); ++i)
        skip[i] = hidden(model.nodes[i]);
    VisibleGraph g;
    std::map<std::string, int> producer; // value → visible node
    for (const auto &in : model.inputs) {
        producer[in.name] = static_cast<int>(g.nodes.size());
        g.nodes.push_back({VisibleNode::Kind::Input, "input:" + in.name, "input", in.name, -1, {}});
    }
    // Which scope (if any) each node folds into: the shallowest prefix of its path the user has
    // not expanded. A scope holding a single node is not worth folding.
    std::map<std::string, std::vector<int>> scopeMembers;
    std::vector<std::string> foldedInto(model.nodes.size());
    if (fold) {
        for (size_t i = 0; i < model.nodes.size(); ++i) {
            if (skip[i])
                continue;
            std::string path;
            for (const auto &part : scopeOf(model.nodes[i])) {
                path += (path.empty() ? "" : "/") + part;
                if (!expanded.count(path)) {
                    foldedInto[i] = path;
                    break;
                }
            }
            if (!foldedInto[i].empty())
                scopeMembers[foldedInto[i]].push_back(static_cast<int>(i));
        }
        for (auto &f : foldedInto)
            if (!f.empty() && scopeMembers[f].size() < 2)
                f.clear();
    }
    std::map<std::string, int> scopeNode;
    std::vector<int> visibleOf(model.nodes.size(), -1);
    for (size_t i = 0; i < model.nodes.size(); ++i) {
        const auto &n = model.nodes[i];
        if (skip[i])
            continue;
        if (!foldedInto[i].empty()) {
            const auto [it, added] = scopeNode.emplace(foldedInto[i], static_cast<int>(g.nodes.size()));
            if (added) {
                const size_t count = scopeMembers[foldedInto[i]].size();
                g.nodes.push_back({VisibleNode::Kind::Scope, "scope:" + foldedInto[i], foldedInto[i], std::to_string(count) + " nodes", -1,
                                   scopeMembers[foldedInto[i]]});
            }
            visibleOf[i] = it->second;
        } else {
            visibleOf[i] = static_cast<int>(g.nodes.size());
            g.nodes.push_back({VisibleNode::Kind::Op, n.name, n.opType, n.name, static_cast<int>(i), {}});
        }
        for (const auto &out : n.outputs)
            producer[out] = visibleOf[i];
    }
    std::set<std::pair<int, int>> seen;
    auto connect = [&](const std::string &value, int to) {
        const auto p = producer.find(value);
        if (p == producer.end() || p->second == to || !seen.insert({p->second, to}).second)
            return;
        const auto shape = valueShapes.find(value);
        g.edges.push_back({p->second, to, shape == valueShapes.end() ? std::string() : shape->second});
    };
    for (size_t i = 0; i < model.nodes.size(); ++i)
        if (visibleOf[i] >= 0)
            for (const auto &in : model.nodes[i].inputs)
                connect(in, visibleOf[i]);
    for (const auto &out : model.outputs) {
        const int at = static_cast<int>(g.nodes.size());
        g.nodes.push_back({VisibleNode::Kind::Output, "output:" + out.name, "output", out.name, -1, {}});
        connect(out.name, at);
    }
    return g;
}

} // namespace netwright::widgets
