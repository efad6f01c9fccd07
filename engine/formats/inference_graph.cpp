// SPDX-License-Identifier: Apache-2.0
#include "formats/inference_graph.h"

#include "core/error.h"

#include <algorithm>

namespace netwright {

const std::string &InferenceGraph::source(const std::string &value) const
{
    const auto it = aliases.find(value);
    return it == aliases.end() ? value : it->second;
}

const Tensor *InferenceGraph::initializer(const std::string &value) const
{
    const auto it = graph->initializers.find(source(value));
    return it == graph->initializers.end() ? nullptr : &it->second;
}

std::optional<float> InferenceGraph::scalar(const std::string &value) const
{
    const Tensor *t = value.empty() ? nullptr : initializer(value);
    if (!t || t->dtype() != DType::Float32 || t->numel() != 1)
        return std::nullopt;
    return t->data()[0];
}

int64_t exportBatch(const ValueInfo &input, bool dynamicBatch)
{
    if (!input.shape.empty() && input.shape[0] > 0)
        return input.shape[0];
    return dynamicBatch ? -1 : 1;
}

InferenceGraph inferenceGraph(const Graph &model, bool dynamicBatch, const std::string &target,
                              const std::function<bool(const std::string &)> &mappable)
{
    // Op types the target has no mapping for are listed before shapes are inferred (which needs a
    // kernel for every op), so a model the engine cannot even run still gets the whole list.
    ExportProblems unknown;
    for (const auto &n : model.nodes)
        if (!isTrainingLoss(n.opType) && n.opType != "Dropout" && n.opType != "Identity" && !mappable(n.opType))
            unknown.add(n, "no " + target + " equivalent");
    try {
        return inferenceGraph(model, dynamicBatch);
    } catch (const Error &) {
        unknown.raise(model, target);
        throw;
    }
}

InferenceGraph inferenceGraph(const Graph &model, bool dynamicBatch)
{
    InferenceGraph g;
    g.graph = &model;
    std::set<std::string> dropped{"labels"};
    for (const auto &n : model.nodes) {
        if (isTrainingLoss(n.opType)) {
            dropped.insert(n.outputs.begin(), n.outputs.end());
            continue;
        }
        if ((n.opType == "Dropout" || n.opType == "Identity") && !n.inputs.empty()) {
            const std::string from = g.source(n.inputs[0]);
            g.aliases[n.outputs.at(0)] = from;
            for (size_t i = 1; i < n.outputs.size(); ++i)
                dropped.insert(n.outputs[i]); // the dropout mask
            continue;
        }
        g.nodes.push_back(&n);
    }
    const ValueInfo *input = nullptr;
    for (const auto &in : model.inputs)
        if (!dropped.count(in.name) && !model.initializers.count(in.name))
            input = input ? input : &in;
    check(input != nullptr, "The model \"" + model.name + "\" has no data input to export.");
    g.input = *input;

    auto shapesAt = [&](int64_t batch) {
        Shape s = input->shape;
        if (!s.empty())
            s[0] = batch;
        return model.inferShapes({{input->name, s}, {"labels", {batch}}});
    };
    // A static batch is the one the input states (PyTorch's default export, or an export shaped
    // by the user), else 1; a free batch is found where shapes at batch 1 and 2 differ.
    const int64_t batch = exportBatch(*input, dynamicBatch);
    g.shapes = shapesAt(batch > 0 ? batch : 1);
    if (batch < 0 && !input->shape.empty()) {
        const auto two = shapesAt(2);
        for (auto &[name, shape] : g.shapes) {
            const auto it = two.find(name);
            if (it == two.end() || it->second.size() != shape.size())
                continue;
            for (size_t i = 0; i < shape.size(); ++i)
                if (it->second[i] != shape[i])
                    shape[i] = -1;
        }
    }
    g.input.shape = g.shapes.count(input->name) ? g.shapes.at(input->name) : input->shape;
    for (const Node *n : g.nodes)
        for (const auto &in : n->inputs)
            if (!in.empty() && model.initializers.count(g.source(in)))
                g.usedInitializers.insert(g.source(in));
    for (const auto &out : model.outputs) {
        if (dropped.count(out.name))
            continue;
        ValueInfo v = out;
        v.name = g.source(out.name);
        v.shape = g.shapes.at(v.name);
        g.outputs.push_back(v);
    }
    check(!g.outputs.empty(), "The model \"" + model.name + "\" has no output to export.");
    return g;
}

std::string window2d(const Node &n, const InferenceGraph &graph, Window2d &out)
{
    out.kernel = n.attrInts("kernel_shape", {});
    if (n.opType == "Conv" && out.kernel.empty() && n.inputs.size() > 1 && graph.initializer(n.inputs[1])) {
        const Shape &w = graph.initializer(n.inputs[1])->shape();
        out.kernel.assign(w.begin() + 2, w.end());
    }
    if (out.kernel.size() != 2)
        return "only 2-D windows are exported (" + std::to_string(out.kernel.size()) + "-D here)";
    if (n.attrString("auto_pad", "NOTSET") != "NOTSET")
        return "auto_pad " + n.attrString("auto_pad", "") + " is not exported; use explicit pads";
    if (n.attrInt("ceil_mode", 0) != 0 && n.opType != "MaxPool") // MaxPool: the writers pass ceil_mode on
        return "ceil_mode 1 is exported for MaxPool only";
    out.strides = n.attrInts("strides", {1, 1});
    const auto onnx = n.attrInts("pads", {0, 0, 0, 0});
    if (onnx.size() != 4)
        return "pads must have 4 values";
    out.pads = {onnx[0], onnx[2], onnx[1], onnx[3]}; // ONNX [t,l,b,r] → (t,b,l,r)
    out.dilations = n.attrInts("dilations", {1, 1});
    return {};
}

void ExportProblems::add(const Node &n, const std::string &why)
{
    const auto key = std::make_pair(n.opType, why);
    auto &names = m_nodes[key];
    if (names.empty())
        m_order.push_back(key);
    names.push_back(n.name);
}

void ExportProblems::add(const std::string &problem)
{
    if (std::find(m_general.begin(), m_general.end(), problem) == m_general.end())
        m_general.push_back(problem);
}

std::string ExportProblems::list() const
{
    std::string list;
    for (const auto &p : m_general)
        list += (list.empty() ? "" : "; ") + p;
    for (const auto &key : m_order) {
        const auto &names = m_nodes.at(key);
        std::string what;
        if (names.size() == 1) {
            what = "Node \"" + names[0] + "\" (" + key.first + ")";
        } else {
            what = key.first + " (" + std::to_string(names.size()) + " nodes: ";
            for (size_t i = 0; i < names.size() && i < 3; ++i)
                what += (i ? ", \"" : "\"") + names[i] + "\"";
            what += names.size() > 3 ? ", …)" : ")";
        }
        list += (list.empty() ? "" : "; ") + what + ": " + key.second;
    }
    return list;
}

void ExportProblems::raise(const Graph &model, const std::string &target) const
{
    if (!empty())
        throw Error("Cannot export \"" + model.name + "\" to " + target + ": " + list() + ". Nothing was written.");
}

} // namespace netwright
