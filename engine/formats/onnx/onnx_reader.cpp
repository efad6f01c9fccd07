// SPDX-License-Identifier: Apache-2.0
#include "formats/onnx/onnx_reader.h"

#include "core/error.h"
#include "formats/format_util.h"
#include "formats/raw_tensor.h"

#include <onnx/onnx_pb.h>

#include <cstring>

namespace netwright::onnx_format {

namespace {

// Copies a typed repeated field into the tensor, after checking the count.
template<typename Field, typename T>
Tensor fromTyped(DType type, const std::vector<int64_t> &dims, const Field &field, const std::string &what)
{
    const int64_t n = checkedNumel(dims, what);
    if (field.size() != n)
        throw Error(what + ": " + std::to_string(field.size()) + " values for the shape " + shapeToString(dims) + ".");
    Tensor t(Shape(dims.begin(), dims.end()), type);
    for (int64_t i = 0; i < n; ++i)
        t.dataAs<T>()[i] = static_cast<T>(field.Get(static_cast<int>(i)));
    return t;
}

// The value of an initializer or a tensor attribute; nullopt for strings, complex and external data.
std::optional<Tensor> tensorOf(const onnx::TensorProto &p, const std::string &what)
{
    const ElementType type = onnxElementType(p.data_type());
    const std::vector<int64_t> dims(p.dims().begin(), p.dims().end());
    if (!type.dtype || p.data_location() == onnx::TensorProto::EXTERNAL)
        return std::nullopt;
    const DType t = *type.dtype;
    if (p.has_raw_data())
        return tensorFromRaw(t, dims, p.raw_data(), what);
    switch (t) {
    case DType::Float32: return fromTyped<decltype(p.float_data()), float>(t, dims, p.float_data(), what);
    case DType::Float64: return fromTyped<decltype(p.double_data()), double>(t, dims, p.double_data(), what);
    case DType::Int64: return fromTyped<decltype(p.int64_data()), int64_t>(t, dims, p.int64_data(), what);
    case DType::UInt64:
    case DType::UInt32: {
        if (t == DType::UInt64)
            return fromTyped<decltype(p.uint64_data()), uint64_t>(t, dims, p.uint64_data(), what);
        return fromTyped<decltype(p.uint64_data()), uint32_t>(t, dims, p.uint64_data(), what);
    }
    case DType::Int32: return fromTyped<decltype(p.int32_data()), int32_t>(t, dims, p.int32_data(), what);
    case DType::Int16: return fromTyped<decltype(p.int32_data()), int16_t>(t, dims, p.int32_data(), what);
    case DType::Int8: return fromTyped<decltype(p.int32_data()), int8_t>(t, dims, p.int32_data(), what);
    case DType::UInt16: return fromTyped<decltype(p.int32_data()), uint16_t>(t, dims, p.int32_data(), what);
    case DType::UInt8: return fromTyped<decltype(p.int32_data()), uint8_t>(t, dims, p.int32_data(), what);
    case DType::Bool: return fromTyped<decltype(p.int32_data()), uint8_t>(t, dims, p.int32_data(), what);
    case DType::Float16:
    case DType::BFloat16: // the bit patterns, one per int32
        return fromTyped<decltype(p.int32_data()), uint16_t>(t, dims, p.int32_data(), what);
    }
    return std::nullopt;
}

std::string quote(const std::string &s)
{
    return "\"" + s + "\"";
}

std::string attributeText(const onnx::AttributeProto &a)
{
    switch (a.type()) {
    case onnx::AttributeProto::FLOAT: return formatNumber(a.f());
    case onnx::AttributeProto::INT: return std::to_string(a.i());
    case onnx::AttributeProto::STRING: return quote(a.s());
    case onnx::AttributeProto::INTS: return formatInts(a.ints());
    case onnx::AttributeProto::FLOATS: {
        std::string s = "[";
        for (int i = 0; i < a.floats_size(); ++i)
            s += (i ? "," : "") + formatNumber(a.floats(i));
        return s + "]";
    }
    case onnx::AttributeProto::STRINGS: {
        std::string s = "[";
        for (int i = 0; i < a.strings_size(); ++i)
            s += (i ? std::string(",") : std::string()) + quote(a.strings(i));
        return s + "]";
    }
    case onnx::AttributeProto::TENSOR:
        return std::string("<tensor ") + onnxElementType(a.t().data_type()).name + " " + formatInts(a.t().dims()) + ">";
    case onnx::AttributeProto::GRAPH:
        return "<graph " + quote(a.g().name()) + ", " + std::to_string(a.g().node_size()) + " nodes>";
    case onnx::AttributeProto::GRAPHS: return "<" + std::to_string(a.graphs_size()) + " graphs>";
    case onnx::AttributeProto::TENSORS: return "<" + std::to_string(a.tensors_size()) + " tensors>";
    case onnx::AttributeProto::SPARSE_TENSOR: return "<sparse tensor>";
    case onnx::AttributeProto::TYPE_PROTO: return "<type>";
    default: return "<attribute type " + std::to_string(a.type()) + ">";
    }
}

ValueDescription valueInfo(const onnx::ValueInfoProto &v)
{
    ValueDescription d;
    d.name = v.name();
    if (!v.type().has_tensor_type()) {
        d.dtype = v.type().has_sequence_type() ? "sequence" : v.type().has_map_type() ? "map" : "";
        d.shapeKnown = false;
        return d;
    }
    const auto &t = v.type().tensor_type();
    d.dtype = onnxElementType(t.elem_type()).name;
    d.shapeKnown = t.has_shape();
    for (const auto &dim : t.shape().dim()) {
        d.shape.push_back(dim.has_dim_value() ? dim.dim_value() : -1);
        d.dimNames.push_back(dim.has_dim_param() ? dim.dim_param() : std::string());
    }
    return d;
}

void addNodes(const onnx::GraphProto &g, const std::string &graphName, ModelDescription &out, int depth)
{
    if (depth > 32)
        throw Error("The ONNX graph nests subgraphs more than 32 deep.");
    for (const auto &n : g.node()) {
        NodeDescription d;
        d.name = n.name();
        d.opType = n.domain().empty() || n.domain() == "ai.onnx" ? n.op_type() : n.domain() + "::" + n.op_type();
        d.inputs.assign(n.input().begin(), n.input().end());
        d.outputs.assign(n.output().begin(), n.output().end());
        d.graph = graphName;
        for (const auto &a : n.attribute())
            d.attributes.push_back({a.name(), attributeText(a)});
        out.nodes.push_back(std::move(d));
        for (const auto &a : n.attribute()) {
            if (a.has_g())
                addNodes(a.g(), graphName + "/" + n.name() + "." + a.name(), out, depth + 1);
            for (const auto &sub : a.graphs())
                addNodes(sub, graphName + "/" + n.name() + "." + a.name(), out, depth + 1);
        }
    }
}

} // namespace

ModelDescription describeOnnx(std::string_view bytes, const std::string &source)
{
    onnx::ModelProto model;
    if (!parseMessage(bytes, model))
        throw Error("Cannot read \"" + source + "\" as ONNX: the ModelProto does not parse (damaged or not ONNX).");
    if (!model.has_graph())
        throw Error("Cannot read \"" + source + "\" as ONNX: the model has no graph.");
    ModelDescription d;
    d.format = "onnx";
    d.formatName = "ONNX";
    d.properties.emplace_back("ir_version", std::to_string(model.ir_version()));
    std::string opsets;
    for (const auto &o : model.opset_import())
        opsets += (opsets.empty() ? "" : ", ") + (o.domain().empty() ? std::string("ai.onnx") : o.domain()) + " "
                  + std::to_string(o.version());
    d.properties.emplace_back("opset_import", opsets);
    if (!model.producer_name().empty())
        d.properties.emplace_back("producer", model.producer_name() + (model.producer_version().empty() ? "" : " " + model.producer_version()));
    if (!model.domain().empty())
        d.properties.emplace_back("domain", model.domain());
    if (model.model_version() != 0)
        d.properties.emplace_back("model_version", std::to_string(model.model_version()));
    if (!model.doc_string().empty())
        d.properties.emplace_back("doc_string", model.doc_string());
    d.properties.emplace_back("graph", model.graph().name());
    for (const auto &m : model.metadata_props())
        d.properties.emplace_back("metadata." + m.key(), m.value());

    const onnx::GraphProto &g = model.graph();
    std::set<std::string> initialized;
    for (const auto &t : g.initializer()) {
        initialized.insert(t.name());
        ValueDescription p;
        p.name = t.name();
        p.dtype = onnxElementType(t.data_type()).name;
        p.shape.assign(t.dims().begin(), t.dims().end());
        p.value = tensorOf(t, "Cannot read \"" + source + "\" as ONNX: initializer \"" + t.name() + "\"");
        if (t.data_location() == onnx::TensorProto::EXTERNAL)
            for (const auto &e : t.external_data())
                if (e.key() == "location")
                    p.text = "external data in " + quote(e.value());
        d.parameters.push_back(std::move(p));
    }
    for (const auto &v : g.input())
        if (!initialized.count(v.name()))
            d.inputs.push_back(valueInfo(v));
    for (const auto &v : g.output())
        d.outputs.push_back(valueInfo(v));
    addNodes(g, g.name(), d, 0);
    return d;
}

} // namespace netwright::onnx_format
