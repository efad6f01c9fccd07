// SPDX-License-Identifier: Apache-2.0
// If, Loop and Scan: their subgraphs as GRAPH attributes, written node by node like the model's
// graph, with what is known of their values; Scan-8's batch form as a Scan over the batch.
#include "formats/onnx/onnx_export_writer.h"

#include "core/error.h"

#include <algorithm>
#include <functional>

namespace netwright::onnx_format::exporter {

namespace {

// The shape with `axis` (negative: from the end) taken out; nullopt when unknown or out of range.
std::optional<Shape> withoutAxis(const std::optional<Shape> &s, int64_t axis)
{
    if (!s)
        return std::nullopt;
    const int64_t r = static_cast<int64_t>(s->size());
    if (axis < 0)
        axis += r;
    if (axis < 0 || axis >= r)
        return std::nullopt;
    Shape out = *s;
    out.erase(out.begin() + axis);
    return out;
}

const Graph *subgraphOf(const Node &n, const std::string &attr)
{
    const auto it = n.attributes.find(attr);
    if (it == n.attributes.end())
        return nullptr;
    const auto *g = std::get_if<std::shared_ptr<Graph>>(&it->second);
    return g ? g->get() : nullptr;
}

} // namespace

// If, Loop and Scan: the node with its subgraphs as GRAPH attributes. The outer-scope values the
// subgraphs read (the node's implicit inputs) are not inputs in ONNX: the subgraphs name them.
void Writer::controlFlow(const Node &n, std::vector<std::string> inputs, std::vector<std::string> outputs, const Attrs &attrs)
{
    const std::vector<const char *> keys = n.opType == "If" ? std::vector<const char *>{"then_branch", "else_branch"}
                                                             : std::vector<const char *>{"body"};
    for (const char *key : keys)
        if (!subgraphOf(n, key)) {
            problem(n, std::string("its ") + key + " is not a graph");
            return;
        }
    if (n.opType == "Scan" && n.attrInt("netwright.scan8_batch", 0) != 0) {
        scan8(n, inputs, outputs);
        return;
    }
    const size_t explicitInputs = inputs.size();
    while (inputs.size() > (n.opType == "Loop" ? 2u : 0u) && inputs.back().empty())
        inputs.pop_back();
    while (!outputs.empty() && outputs.back().empty())
        outputs.pop_back();
    // What the op feeds each body input, at both settings of the free dimensions.
    auto fed = [&](const std::string &v, const std::function<std::optional<Shape>(const std::optional<Shape> &)> &shape) {
        BodyInput b;
        if (v.empty())
            return b;
        b.type = typeOf(v);
        for (int k = 0; k < 2; ++k)
            b.shape[k] = shape(shapeOf(v, k));
        return b;
    };
    auto same = [](const std::optional<Shape> &s) { return s; };
    std::vector<BodyInput> declared;
    std::vector<std::pair<size_t, size_t>> carried; // (body input, body output) of a value carried between iterations
    if (n.opType == "Loop") { // body: (iteration number, condition, carried…) → (condition, carried…, scan outputs…)
        declared.push_back({DType::Int64, {Shape{}, Shape{}}});
        declared.push_back({DType::Bool, {Shape{}, Shape{}}});
        for (size_t k = 2; k < explicitInputs; ++k) {
            declared.push_back(fed(n.inputs[k], same));
            carried.emplace_back(k, k - 1);
        }
    } else if (n.opType == "Scan") { // body: (states…, one slice of each scanned input…) → (states…, scan outputs…)
        const int64_t m = n.attrInt("num_scan_inputs", 0);
        const size_t states = m >= 0 && static_cast<size_t>(m) <= explicitInputs ? explicitInputs - static_cast<size_t>(m) : 0;
        const std::vector<int64_t> axes = n.attrInts("scan_input_axes", {});
        for (size_t k = 0; k < explicitInputs; ++k) {
            if (k < states) {
                declared.push_back(fed(n.inputs[k], same));
                carried.emplace_back(k, k);
                continue;
            }
            const int64_t axis = k - states < axes.size() ? axes[k - states] : 0;
            declared.push_back(fed(n.inputs[k], [&](const std::optional<Shape> &s) { return withoutAxis(s, axis); }));
        }
    }
    onnx::NodeProto &node = emit(n.opType, n.name, inputs, outputs, attrs);
    for (const char *key : keys)
        writeBody(*node.add_attribute(), key, *subgraphOf(n, key), declared, carried);
}

// Scan-8 (opset 8: a batch axis first on every input, sequence_lens first) as Scan 9+ does it: an
// outer Scan over the batch axis, with no state, whose body scans one batch item's sequence with
// the node's body — the engine runs Scan-8 item by item the same way. sequence_lens is written
// only when it is a constant equal to the sequence length (the one case the engine runs).
void Writer::scan8(const Node &n, const std::vector<std::string> &inputs, std::vector<std::string> outputs)
{
    const Graph &body = *subgraphOf(n, "body");
    const int64_t m = n.attrInt("num_scan_inputs", 0);
    if (inputs.size() < 2 || m < 1 || static_cast<size_t>(m) > inputs.size() - 1) {
        problem(n, "its inputs do not fit num_scan_inputs");
        return;
    }
    const std::vector<std::string> values(inputs.begin() + 1, inputs.end());
    const size_t states = values.size() - static_cast<size_t>(m);
    if (!inputs[0].empty()) {
        const Tensor *c = constantOf(inputs[0]);
        const auto lens = c ? intsOf(*c) : std::nullopt;
        const auto length = staticDim(values[states], 1);
        if (!lens || !length || std::any_of(lens->begin(), lens->end(), [&](int64_t l) { return l != *length; })) {
            problem(n, "sequence_lens (Scan-8) is written only as a constant equal to the sequence length: later Scans have none");
            return;
        }
    }
    const size_t results = body.outputs.size();
    outputs.resize(std::max(outputs.size(), results));
    std::vector<std::optional<DType>> resultTypes;
    for (auto &o : outputs) {
        resultTypes.push_back(o.empty() ? std::nullopt : typeOf(o));
        if (o.empty())
            o = fresh(n.name + "/unused");
    }
    onnx::NodeProto &outer = emit("Scan", n.name, values, outputs, {{"num_scan_inputs", static_cast<int64_t>(values.size())}});
    onnx::AttributeProto &attribute = *outer.add_attribute();
    attribute.set_name("body");
    attribute.set_type(onnx::AttributeProto::GRAPH);

    // The outer body: one batch item of every input → the inner Scan's results.
    Scope scope;
    scope.proto = attribute.mutable_g();
    scope.parent = m_scope;
    scope.proto->set_name(n.name + "/batch_item");
    std::vector<std::string> items, itemResults;
    std::vector<BodyInput> declared;
    std::vector<std::pair<size_t, size_t>> carried;
    for (size_t j = 0; j < values.size(); ++j) {
        items.push_back(fresh(n.name + "/item_" + std::to_string(j)));
        BodyInput item, slice;
        item.type = slice.type = typeOf(values[j]);
        for (int k = 0; k < 2; ++k) {
            item.shape[k] = withoutAxis(shapeOf(values[j], k), 0);
            slice.shape[k] = j < states ? item.shape[k] : withoutAxis(item.shape[k], 0);
        }
        declared.push_back(slice);
        if (j < states)
            carried.emplace_back(j, j);
        for (int k = 0; k < 2; ++k) {
            std::optional<Analysis> &a = k == 0 ? scope.a : scope.a2;
            const std::optional<Analysis> &around = k == 0 ? m_scope->a : m_scope->a2;
            if (!around)
                continue;
            if (!a)
                a = *around;
            if (item.type)
                a->types[items[j]] = *item.type;
            if (item.shape[k])
                a->shapes[items[j]] = *item.shape[k];
        }
    }
    for (size_t o = 0; o < results; ++o)
        itemResults.push_back(fresh(n.name + "/item_result_" + std::to_string(o)));
    ScopeGuard guard(m_scope, scope);
    Attrs inner{{"num_scan_inputs", m}};
    if (n.hasAttribute("directions"))
        inner["scan_input_directions"] = n.attrInts("directions", {});
    onnx::NodeProto &scan = emit("Scan", n.name + "/item", items, itemResults, inner);
    writeBody(*scan.add_attribute(), "body", body, declared, carried);
    for (const auto &i : items)
        bodyValue(*scope.proto->add_input(), ValueInfo{i, {}, DType::Float32}, typeOf(i));
    for (size_t o = 0; o < results; ++o)
        bodyValue(*scope.proto->add_output(), ValueInfo{itemResults[o], {}, DType::Float32}, resultTypes[o]);
    for (const auto &[name, t] : scope.newInitializers)
        fillInitializer(*scope.proto->add_initializer(), name, t, m_options.externalData.get());
}

// Writes `body` as the GRAPH attribute `attr` of the node just written: its nodes (each in the
// target opset's form, like the model's), the initializers it reads, and its inputs and outputs
// typed as far as they are known. `declared` is what the op feeds the body's inputs, in order;
// `carried` pairs an input with the output it comes back as between iterations, whose shape is
// taken as known in the body only when the body keeps it.
void Writer::writeBody(onnx::AttributeProto &attribute, const std::string &attr, const Graph &body,
                       const std::vector<BodyInput> &declared, const std::vector<std::pair<size_t, size_t>> &carried)
{
    attribute.set_name(attr);
    attribute.set_type(onnx::AttributeProto::GRAPH);
    Scope scope;
    scope.graph = &body;
    scope.proto = attribute.mutable_g();
    scope.parent = m_scope;
    scope.proto->set_name(body.name.empty() ? attr : body.name);
    std::vector<const Node *> nodes;
    for (const Node &n : body.nodes)
        nodes.push_back(&n);

    // What is known in it: the values around it, its initializers, its inputs as the op feeds them.
    auto analyseAt = [&](int k, bool carriedShapes) -> std::optional<Analysis> {
        const std::optional<Analysis> &around = k == 0 ? m_scope->a : m_scope->a2;
        if (!around)
            return std::nullopt;
        Analysis a = *around;
        for (const auto &[name, t] : body.initializers) {
            a.shapes[name] = t.shape();
            a.types[name] = t.dtype();
            if (t.device().type == DeviceType::Cpu)
                a.constants[name] = t;
        }
        for (size_t i = 0; i < body.inputs.size() && i < declared.size(); ++i) {
            const std::string &v = body.inputs[i].name;
            a.shapes.erase(v);
            a.types.erase(v);
            a.constants.erase(v);
            if (declared[i].type)
                a.types[v] = *declared[i].type;
            const bool isCarried = std::any_of(carried.begin(), carried.end(), [&](const auto &c) { return c.first == i; });
            if (declared[i].shape[k] && (carriedShapes || !isCarried))
                a.shapes[v] = *declared[i].shape[k];
        }
        analyse(a, nodes);
        return a;
    };
    try {
        scope.a = analyseAt(0, true);
        scope.a2 = analyseAt(1, true);
        bool kept = true; // every carried value keeps its shape through an iteration
        for (const auto &[i, o] : carried)
            for (int k = 0; k < 2; ++k) {
                const std::optional<Analysis> &a = k == 0 ? scope.a : scope.a2;
                if (!a || i >= declared.size() || !declared[i].shape[k] || o >= body.outputs.size())
                    continue;
                const auto it = a->shapes.find(body.outputs[o].name);
                kept = kept && it != a->shapes.end() && it->second == *declared[i].shape[k];
            }
        if (!kept) {
            scope.a = analyseAt(0, false);
            scope.a2 = analyseAt(1, false);
        }
    } catch (const Error &) {
        scope.a.reset();
        scope.a2.reset();
    }

    ScopeGuard guard(m_scope, scope);
    for (const Node *n : nodes)
        write(*n);
    for (size_t i = 0; i < body.inputs.size(); ++i)
        bodyValue(*scope.proto->add_input(), body.inputs[i], i < declared.size() ? declared[i].type : std::nullopt);
    for (const auto &o : body.outputs) {
        use(o.name);
        bodyValue(*scope.proto->add_output(), o, std::nullopt);
    }
    for (const auto &[name, t] : body.initializers)
        if (scope.usedInitializers.count(name))
            fillInitializer(*scope.proto->add_initializer(), name, t, m_options.externalData.get());
    for (const auto &[name, t] : scope.newInitializers)
        fillInitializer(*scope.proto->add_initializer(), name, t, m_options.externalData.get());
}

// A subgraph's input or output, typed as far as it is known: the element type the op feeds (or the
// file declared, or the analysis found — the importer's float32 without a shape also stands for "not
// declared"); the shape the file declared (-1: a dimension of unknown size), else the analysis's,
// with the dimensions that follow the free ones unknown. Neither known: the value is left untyped,
// which ONNX allows in subgraphs.
void Writer::bodyValue(onnx::ValueInfoProto &p, const ValueInfo &v, std::optional<DType> type) const
{
    p.set_name(v.name);
    const bool undeclared = v.dtype == DType::Float32 && v.shape.empty();
    if (!type && !undeclared)
        type = v.dtype;
    if (!type)
        type = typeOf(v.name);
    if (!type)
        return;
    auto *t = p.mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnxType(*type));
    if (!v.shape.empty()) {
        auto *shape = t->mutable_shape();
        for (int64_t d : v.shape) {
            auto *dim = shape->add_dim();
            if (d >= 0)
                dim->set_dim_value(d);
        }
        return;
    }
    const auto s1 = shapeOf(v.name, 0), s2 = shapeOf(v.name, 1);
    if (!s1 || !s2 || s1->size() != s2->size())
        return;
    auto *shape = t->mutable_shape();
    for (size_t i = 0; i < s1->size(); ++i) {
        auto *dim = shape->add_dim();
        if ((*s1)[i] == (*s2)[i])
            dim->set_dim_value((*s1)[i]);
    }
}

} // namespace netwright::onnx_format::exporter
