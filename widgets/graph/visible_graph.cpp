// SPDX-License-Identifier: Apache-2.0
#include "graph/visible_graph.h"

#include "formats/onnx/op_documentation.h"

#include <algorithm>

namespace netwright::widgets {

int VisibleGraph::index(const std::string &id) const
{
    for (size_t i = 0; i < nodes.size(); ++i)
        if (nodes[i].id == id)
            return static_cast<int>(i);
    return -1;
}

int VisibleGraph::clusterIndex(const std::string &key) const
{
    for (size_t i = 0; i < clusters.size(); ++i)
        if (clusters[i].key == key)
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

std::string shapeLabel(const ValueDescription &value)
{
    if (!value.shapeKnown || !value.text.empty())
        return {};
    if (value.shape.empty())
        return "scalar";
    std::string s;
    for (size_t i = 0; i < value.shape.size(); ++i) {
        if (i)
            s += "×";
        const bool named = i < value.dimNames.size() && !value.dimNames[i].empty();
        s += named ? value.dimNames[i] : value.shape[i] < 0 ? std::string("?") : std::to_string(value.shape[i]);
    }
    return s;
}

std::string shortenFront(const std::string &name, const std::function<bool(const std::string &)> &fits)
{
    if (fits(name))
        return name;
    const std::string ellipsis = "…";
    // Whole parts first: "…/layer4/1/conv2".
    for (size_t slash = name.find('/'); slash != std::string::npos && slash + 1 < name.size(); slash = name.find('/', slash + 1)) {
        const std::string candidate = ellipsis + name.substr(slash);
        if (fits(candidate))
            return candidate;
    }
    // Then characters of the last part (never splitting a UTF-8 sequence).
    const size_t lastSlash = name.rfind('/');
    size_t from = lastSlash == std::string::npos ? 0 : lastSlash;
    while (from < name.size()) {
        do
            ++from;
        while (from < name.size() && (static_cast<unsigned char>(name[from]) & 0xC0) == 0x80);
        const std::string candidate = ellipsis + name.substr(from);
        if (fits(candidate) || from >= name.size())
            return candidate;
    }
    return ellipsis;
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

std::vector<std::pair<std::string, int>> subgraphsOf(const ModelDescription &model)
{
    std::vector<std::pair<std::string, int>> out;
    if (model.nodes.empty())
        return out;
    const std::string &top = model.nodes.front().graph;
    std::set<std::string> seen{top};
    for (size_t i = 0; i < model.nodes.size(); ++i) {
        const std::string &g = model.nodes[i].graph;
        if (!seen.insert(g).second)
            continue;
        // ONNX names a body "<graph>/<node>.<attribute>" and lists it right after its node: the
        // owner is the latest node whose prefix it carries.
        int owner = -1;
        for (size_t j = i; j-- > 0;) {
            const NodeDescription &o = model.nodes[j];
            const std::string prefix = o.graph + "/" + o.name + ".";
            if (g.size() > prefix.size() && g.compare(0, prefix.size(), prefix) == 0 && g.find('/', prefix.size()) == std::string::npos) {
                owner = static_cast<int>(j);
                break;
            }
        }
        out.emplace_back(g, owner);
    }
    return out;
}

VisibleGraph buildVisibleGraph(const ModelDescription &model, const std::map<std::string, std::string> &valueShapes,
                               const std::set<std::string> &expanded, bool fold, const std::set<std::string> &collapsedGraphs)
{
    // An Identity of a parameter (how PyTorch's exporter shares a weight) only names a value:
    // drawn as the parameter it forwards, i.e. not at all.
    std::map<std::string, const ValueDescription *> parameters;
    for (const auto &p : model.parameters)
        parameters.emplace(p.name, &p);
    std::set<std::string> heldValues; // outputs of hidden nodes: drawn as rows of their consumers
    auto hidden = [&](const NodeDescription &n) {
        if (isValueNode(n)) {
            heldValues.insert(n.outputs.begin(), n.outputs.end());
            return true;
        }
        if (n.opType != "Identity" || n.inputs.size() != 1 || !parameters.count(n.inputs[0]))
            return false;
        for (const auto &out : n.outputs) {
            parameters.emplace(out, parameters[n.inputs[0]]); // what it forwards counts as a parameter too
            heldValues.insert(out);
        }
        return true;
    };
    std::vector<bool> skip(model.nodes.size());
    for (size_t i = 0; i < model.nodes.size(); ++i)
        skip[i] = hidden(model.nodes[i]);

    // Subgraphs: which are drawn as clusters, which as one box (the outermost collapsed one), and
    // which not at all (inside a collapsed one).
    const auto subgraphs = subgraphsOf(model);
    std::map<std::string, int> ownerOf;
    for (const auto &[key, owner] : subgraphs)
        ownerOf[key] = owner;
    auto parentGraph = [&](const std::string &key) -> std::string {
        const auto it = ownerOf.find(key);
        return it == ownerOf.end() || it->second < 0 ? std::string() : model.nodes[static_cast<size_t>(it->second)].graph;
    };
    auto isSub = [&](const std::string &key) { return ownerOf.count(key) != 0; };
    // The outermost collapsed graph on the way out of `key` ("" when every one is open).
    auto collapsedAround = [&](std::string key) {
        std::string found;
        for (int depth = 0; isSub(key) && depth < 64; ++depth, key = parentGraph(key))
            if (collapsedGraphs.count(key))
                found = key;
        return found;
    };
    auto titleOf = [&](const std::string &key, int owner) {
        if (owner < 0)
            return key;
        const NodeDescription &o = model.nodes[static_cast<size_t>(owner)];
        return key.substr(o.graph.size() + 1 + o.name.size() + 1);
    };

    VisibleGraph g;
    std::vector<int> nodeCount(subgraphs.size());
    std::map<std::string, int> subIndex;
    for (size_t i = 0; i < subgraphs.size(); ++i)
        subIndex[subgraphs[i].first] = static_cast<int>(i);
    for (const auto &n : model.nodes)
        for (std::string key = n.graph; isSub(key); key = parentGraph(key))
            ++nodeCount[static_cast<size_t>(subIndex[key])];
    // Clusters, outer before inner (an owner is listed before its bodies).
    for (const auto &[key, owner] : subgraphs) {
        if (!collapsedAround(key).empty())
            continue;
        VisibleCluster c;
        c.key = key;
        c.title = titleOf(key, owner);
        c.owner = owner >= 0 ? model.nodes[static_cast<size_t>(owner)].name : std::string();
        c.parent = g.clusterIndex(parentGraph(key));
        c.nodes = nodeCount[static_cast<size_t>(subIndex[key])];
        g.clusters.push_back(c);
    }

    std::map<std::string, int> producer; // value → visible node
    for (const auto &in : model.inputs) {
        producer[in.name] = static_cast<int>(g.nodes.size());
        g.nodes.push_back({VisibleNode::Kind::Input, "input:" + in.name, "input", in.name, -1, {}, {}, -1, {}});
    }
    // Which scope (if any) each node folds into: the shallowest prefix of its path the user has
    // not expanded. A scope holding a single node is not worth folding.
    std::map<std::string, std::vector<int>> scopeMembers;
    std::vector<std::string> foldedInto(model.nodes.size()), inCollapsed(model.nodes.size());
    for (size_t i = 0; i < model.nodes.size(); ++i)
        inCollapsed[i] = collapsedAround(model.nodes[i].graph);
    if (fold) {
        for (size_t i = 0; i < model.nodes.size(); ++i) {
            if (skip[i] || !inCollapsed[i].empty())
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
    // Input names of the op schemas, for the weight rows ("W", "B"): ONNX files only.
    const bool onnx = model.format == "onnx";
    int opset = 0;
    for (const auto &[k, v] : model.properties)
        if (k == "opset_import")
            opset = onnxOpset(v);
    std::map<std::string, std::vector<std::string>> schemaInputs;
    auto inputName = [&](const std::string &op, size_t k, const std::string &value) {
        if (onnx) {
            auto it = schemaInputs.find(op);
            if (it == schemaInputs.end()) {
                std::vector<std::string> names;
                if (const auto doc = onnxOpDocumentation(op, opset))
                    for (const auto &in : doc->inputs)
                        names.push_back(in.name);
                it = schemaInputs.emplace(op, std::move(names)).first;
            }
            if (!it->second.empty())
                return it->second[std::min(k, it->second.size() - 1)];
        }
        // The last part of the weight's own name: "conv1.weight" → "weight".
        const size_t cut = value.find_last_of("./:");
        return cut == std::string::npos || cut + 1 >= value.size() ? value : value.substr(cut + 1);
    };

    std::map<std::string, int> scopeNode, collapsedNode;
    std::vector<int> visibleOf(model.nodes.size(), -1);
    for (size_t i = 0; i < model.nodes.size(); ++i) {
        const auto &n = model.nodes[i];
        if (skip[i])
            continue;
        if (!inCollapsed[i].empty()) {
            const std::string &key = inCollapsed[i];
            const auto [it, added] = collapsedNode.emplace(key, static_cast<int>(g.nodes.size()));
            if (added) {
                const int owner = ownerOf[key];
                VisibleNode box{VisibleNode::Kind::Subgraph, "graph:" + key, titleOf(key, owner),
                                std::to_string(nodeCount[static_cast<size_t>(subIndex[key])]) + " nodes", -1, {}, {},
                                g.clusterIndex(parentGraph(key)), key};
                g.nodes.push_back(std::move(box));
            }
            g.nodes[static_cast<size_t>(it->second)].members.push_back(static_cast<int>(i));
            visibleOf[i] = it->second;
        } else if (!foldedInto[i].empty()) {
            const auto [it, added] = scopeNode.emplace(foldedInto[i], static_cast<int>(g.nodes.size()));
            if (added) {
                const size_t count = scopeMembers[foldedInto[i]].size();
                g.nodes.push_back({VisibleNode::Kind::Scope, "scope:" + foldedInto[i], foldedInto[i], std::to_string(count) + " nodes", -1,
                                   scopeMembers[foldedInto[i]], {}, g.clusterIndex(n.graph), {}});
            }
            visibleOf[i] = it->second;
        } else {
            visibleOf[i] = static_cast<int>(g.nodes.size());
            VisibleNode box{VisibleNode::Kind::Op, n.name, n.opType, n.name, static_cast<int>(i), {}, {}, g.clusterIndex(n.graph), {}};
            for (size_t k = 0; k < n.inputs.size(); ++k) {
                const std::string &v = n.inputs[k];
                const auto p = parameters.find(v);
                if (p == parameters.end() && !heldValues.count(v))
                    continue;
                const auto shape = valueShapes.find(v);
                std::string text = shape != valueShapes.end() ? shape->second : p != parameters.end() ? shapeLabel(*p->second) : std::string();
                box.rows.push_back({inputName(n.opType, k, p != parameters.end() ? p->second->name : v), text});
            }
            g.nodes.push_back(std::move(box));
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
        g.edges.push_back({p->second, to, shape == valueShapes.end() ? std::string() : shape->second, false});
    };
    for (size_t i = 0; i < model.nodes.size(); ++i)
        if (visibleOf[i] >= 0)
            for (const auto &in : model.nodes[i].inputs)
                connect(in, visibleOf[i]);
    for (const auto &out : model.outputs) {
        const int at = static_cast<int>(g.nodes.size());
        g.nodes.push_back({VisibleNode::Kind::Output, "output:" + out.name, "output", out.name, -1, {}, {}, -1, {}});
        connect(out.name, at);
    }
    // Each subgraph hangs below its owner: a dashed tie to the box standing for it, or to the
    // first node drawn in its cluster.
    for (auto &c : g.clusters) {
        const int owner = ownerOf[c.key];
        c.ownerNode = owner >= 0 ? visibleOf[static_cast<size_t>(owner)] : -1;
        if (c.ownerNode < 0)
            continue;
        const int self = g.clusterIndex(c.key);
        for (size_t v = 0; v < g.nodes.size(); ++v)
            if (g.nodes[v].cluster == self) {
                if (seen.insert({c.ownerNode, static_cast<int>(v)}).second)
                    g.edges.push_back({c.ownerNode, static_cast<int>(v), {}, true});
                break;
            }
    }
    for (size_t v = 0; v < g.nodes.size(); ++v) {
        const VisibleNode &n = g.nodes[v];
        if (n.kind != VisibleNode::Kind::Subgraph)
            continue;
        const int owner = ownerOf[n.graph];
        const int from = owner >= 0 ? visibleOf[static_cast<size_t>(owner)] : -1;
        if (from >= 0 && from != static_cast<int>(v) && seen.insert({from, static_cast<int>(v)}).second)
            g.edges.push_back({from, static_cast<int>(v), {}, true});
    }
    return g;
}

} // namespace netwright::widgets
