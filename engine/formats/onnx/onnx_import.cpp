// SPDX-License-Identifier: Apache-2.0
#include "formats/onnx/onnx_import.h"

#include "core/error.h"
#include "formats/format_util.h"
#include "formats/onnx/onnx_tensor.h"
#include "ops/op.h"

#include <map>
#include <set>

namespace netwright::onnx_format {

namespace {

constexpr int64_t kMinOpset = 11, kMaxOpset = 17;

ValueInfo valueInfo(const onnx::ValueInfoProto &v, const std::string &source)
{
    ValueInfo info;
    info.name = v.name();
    check(v.type().has_tensor_type(), "Cannot import \"" + source + "\": graph value \"" + v.name() + "\" is not a tensor.");
    const auto &t = v.type().tensor_type();
    const ElementType type = onnxElementType(t.elem_type());
    check(type.dtype.has_value(), "Cannot import \"" + source + "\": graph value \"" + v.name() + "\" has the element type "
                                      + type.name + ", which the engine has no tensors for.");
    info.dtype = *type.dtype;
    for (const auto &d : t.shape().dim())
        info.shape.push_back(d.has_dim_value() ? d.dim_value() : -1); // a symbolic dim (the batch) is fixed at run time
    return info;
}

// The Constant node's value, whatever attribute carries it.
Tensor constantValue(const onnx::NodeProto &n, const std::string &source)
{
    const std::string what = "Cannot import \"" + source + "\": Constant \"" + n.output(0) + "\"";
    for (const auto &a : n.attribute()) {
        if (a.name() == "value") {
            auto t = onnxTensor(a.t(), what);
            check(t.has_value(), what + " is not a numeric tensor.");
            return *t;
        }
        if (a.name() == "value_float")
            return Tensor::full({}, a.f());
        if (a.name() == "value_floats")
            return Tensor::fromVector({static_cast<int64_t>(a.floats_size())}, std::vector<float>(a.floats().begin(), a.floats().end()));
        if (a.name() == "value_int")
            return Tensor::fromInt64({}, {a.i()});
        if (a.name() == "value_ints")
            return Tensor::fromInt64({static_cast<int64_t>(a.ints_size())}, std::vector<int64_t>(a.ints().begin(), a.ints().end()));
    }
    throw Error(what + " has no value the engine reads (sparse or string constants are not supported).");
}

} // namespace

OnnxImport importOnnx(std::string_view bytes, const std::string &source)
{
    onnx::ModelProto model;
    if (!parseMessage(bytes, model) || !model.has_graph())
        throw Error("Cannot import \"" + source + "\" as ONNX: the ModelProto does not parse or has no graph" + truncationNote(bytes) + ".");
    OnnxImport out;
    for (const auto &o : model.opset_import())
        if (o.domain().empty() || o.domain() == "ai.onnx")
            out.opset = o.version();
    check(out.opset >= kMinOpset && out.opset <= kMaxOpset,
          "Cannot import \"" + source + "\": it uses ONNX opset " + std::to_string(out.opset) + "; Netwright imports opsets "
              + std::to_string(kMinOpset) + "–" + std::to_string(kMaxOpset) + ".");
    const onnx::GraphProto &g = model.graph();
    Graph &graph = out.graph;
    graph.name = g.name().empty() ? "onnx" : g.name();

    // Which consumers read each value: an initializer is trainable only when every consumer can
    // send a gradient into that input.
    std::map<std::string, bool> differentiable;
    for (const auto &n : g.node())
        for (int k = 0; k < n.input_size(); ++k) {
            if (n.input(k).empty())
                continue;
            bool d = hasKernel(n.op_type());
            if (d) {
                Node probe{n.name(), n.op_type(), {}, {}, {}};
                d = kernelFor(n.op_type(), DeviceType::Cpu, probe).differentiable(static_cast<size_t>(k));
            }
            auto it = differentiable.find(n.input(k));
            differentiable[n.input(k)] = (it == differentiable.end() || it->second) && d;
        }

    std::set<std::string> initialized;
    for (const auto &t : g.initializer()) {
        auto value = onnxTensor(t, "Cannot import \"" + source + "\": initializer \"" + t.name() + "\"");
        check(value.has_value(), "Cannot import \"" + source + "\": initializer \"" + t.name()
                                     + "\" is external or not numeric, which the importer does not read yet.");
        const auto use = differentiable.find(t.name());
        const bool trainable = value->dtype() == DType::Float32 && use != differentiable.end() && use->second;
        graph.addParameter(t.name(), *value, trainable);
        initialized.insert(t.name());
    }
    for (const auto &v : g.input())
        if (!initialized.count(v.name()))
            graph.inputs.push_back(valueInfo(v, source));
    for (const auto &v : g.output())
        graph.outputs.push_back(valueInfo(v, source));

    std::set<std::string> missing, names;
    int index = 0;
    for (const auto &n : g.node()) {
        ++index;
        if (n.op_type() == "Constant" && (n.domain().empty() || n.domain() == "ai.onnx")) {
            check(n.output_size() == 1, "Cannot import \"" + source + "\": a Constant node needs one output.");
            graph.addParameter(n.output(0), constantValue(n, source), false);
            continue;
        }
        std::string name = n.name().empty() ? n.op_type() + "_" + std::to_string(index) : n.name();
        while (!names.insert(name).second)
            name += "_";
        std::map<std::string, Attribute> attributes;
        for (const auto &a : n.attribute()) {
            switch (a.type()) {
            case onnx::AttributeProto::INT: attributes[a.name()] = static_cast<int64_t>(a.i()); break;
            case onnx::AttributeProto::FLOAT: attributes[a.name()] = a.f(); break;
            case onnx::AttributeProto::STRING: attributes[a.name()] = a.s(); break;
            case onnx::AttributeProto::INTS: attributes[a.name()] = std::vector<int64_t>(a.ints().begin(), a.ints().end()); break;
            case onnx::AttributeProto::FLOATS: attributes[a.name()] = std::vector<float>(a.floats().begin(), a.floats().end()); break;
            case onnx::AttributeProto::TENSOR:
                if (auto t = onnxTensor(a.t(), "Cannot import \"" + source + "\": attribute " + a.name() + " of \"" + name + "\""))
                    attributes[a.name()] = *t;
                break;
            default:
                missing.insert(n.op_type()); // subgraphs and sparse tensors: kept for inspection only
                break;
            }
        }
        const bool foreignDomain = !n.domain().empty() && n.domain() != "ai.onnx";
        const std::string opType = foreignDomain ? n.domain() + "::" + n.op_type() : n.op_type();
        if (!hasKernel(opType))
            missing.insert(opType);
        graph.addNode(opType, name, std::vector<std::string>(n.input().begin(), n.input().end()),
                      std::vector<std::string>(n.output().begin(), n.output().end()), std::move(attributes));
    }
    out.missingOps.assign(missing.begin(), missing.end());
    try {
        graph.validate();
    } catch (const Error &e) {
        throw Error("Cannot import \"" + source + "\": " + e.what());
    }
    return out;
}

OnnxImport importOnnxFile(const std::string &path)
{
    return importOnnx(readFileBytes(path), path);
}

} // namespace netwright::onnx_format
