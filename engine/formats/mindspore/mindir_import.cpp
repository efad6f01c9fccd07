// SPDX-License-Identifier: Apache-2.0
#include "formats/mindspore/mindir_import.h"

#include "core/error.h"
#include "formats/format_util.h"
#include "formats/graph_import.h"
#include "formats/raw_tensor.h"
#include "mind_ir.pb.h"

#include <map>
#include <optional>
#include <set>

namespace netwright::mindspore {

namespace {

using A = ::mind_ir::AttributeProto;

// The part of a MindIR name after the graph prefix ("G:conv1.weight" → "conv1.weight").
std::string debugName(const std::string &name, const std::string &graphName)
{
    if (name.rfind(graphName + ":", 0) == 0)
        return name.substr(graphName.size() + 1);
    const auto colon = name.find(':');
    return colon == std::string::npos ? name : name.substr(colon + 1);
}

// The attributes of one operator instance, whichever encoding carries them.
class Attributes {
public:
    void add(const A &a) { m_map[a.name()] = &a; }
    bool has(const std::string &k) const { return m_map.count(k) != 0; }

    std::optional<std::vector<int64_t>> ints(const std::string &k) const
    {
        const auto it = m_map.find(k);
        if (it == m_map.end())
            return std::nullopt;
        const A &a = *it->second;
        std::vector<int64_t> v;
        if (a.values_size()) {
            for (const auto &e : a.values())
                if (e.ints_size())
                    v.push_back(e.ints(0));
                else
                    v.push_back(e.i());
        } else if (a.ints_size()) {
            v.assign(a.ints().begin(), a.ints().end()); // legacy tuple/list
        } else {
            v.push_back(a.i());
        }
        return v;
    }
    int64_t integer(const std::string &k, int64_t fallback) const
    {
        const auto v = ints(k);
        return v && !v->empty() ? v->front() : fallback;
    }
    bool boolean(const std::string &k, bool fallback) const { return integer(k, fallback ? 1 : 0) != 0; }
    float real(const std::string &k, float fallback) const
    {
        const auto it = m_map.find(k);
        if (it == m_map.end())
            return fallback;
        const A &a = *it->second;
        return a.has_f() ? a.f() : a.has_d() ? static_cast<float>(a.d()) : a.floats_size() ? a.floats(0) : fallback;
    }
    std::string text(const std::string &k, const std::string &fallback) const
    {
        const auto it = m_map.find(k);
        if (it == m_map.end())
            return fallback;
        const A &a = *it->second;
        return a.has_s() ? a.s() : a.strings_size() ? a.strings(0) : fallback;
    }

private:
    std::map<std::string, const A *> m_map;
};

// The last two entries of a 2- or 4-element window attribute (MindSpore writes (1, 1, h, w)).
std::vector<int64_t> spatial(const std::optional<std::vector<int64_t>> &v, int64_t fallback)
{
    if (!v || v->empty())
        return {fallback, fallback};
    if (v->size() == 1)
        return {v->at(0), v->at(0)};
    return {v->at(v->size() - 2), v->at(v->size() - 1)};
}

class Importer {
public:
    Importer(const ::mind_ir::ModelProto &model, const std::string &source) : m_model(model), m_source(source) {}

    Graph run()
    {
        const auto &g = m_model.graph();
        m_graphName = g.name();
        m_graph.name = debugName(g.name(), "");
        if (const auto u = m_graph.name.find("_construct"); u != std::string::npos && u > 0)
            m_graph.name = m_graph.name.substr(0, u);
        for (const auto &p : m_model.primitives())
            m_prims[p.name()] = &p;
        check(m_model.functions_size() == 0, prefix() + "it calls " + std::to_string(m_model.functions_size())
                                                 + " function graphs; only single-graph models import into a runnable graph.");
        for (const auto &t : g.parameter()) {
            const std::string name = t.has_ref_key() && !t.ref_key().empty() ? t.ref_key() : debugName(t.name(), m_graphName);
            check(!t.has_external_data(), prefix() + "parameter \"" + name + "\" is in external data (\""
                                              + t.external_data().location() + "\"), which the importer does not read.");
            const ElementType type = onnxElementType(t.data_type() == ::mind_ir::TensorProto::FLOAT64 ? 11 : t.data_type());
            check(type.dtype.has_value(), prefix() + "parameter \"" + name + "\" has data type " + type.name + ".");
            m_graph.addParameter(name, tensorFromRaw(*type.dtype, {t.dims().begin(), t.dims().end()}, t.raw_data(),
                                                     prefix() + "parameter \"" + name + "\""),
                                 false);
            m_values[t.name()] = name;
        }
        for (const auto &v : g.input()) {
            ValueInfo in;
            in.name = debugName(v.name(), m_graphName);
            if (v.tensor_size() != 1) {
                ++m_unsupported["the non-tensor graph input \"" + in.name + "\""];
                m_values[v.name()] = in.name;
                continue;
            }
            const ElementType type = onnxElementType(v.tensor(0).data_type());
            in.dtype = type.dtype.value_or(DType::Float32);
            in.shape.assign(v.tensor(0).dims().begin(), v.tensor(0).dims().end());
            m_graph.inputs.push_back(in);
            m_values[v.name()] = in.name;
        }
        for (const auto &n : g.node())
            node(n);
        if (!m_unsupported.empty()) {
            std::string list;
            for (const auto &[op, count] : m_unsupported)
                list += (list.empty() ? "" : ", ") + op
                        + (op.starts_with("the ") ? "" : " (" + std::to_string(count) + (count == 1 ? " node)" : " nodes)"));
            throw Error(prefix() + "the engine cannot run " + list + ". `netwright inspect` still shows the whole graph.");
        }
        for (const auto &v : g.output()) {
            ValueInfo out;
            out.name = value(v.name());
            if (v.tensor_size())
                out.shape.assign(v.tensor(0).dims().begin(), v.tensor(0).dims().end());
            m_graph.outputs.push_back(out);
        }
        check(!m_graph.outputs.empty(), prefix() + "the graph has no output.");
        markTrainableParameters(m_graph);
        validateImported(m_graph, m_source, "MindIR");
        return std::move(m_graph);
    }

private:
    std::string prefix() const { return "Cannot import \"" + m_source + "\" as MindIR: "; }

    const std::string &value(const std::string &mindirName) const
    {
        const auto it = m_values.find(mindirName);
        check(it != m_values.end(), prefix() + "\"" + mindirName + "\" is used before it is defined.");
        return it->second;
    }

    const std::vector<std::string> &tuple(const std::string &mindirName) const
    {
        const auto it = m_tuples.find(mindirName);
        check(it != m_tuples.end(), prefix() + "\"" + mindirName + "\" is not a tuple the importer knows.");
        return it->second;
    }

    // A Constant node's integer tuple or scalar.
    std::optional<std::vector<int64_t>> constantInts(const std::string &mindirName) const
    {
        const auto it = m_constants.find(mindirName);
        if (it == m_constants.end())
            return std::nullopt;
        Attributes a;
        a.add(*it->second);
        return a.ints(it->second->name());
    }

    std::string uniqueName(const std::string &base)
    {
        std::string name = base.empty() ? "node" : base;
        for (int k = 1; !m_nodeNames.insert(name).second; ++k)
            name = base + "_" + std::to_string(k);
        return name;
    }

    Node &add(const std::string &opType, const std::string &mindirName, std::vector<std::string> inputs,
              std::map<std::string, Attribute> attributes = {})
    {
        const std::string out = debugName(mindirName, m_graphName);
        std::string base = out;
        if (const auto colon = base.rfind(':'); colon != std::string::npos && colon > 0)
            base = base.substr(0, colon); // "conv1:3" → "conv1"
        m_values[mindirName] = out;
        m_producer[out] = m_graph.nodes.size();
        return m_graph.addNode(opType, uniqueName(base), std::move(inputs), {out}, std::move(attributes));
    }

    // The engine node that produced `value`, when only `consumer` reads it (for folding BiasAdd).
    Node *foldable(const std::string &v, const std::string &opType)
    {
        const auto it = m_producer.find(v);
        if (it == m_producer.end() || m_uses[v] != 1)
            return nullptr;
        Node &n = m_graph.nodes[it->second];
        return n.opType == opType ? &n : nullptr;
    }

    void node(const ::mind_ir::NodeProto &n)
    {
        if (n.op_type() == "Constant") {
            if (n.attribute_size())
                m_constants[n.name()] = &n.attribute(0);
            return;
        }
        std::string op = n.op_type();
        Attributes attrs;
        if (op.rfind("REF::", 0) == 0) {
            const auto it = m_prims.find(op.substr(5));
            if (it == m_prims.end()) {
                ++m_unsupported["call of " + op.substr(5)];
                return;
            }
            op = it->second->op_type();
            for (const auto &a : it->second->attribute())
                attrs.add(a);
        } else {
            for (const auto &a : n.attribute())
                if (!a.name().empty() && a.name() != "shape")
                    attrs.add(a); // legacy: the primitive's attributes inline
        }
        std::vector<std::string> in(n.input().begin(), n.input().end());
        for (const auto &i : in)
            if (m_values.count(i))
                ++m_uses[m_values.at(i)];
        const std::string &name = n.name();
        auto data = [&](size_t k) -> std::string {
            check(k < in.size(), prefix() + "node \"" + name + "\" (" + op + ") has " + std::to_string(in.size()) + " inputs.");
            return value(in[k]);
        };

        if (op == "Load" || op == "Depend") {
            if (!in.empty() && m_values.count(in[0]))
                m_values[name] = value(in[0]);
            else if (!in.empty() && m_tuples.count(in[0]))
                m_tuples[name] = tuple(in[0]);
        } else if (op == "UpdateState") {
            // monad plumbing: nothing computes
        } else if (op == "MakeTuple") {
            std::vector<std::string> parts;
            for (const auto &i : in)
                if (m_values.count(i))
                    parts.push_back(value(i));
            m_tuples[name] = parts;
        } else if (op == "TupleGetItem") {
            const auto index = in.size() > 1 ? constantInts(in[1]) : std::nullopt;
            check(index && !index->empty(), prefix() + "TupleGetItem \"" + name + "\" has no constant index.");
            const auto &parts = tuple(in.at(0));
            check(index->front() >= 0 && static_cast<size_t>(index->front()) < parts.size() && !parts[index->front()].empty(),
                  prefix() + "TupleGetItem \"" + name + "\" takes element " + std::to_string(index->front())
                      + ", which no engine op computes.");
            m_values[name] = parts[index->front()];
        } else if (op == "MatMul") {
            const bool ta = attrs.boolean("transpose_a", attrs.boolean("transpose_x1", false));
            const bool tb = attrs.boolean("transpose_b", attrs.boolean("transpose_x2", false));
            add("Gemm", name, {data(0), data(1)}, {{"transA", int64_t(ta)}, {"transB", int64_t(tb)}});
        } else if (op == "BiasAdd") {
            Node *p = foldable(data(0), "Gemm");
            if (!p)
                p = foldable(data(0), "Conv");
            if (p && p->inputs.size() == 2) {
                p->inputs.push_back(data(1)); // the bias of nn.Dense / nn.Conv2d
                m_values[name] = p->outputs[0];
            } else {
                // A free-standing BiasAdd: the bias runs along axis 1, so 4-D data needs it as [C, 1, 1].
                int rank = 4;
                for (const auto &a : n.attribute())
                    if (a.name() == "shape" && a.tensors_size())
                        rank = a.tensors(0).dims_size();
                std::string bias = data(1);
                if (rank > 2) {
                    const auto b = m_graph.initializers.find(bias);
                    check(b != m_graph.initializers.end(), prefix() + "BiasAdd \"" + name + "\" adds a bias that is not a parameter.");
                    Shape s{b->second.numel()};
                    s.resize(static_cast<size_t>(rank - 1), 1);
                    bias += ".channel";
                    if (!m_graph.initializers.count(bias))
                        m_graph.addParameter(bias, b->second.reshaped(s).clone(), false);
                }
                add("Add", name, {data(0), bias});
            }
        } else if (op == "Conv2D") {
            check(attrs.text("format", "NCHW") == "NCHW", prefix() + "Conv2D \"" + name + "\" is not NCHW.");
            std::map<std::string, Attribute> a{{"kernel_shape", spatial(attrs.ints("kernel_size"), 1)},
                                               {"strides", spatial(attrs.ints("stride"), 1)},
                                               {"dilations", spatial(attrs.ints("dilation"), 1)},
                                               {"group", attrs.integer("group", attrs.integer("groups", 1))}};
            std::string mode = attrs.text("pad_mode", "pad");
            for (auto &c : mode)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (mode == "same") {
                a["auto_pad"] = std::string("SAME_UPPER");
            } else if (mode == "pad") {
                auto p = attrs.ints("pad").value_or(std::vector<int64_t>{0, 0, 0, 0});
                if (p.size() == 1)
                    p = {p[0], p[0], p[0], p[0]};
                check(p.size() == 4, prefix() + "Conv2D \"" + name + "\" has a pad of " + std::to_string(p.size()) + " values.");
                a["pads"] = std::vector<int64_t>{p[0], p[2], p[1], p[3]}; // (t,b,l,r) → ONNX [t,l,b,r]
            }
            add("Conv", name, {data(0), data(1)}, std::move(a));
        } else if (op == "MaxPool" || op == "AvgPool" || op == "MaxPoolWithArgmaxV2") {
            std::map<std::string, Attribute> a{{"kernel_shape", spatial(attrs.ints("kernel_size"), 1)},
                                               {"strides", spatial(attrs.ints("strides"), 1)}};
            std::string mode = attrs.text("pad_mode", "valid");
            for (auto &c : mode)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (op == "MaxPoolWithArgmaxV2") {
                const auto p = spatial(attrs.ints("pads"), 0);
                a["pads"] = std::vector<int64_t>{p[0], p[1], p[0], p[1]};
                if (attrs.boolean("ceil_mode", false))
                    a["ceil_mode"] = int64_t(1);
            } else if (mode == "same") {
                a["auto_pad"] = std::string("SAME_UPPER");
            }
            add(op == "AvgPool" ? "AveragePool" : "MaxPool", name, {data(0)}, std::move(a));
            if (op == "MaxPoolWithArgmaxV2") {
                m_tuples[name] = {m_values[name], ""};
            }
        } else if (op == "ReduceMean") {
            auto axes = in.size() > 1 ? constantInts(in[1]) : attrs.ints("axis");
            check(axes && (*axes == std::vector<int64_t>{2, 3} || *axes == std::vector<int64_t>{-2, -1}) && attrs.boolean("keep_dims", false),
                  prefix() + "ReduceMean \"" + name + "\" is not a global average over (2, 3) with keep_dims.");
            add("GlobalAveragePool", name, {data(0)});
        } else if (op == "BatchNorm") {
            check(!attrs.boolean("is_training", false), prefix() + "BatchNorm \"" + name + "\" is in training mode.");
            add("BatchNormalization", name, {data(0), data(1), data(2), data(3), data(4)},
                {{"epsilon", attrs.real("epsilon", 1e-5f)}, {"momentum", 1.0f - attrs.real("momentum", 0.1f)}});
            m_tuples[name] = {m_values[name], "", "", "", ""};
        } else if (op == "ReLU" || op == "Sigmoid" || op == "Tanh") {
            add(op == "ReLU" ? "Relu" : op, name, {data(0)});
        } else if (op == "ReLU6") {
            const std::string lo = "relu6.min", hi = "relu6.max";
            if (!m_graph.initializers.count(lo)) {
                m_graph.addParameter(lo, Tensor::full({}, 0.0f), false);
                m_graph.addParameter(hi, Tensor::full({}, 6.0f), false);
            }
            add("Clip", name, {data(0), lo, hi});
        } else if (op == "Softmax") {
            const auto axis = attrs.ints("axis").value_or(std::vector<int64_t>{-1});
            check(axis.size() == 1, prefix() + "Softmax \"" + name + "\" normalises over several axes.");
            add("Softmax", name, {data(0)}, {{"axis", axis[0]}});
        } else if (op == "LogSoftmax") {
            add("LogSoftmax", name, {data(0)}, {{"axis", attrs.integer("axis", -1)}});
        } else if (op == "Flatten") {
            add("Flatten", name, {data(0)}, {{"axis", int64_t(1)}});
        } else if (op == "Reshape") {
            const auto shape = in.size() > 1 ? constantInts(in[1]) : std::nullopt;
            check(shape.has_value(), prefix() + "Reshape \"" + name + "\" has no constant shape.");
            const std::string target = debugName(name, m_graphName) + ".shape";
            m_graph.addParameter(target, Tensor::fromInt64({static_cast<int64_t>(shape->size())}, *shape), false);
            add("Reshape", name, {data(0), target});
        } else if (op == "Transpose") {
            const auto perm = in.size() > 1 ? constantInts(in[1]) : attrs.ints("perm");
            check(perm.has_value(), prefix() + "Transpose \"" + name + "\" has no constant permutation.");
            add("Transpose", name, {data(0)}, {{"perm", *perm}});
        } else if (op == "Concat") {
            std::vector<std::string> parts = m_tuples.count(in.at(0)) ? tuple(in[0]) : std::vector<std::string>{data(0)};
            add("Concat", name, parts, {{"axis", attrs.integer("axis", 0)}});
        } else if (op == "Add" || op == "Sub" || op == "Mul" || op == "RealDiv" || op == "Div") {
            add(op == "RealDiv" ? "Div" : op, name, {data(0), data(1)});
        } else {
            ++m_unsupported[op];
        }
    }

    const ::mind_ir::ModelProto &m_model;
    std::string m_source, m_graphName;
    Graph m_graph;
    std::map<std::string, const ::mind_ir::PrimitiveProto *> m_prims;
    std::map<std::string, const A *> m_constants;
    std::map<std::string, std::string> m_values;               // MindIR name → engine value
    std::map<std::string, std::vector<std::string>> m_tuples;  // MindIR tuple → engine values ("" = not computed)
    std::map<std::string, size_t> m_producer;                  // engine value → node index
    std::map<std::string, int> m_uses;                         // engine value → MindIR consumers
    std::map<std::string, int> m_unsupported;
    std::set<std::string> m_nodeNames;
};

} // namespace

Graph importMindir(std::string_view bytes, const std::string &source)
{
    ::mind_ir::ModelProto model;
    if (!parseMessage(bytes, model, true) || !model.has_graph())
        throw Error("Cannot import \"" + source + "\" as MindIR: the ModelProto does not parse or has no graph" + truncationNote(bytes) + ".");
    return Importer(model, source).run();
}

} // namespace netwright::mindspore
