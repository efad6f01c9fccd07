// SPDX-License-Identifier: Apache-2.0
// The ONNX exporter's writer: one pass over the model's nodes (and, recursively, its subgraphs')
// that writes each in the target opset's form into the graph being written, or records why it
// cannot. Its parts: onnx_export.cpp (the driver: the model's graph, inputs and outputs),
// onnx_export_ops.cpp (each op's form at the target opset, compositions included) and
// onnx_export_subgraphs.cpp (If, Loop and Scan). Private to engine/formats/onnx.
#pragma once

#include "formats/inference_graph.h"
#include "formats/onnx/onnx_export.h"
#include "formats/onnx/onnx_export_analysis.h"
#include "formats/onnx/onnx_export_proto.h"

#include <onnx/onnx_pb.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace netwright::onnx_format::exporter {

using Attrs = std::map<std::string, Attribute>;

// The ONNX ops the engine runs, each with the first opset that has it with the engine's (opset
// 13+) meaning; an earlier target gets a rewrite (see Writer::write) or a refusal. Gelu, Mish and
// GroupNormalization are not ONNX ops at 11–17: always written as compositions.
const std::map<std::string, int64_t> &onnxOps();

// One graph being written — the model's, or a subgraph (If's branches, Loop's and Scan's body, the
// batch loop Scan-8 becomes) — with what is known of its values ahead of a run and the initializers
// it writes. A subgraph reads the values of the graphs around it by name (ONNX's outer scope).
struct Scope {
    const Graph *graph = nullptr; // null for a graph the exporter makes
    onnx::GraphProto *proto = nullptr;
    Scope *parent = nullptr;
    std::optional<Analysis> a, a2; // at free dimensions 1 and 2
    std::set<std::string> usedInitializers;
    std::vector<std::pair<std::string, Tensor>> newInitializers;
};

// What an op feeds a subgraph's input: its element type and its shape at each setting of the free
// dimensions, where known.
struct BodyInput {
    std::optional<DType> type;
    std::optional<Shape> shape[2];
};

class Writer {
public:
    Writer(const Graph &model, const OnnxExportOptions &options) : m_model(model), m_options(options), V(options.opset) {}

    std::string run();

private:
    // ---- problems, once per op type and reason ----
    void problem(const Node &n, const std::string &why) { m_problems.add(n, why); }

    // ---- what is known ahead of a run (in the graph being written) ----
    std::optional<Shape> shapeOf(const std::string &v, int setting = 0) const
    {
        const std::optional<Analysis> &a = setting == 0 ? m_scope->a : m_scope->a2;
        if (!a)
            return std::nullopt;
        const auto it = a->shapes.find(v);
        return it == a->shapes.end() ? std::nullopt : std::optional<Shape>(it->second);
    }
    std::optional<int> rankOf(const std::string &v) const
    {
        const auto s = shapeOf(v);
        return s ? std::optional<int>(static_cast<int>(s->size())) : std::nullopt;
    }
    // The initializer `v` names in the graph being written or one around it, and that graph's scope.
    std::pair<Scope *, const Tensor *> initializerOf(const std::string &v) const
    {
        for (Scope *s = m_scope; s; s = s->parent)
            if (s->graph)
                if (const auto it = s->graph->initializers.find(v); it != s->graph->initializers.end())
                    return {s, &it->second};
        return {nullptr, nullptr};
    }
    std::optional<DType> typeOf(const std::string &v) const
    {
        if (const Tensor *t = initializerOf(v).second)
            return t->dtype();
        if (!m_scope->a)
            return std::nullopt;
        const auto it = m_scope->a->types.find(v);
        return it == m_scope->a->types.end() ? std::nullopt : std::optional<DType>(it->second);
    }
    // A value that is the same whatever the free dimensions are (initializers, constant folds).
    const Tensor *constantOf(const std::string &v) const
    {
        if (const Tensor *t = initializerOf(v).second)
            return t;
        const std::optional<Analysis> &a1 = m_scope->a, &a2 = m_scope->a2;
        if (!a1 || !a2)
            return nullptr;
        const auto a = a1->constants.find(v), b = a2->constants.find(v);
        if (a == a1->constants.end() || b == a2->constants.end() || !sameTensor(a->second, b->second))
            return nullptr;
        return &a->second;
    }
    // A dimension that does not follow the free dimensions (the batch).
    std::optional<int64_t> staticDim(const std::string &v, int axis) const
    {
        const auto s1 = shapeOf(v, 0), s2 = shapeOf(v, 1);
        if (!s1 || !s2)
            return std::nullopt;
        const Shape &a = *s1, &b = *s2;
        if (a.size() != b.size() || axis < 0 || axis >= static_cast<int>(a.size()) || a[axis] != b[axis])
            return std::nullopt;
        return a[axis];
    }

    // ---- writing ----
    std::string fresh(const std::string &base)
    {
        std::string name = base;
        while (!m_names.insert(name).second)
            name += "_";
        return name;
    }
    std::string constant(const std::string &base, const Tensor &t)
    {
        const std::string name = fresh(base);
        m_scope->newInitializers.emplace_back(name, t);
        return name;
    }
    std::string ints(const std::string &base, const std::vector<int64_t> &values)
    {
        return constant(base, Tensor::fromInt64({static_cast<int64_t>(values.size())}, values));
    }
    // A scalar of the element type of `like` (float32 when unknown); empty when that type has none.
    std::string scalarLike(const std::string &base, const std::string &like, double v)
    {
        const Tensor t = scalarTensor(typeOf(like).value_or(DType::Float32), v);
        return t.defined() ? constant(base, t) : std::string();
    }
    // A value read by the graph being written: an initializer of it or of a graph around it is written.
    void use(const std::string &v)
    {
        if (Scope *s = initializerOf(v).first)
            s->usedInitializers.insert(v);
    }
    // Writes a node into the graph being written (its subgraph attributes are the caller's to add).
    onnx::NodeProto &emit(const std::string &op, const std::string &name, const std::vector<std::string> &inputs,
                          const std::vector<std::string> &outputs, const Attrs &attrs = {})
    {
        auto *node = m_scope->proto->add_node();
        std::string nodeName = name;
        while (!m_nodeNames.insert(nodeName).second)
            nodeName += "_";
        node->set_name(nodeName);
        node->set_op_type(op);
        for (const auto &i : inputs) {
            node->add_input(i);
            use(i);
        }
        for (const auto &o : outputs)
            node->add_output(o);
        for (const auto &[k, v] : attrs)
            if (!std::holds_alternative<std::shared_ptr<Graph>>(v))
                fillAttribute(*node->add_attribute(), k, v);
        return *node;
    }

    // An operand that ONNX moved between attribute and input: written as an input (asInput) or as
    // the attribute `attr` (which needs its value ahead of a run). False after a problem.
    bool placeOperand(const Node &n, size_t index, const std::string &attr, bool asInput, std::vector<std::string> &inputs,
                      Attrs &attrs, const std::string &since);

    void write(const Node &n);
    bool writeSpecial(const Node &n, std::vector<std::string> &inputs, std::vector<std::string> &outputs, Attrs &attrs);
    void layerNorm(const Node &n);
    void groupNorm(const Node &n);
    void recurrentLayout(const Node &n, Attrs attrs);
    bool usedLater(const std::string &value) const { return !value.empty() && m_read.count(value); }

    // ---- subgraphs ----
    void controlFlow(const Node &n, std::vector<std::string> inputs, std::vector<std::string> outputs, const Attrs &attrs);
    void scan8(const Node &n, const std::vector<std::string> &inputs, std::vector<std::string> outputs);
    void writeBody(onnx::AttributeProto &attribute, const std::string &attr, const Graph &body, const std::vector<BodyInput> &declared,
                   const std::vector<std::pair<size_t, size_t>> &carried);
    void bodyValue(onnx::ValueInfoProto &p, const ValueInfo &v, std::optional<DType> type) const;

    const Graph &m_model;
    const OnnxExportOptions &m_options;
    const int64_t V;
    Scope m_top;              // the model's graph
    Scope *m_scope = &m_top;  // the graph being written
    std::string m_analysisError;
    std::set<std::string> m_names, m_nodeNames, m_read; // over the model's graph and every subgraph
    ExportProblems m_problems;
};

// Makes `scope` the graph being written until it goes out of scope.
class ScopeGuard {
public:
    ScopeGuard(Scope *&current, Scope &scope) : m_current(current), m_saved(current) { current = &scope; }
    ~ScopeGuard() { m_current = m_saved; }
    ScopeGuard(const ScopeGuard &) = delete;
    ScopeGuard &operator=(const ScopeGuard &) = delete;

private:
    Scope *&m_current;
    Scope *m_saved;
};

} // namespace netwright::onnx_format::exporter
