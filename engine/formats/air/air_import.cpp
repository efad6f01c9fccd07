// SPDX-License-Identifier: Apache-2.0
#include "formats/air/air_import.h"

#include "core/error.h"
#include "formats/air/air_reader.h"
#include "formats/format_util.h"
#include "formats/graph_import.h"
#include "formats/raw_tensor.h"
#include "ge_ir.pb.h"

#include <algorithm>
#include <map>
#include <set>

namespace netwright::air {

namespace {

using ge::proto::AttrDef;
using ge::proto::OpDef;

class Importer {
public:
    Importer(const ge::proto::GraphDef &g, const std::string &source) : m_g(g), m_source(source) {}

    Graph run()
    {
        m_graph.name = m_g.name();
        for (const auto &o : m_g.op())
            m_ops[o.name()] = &o;
        for (const auto &o : m_g.op())
            for (const auto &i : o.input())
                if (!i.empty() && !i.ends_with(":-1"))
                    ++m_uses[i];
        // Inputs by Data index, weights, then the operators in dependency order.
        std::vector<std::pair<int64_t, const OpDef *>> data;
        for (const auto &o : m_g.op())
            if (o.type() == "Data")
                data.emplace_back(attrInt(o, "index", static_cast<int64_t>(data.size())), &o);
        std::sort(data.begin(), data.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
        for (const auto &[index, o] : data) {
            check(o->output_desc_size() > 0, prefix() + "Data op \"" + o->name() + "\" has no output descriptor.");
            const auto &d = o->output_desc(0);
            ValueInfo in{o->name(), {d.shape().dim().begin(), d.shape().dim().end()}, protoDType(d.dtype()).value_or(DType::Float32)};
            m_graph.inputs.push_back(in);
            m_values[o->name() + ":0"] = in.name;
        }
        for (const auto &o : m_g.op())
            if (o.type() == "Const" || o.type() == "Constant")
                constant(o);
        for (const auto &o : m_g.op())
            visit(o);
        if (!m_unsupported.empty()) {
            std::string list;
            for (const auto &[op, count] : m_unsupported)
                list += (list.empty() ? "" : ", ") + op + " (" + std::to_string(count) + (count == 1 ? " op)" : " ops)");
            throw Error(prefix() + "the engine cannot run " + list
                        + ". `netwright inspect` still shows the whole graph.");
        }
        for (const auto &o : m_g.output()) {
            ValueInfo out;
            out.name = value(o);
            m_graph.outputs.push_back(out);
        }
        check(!m_graph.outputs.empty(), prefix() + "GraphDef.output lists no output.");
        markTrainableParameters(m_graph);
        validateImported(m_graph, m_source, "AIR");
        return std::move(m_graph);
    }

private:
    std::string prefix() const { return "Cannot import \"" + m_source + "\" as AIR: "; }

    static const AttrDef *attr(const OpDef &o, const std::string &k)
    {
        const auto it = o.attr().find(k);
        return it == o.attr().end() ? nullptr : &it->second;
    }
    static int64_t attrInt(const OpDef &o, const std::string &k, int64_t fallback)
    {
        const AttrDef *a = attr(o, k);
        return a && a->value_case() == AttrDef::kI ? a->i() : fallback;
    }
    static bool attrBool(const OpDef &o, const std::string &k, bool fallback)
    {
        const AttrDef *a = attr(o, k);
        return a && a->value_case() == AttrDef::kB ? a->b() : fallback;
    }
    static float attrFloat(const OpDef &o, const std::string &k, float fallback)
    {
        const AttrDef *a = attr(o, k);
        return a && a->value_case() == AttrDef::kF ? a->f() : fallback;
    }
    static std::string attrText(const OpDef &o, const std::string &k, const std::string &fallback)
    {
        const AttrDef *a = attr(o, k);
        return a && a->value_case() == AttrDef::kS ? a->s() : fallback;
    }
    static std::vector<int64_t> attrInts(const OpDef &o, const std::string &k, std::vector<int64_t> fallback)
    {
        const AttrDef *a = attr(o, k);
        if (!a || a->value_case() != AttrDef::kList)
            return fallback;
        return {a->list().i().begin(), a->list().i().end()};
    }
    static std::vector<int64_t> spatial(const std::vector<int64_t> &v)
    {
        return v.size() >= 2 ? std::vector<int64_t>{v[v.size() - 2], v[v.size() - 1]} : std::vector<int64_t>{1, 1};
    }

    void constant(const OpDef &o)
    {
        const AttrDef *v = attr(o, "value");
        check(v && v->value_case() == AttrDef::kT, prefix() + "Const \"" + o.name() + "\" has no value tensor.");
        const auto &t = v->t();
        const auto type = protoDType(t.desc().dtype());
        check(type.has_value(), prefix() + "Const \"" + o.name() + "\" has data type " + protoTypeName(t.desc().dtype()) + ".");
        std::string name = o.name();
        if (name.size() > 6 && name.ends_with("_const"))
            name.resize(name.size() - 6);
        const std::vector<int64_t> shape(t.desc().shape().dim().begin(), t.desc().shape().dim().end());
        m_graph.addParameter(name, tensorFromRaw(*type, shape, t.data(), prefix() + "Const \"" + o.name() + "\""), false);
        m_values[o.name() + ":0"] = name;
    }

    // The engine value of a "<op>:<port>" reference, building its producer first.
    const std::string &value(const std::string &ref)
    {
        if (const auto it = m_values.find(ref); it != m_values.end())
            return it->second;
        const size_t colon = ref.rfind(':');
        const std::string opName = ref.substr(0, colon);
        const auto op = m_ops.find(opName);
        check(op != m_ops.end(), prefix() + "\"" + ref + "\" names no op in the graph.");
        visit(*op->second);
        const auto it = m_values.find(ref);
        check(it != m_values.end(), prefix() + "output " + ref.substr(colon == std::string::npos ? ref.size() : colon + 1) + " of \""
                                        + opName + "\" (" + op->second->type() + ") is used, which the engine does not compute.");
        return it->second;
    }

    Node &add(const OpDef &o, const std::string &opType, std::vector<std::string> inputs, std::map<std::string, Attribute> a = {})
    {
        m_values[o.name() + ":0"] = o.name();
        return m_graph.addNode(opType, o.name(), std::move(inputs), {o.name()}, std::move(a));
    }

    void visit(const OpDef &o)
    {
        if (o.type() == "Data" || o.type() == "Const" || o.type() == "Constant" || m_done.count(o.name()))
            return;
        check(m_visiting.insert(o.name()).second, prefix() + "op \"" + o.name() + "\" feeds itself (a cycle).");
        std::vector<std::string> in;
        for (const auto &i : o.input()) {
            if (i.ends_with(":-1"))
                continue; // control edge
            in.push_back(i.empty() ? std::string() : value(i));
        }
        m_done.insert(o.name());
        const std::string &t = o.type();
        auto need = [&](size_t k) {
            check(in.size() >= k, prefix() + "op \"" + o.name() + "\" (" + t + ") has " + std::to_string(in.size()) + " inputs, "
                                      + std::to_string(k) + " expected.");
        };
        if ((t.starts_with("Conv") || t.starts_with("MaxPool") || t.starts_with("AvgPool") || t == "BatchNorm" || t == "BiasAdd")
            && attrText(o, "data_format", "NCHW") != "NCHW") {
            ++m_unsupported[t + " in " + attrText(o, "data_format", "")];
        } else if (t == "MatMulV2" || t == "MatMul") {
            need(2);
            std::vector<std::string> ins{in[0], in[1]};
            if (in.size() > 2 && !in[2].empty())
                ins.push_back(in[2]);
            add(o, "Gemm", ins, {{"transA", int64_t(attrBool(o, "transpose_x1", false))}, {"transB", int64_t(attrBool(o, "transpose_x2", false))}});
        } else if (t == "BiasAdd") {
            need(2);
            const auto producer = std::find_if(m_graph.nodes.begin(), m_graph.nodes.end(), [&](const Node &n) { return n.outputs[0] == in[0]; });
            if (producer != m_graph.nodes.end() && m_uses[o.input(0)] == 1 && producer->inputs.size() == 2
                && (producer->opType == "Gemm" || producer->opType == "Conv")) {
                producer->inputs.push_back(in[1]); // nn.Dense / nn.Conv2d's bias
                m_values[o.name() + ":0"] = in[0];
            } else {
                const size_t rank = o.input_desc_size() ? static_cast<size_t>(o.input_desc(0).shape().dim_size()) : 2;
                std::string bias = in[1];
                if (rank > 2) {
                    const auto b = m_graph.initializers.find(bias);
                    check(b != m_graph.initializers.end(), prefix() + "BiasAdd \"" + o.name() + "\" adds a bias that is not a Const.");
                    Shape s{b->second.numel()};
                    s.resize(rank - 1, 1);
                    bias += ".channel";
                    if (!m_graph.initializers.count(bias))
                        m_graph.addParameter(bias, b->second.reshaped(s).clone(), false);
                }
                add(o, "Add", {in[0], bias});
            }
        } else if (t == "Conv2D") {
            need(2);
            const auto p = attrInts(o, "pads", {0, 0, 0, 0});
            check(p.size() == 4, prefix() + "Conv2D \"" + o.name() + "\" has " + std::to_string(p.size()) + " pads.");
            std::vector<std::string> ins{in[0], in[1]};
            if (in.size() > 2 && !in[2].empty())
                ins.push_back(in[2]);
            add(o, "Conv", ins,
                {{"strides", spatial(attrInts(o, "strides", {1, 1, 1, 1}))},
                 {"dilations", spatial(attrInts(o, "dilations", {1, 1, 1, 1}))},
                 {"pads", std::vector<int64_t>{p[0], p[2], p[1], p[3]}},
                 {"group", attrInt(o, "groups", 1)}});
        } else if (t == "MaxPool" || t == "MaxPoolV3" || t == "AvgPool" || t == "AvgPoolV2") {
            need(1);
            std::map<std::string, Attribute> a{{"kernel_shape", spatial(attrInts(o, "ksize", {}))},
                                               {"strides", spatial(attrInts(o, "strides", {1, 1, 1, 1}))}};
            const std::string padding = attrText(o, "padding", attrText(o, "padding_mode", "VALID"));
            if (padding == "SAME") {
                a["auto_pad"] = std::string("SAME_UPPER");
            } else if (padding == "CALCULATED") {
                const auto p = attrInts(o, "pads", {0, 0, 0, 0});
                check(p.size() == 4, prefix() + t + " \"" + o.name() + "\" has " + std::to_string(p.size()) + " pads.");
                a["pads"] = std::vector<int64_t>{p[0], p[2], p[1], p[3]};
            } else if (padding != "VALID") {
                ++m_unsupported[t + " with padding " + padding];
                return;
            }
            const bool avg = t.starts_with("Avg");
            const bool ceilMode = attrBool(o, "ceil_mode", false);
            if ((ceilMode && avg) || attrBool(o, "global_pooling", false)) {
                ++m_unsupported[t + (ceilMode && avg ? " with ceil_mode" : " with global_pooling")];
                return;
            }
            if (ceilMode)
                a["ceil_mode"] = int64_t(1);
            if (avg)
                a["count_include_pad"] = int64_t(attrBool(o, "exclusive", true) ? 0 : 1);
            add(o, avg ? "AveragePool" : "MaxPool", {in[0]}, std::move(a));
        } else if (t == "ReduceMeanD") {
            need(1);
            const auto axes = attrInts(o, "axes", {});
            if ((axes == std::vector<int64_t>{2, 3} || axes == std::vector<int64_t>{-2, -1}) && attrBool(o, "keep_dims", false))
                add(o, "GlobalAveragePool", {in[0]});
            else
                ++m_unsupported["ReduceMeanD other than over (2, 3) with keep_dims"];
        } else if (t == "BatchNorm") {
            need(5);
            check(!attrBool(o, "is_training", false), prefix() + "BatchNorm \"" + o.name() + "\" is in training mode.");
            add(o, "BatchNormalization", {in[0], in[1], in[2], in[3], in[4]}, {{"epsilon", attrFloat(o, "epsilon", 1e-4f)}});
        } else if (t == "Relu" || t == "Sigmoid" || t == "Tanh") {
            need(1);
            add(o, t, {in[0]});
        } else if (t == "LeakyRelu") {
            need(1);
            add(o, "LeakyRelu", {in[0]}, {{"alpha", attrFloat(o, "negative_slope", 0.0f)}});
        } else if (t == "Relu6") {
            need(1);
            if (!m_graph.initializers.count("relu6.min")) {
                m_graph.addParameter("relu6.min", Tensor::full({}, 0.0f), false);
                m_graph.addParameter("relu6.max", Tensor::full({}, 6.0f), false);
            }
            add(o, "Clip", {in[0], "relu6.min", "relu6.max"});
        } else if (t == "ClipByValue") {
            need(3);
            add(o, "Clip", {in[0], in[1], in[2]});
        } else if (t == "SoftmaxV2" || t == "LogSoftmaxV2") {
            need(1);
            const auto axes = attrInts(o, "axes", {-1});
            if (axes.size() != 1) {
                ++m_unsupported[t + " over several axes"];
                return;
            }
            add(o, t == "SoftmaxV2" ? "Softmax" : "LogSoftmax", {in[0]}, {{"axis", axes[0]}});
        } else if (t == "Flatten") {
            need(1);
            add(o, "Flatten", {in[0]}, {{"axis", attrInt(o, "axis", 1)}});
        } else if (t == "Reshape") {
            need(2);
            check(m_graph.initializers.count(in[1]), prefix() + "Reshape \"" + o.name() + "\" has no constant shape.");
            add(o, "Reshape", {in[0], in[1]});
        } else if (t == "Add" || t == "Sub" || t == "Mul" || t == "RealDiv" || t == "Div") {
            need(2);
            add(o, t == "RealDiv" ? "Div" : t, {in[0], in[1]});
        } else if (t == "TransposeD") {
            need(1);
            add(o, "Transpose", {in[0]}, {{"perm", attrInts(o, "perm", {})}});
        } else if (t == "ConcatD" || t == "ConcatV2D") {
            need(1);
            add(o, "Concat", in, {{"axis", attrInt(o, "concat_dim", 0)}});
        } else if (t == "Identity") {
            need(1);
            m_values[o.name() + ":0"] = in[0];
        } else {
            ++m_unsupported[t];
        }
    }

    const ge::proto::GraphDef &m_g;
    std::string m_source;
    Graph m_graph;
    std::map<std::string, const OpDef *> m_ops;
    std::map<std::string, std::string> m_values; // "<op>:<port>" → engine value
    std::map<std::string, int> m_uses;           // "<op>:<port>" → consumers
    std::map<std::string, int> m_unsupported;
    std::set<std::string> m_done, m_visiting;
};

} // namespace

Graph importAir(std::string_view bytes, const std::string &source)
{
    ge::proto::ModelDef model;
    if (!parseMessage(bytes, model) || model.graph_size() == 0)
        throw Error("Cannot import \"" + source + "\" as AIR: the ModelDef does not parse or has no graph" + truncationNote(bytes) + ".");
    check(model.graph_size() == 1, "Cannot import \"" + source + "\" as AIR: it has " + std::to_string(model.graph_size() - 1)
                                       + " subgraphs (control flow), which the engine does not run.");
    return Importer(model.graph(0), source).run();
}

} // namespace netwright::air
