// SPDX-License-Identifier: Apache-2.0
#include "formats/air/air_reader.h"

#include "core/error.h"
#include "formats/format_util.h"
#include "formats/raw_tensor.h"
#include "ge_ir.pb.h"

#include <map>

namespace netwright::air {

namespace {

std::string descText(const ge::proto::TensorDescriptor &d)
{
    return protoTypeName(d.dtype()) + " " + formatInts(d.shape().dim()) + (d.layout().empty() ? "" : " " + d.layout());
}

std::string attrText(const ge::proto::AttrDef &a)
{
    using A = ge::proto::AttrDef;
    switch (a.value_case()) {
    case A::kS: return "\"" + a.s() + "\"";
    case A::kI: return std::to_string(a.i());
    case A::kF: return formatNumber(a.f());
    case A::kB: return a.b() ? "true" : "false";
    case A::kBt: return "<" + std::to_string(a.bt().size()) + " bytes>";
    case A::kDt: return cppTypeName(a.dt());
    case A::kTd: return "<" + descText(a.td()) + ">";
    case A::kT: return "<tensor " + descText(a.t().desc()) + ">";
    case A::kG: return "<graph \"" + a.g().name() + "\">";
    case A::kFunc: return "<function \"" + a.func().name() + "\">";
    case A::kListListInt: {
        std::string s = "[";
        for (int i = 0; i < a.list_list_int().list_list_i_size(); ++i) {
            s += i ? ",[" : "[";
            const auto &l = a.list_list_int().list_list_i(i).list_i();
            for (int j = 0; j < l.size(); ++j)
                s += (j ? "," : "") + std::to_string(l.Get(j));
            s += "]";
        }
        return s + "]";
    }
    case A::kList: {
        const auto &l = a.list();
        std::string s = "[";
        auto sep = [&](int i) { return i ? std::string(",") : std::string(); };
        for (int i = 0; i < l.s_size(); ++i)
            s += sep(i) + "\"" + l.s(i) + "\"";
        for (int i = 0; i < l.i_size(); ++i)
            s += sep(i) + std::to_string(l.i(i));
        for (int i = 0; i < l.f_size(); ++i)
            s += sep(i) + formatNumber(l.f(i));
        for (int i = 0; i < l.b_size(); ++i)
            s += sep(i) + (l.b(i) ? "true" : "false");
        for (int i = 0; i < l.dt_size(); ++i)
            s += sep(i) + cppTypeName(l.dt(i));
        for (int i = 0; i < l.td_size(); ++i)
            s += sep(i) + "<" + descText(l.td(i)) + ">";
        for (int i = 0; i < l.t_size(); ++i)
            s += sep(i) + "<tensor " + descText(l.t(i).desc()) + ">";
        return s + "]";
    }
    default: return "<empty>";
    }
}

ValueDescription fromDesc(const std::string &name, const ge::proto::TensorDescriptor &d)
{
    ValueDescription v;
    v.name = name;
    v.dtype = protoTypeName(d.dtype());
    v.shape.assign(d.shape().dim().begin(), d.shape().dim().end());
    return v;
}

} // namespace

std::optional<DType> protoDType(int t)
{
    switch (t) {
    case ge::proto::DT_FLOAT: return DType::Float32;
    case ge::proto::DT_FLOAT16: return DType::Float16;
    case ge::proto::DT_INT8: return DType::Int8;
    case ge::proto::DT_UINT8: return DType::UInt8;
    case ge::proto::DT_INT16: return DType::Int16;
    case ge::proto::DT_UINT16: return DType::UInt16;
    case ge::proto::DT_INT32: return DType::Int32;
    case ge::proto::DT_INT64: return DType::Int64;
    case ge::proto::DT_UINT32: return DType::UInt32;
    case ge::proto::DT_UINT64: return DType::UInt64;
    case ge::proto::DT_BOOL: return DType::Bool;
    case ge::proto::DT_DOUBLE: return DType::Float64;
    case ge::proto::DT_BF16: return DType::BFloat16;
    default: return std::nullopt;
    }
}

int protoTypeOf(DType type)
{
    for (int t = 1; t <= 31; ++t)
        if (protoDType(t) == type)
            return t;
    return 0;
}

std::optional<DType> cppDType(int64_t t)
{
    // ge::DataType (graph/types.h); air.md section 4.
    switch (t) {
    case 0: return DType::Float32;
    case 1: return DType::Float16;
    case 2: return DType::Int8;
    case 3: return DType::Int32;
    case 4: return DType::UInt8;
    case 6: return DType::Int16;
    case 7: return DType::UInt16;
    case 8: return DType::UInt32;
    case 9: return DType::Int64;
    case 10: return DType::UInt64;
    case 11: return DType::Float64;
    case 12: return DType::Bool;
    case 27: return DType::BFloat16;
    default: return std::nullopt;
    }
}

int64_t cppTypeOf(DType type)
{
    for (int64_t t = 0; t <= 27; ++t)
        if (cppDType(t) == type)
            return t;
    return -1;
}

std::string protoTypeName(int type)
{
    const std::string n = ge::proto::DataType_IsValid(type) ? ge::proto::DataType_Name(static_cast<ge::proto::DataType>(type)) : "";
    return n.empty() ? "type " + std::to_string(type) : n;
}

std::string cppTypeName(int64_t type)
{
    // ge::DataType (graph/types.h), current numbering; 5 is reserved.
    static const std::map<int64_t, const char *> names{
        {0, "DT_FLOAT"},   {1, "DT_FLOAT16"}, {2, "DT_INT8"},    {3, "DT_INT32"},  {4, "DT_UINT8"},   {6, "DT_INT16"},
        {7, "DT_UINT16"},  {8, "DT_UINT32"},  {9, "DT_INT64"},   {10, "DT_UINT64"}, {11, "DT_DOUBLE"}, {12, "DT_BOOL"},
        {13, "DT_STRING"}, {14, "DT_DUAL_SUB_INT8"}, {15, "DT_DUAL_SUB_UINT8"}, {16, "DT_COMPLEX64"},
        {17, "DT_COMPLEX128"}, {18, "DT_QINT8"}, {19, "DT_QINT16"}, {20, "DT_QINT32"}, {21, "DT_QUINT8"},
        {22, "DT_QUINT16"}, {23, "DT_RESOURCE"}, {24, "DT_STRING_REF"}, {25, "DT_DUAL"}, {26, "DT_VARIANT"},
        {27, "DT_BF16"},   {28, "DT_UNDEFINED"}, {29, "DT_INT4"}};
    const auto it = names.find(type);
    return it != names.end() ? it->second : "ge::DataType " + std::to_string(type);
}

ModelDescription describeAir(std::string_view bytes, const std::string &source)
{
    ge::proto::ModelDef model;
    if (!parseMessage(bytes, model))
        throw Error("Cannot read \"" + source + "\" as Ascend AIR: the ModelDef does not parse (damaged or not AIR)" + truncationNote(bytes) + ".");
    if (model.graph_size() == 0)
        throw Error("Cannot read \"" + source + "\" as Ascend AIR: the ModelDef has no graph.");
    ModelDescription d;
    d.format = "air";
    d.formatName = "Ascend AIR (GE ModelDef)";
    if (!model.name().empty())
        d.properties.emplace_back("name", model.name());
    d.properties.emplace_back("version", std::to_string(model.version()));
    if (!model.custom_version().empty())
        d.properties.emplace_back("custom_version", model.custom_version());
    d.properties.emplace_back("graphs", std::to_string(model.graph_size()));
    std::map<std::string, std::string> sortedAttrs;
    for (const auto &[k, v] : model.attr())
        sortedAttrs[k] = attrText(v);
    for (const auto &[k, v] : sortedAttrs)
        d.properties.emplace_back("attr." + k, v);

    for (int gi = 0; gi < model.graph_size(); ++gi) {
        const auto &g = model.graph(gi);
        std::map<std::string, const ge::proto::OpDef *> byName;
        for (const auto &op : g.op())
            byName[op.name()] = &op;
        for (const auto &op : g.op()) {
            NodeDescription n;
            n.name = op.name();
            n.opType = op.type();
            n.graph = g.name();
            n.inputs.assign(op.input().begin(), op.input().end());
            for (int o = 0; o < op.output_desc_size(); ++o) {
                n.outputs.push_back(op.name() + ":" + std::to_string(o));
                d.values.push_back(fromDesc(n.outputs.back(), op.output_desc(o)));
            }
            std::map<std::string, std::string> attrs;
            for (const auto &[k, v] : op.attr())
                attrs[k] = attrText(v);
            for (const auto &[k, v] : attrs)
                n.attributes.push_back({k, v});
            d.nodes.push_back(std::move(n));
            if (gi != 0)
                continue;
            if (op.type() == "Data" && op.output_desc_size() > 0) {
                d.inputs.push_back(fromDesc(op.name(), op.output_desc(0)));
            } else if (op.type() == "Const" || op.type() == "Constant") {
                const auto it = op.attr().find("value");
                if (it == op.attr().end() || it->second.value_case() != ge::proto::AttrDef::kT)
                    continue;
                const auto &t = it->second.t();
                ValueDescription p = fromDesc(op.name(), t.desc());
                if (const auto type = protoDType(t.desc().dtype()))
                    p.value = tensorFromRaw(*type, p.shape, t.data(), "Cannot read \"" + source + "\" as Ascend AIR: Const \"" + op.name() + "\"");
                d.parameters.push_back(std::move(p));
            }
        }
        if (gi != 0)
            continue;
        for (const auto &o : g.output()) {
            // "<op>:<index>": the descriptor of that output port gives the type.
            const size_t colon = o.rfind(':');
            const auto it = byName.find(o.substr(0, colon));
            const int index = colon == std::string::npos ? 0 : std::atoi(o.c_str() + colon + 1);
            if (it != byName.end() && index >= 0 && index < it->second->output_desc_size())
                d.outputs.push_back(fromDesc(o, it->second->output_desc(index)));
            else
                d.outputs.push_back({o, "", {}, false, {}, std::nullopt, {}, {}});
        }
    }
    return d;
}

} // namespace netwright::air
