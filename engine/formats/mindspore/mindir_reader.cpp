// SPDX-License-Identifier: Apache-2.0
#include "formats/mindspore/mindir_reader.h"

#include "formats/mindspore/mindir_external_data.h"
#include "core/error.h"
#include "formats/format_util.h"
#include "formats/raw_tensor.h"
#include "mind_ir.pb.h"

#include <map>

namespace netwright::mindspore {

namespace {

// MindIR shares ONNX's numbering and adds FLOAT64 (17, for scalar types) and QINT4X2 (18).
ElementType tensorType(int32_t t)
{
    if (t == ::mind_ir::TensorProto::FLOAT64)
        return {"float64", DType::Float64};
    if (t == ::mind_ir::TensorProto::QINT4X2)
        return {"qint4x2", std::nullopt};
    return onnxElementType(t);
}

// An attribute value as MindSpore typed it (attribute-style and legacy encodings).
std::string attributeText(const ::mind_ir::AttributeProto &a, int depth = 0)
{
    using A = ::mind_ir::AttributeProto;
    if (depth > 16)
        return "…";
    auto element = [&](const A &e) -> std::string {
        // Tuple/list elements keep the value in the plural field (ints[0], floats[0], strings[0]).
        if (e.ints_size())
            return e.type() == A::BOOL ? (e.ints(0) ? "true" : "false") : std::to_string(e.ints(0));
        if (e.floats_size())
            return formatNumber(e.floats(0));
        if (e.doubles_size())
            return formatNumber(e.doubles(0));
        if (e.strings_size())
            return "\"" + e.strings(0) + "\"";
        return attributeText(e, depth + 1);
    };
    if (!a.ref_attr_name().empty() && a.ref_attr_name().rfind("scalar:", 0) == 0 && a.ref_attr_name() != "scalar:value0") {
        // legacy list/tuple: the elements sit in the plural fields
        std::string s = "[";
        for (int i = 0; i < a.ints_size(); ++i)
            s += (i ? "," : "") + std::to_string(a.ints(i));
        for (int i = 0; i < a.floats_size(); ++i)
            s += (i ? "," : "") + formatNumber(a.floats(i));
        for (int i = 0; i < a.strings_size(); ++i)
            s += (i ? ",\"" : "\"") + a.strings(i) + "\"";
        return s + "]";
    }
    switch (a.type()) {
    case A::FLOAT: return formatNumber(a.f());
    case A::DOUBLE: return formatNumber(a.d());
    case A::BOOL: return a.i() ? "true" : "false";
    case A::UINT8: case A::INT8: case A::UINT16: case A::INT16: case A::INT32: case A::INT64: case A::UINT32: case A::UINT64:
        return std::to_string(a.i());
    case A::STRING: return "\"" + a.s() + "\"";
    case A::TUPLE:
    case A::LIST: {
        std::string s = a.type() == A::TUPLE ? "(" : "[";
        for (int i = 0; i < a.values_size(); ++i)
            s += (i ? "," : "") + element(a.values(i));
        return s + (a.type() == A::TUPLE ? ")" : "]");
    }
    case A::TENSORS:
    case A::TENSOR: {
        const auto &t = a.tensors_size() ? a.tensors(0) : a.t();
        return std::string("<tensor ") + tensorType(t.data_type()).name + " " + formatInts(t.dims()) + ">";
    }
    case A::UMONAD: return "UMonad";
    case A::IOMONAD: return "IOMonad";
    case A::NONE: return "None";
    case A::GRAPH: return "<graph \"" + a.g().name() + "\">";
    default:
        if (a.has_s())
            return "\"" + a.s() + "\"";
        if (a.has_i())
            return std::to_string(a.i());
        if (a.has_f())
            return formatNumber(a.f());
        return "<" + A::AttributeType_Name(a.type()) + ">";
    }
}

ValueDescription valueInfo(const ::mind_ir::ValueInfoProto &v)
{
    ValueDescription d;
    d.name = v.name();
    if (v.tensor_size() == 0) {
        d.shapeKnown = false;
        d.dtype = v.denotation();
        return d;
    }
    d.dtype = tensorType(v.tensor(0).data_type()).name;
    d.shape.assign(v.tensor(0).dims().begin(), v.tensor(0).dims().end());
    return d;
}

void addGraph(const ::mind_ir::GraphProto &g, const std::map<std::string, const ::mind_ir::PrimitiveProto *> &primitives,
              ModelDescription &out)
{
    for (const auto &n : g.node()) {
        NodeDescription d;
        d.name = n.name();
        d.graph = g.name();
        d.inputs.assign(n.input().begin(), n.input().end());
        d.outputs.assign(n.output().begin(), n.output().end());
        std::string op = n.op_type();
        if (op.rfind("REF::", 0) == 0) {
            const std::string ref = op.substr(5);
            const auto it = primitives.find(ref);
            if (it != primitives.end()) {
                op = it->second->op_type();
                for (const auto &a : it->second->attribute())
                    d.attributes.push_back({a.name(), attributeText(a)});
            } else {
                op = ref; // a call of a function graph or a node
            }
        }
        d.opType = op;
        for (const auto &a : n.attribute()) {
            if (a.name() == "shape" || (a.name().empty() && a.ref_attr_name().rfind("shape:", 0) == 0)) {
                // the output's abstract, not an operator attribute: the value's type
                if (a.tensors_size() == 1 && !n.output().empty()) {
                    ValueDescription v;
                    v.name = n.output(0);
                    v.dtype = tensorType(a.tensors(0).data_type()).name;
                    v.shape.assign(a.tensors(0).dims().begin(), a.tensors(0).dims().end());
                    out.values.push_back(std::move(v));
                }
                continue;
            }
            d.attributes.push_back({a.name(), attributeText(a)});
        }
        if (!n.domain().empty())
            d.attributes.push_back({"fullname_with_scope", "\"" + n.domain() + "\""});
        out.nodes.push_back(std::move(d));
    }
}

} // namespace

ModelDescription describeMindir(std::string_view bytes, const std::string &source)
{
    ::mind_ir::ModelProto model;
    if (!parseMessage(bytes, model, true)) // partial: a QuantParamProto without its name still lists
        throw Error("Cannot read \"" + source + "\" as MindIR: the ModelProto does not parse (damaged or not MindIR)" + truncationNote(bytes) + ".");
    if (!model.has_producer_name() || !model.has_model_version() || !model.has_graph())
        throw Error("Cannot read \"" + source + "\" as MindIR: it has no producer_name, model_version or graph.");
    ModelDescription d;
    d.format = "mindir";
    d.formatName = "MindSpore MindIR";
    d.properties.emplace_back("ir_version", model.ir_version());
    d.properties.emplace_back("producer", model.producer_name() + " " + model.model_version());
    if (model.has_mind_ir_version())
        d.properties.emplace_back("mind_ir_version", std::to_string(model.mind_ir_version()));
    if (model.has_little_endian())
        d.properties.emplace_back("little_endian", model.little_endian() ? "true" : "false");
    d.properties.emplace_back("graph", model.graph().name());
    if (model.functions_size())
        d.properties.emplace_back("functions", std::to_string(model.functions_size()));
    if (model.primitives_size())
        d.properties.emplace_back("primitives", std::to_string(model.primitives_size()));
    for (const auto &[k, v] : model.user_info())
        d.properties.emplace_back("user_info." + k, v);

    std::map<std::string, const ::mind_ir::PrimitiveProto *> primitives;
    for (const auto &p : model.primitives())
        primitives[p.name()] = &p;
    const auto &g = model.graph();
    ExternalDataReader external(source);
    for (const auto &t : g.parameter()) {
        ValueDescription p;
        p.name = t.name();
        const ElementType type = tensorType(t.data_type());
        p.dtype = type.name;
        p.shape.assign(t.dims().begin(), t.dims().end());
        if (t.has_external_data()) {
            p.text = "external data in \"" + t.external_data().location() + "\" at " + std::to_string(t.external_data().offset());
            if (type.dtype) // mapped: a split model of gigabytes is inspected without reading it all
                p.value = readMindirExternal(external, t, *type.dtype, "Cannot read \"" + source + "\" as MindIR: parameter \"" + t.name() + "\"");
        } else if (type.dtype && t.has_raw_data()) {
            p.value = tensorFromRaw(*type.dtype, p.shape, t.raw_data(), "Cannot read \"" + source + "\" as MindIR: parameter \"" + t.name() + "\"");
        }
        d.parameters.push_back(std::move(p));
    }
    for (const auto &v : g.input())
        d.inputs.push_back(valueInfo(v));
    for (const auto &v : g.output())
        d.outputs.push_back(valueInfo(v));
    addGraph(g, primitives, d);
    for (const auto &f : model.functions())
        addGraph(f, primitives, d);
    return d;
}

} // namespace netwright::mindspore
