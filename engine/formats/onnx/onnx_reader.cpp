// SPDX-License-Identifier: Apache-2.0
#include "formats/onnx/onnx_reader.h"

#include "core/error.h"
#include "formats/format_util.h"
#include "formats/onnx/onnx_tensor.h"
#include "formats/raw_tensor.h"

#include <onnx/onnx_pb.h>

#include <cstring>

namespace netwright::onnx_format {

namespace {

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

// An initializer or a Constant node's tensor as a parameter (`what` names it in errors).
ValueDescription tensorParameter(const onnx::TensorProto &t, const std::string &name, const std::string &what, const std::string &source,
                                 ExternalDataReader *external = nullptr)
{
    ValueDescription p;
    p.name = name;
    p.dtype = onnxElementType(t.data_type()).name;
    p.shape.assign(t.dims().begin(), t.dims().end());
    p.value = onnxTensor(t, "Cannot read \"" + source + "\" as ONNX: " + what, external);
    if (t.data_location() == onnx::TensorProto::EXTERNAL)
        for (const auto &e : t.external_data())
            if (e.key() == "location")
                p.text = "external data in " + quote(e.value());
    return p;
}

bool isFloating(int32_t onnxType)
{
    return onnxType == onnx::TensorProto::FLOAT || onnxType == onnx::TensorProto::DOUBLE || onnxType == onnx::TensorProto::FLOAT16
           || onnxType == onnx::TensorProto::BFLOAT16;
}

// A Constant node holding floating-point values — how PaddleOCR, Silero VAD and many exporters
// keep their weights — as a parameter held by that node. Integer constants (shape operands, axes,
// indices) are operands, not weights: they stay attributes of their node.
void addConstantWeight(const onnx::NodeProto &n, const std::string &holder, const std::string &source, ModelDescription &out)
{
    if (n.op_type() != "Constant" || !(n.domain().empty() || n.domain() == "ai.onnx") || n.output_size() != 1)
        return;
    for (const auto &a : n.attribute()) {
        ValueDescription p;
        if (a.name() == "value" && a.has_t() && isFloating(a.t().data_type())) {
            p = tensorParameter(a.t(), n.output(0), "Constant \"" + n.output(0) + "\"", source);
        } else if (a.name() == "value_float") {
            p.name = n.output(0);
            p.dtype = "float32";
            p.value = Tensor::full({}, a.f());
        } else if (a.name() == "value_floats") {
            p.name = n.output(0);
            p.dtype = "float32";
            p.shape = {a.floats_size()};
            p.value = Tensor::fromVector({a.floats_size()}, std::vector<float>(a.floats().begin(), a.floats().end()));
        } else {
            continue;
        }
        p.heldBy = holder;
        out.parameters.push_back(std::move(p));
        return;
    }
}

void addNodes(const onnx::GraphProto &g, const std::string &graphName, const std::string &source, ModelDescription &out, int depth,
              ExternalDataReader &external)
{
    if (depth > 32)
        throw Error("The ONNX graph nests subgraphs more than 32 deep.");
    if (depth > 0) // a subgraph's own initializers (the top graph's are listed first)
        for (const auto &t : g.initializer())
            out.parameters.push_back(tensorParameter(t, t.name(), "initializer \"" + t.name() + "\" of " + graphName, source, &external));
    for (const auto &n : g.node()) {
        addConstantWeight(n, n.name().empty() ? "#" + std::to_string(out.nodes.size()) : n.name(), source, out);
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
                addNodes(a.g(), graphName + "/" + n.name() + "." + a.name(), source, out, depth + 1, external);
            for (const auto &sub : a.graphs())
                addNodes(sub, graphName + "/" + n.name() + "." + a.name(), source, out, depth + 1, external);
        }
    }
}

} // namespace

ModelDescription describeOnnx(std::string_view bytes, const std::string &source)
{
    onnx::ModelProto model;
    if (!parseMessage(bytes, model))
        throw Error("Cannot read \"" + source + "\" as ONNX: the ModelProto does not parse (damaged or not ONNX)" + truncationNote(bytes) + ".");
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
    ExternalDataReader external(source); // data files beside the model, mapped (large models)
    for (const auto &t : g.initializer()) {
        initialized.insert(t.name());
        d.parameters.push_back(tensorParameter(t, t.name(), "initializer \"" + t.name() + "\"", source, &external));
    }
    for (const auto &v : g.input())
        if (!initialized.count(v.name()))
            d.inputs.push_back(valueInfo(v));
    for (const auto &v : g.output())
        d.outputs.push_back(valueInfo(v));
    for (const auto &v : g.value_info())
        d.values.push_back(valueInfo(v));
    addNodes(g, g.name(), source, d, 0, external);
    return d;
}

} // namespace netwright::onnx_format
