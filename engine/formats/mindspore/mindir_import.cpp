// SPDX-License-Identifier: Apache-2.0
#include "formats/mindspore/mindir_import.h"

#include "formats/mindspore/mindir_external_data.h"
#include "core/error.h"
#include "formats/format_util.h"
#include "formats/graph_import.h"
#include "formats/raw_tensor.h"
#include "mind_ir.pb.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
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
    const A *raw(const std::string &k) const
    {
        const auto it = m_map.find(k);
        return it == m_map.end() ? nullptr : it->second;
    }

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
    Importer(const ::mind_ir::ModelProto &model, const std::string &source) : m_model(model), m_source(source), m_external(source) {}

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
            const ElementType type = onnxElementType(t.data_type() == ::mind_ir::TensorProto::FLOAT64 ? 11 : t.data_type());
            check(type.dtype.has_value(), prefix() + "parameter \"" + name + "\" has data type " + type.name + ".");
            // The split layout of models over 1 GiB: the weights alias their mapped data file.
            m_graph.addParameter(name, t.has_external_data()
                                           ? readMindirExternal(m_external, t, *type.dtype, prefix() + "parameter \"" + name + "\"")
                                           : tensorFromRaw(*type.dtype, {t.dims().begin(), t.dims().end()}, t.raw_data(),
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

    // The engine value a MindIR name stands for; a Constant tensor used as data becomes an
    // initializer on first use.
    const std::string &value(const std::string &mindirName)
    {
        if (const auto it = m_values.find(mindirName); it != m_values.end())
            return it->second;
        if (const auto c = m_constants.find(mindirName); c != m_constants.end()) {
            const A &a = *c->second;
            std::optional<Tensor> t;
            if (a.tensors_size() && a.tensors(0).has_raw_data()) {
                const auto &x = a.tensors(0);
                const ElementType type = onnxElementType(x.data_type() == ::mind_ir::TensorProto::FLOAT64 ? 11 : x.data_type());
                check(type.dtype.has_value(), prefix() + "constant \"" + mindirName + "\" has data type " + type.name + ".");
                t = tensorFromRaw(*type.dtype, {x.dims().begin(), x.dims().end()}, x.raw_data(), prefix() + "constant \"" + mindirName + "\"");
            } else if (a.type() == A::FLOAT) {
                t = Tensor::full({}, a.f());
            } else if (a.type() == A::INT64 || a.type() == A::INT32) {
                t = Tensor::fromInt64({}, {a.i()});
            } else if (a.type() == A::TUPLE || a.type() == A::LIST) {
                const auto v = constantInts(mindirName);
                t = Tensor::fromInt64({static_cast<int64_t>(v->size())}, *v);
            }
            check(t.has_value(), prefix() + "constant \"" + mindirName + "\" is not a tensor the importer reads.");
            std::string name = debugName(mindirName, m_graphName);
            for (auto &ch : name)
                if (ch == '[' || ch == ']')
                    ch = '_';
            m_graph.addParameter(name, std::move(*t), false);
            return m_values[mindirName] = name;
        }
        check(false, prefix() + "\"" + mindirName + "\" is used before it is defined.");
        return m_values.at(mindirName);
    }

    const std::vector<std::string> &tuple(const std::string &mindirName) const
    {
        const auto it = m_tuples.find(mindirName);
        check(it != m_tuples.end(), prefix() + "\"" + mindirName + "\" is not a tuple the importer knows.");
        return it->second;
    }

    // A Constant node's integer tuple, scalar or int tensor.
    std::optional<std::vector<int64_t>> constantInts(const std::string &mindirName) const
    {
        const auto it = m_constants.find(mindirName);
        if (it == m_constants.end())
            return std::nullopt;
        const A &a = *it->second;
        if (a.tensors_size() && a.tensors(0).has_raw_data()) {
            const auto &x = a.tensors(0);
            const std::string &raw = x.raw_data();
            std::vector<int64_t> v;
            if (x.data_type() == ::mind_ir::TensorProto::INT64)
                for (size_t i = 0; i + 8 <= raw.size(); i += 8) {
                    int64_t e;
                    std::memcpy(&e, raw.data() + i, 8);
                    v.push_back(e);
                }
            else if (x.data_type() == ::mind_ir::TensorProto::INT32)
                for (size_t i = 0; i + 4 <= raw.size(); i += 4) {
                    int32_t e;
                    std::memcpy(&e, raw.data() + i, 4);
                    v.push_back(e);
                }
            else
                return std::nullopt;
            return v;
        }
        Attributes attrs;
        attrs.add(a);
        return attrs.ints(a.name());
    }

    // A constant operand at input k, or an attribute of the primitive (older files).
    std::optional<std::vector<int64_t>> operandInts(const std::vector<std::string> &in, size_t k, const Attributes &attrs,
                                                    const std::string &attr) const
    {
        if (in.size() > k)
            return constantInts(in[k]);
        return attrs.ints(attr);
    }

    std::string uniqueName(const std::string &base)
    {
        std::string name = base.empty() ? "node" : base;
        for (int k = 1; !m_nodeNames.insert(name).second; ++k)
            name = base + "_" + std::to_string(k);
        return name;
    }

    Node &add(const std::string &opType, const std::string &mindirName, std::vector<std::string> inputs,
              std::map<std::string, Attribute> attributes = {}, size_t outputs = 1)
    {
        const std::string out = debugName(mindirName, m_graphName);
        std::string base = out;
        if (const auto colon = base.rfind(':'); colon != std::string::npos && colon > 0)
            base = base.substr(0, colon); // "conv1:3" → "conv1"
        m_values[mindirName] = out;
        m_producer[out] = m_graph.nodes.size();
        std::vector<std::string> outs{out};
        for (size_t k = 1; k < outputs; ++k)
            outs.push_back(out + "." + std::to_string(k));
        return m_graph.addNode(opType, uniqueName(base), std::move(inputs), outs, std::move(attributes));
    }

    // An int64 initializer named after the node (shapes, axes, slice bounds).
    std::string intParameter(const std::string &mindirName, const std::string &what, const std::vector<int64_t> &v, bool scalar = false)
    {
        const std::string name = uniqueParameter(debugName(mindirName, m_graphName) + "." + what);
        m_graph.addParameter(name, Tensor::fromInt64(scalar ? Shape{} : Shape{static_cast<int64_t>(v.size())}, v), false);
        return name;
    }

    std::string floatParameter(const std::string &mindirName, const std::string &what, float v)
    {
        const std::string name = uniqueParameter(debugName(mindirName, m_graphName) + "." + what);
        m_graph.addParameter(name, Tensor::full({}, v), false);
        return name;
    }

    std::string uniqueParameter(std::string name)
    {
        const std::string base = name;
        for (int k = 1; m_graph.initializers.count(name); ++k)
            name = base + "_" + std::to_string(k);
        return name;
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

    // The rank of a node's (first) output, from its "shape" attribute; -1 when not written.
    static int outputRank(const ::mind_ir::NodeProto &n)
    {
        for (const auto &a : n.attribute())
            if (a.name() == "shape" || a.name().empty()) {
                if (a.tensors_size())
                    return a.tensors(0).dims_size();
                if (a.values_size() && a.values(0).tensors_size())
                    return a.values(0).tensors(0).dims_size();
            }
        return -1;
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
        static const std::map<std::string, std::string> unary{
            {"ReLU", "Relu"},     {"Sigmoid", "Sigmoid"},   {"Tanh", "Tanh"},       {"Erf", "Erf"},           {"Exp", "Exp"},
            {"Log", "Log"},       {"Sqrt", "Sqrt"},         {"Neg", "Neg"},         {"Abs", "Abs"},           {"Reciprocal", "Reciprocal"},
            {"Floor", "Floor"},   {"Ceil", "Ceil"},         {"Sin", "Sin"},         {"Cos", "Cos"},           {"Tan", "Tan"},
            {"Asin", "Asin"},     {"ACos", "Acos"},         {"Atan", "Atan"},       {"Sinh", "Sinh"},         {"Cosh", "Cosh"},
            {"Asinh", "Asinh"},   {"Acosh", "Acosh"},       {"Atanh", "Atanh"},     {"Sign", "Sign"},         {"Round", "Round"},
            {"Softplus", "Softplus"}, {"Softsign", "Softsign"}, {"Mish", "Mish"},   {"HSwish", "HardSwish"},  {"LogicalNot", "Not"},
            {"IsNan", "IsNaN"},   {"SeLU", "Selu"}};
        static const std::map<std::string, std::string> binary{
            {"Add", "Add"},           {"Sub", "Sub"},           {"Mul", "Mul"},           {"RealDiv", "Div"},
            {"Div", "Div"},           {"Pow", "Pow"},           {"Maximum", "Max"},       {"Minimum", "Min"},
            {"Equal", "Equal"},       {"Less", "Less"},         {"Greater", "Greater"},   {"LessEqual", "LessOrEqual"},
            {"GreaterEqual", "GreaterOrEqual"}, {"LogicalAnd", "And"}, {"LogicalOr", "Or"}};

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
                if (m_values.count(i) || m_constants.count(i))
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
        } else if (const auto u = unary.find(op); u != unary.end()) {
            add(u->second, name, {data(0)});
        } else if (const auto b = binary.find(op); b != binary.end()) {
            add(b->second, name, {data(0), data(1)});
        } else if (op == "MatMul") {
            const bool ta = attrs.boolean("transpose_a", attrs.boolean("transpose_x1", false));
            const bool tb = attrs.boolean("transpose_b", attrs.boolean("transpose_x2", false));
            add("Gemm", name, {data(0), data(1)}, {{"transA", int64_t(ta)}, {"transB", int64_t(tb)}});
        } else if (op == "BatchMatMul") {
            const int rank = outputRank(n);
            std::string a = data(0), b = data(1);
            for (auto [flag, v] : {std::pair{"transpose_a", &a}, std::pair{"transpose_b", &b}}) {
                if (!attrs.boolean(flag, false))
                    continue;
                check(rank >= 2, prefix() + "BatchMatMul \"" + name + "\" transposes an operand of unknown rank.");
                std::vector<int64_t> perm;
                for (int i = 0; i < rank; ++i)
                    perm.push_back(i);
                std::swap(perm[static_cast<size_t>(rank - 1)], perm[static_cast<size_t>(rank - 2)]);
                *v = add("Transpose", name + "." + flag, {*v}, {{"perm", perm}}).outputs[0];
            }
            add("MatMul", name, {a, b});
        } else if (op == "BiasAdd") {
            Node *p = foldable(data(0), "Gemm");
            if (!p)
                p = foldable(data(0), "Conv");
            if (!p)
                p = foldable(data(0), "ConvTranspose");
            if (p && p->inputs.size() == 2) {
                p->inputs.push_back(data(1)); // the bias of nn.Dense / nn.Conv2d
                m_values[name] = p->outputs[0];
            } else {
                // A free-standing BiasAdd: the bias runs along axis 1, so 4-D data needs it as [C, 1, 1].
                int rank = outputRank(n);
                if (rank < 0)
                    rank = 4;
                std::string bias = data(1);
                if (rank > 2) {
                    const auto bt = m_graph.initializers.find(bias);
                    check(bt != m_graph.initializers.end(), prefix() + "BiasAdd \"" + name + "\" adds a bias that is not a parameter.");
                    Shape s{bt->second.numel()};
                    s.resize(static_cast<size_t>(rank - 1), 1);
                    bias += ".channel";
                    if (!m_graph.initializers.count(bias))
                        m_graph.addParameter(bias, bt->second.reshaped(s).clone(), false);
                }
                add("Add", name, {data(0), bias});
            }
        } else if (op == "Conv2D" || op == "Conv2DBackpropInput" || op == "Conv2DTranspose") {
            check(attrs.text("format", "NCHW") == "NCHW", prefix() + op + " \"" + name + "\" is not NCHW.");
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
                check(p.size() == 4, prefix() + op + " \"" + name + "\" has a pad of " + std::to_string(p.size()) + " values.");
                a["pads"] = std::vector<int64_t>{p[0], p[2], p[1], p[3]}; // (t,b,l,r) → ONNX [t,l,b,r]
            }
            if (op == "Conv2D") {
                add("Conv", name, {data(0), data(1)}, std::move(a));
            } else {
                // The output size (input_sizes) fixes ONNX's output_shape.
                const auto size = in.size() > 2 ? constantInts(in[2]) : std::nullopt;
                check(size && size->size() == 4, prefix() + op + " \"" + name + "\" has no constant output size.");
                a["output_shape"] = std::vector<int64_t>{(*size)[2], (*size)[3]};
                add("ConvTranspose", name, {data(0), data(1)}, std::move(a));
            }
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
        } else if (op == "ReduceMean" || op == "ReduceSum" || op == "ReduceMax" || op == "ReduceMin" || op == "ReduceProd") {
            auto axes = operandInts(in, 1, attrs, "axis");
            check(axes.has_value(), prefix() + op + " \"" + name + "\" has no constant axes.");
            const bool keep = attrs.boolean("keep_dims", false);
            std::map<std::string, Attribute> a{{"keepdims", int64_t(keep)}};
            if (!axes->empty())
                a["axes"] = *axes;
            add(op, name, {data(0)}, std::move(a));
        } else if (op == "BatchNorm") {
            std::map<std::string, Attribute> a{{"epsilon", attrs.real("epsilon", 1e-5f)}, {"momentum", 1.0f - attrs.real("momentum", 0.1f)}};
            if (attrs.boolean("is_training", false))
                a["training_mode"] = int64_t(1); // normalised with the batch's statistics
            add("BatchNormalization", name, {data(0), data(1), data(2), data(3), data(4)}, std::move(a));
            m_tuples[name] = {m_values[name], "", "", "", ""};
        } else if (op == "LayerNorm") {
            const int64_t axis = attrs.integer("begin_norm_axis", 1), params = attrs.integer("begin_params_axis", 1);
            check(axis == params || (axis < 0 && params < 0 && axis == params), prefix() + "LayerNorm \"" + name
                                                                                    + "\" normalises from axis " + std::to_string(axis)
                                                                                    + " but scales from axis " + std::to_string(params) + ".");
            add("LayerNormalization", name, {data(0), data(1), data(2)}, {{"axis", axis}, {"epsilon", attrs.real("epsilon", 1e-7f)}});
            m_tuples[name] = {m_values[name], "", ""};
        } else if (op == "ReLU6") {
            const std::string lo = "relu6.min", hi = "relu6.max";
            if (!m_graph.initializers.count(lo)) {
                m_graph.addParameter(lo, Tensor::full({}, 0.0f), false);
                m_graph.addParameter(hi, Tensor::full({}, 6.0f), false);
            }
            add("Clip", name, {data(0), lo, hi});
        } else if (op == "HSigmoid") {
            add("HardSigmoid", name, {data(0)}, {{"alpha", 1.0f / 6.0f}, {"beta", 0.5f}});
        } else if ((op == "Elu" || op == "CeLU") && in.size() > 1) {
            ++m_unsupported[op + " with alpha as an input"];
        } else if (op == "Elu" || op == "CeLU") {
            add(op == "Elu" ? "Elu" : "Celu", name, {data(0)}, {{"alpha", attrs.real("alpha", 1.0f)}});
        } else if (op == "PReLU") {
            // MindSpore's weight is [C]; ONNX broadcasts the slope from the right: [C, 1, …].
            const int rank = outputRank(n);
            std::string w = data(1);
            if (rank > 2) {
                const auto wt = m_graph.initializers.find(w);
                int64_t count = -1;
                if (wt != m_graph.initializers.end())
                    count = wt->second.numel();
                std::vector<int64_t> s{count};
                s.resize(static_cast<size_t>(rank - 1), 1);
                w = add("Reshape", name + ".slope", {w, intParameter(name, "slope_shape", s)}).outputs[0];
            }
            add("PRelu", name, {data(0), w});
        } else if (op == "Softmax") {
            const auto axis = attrs.ints("axis").value_or(std::vector<int64_t>{-1});
            check(axis.size() == 1, prefix() + "Softmax \"" + name + "\" normalises over several axes.");
            add("Softmax", name, {data(0)}, {{"axis", axis[0]}});
        } else if (op == "LogSoftmax") {
            add("LogSoftmax", name, {data(0)}, {{"axis", attrs.integer("axis", -1)}});
        } else if (op == "Flatten") {
            add("Flatten", name, {data(0)}, {{"axis", int64_t(1)}});
        } else if (op == "Reshape") {
            const auto shape = operandInts(in, 1, attrs, "shape");
            check(shape.has_value(), prefix() + "Reshape \"" + name + "\" has no constant shape.");
            add("Reshape", name, {data(0), intParameter(name, "shape", *shape)});
        } else if (op == "Transpose") {
            const auto perm = operandInts(in, 1, attrs, "perm");
            check(perm.has_value(), prefix() + "Transpose \"" + name + "\" has no constant permutation.");
            add("Transpose", name, {data(0)}, {{"perm", *perm}});
        } else if (op == "Concat") {
            std::vector<std::string> parts = m_tuples.count(in.at(0)) ? tuple(in[0]) : std::vector<std::string>{data(0)};
            add("Concat", name, parts, {{"axis", attrs.integer("axis", 0)}});
        } else if (op == "Squeeze") {
            const auto axes = attrs.ints("axis").value_or(std::vector<int64_t>{});
            if (axes.empty())
                add("Squeeze", name, {data(0)});
            else
                add("Squeeze", name, {data(0), intParameter(name, "axes", axes)});
        } else if (op == "ExpandDims") {
            const auto axis = operandInts(in, 1, attrs, "axis");
            check(axis && axis->size() == 1, prefix() + "ExpandDims \"" + name + "\" has no constant axis.");
            add("Unsqueeze", name, {data(0), intParameter(name, "axes", *axis)});
        } else if (op == "StridedSlice") {
            for (const char *m : {"ellipsis_mask", "new_axis_mask", "shrink_axis_mask"})
                check(attrs.integer(m, 0) == 0, prefix() + "StridedSlice \"" + name + "\" uses " + m + ".");
            const auto begin = constantInts(in.at(1)), end = constantInts(in.at(2)), strides = constantInts(in.at(3));
            check(begin && end && strides && begin->size() == end->size() && begin->size() == strides->size(),
                  prefix() + "StridedSlice \"" + name + "\" has no constant bounds.");
            const int64_t beginMask = attrs.integer("begin_mask", 0), endMask = attrs.integer("end_mask", 0);
            std::vector<int64_t> starts, ends, axes, steps;
            for (size_t i = 0; i < begin->size(); ++i) {
                const bool wholeBegin = (beginMask >> i) & 1, wholeEnd = (endMask >> i) & 1;
                const int64_t step = (*strides)[i];
                if (wholeBegin && wholeEnd && step == 1)
                    continue;
                axes.push_back(static_cast<int64_t>(i));
                steps.push_back(step);
                starts.push_back(wholeBegin ? (step > 0 ? 0 : INT64_MAX) : (*begin)[i]);
                ends.push_back(wholeEnd ? (step > 0 ? INT64_MAX : INT64_MIN) : (*end)[i]);
            }
            if (axes.empty()) {
                m_values[name] = data(0);
            } else {
                add("Slice", name,
                    {data(0), intParameter(name, "starts", starts), intParameter(name, "ends", ends), intParameter(name, "axes", axes),
                     intParameter(name, "steps", steps)});
            }
        } else if (op == "Gather") {
            const auto axis = in.size() > 2 ? constantInts(in[2]) : attrs.ints("axis");
            check(axis && axis->size() == 1, prefix() + "Gather \"" + name + "\" has no constant axis.");
            add("Gather", name, {data(0), data(1)}, {{"axis", axis->front()}});
        } else if (op == "BroadcastTo") {
            auto shape = attrs.ints("shape");
            check(shape.has_value(), prefix() + "BroadcastTo \"" + name + "\" has no shape.");
            for (auto &d : *shape)
                d = d < 0 ? 1 : d; // -1 keeps the input's dimension; Expand does so for 1
            add("Expand", name, {data(0), intParameter(name, "shape", *shape)});
        } else if (op == "Tile") {
            const auto reps = operandInts(in, 1, attrs, "multiples");
            check(reps.has_value(), prefix() + "Tile \"" + name + "\" has no constant multiples.");
            add("Tile", name, {data(0), intParameter(name, "repeats", *reps)});
        } else if (op == "Split" || op == "SplitV") {
            int64_t axis = 0;
            std::vector<int64_t> sizes;
            size_t count = 0;
            if (op == "Split") {
                axis = attrs.integer("axis", 0);
                count = static_cast<size_t>(attrs.integer("output_num", 1));
            } else {
                axis = attrs.integer("split_dim", 0);
                sizes = attrs.ints("size_splits").value_or(std::vector<int64_t>{});
                count = sizes.size();
            }
            check(count > 0, prefix() + op + " \"" + name + "\" has no outputs.");
            std::vector<std::string> inputs{data(0)};
            if (!sizes.empty())
                inputs.push_back(intParameter(name, "split", sizes));
            std::map<std::string, Attribute> a{{"axis", axis}};
            if (sizes.empty())
                a["num_outputs"] = static_cast<int64_t>(count);
            const Node &s = add("Split", name, inputs, std::move(a), count);
            m_tuples[name] = s.outputs;
        } else if (op == "Pad") {
            // paddings: a tuple of (before, after) pairs
            std::vector<int64_t> begins, ends;
            const A *paddings = attrs.raw("paddings");
            bool ok = paddings != nullptr;
            if (paddings)
                for (const auto &pair : paddings->values()) {
                    std::vector<int64_t> v;
                    for (const auto &e : pair.values())
                        v.push_back(e.ints_size() ? e.ints(0) : e.i());
                    if (v.empty())
                        v.assign(pair.ints().begin(), pair.ints().end());
                    ok = ok && v.size() == 2;
                    begins.push_back(v.size() == 2 ? v[0] : 0);
                    ends.push_back(v.size() == 2 ? v[1] : 0);
                }
            check(ok, prefix() + "Pad \"" + name + "\" has no paddings.");
            begins.insert(begins.end(), ends.begin(), ends.end());
            add("Pad", name, {data(0), intParameter(name, "pads", begins)}, {{"mode", std::string("constant")}});
        } else if (op == "Select") {
            add("Where", name, {data(0), data(1), data(2)});
        } else if (op == "DepthToSpace" || op == "SpaceToDepth") {
            std::map<std::string, Attribute> a{{"blocksize", attrs.integer("block_size", 2)}};
            if (op == "DepthToSpace")
                a["mode"] = std::string("DCR");
            add(op, name, {data(0)}, std::move(a));
        } else {
            ++m_unsupported[op];
        }
    }

    const ::mind_ir::ModelProto &m_model;
    std::string m_source, m_graphName;
    ExternalDataReader m_external; // <prefix>_variables/data_N beside a split model
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
