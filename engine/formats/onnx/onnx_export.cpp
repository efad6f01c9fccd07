// SPDX-License-Identifier: Apache-2.0
#include "formats/onnx/onnx_export.h"

#include "core/error.h"
#include "formats/inference_graph.h"
#include "ops/op.h"

#include <onnx/onnx_pb.h>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <set>

namespace netwright::onnx_format {

namespace {

// The engine's ops, all ONNX ops with the semantics of opset 13; a few differ in older opsets.
const std::set<std::string> &exportable()
{
    static const std::set<std::string> ops{"Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Conv", "MaxPool", "AveragePool",
                                           "GlobalAveragePool", "BatchNormalization", "Relu", "LeakyRelu", "Sigmoid", "Tanh",
                                           "Softmax", "LogSoftmax", "Flatten", "Reshape", "Transpose", "Concat", "Dropout",
                                           "Identity", "Clip"};
    return ops;
}

int32_t onnxType(DType t)
{
    switch (t) {
    case DType::Float32: return onnx::TensorProto::FLOAT;
    case DType::Float64: return onnx::TensorProto::DOUBLE;
    case DType::Float16: return onnx::TensorProto::FLOAT16;
    case DType::BFloat16: return onnx::TensorProto::BFLOAT16;
    case DType::Int64: return onnx::TensorProto::INT64;
    case DType::Int32: return onnx::TensorProto::INT32;
    case DType::Int16: return onnx::TensorProto::INT16;
    case DType::Int8: return onnx::TensorProto::INT8;
    case DType::UInt64: return onnx::TensorProto::UINT64;
    case DType::UInt32: return onnx::TensorProto::UINT32;
    case DType::UInt16: return onnx::TensorProto::UINT16;
    case DType::UInt8: return onnx::TensorProto::UINT8;
    case DType::Bool: return onnx::TensorProto::BOOL;
    }
    return onnx::TensorProto::UNDEFINED;
}

void fillTensor(onnx::TensorProto &p, const std::string &name, const Tensor &t)
{
    p.set_name(name);
    p.set_data_type(onnxType(t.dtype()));
    for (int64_t d : t.shape())
        p.add_dims(d);
    p.set_raw_data(static_cast<const char *>(t.raw()), t.byteSize()); // little-endian, C order
}

// `batch`: the first dimension, -1 for the symbolic "batch".
void fillValueInfo(onnx::ValueInfoProto &v, const std::string &name, DType dtype, const Shape &shape, int64_t batch)
{
    v.set_name(name);
    auto *t = v.mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnxType(dtype));
    auto *s = t->mutable_shape();
    for (size_t i = 0; i < shape.size(); ++i) {
        auto *d = s->add_dim();
        if (i == 0 && batch < 0)
            d->set_dim_param("batch");
        else
            d->set_dim_value(i == 0 ? batch : shape[i]);
    }
}

// ONNX's IR version for an opset (the newest IR the opset appeared with).
int64_t irVersionFor(int64_t opset)
{
    return opset <= 11 ? 6 : opset <= 14 ? 7 : 8;
}

} // namespace

std::vector<std::string> exportableOps()
{
    return {exportable().begin(), exportable().end()};
}

std::string exportOnnx(const Graph &model, const OnnxExportOptions &options)
{
    check(options.opset >= 11 && options.opset <= 17,
          "ONNX export writes opsets 11–17, not " + std::to_string(options.opset) + ".");
    // The inference graph: no loss, no labels.
    std::set<std::string> dropped{"labels"};
    std::vector<const Node *> nodes;
    for (const auto &n : model.nodes) {
        if (isTrainingLoss(n.opType)) {
            dropped.insert(n.outputs.begin(), n.outputs.end());
            continue;
        }
        nodes.push_back(&n);
    }
    // Pre-flight: everything that does not map, at once.
    std::vector<std::string> problems;
    for (const Node *n : nodes) {
        if (!exportable().count(n->opType))
            problems.push_back(n->describe() + ": no ONNX export");
        else if ((n->opType == "Softmax" || n->opType == "LogSoftmax") && options.opset < 13 && n->attrInt("axis", -1) != -1)
            problems.push_back(n->describe() + ": before opset 13 ONNX's " + n->opType
                               + " flattens from `axis`; only the last axis (-1) exports the same semantics");
    }
    if (!problems.empty()) {
        std::string list;
        for (const auto &p : problems)
            list += (list.empty() ? "" : "; ") + p;
        throw Error("Cannot export \"" + model.name + "\" to ONNX opset " + std::to_string(options.opset) + ": " + list
                    + ". Nothing was written.");
    }
    const ValueInfo *input = nullptr;
    for (const auto &in : model.inputs)
        if (!dropped.count(in.name))
            input = input ? input : &in;
    check(input != nullptr, "Cannot export \"" + model.name + "\" to ONNX: it has no data input.");
    // A batch the input fixes is kept even for a dynamic export (see exportBatch()).
    const int64_t batch = exportBatch(*input, options.dynamicBatch);
    Shape probe = input->shape;
    if (!probe.empty())
        probe[0] = batch > 0 ? batch : 1;
    const auto shapes = model.inferShapes({{input->name, probe}, {"labels", {probe.empty() ? 1 : probe[0]}}});

    onnx::ModelProto m;
    m.set_ir_version(irVersionFor(options.opset));
    m.set_producer_name("Netwright");
    m.set_producer_version(options.producerVersion);
    auto *op = m.add_opset_import();
    op->set_domain("");
    op->set_version(options.opset);
    for (const auto &[k, v] : options.metadata) {
        auto *p = m.add_metadata_props();
        p->set_key(k);
        p->set_value(v);
    }
    onnx::GraphProto *g = m.mutable_graph();
    g->set_name(model.name);
    fillValueInfo(*g->add_input(), input->name, input->dtype, input->shape, batch);
    for (const auto &out : model.outputs) {
        if (dropped.count(out.name))
            continue;
        Shape s = shapes.at(out.name);
        fillValueInfo(*g->add_output(), out.name, out.dtype, s, batch);
    }
    std::set<std::string> used;
    for (const Node *n : nodes) {
        auto *node = g->add_node();
        node->set_name(n->name);
        // Dropout is the identity at inference.
        node->set_op_type(n->opType == "Dropout" ? "Identity" : n->opType);
        for (size_t i = 0; i + n->implicitInputs < n->inputs.size(); ++i) { // never the outer values a subgraph reads
            if (n->opType == "Dropout" && i > 0)
                break;
            node->add_input(n->inputs[i]);
            used.insert(n->inputs[i]);
        }
        for (size_t i = 0; i < n->outputs.size(); ++i)
            if (!(n->opType == "Dropout" && i > 0))
                node->add_output(n->outputs[i]);
        if (n->opType == "Dropout")
            continue;
        for (const auto &[name, value] : n->attributes) {
            auto *a = node->add_attribute();
            a->set_name(name);
            if (const auto *i = std::get_if<int64_t>(&value)) {
                a->set_type(onnx::AttributeProto::INT);
                a->set_i(*i);
            } else if (const auto *f = std::get_if<float>(&value)) {
                a->set_type(onnx::AttributeProto::FLOAT);
                a->set_f(*f);
            } else if (const auto *s = std::get_if<std::string>(&value)) {
                a->set_type(onnx::AttributeProto::STRING);
                a->set_s(*s);
            } else if (const auto *is = std::get_if<std::vector<int64_t>>(&value)) {
                a->set_type(onnx::AttributeProto::INTS);
                for (int64_t x : *is)
                    a->add_ints(x);
            } else if (const auto *fs = std::get_if<std::vector<float>>(&value)) {
                a->set_type(onnx::AttributeProto::FLOATS);
                for (float x : *fs)
                    a->add_floats(x);
            } else if (const auto *t = std::get_if<Tensor>(&value)) {
                a->set_type(onnx::AttributeProto::TENSOR);
                fillTensor(*a->mutable_t(), name, *t);
            }
        }
    }
    for (const auto &[name, t] : model.initializers)
        if (used.count(name))
            fillTensor(*g->add_initializer(), name, t);

    std::string bytes;
    {
        google::protobuf::io::StringOutputStream raw(&bytes);
        google::protobuf::io::CodedOutputStream coded(&raw);
        coded.SetSerializationDeterministic(true);
        m.SerializeToCodedStream(&coded);
    }
    return bytes;
}

} // namespace netwright::onnx_format
