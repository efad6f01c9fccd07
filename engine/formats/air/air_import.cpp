// SPDX-License-Identifier: Apache-2.0
#include "formats/air/air_import.h"

#include "core/error.h"
#include "formats/air/air_reader.h"
#include "formats/format_util.h"
#include "formats/graph_import.h"
#include "formats/raw_tensor.h"
#include "ge_ir.pb.h"

#include <algorithm>
#include <climits>
#include <map>
#include <set>

namespace netwright::air {

namespace {

using ge::proto::AttrDef;
using ge::proto::OpDef;

// GE operators on one input that are engine ops as they are (air_export.cpp writes them).
const std::map<std::string, std::string> &unaryOps()
{
    static const std::map<std::string, std::string> m{
        {"Relu", "Relu"},         {"Sigmoid", "Sigmoid"},   {"Tanh", "Tanh"},     {"Exp", "Exp"},         {"Sqrt", "Sqrt"},
        {"Neg", "Neg"},           {"Abs", "Abs"},           {"Erf", "Erf"},       {"Reciprocal", "Reciprocal"},
        {"Sin", "Sin"},           {"Cos", "Cos"},           {"Tan", "Tan"},       {"Floor", "Floor"},     {"Ceil", "Ceil"},
        {"Sign", "Sign"},         {"Round", "Round"},       {"Sinh", "Sinh"},     {"Cosh", "Cosh"},       {"Asin", "Asin"},
        {"Acos", "Acos"},         {"Atan", "Atan"},         {"Asinh", "Asinh"},   {"Acosh", "Acosh"},     {"Atanh", "Atanh"},
        {"Softplus", "Softplus"}, {"Softsign", "Softsign"}, {"Mish", "Mish"},     {"HardSwish", "HardSwish"},
        {"Selu", "Selu"},         {"LogicalNot", "Not"}};
    return m;
}

// GE operators on "x1", "x2" (broadcasting) and their engine ops.
const std::map<std::string, std::string> &binaryOps()
{
    static const std::map<std::string, std::string> m{
        {"Add", "Add"},         {"Sub", "Sub"},           {"Mul", "Mul"},         {"RealDiv", "Div"},     {"Div", "Div"},
        {"Pow", "Pow"},         {"Maximum", "Max"},       {"Minimum", "Min"},     {"Equal", "Equal"},
        {"Less", "Less"},       {"Greater", "Greater"},   {"LessEqual", "LessOrEqual"},
        {"GreaterEqual", "GreaterOrEqual"},               {"LogicalAnd", "And"},  {"LogicalOr", "Or"}};
    return m;
}

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

    // An op with `count` outputs: port k is the engine value "<op>" (k = 0) or "<op>:k".
    Node &addOutputs(const OpDef &o, const std::string &opType, std::vector<std::string> inputs, size_t count,
                     std::map<std::string, Attribute> a = {})
    {
        std::vector<std::string> outs;
        for (size_t k = 0; k < count; ++k) {
            outs.push_back(k == 0 ? o.name() : o.name() + ":" + std::to_string(k));
            m_values[o.name() + ":" + std::to_string(k)] = outs.back();
        }
        return m_graph.addNode(opType, o.name(), std::move(inputs), std::move(outs), std::move(a));
    }

    // The integer values of a Const input (shapes, axes, multiples), or nullopt.
    std::optional<std::vector<int64_t>> constInts(const std::string &value) const
    {
        const auto it = m_graph.initializers.find(value);
        if (it == m_graph.initializers.end())
            return std::nullopt;
        const Tensor &t = it->second;
        if (t.dtype() == DType::Int64)
            return std::vector<int64_t>(t.dataAs<int64_t>(), t.dataAs<int64_t>() + t.numel());
        if (t.dtype() == DType::Int32)
            return std::vector<int64_t>(t.dataAs<int32_t>(), t.dataAs<int32_t>() + t.numel());
        return std::nullopt;
    }

    // A new int64 initializer "<op>.<what>" (an operand the engine's ONNX form takes as input).
    std::string intsParameter(const OpDef &o, const std::string &what, const std::vector<int64_t> &v)
    {
        const std::string name = o.name() + "." + what;
        m_graph.addParameter(name, Tensor::fromInt64({static_cast<int64_t>(v.size())}, v), false);
        return name;
    }

    size_t inputRank(const OpDef &o, int port) const
    {
        return o.input_desc_size() > port ? static_cast<size_t>(o.input_desc(port).shape().dim_size()) : 0;
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
        } else if (t == "ReduceMeanD" || t == "ReduceSumD" || t == "ReduceMaxD" || t == "ReduceMinD" || t == "ReduceProdD") {
            need(1);
            const auto axes = attrInts(o, "axes", {});
            const bool keep = attrBool(o, "keep_dims", false);
            if (t == "ReduceMeanD" && inputRank(o, 0) == 4 && (axes == std::vector<int64_t>{2, 3} || axes == std::vector<int64_t>{-2, -1}) && keep)
                add(o, "GlobalAveragePool", {in[0]});
            else
                add(o, t.substr(0, t.size() - 1), {in[0]}, {{"axes", axes}, {"keepdims", int64_t(keep)}});
        } else if (t == "BatchNorm") {
            need(5);
            check(!attrBool(o, "is_training", false), prefix() + "BatchNorm \"" + o.name() + "\" is in training mode.");
            add(o, "BatchNormalization", {in[0], in[1], in[2], in[3], in[4]}, {{"epsilon", attrFloat(o, "epsilon", 1e-4f)}});
        } else if (const auto u = unaryOps().find(t); u != unaryOps().end()) {
            need(1);
            add(o, u->second, {in[0]});
        } else if (const auto b = binaryOps().find(t); b != binaryOps().end()) {
            need(2);
            add(o, b->second, {in[0], in[1]});
        } else if (t == "Log") {
            need(1);
            if (attrFloat(o, "base", -1.0f) != -1.0f || attrFloat(o, "scale", 1.0f) != 1.0f || attrFloat(o, "shift", 0.0f) != 0.0f)
                ++m_unsupported["Log with a base, scale or shift"];
            else
                add(o, "Log", {in[0]});
        } else if (t == "Elu") {
            need(1);
            add(o, "Elu", {in[0]}, {{"alpha", attrFloat(o, "alpha", 1.0f)}});
        } else if (t == "HardSigmoid") {
            need(1);
            add(o, "HardSigmoid", {in[0]}, {{"alpha", attrFloat(o, "alpha", 0.16666666f)}, {"beta", attrFloat(o, "beta", 0.5f)}});
        } else if (t == "PRelu") {
            need(2);
            // GE's slope is a vector along axis 1; ONNX's broadcasts from the right: [C, 1, …].
            const size_t rank = inputRank(o, 0);
            std::vector<int64_t> shape{-1};
            for (size_t i = 2; i < rank; ++i)
                shape.push_back(1);
            const std::string slope = o.name() + "/slope_channels";
            m_graph.addNode("Reshape", slope, {in[1], intsParameter(o, "slope_shape", shape)}, {slope});
            add(o, "PRelu", {in[0], slope});
        } else if (t == "LayerNorm") {
            need(3);
            const int64_t axis = attrInt(o, "begin_norm_axis", -1);
            if (attrInt(o, "begin_params_axis", axis) != axis)
                ++m_unsupported["LayerNorm with begin_params_axis other than begin_norm_axis"];
            else
                add(o, "LayerNormalization", {in[0], in[1], in[2]}, {{"axis", axis}, {"epsilon", attrFloat(o, "epsilon", 1e-7f)}});
        } else if (t == "BatchMatMulV2" || t == "BatchMatMul") {
            need(2);
            if (attrBool(o, "adj_x1", false) || attrBool(o, "adj_x2", false) || (in.size() > 2 && !in[2].empty()))
                ++m_unsupported[t + " with adjoint operands or a bias"];
            else
                add(o, "MatMul", {in[0], in[1]});
        } else if (t == "Conv2DTransposeD") {
            need(2);
            const auto p = attrInts(o, "pads", {0, 0, 0, 0});
            check(p.size() == 4, prefix() + "Conv2DTransposeD \"" + o.name() + "\" has " + std::to_string(p.size()) + " pads.");
            std::vector<std::string> ins{in[0], in[1]};
            if (in.size() > 2 && !in[2].empty())
                ins.push_back(in[2]);
            add(o, "ConvTranspose", ins,
                {{"strides", spatial(attrInts(o, "strides", {1, 1, 1, 1}))},
                 {"dilations", spatial(attrInts(o, "dilations", {1, 1, 1, 1}))},
                 {"pads", std::vector<int64_t>{p[0], p[2], p[1], p[3]}},
                 {"output_padding", spatial(attrInts(o, "output_padding", {0, 0, 0, 0}))},
                 {"group", attrInt(o, "groups", 1)}});
        } else if (t == "Cast") {
            need(1);
            const AttrDef *dst = attr(o, "dst_type");
            const auto type = dst && dst->value_case() == AttrDef::kDt ? cppDType(dst->dt()) : std::nullopt;
            if (!type)
                ++m_unsupported["Cast to " + (dst && dst->value_case() == AttrDef::kDt ? cppTypeName(dst->dt()) : std::string("an unnamed type"))];
            else
                add(o, "Cast", {in[0]}, {{"to", int64_t(onnxElementNumber(*type))}});
        } else if (t == "Squeeze" || t == "Unsqueeze") {
            need(1);
            add(o, t, {in[0]}, {{"axes", attrInts(o, t == "Squeeze" ? "axis" : "axes", {})}});
        } else if (t == "StridedSlice") {
            need(4);
            const auto begin = constInts(in[1]), end = constInts(in[2]), strides = constInts(in[3]);
            if (!begin || !end || !strides || begin->size() != end->size() || begin->size() != strides->size() || begin->size() > 62) {
                ++m_unsupported["StridedSlice with computed bounds"];
                return;
            }
            if (attrInt(o, "ellipsis_mask", 0) || attrInt(o, "new_axis_mask", 0) || attrInt(o, "shrink_axis_mask", 0)) {
                ++m_unsupported["StridedSlice with ellipsis, new-axis or shrink masks"];
                return;
            }
            // Every axis sliced; a masked bound is the whole extent in the step's direction.
            const int64_t beginMask = attrInt(o, "begin_mask", 0), endMask = attrInt(o, "end_mask", 0);
            std::vector<int64_t> starts, ends, axes;
            for (size_t i = 0; i < begin->size(); ++i) {
                const bool up = (*strides)[i] > 0;
                starts.push_back(beginMask >> i & 1 ? (up ? 0 : INT64_MAX) : (*begin)[i]);
                ends.push_back(endMask >> i & 1 ? (up ? INT64_MAX : INT64_MIN) : (*end)[i]);
                axes.push_back(static_cast<int64_t>(i));
            }
            add(o, "Slice", {in[0], intsParameter(o, "starts", starts), intsParameter(o, "ends", ends), intsParameter(o, "axes", axes), in[3]});
        } else if (t == "GatherV2") {
            need(3);
            const auto axis = constInts(in[2]);
            if (!axis || axis->size() != 1 || attrInt(o, "batch_dims", 0) != 0)
                ++m_unsupported["GatherV2 with a computed axis or batch_dims"];
            else
                add(o, "Gather", {in[0], in[1]}, {{"axis", (*axis)[0]}});
        } else if (t == "Expand" || t == "Tile") {
            need(2);
            add(o, t, {in[0], in[1]});
        } else if (t == "SplitD" || t == "SplitV") {
            need(t == "SplitD" ? 1 : 3);
            const auto dim = t == "SplitD" ? std::optional<std::vector<int64_t>>(std::vector<int64_t>{attrInt(o, "split_dim", 0)}) : constInts(in[2]);
            const auto count = static_cast<size_t>(std::max<int64_t>(1, attrInt(o, "num_split", o.output_desc_size())));
            if (!dim || dim->size() != 1) {
                ++m_unsupported[t + " with a computed axis"];
                return;
            }
            std::vector<std::string> ins{in[0]};
            if (t == "SplitV")
                ins.push_back(in[1]);
            addOutputs(o, "Split", ins, count, {{"axis", (*dim)[0]}});
        } else if (t == "PadD") {
            need(1);
            const AttrDef *p = attr(o, "paddings");
            if (!p || p->value_case() != AttrDef::kListListInt) {
                ++m_unsupported["PadD without paddings"];
                return;
            }
            std::vector<int64_t> before, after;
            for (const auto &pair : p->list_list_int().list_list_i()) {
                check(pair.list_i_size() == 2, prefix() + "PadD \"" + o.name() + "\" has a padding entry of " + std::to_string(pair.list_i_size()) + " values.");
                before.push_back(pair.list_i(0));
                after.push_back(pair.list_i(1));
            }
            before.insert(before.end(), after.begin(), after.end());
            add(o, "Pad", {in[0], intsParameter(o, "pads", before)});
        } else if (t == "Select" || t == "SelectV2") {
            need(3);
            add(o, "Where", {in[0], in[1], in[2]});
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
