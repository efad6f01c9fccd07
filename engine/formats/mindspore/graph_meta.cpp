// SPDX-License-Identifier: Apache-2.0
#include "formats/mindspore/graph_meta.h"

#include "anf_ir.pb.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "formats/format_util.h"
#include "graph/graph.h"

#include <fstream>
#include <sstream>

namespace netwright::mindspore {

namespace irpb = ::mindspore::irpb;

namespace {

irpb::DataType elemType(DType t)
{
    switch (t) {
    case DType::Float32: return irpb::DT_FLOAT32;
    case DType::Float64: return irpb::DT_FLOAT64;
    case DType::Float16: return irpb::DT_FLOAT16;
    case DType::BFloat16: return irpb::DT_BFLOAT16;
    case DType::Int64: return irpb::DT_INT64;
    case DType::Int32: return irpb::DT_INT32;
    case DType::Int16: return irpb::DT_INT16;
    case DType::Int8: return irpb::DT_INT8;
    case DType::UInt64: return irpb::DT_UINT64;
    case DType::UInt32: return irpb::DT_UINT32;
    case DType::UInt16: return irpb::DT_UINT16;
    case DType::UInt8: return irpb::DT_UINT8;
    case DType::Bool: return irpb::DT_BOOL;
    }
    return irpb::DT_UNDEFINED;
}

void setTensorType(irpb::TypeProto *type, DType dtype, const Shape *shape)
{
    type->set_data_type(irpb::DT_TENSOR);
    auto *t = type->mutable_tensor_type();
    t->set_elem_type(elemType(dtype));
    if (shape)
        for (int64_t d : *shape)
            t->mutable_shape()->add_dim()->set_size(d);
}

void intAttr(irpb::NodeProto *n, const std::string &name, int64_t v)
{
    auto *a = n->add_attribute();
    a->set_name(name);
    a->mutable_value()->set_dtype(irpb::DT_INT64);
    a->mutable_value()->set_int_val(v);
}

void floatAttr(irpb::NodeProto *n, const std::string &name, float v)
{
    auto *a = n->add_attribute();
    a->set_name(name);
    a->mutable_value()->set_dtype(irpb::DT_FLOAT32);
    a->mutable_value()->set_float_val(v);
}

void boolAttr(irpb::NodeProto *n, const std::string &name, bool v)
{
    auto *a = n->add_attribute();
    a->set_name(name);
    a->mutable_value()->set_dtype(irpb::DT_BOOL);
    a->mutable_value()->set_bool_val(v);
}

void tupleAttr(irpb::NodeProto *n, const std::string &name, const std::vector<int64_t> &v)
{
    auto *a = n->add_attribute();
    a->set_name(name);
    a->mutable_value()->set_dtype(irpb::DT_TUPLE);
    for (int64_t x : v) {
        auto *e = a->mutable_value()->add_values();
        e->set_dtype(irpb::DT_INT64);
        e->set_int_val(x);
    }
}

// MindSpore's primitive and nn.Cell names for our ops.
struct MsOp {
    const char *primitive, *cell;
};

MsOp msOp(const std::string &onnx)
{
    static const std::map<std::string, MsOp> table{
        {"Conv", {"Conv2D", "Conv2d"}},           {"Gemm", {"MatMul", "Dense"}},
        {"MatMul", {"MatMul", "MatMul"}},         {"Relu", {"ReLU", "ReLU"}},
        {"LeakyRelu", {"LeakyReLU", "LeakyReLU"}}, {"Sigmoid", {"Sigmoid", "Sigmoid"}},
        {"Tanh", {"Tanh", "Tanh"}},               {"MaxPool", {"MaxPool", "MaxPool2d"}},
        {"AveragePool", {"AvgPool", "AvgPool2d"}}, {"GlobalAveragePool", {"ReduceMean", "AdaptiveAvgPool2d"}},
        {"BatchNormalization", {"BatchNorm", "BatchNorm2d"}}, {"Flatten", {"Flatten", "Flatten"}},
        {"Reshape", {"Reshape", "Reshape"}},      {"Dropout", {"Dropout", "Dropout"}},
        {"Softmax", {"Softmax", "Softmax"}},      {"LogSoftmax", {"LogSoftmax", "LogSoftmax"}},
        {"Add", {"Add", "Add"}},                  {"Sub", {"Sub", "Sub"}},
        {"Mul", {"Mul", "Mul"}},                  {"Div", {"Div", "Div"}},
        {"Concat", {"Concat", "Concat"}},         {"Transpose", {"Transpose", "Transpose"}},
        {"Identity", {"Identity", "Identity"}},
        {"SoftmaxCrossEntropyLoss", {"SparseSoftmaxCrossEntropyWithLogits", "SoftmaxCrossEntropyWithLogits"}},
        {"MeanSquaredErrorLoss", {"MSELoss", "MSELoss"}}, {"L1Loss", {"L1Loss", "L1Loss"}}, {"HuberLoss", {"HuberLoss", "HuberLoss"}},
        {"SigmoidBinaryCrossEntropyLoss", {"BCEWithLogitsLoss", "BCEWithLogitsLoss"}}};
    const auto it = table.find(onnx);
    return it != table.end() ? it->second : MsOp{nullptr, nullptr};
}

class Writer {
public:
    Writer(const Graph &g, int64_t batch) : m_g(g), m_batch(batch) {}

    std::string encode()
    {
        // The data input: "input" for images, "flat_input" for rows a model views as images.
        const ValueInfo *input = nullptr;
        for (const auto &in : m_g.inputs)
            if (!input && in.name != "labels" && !m_g.initializers.count(in.name))
                input = &in;
        check(input != nullptr, "Graph \"" + m_g.name + "\" has no data input.");
        Shape in = input->shape;
        in[0] = m_batch;
        // The labels as the graph declares them: [N] class indices, or [N, T] float targets.
        Shape labelShape{m_batch};
        DType labelType = DType::Int32;
        for (const auto &v : m_g.inputs)
            if (v.name == "labels" && v.shape.size() == 2) {
                labelShape = {m_batch, v.shape[1]};
                labelType = DType::Float32;
            }
        m_shapes = m_g.inferShapes({{input->name, in}, {"labels", labelShape}});
        irpb::ModelProto model;
        model.set_ir_version(irpb::IR_VERSION);
        irpb::GraphProto *g = model.mutable_graph();
        g->set_name(m_g.name + "_construct_wrapper");
        m_names[input->name] = "inputs0";
        m_names["labels"] = "inputs1";
        auto *data = g->add_parameters();
        data->set_name("inputs0");
        setTensorType(data->mutable_type(), DType::Float32, &in);
        auto *labels = g->add_parameters();
        labels->set_name("inputs1");
        setTensorType(labels->mutable_type(), labelType, &labelShape);
        for (const auto &[name, t] : m_g.initializers) {
            auto *p = g->add_parameters();
            p->set_name(name);
            setTensorType(p->mutable_type(), t.dtype(), &t.shape());
            m_names[name] = name;
        }
        std::string last;
        for (const auto &n : m_g.nodes)
            last = addNode(*g, n);
        auto *out = g->add_outputs();
        out->set_name(last);
        setTensorType(out->mutable_type(), DType::Float32, nullptr);
        std::string bytes;
        model.SerializeToString(&bytes);
        return bytes;
    }

private:
    std::string addNode(irpb::GraphProto &g, const Node &n)
    {
        const MsOp op = msOp(n.opType);
        const bool loss = isTrainingLoss(n.opType);
        const std::string scope = std::string("Default/network-WithLossCell/")
                                  + (loss ? std::string("_loss_fn-") + (op.cell ? op.cell : n.opType.c_str())
                                          : "_backbone-" + m_g.name + "/" + n.name + "-" + (op.cell ? op.cell : n.opType));
        std::vector<std::string> inputs;
        for (const auto &i : n.inputs)
            if (!i.empty())
                inputs.push_back(i);
        const bool bias = (n.opType == "Conv" || n.opType == "Gemm") && inputs.size() > 2;
        std::vector<std::string> main = inputs;
        if (n.opType == "Conv" || n.opType == "Gemm")
            main.resize(2);
        irpb::NodeProto *node = emit(g, op.primitive ? op.primitive : n.opType, scope, main, n.outputs[0], bias ? nullptr : &n);
        if (n.opType == "Conv") {
            const Shape &w = m_g.initializers.at(n.inputs[1]).shape();
            tupleAttr(node, "kernel_size", {w[2], w[3]});
            intAttr(node, "out_channel", w[0]);
            intAttr(node, "mode", 1);
            tupleAttr(node, "pad", n.attrInts("pads", {0, 0, 0, 0}));
            intAttr(node, "pad_mode", 0); // pad
            const auto s = n.attrInts("strides", {1, 1}), d = n.attrInts("dilations", {1, 1});
            tupleAttr(node, "stride", {1, 1, s[0], s[1]});
            tupleAttr(node, "dilation", {1, 1, d[0], d[1]});
            intAttr(node, "group", n.attrInt("group", 1));
            intAttr(node, "groups", n.attrInt("group", 1));
        } else if (n.opType == "Gemm") {
            boolAttr(node, "transpose_a", n.attrInt("transA", 0) != 0);
            boolAttr(node, "transpose_b", n.attrInt("transB", 0) != 0);
        } else if (n.opType == "MaxPool" || n.opType == "AveragePool") {
            const auto k = n.attrInts("kernel_shape", {1, 1}), s = n.attrInts("strides", {1, 1});
            tupleAttr(node, "kernel_size", {1, 1, k[0], k[1]});
            tupleAttr(node, "strides", {1, 1, s[0], s[1]});
            intAttr(node, "pad_mode", 2); // valid
        } else if (n.opType == "BatchNormalization") {
            floatAttr(node, "epsilon", n.attrFloat("epsilon", 1e-5f));
            floatAttr(node, "momentum", 1.0f - n.attrFloat("momentum", 0.9f)); // MindSpore weighs the new batch
            boolAttr(node, "is_training", true);
        } else if (n.opType == "Dropout") {
            floatAttr(node, "keep_prob", 1.0f - n.attrFloat("ratio", 0.5f));
        }
        if (bias) {
            irpb::NodeProto *add = emit(g, "BiasAdd", scope, {n.outputs[0], inputs[2]}, n.outputs[0], &n);
            (void)add;
        }
        return m_names.at(n.outputs[0]);
    }

    // One node; its output takes the next number as its name (as MindSpore numbers them).
    irpb::NodeProto *emit(irpb::GraphProto &g, const std::string &op, const std::string &scope, const std::vector<std::string> &inputs,
                          const std::string &output, const Node *typed)
    {
        irpb::NodeProto *node = g.add_node();
        for (const auto &i : inputs) {
            auto *in = node->add_input();
            in->set_name(m_names.at(i));
            in->set_type(irpb::InputProto::DATA_EDGE);
        }
        const std::string name = std::to_string(++m_counter);
        node->set_name(name);
        node->set_op_type(op);
        node->set_scope(scope);
        node->set_full_name(scope + "/" + op + "-op" + std::to_string(m_counter));
        const auto shape = m_shapes.find(output);
        setTensorType(node->mutable_output_type(), DType::Float32, shape != m_shapes.end() && typed ? &shape->second : nullptr);
        m_names[output] = name;
        return node;
    }

    const Graph &m_g;
    int64_t m_batch;
    std::map<std::string, Shape> m_shapes;
    std::map<std::string, std::string> m_names; // graph value → node / parameter name
    int m_counter = 0;
};

} // namespace

std::string encodeGraphMeta(const Graph &trainingGraph, int64_t batchSize)
{
    return Writer(trainingGraph, batchSize).encode();
}

void writeGraphMeta(const std::string &path, const Graph &trainingGraph, int64_t batchSize)
{
    AtomicFileWriter w(path, 0600);
    w.write(encodeGraphMeta(trainingGraph, batchSize));
    w.commit();
}

namespace {

std::string irType(const irpb::DataType t)
{
    std::string n = irpb::DataType_Name(t);
    return n.rfind("DT_", 0) == 0 ? n.substr(3) : n;
}

void fromType(const irpb::TypeProto &type, ValueDescription &v)
{
    if (type.has_tensor_type()) {
        v.dtype = irType(type.tensor_type().elem_type());
        v.shapeKnown = type.tensor_type().has_shape();
        for (const auto &d : type.tensor_type().shape().dim())
            v.shape.push_back(d.size());
    } else {
        v.dtype = irType(type.data_type());
        v.shapeKnown = false;
    }
}

std::string valueText(const irpb::ValueProto &v, int depth = 0)
{
    if (depth > 16)
        return "…";
    char b[40];
    switch (v.dtype()) {
    case irpb::DT_BOOL: return v.bool_val() ? "true" : "false";
    case irpb::DT_INT8: case irpb::DT_INT16: case irpb::DT_INT32: case irpb::DT_INT64: return std::to_string(v.int_val());
    case irpb::DT_UINT8: case irpb::DT_UINT16: case irpb::DT_UINT32: case irpb::DT_UINT64: return std::to_string(v.uint_val());
    case irpb::DT_FLOAT16: case irpb::DT_FLOAT32: std::snprintf(b, sizeof b, "%.9g", v.float_val()); return b;
    case irpb::DT_FLOAT64: std::snprintf(b, sizeof b, "%.17g", v.double_val()); return b;
    case irpb::DT_STRING: return "\"" + v.str_val() + "\"";
    case irpb::DT_TUPLE:
    case irpb::DT_LIST: {
        std::string s = v.dtype() == irpb::DT_TUPLE ? "(" : "[";
        for (int i = 0; i < v.values_size(); ++i)
            s += (i ? "," : "") + valueText(v.values(i), depth + 1);
        return s + (v.dtype() == irpb::DT_TUPLE ? ")" : "]");
    }
    case irpb::DT_TENSOR: return "<tensor>";
    case irpb::DT_TYPE: return "<type>";
    case irpb::DT_NONE: return "None";
    default:
        if (v.has_str_val())
            return "\"" + v.str_val() + "\"";
        return "<" + irType(v.dtype()) + ">";
    }
}

irpb::ModelProto parseGraphMeta(std::string_view bytes, const std::string &source)
{
    irpb::ModelProto model;
    if (bytes.size() > INT32_MAX || !model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) || !model.has_graph()
        || model.ir_version() != irpb::IR_VERSION)
        throw Error("\"" + source + "\" is not a MindSpore graph.meta (an anf_ir ModelProto with ir_version 1)" + truncationNote(bytes) + ".");
    return model;
}

} // namespace

ModelDescription describeGraphMeta(std::string_view bytes, const std::string &source)
{
    const irpb::ModelProto model = parseGraphMeta(bytes, source);
    const irpb::GraphProto &g = model.graph();
    ModelDescription d;
    d.format = "mindspore-graph-meta";
    d.formatName = "MindSpore graph dump (anf_ir)";
    d.properties.emplace_back("graph", g.name());
    for (const auto &c : g.const_vals())
        d.properties.emplace_back("const." + c.key(), valueText(c.value()));
    for (const auto &p : g.parameters()) {
        ValueDescription v;
        v.name = p.name();
        fromType(p.type(), v);
        d.parameters.push_back(std::move(v));
    }
    for (const auto &o : g.outputs()) {
        ValueDescription v;
        v.name = o.name();
        fromType(o.type(), v);
        d.outputs.push_back(std::move(v));
    }
    for (const auto &n : g.node()) {
        NodeDescription node;
        node.name = n.name();
        node.opType = n.op_type();
        for (const auto &in : n.input())
            node.inputs.push_back(in.type() == irpb::InputProto::CONTROL_EDGE ? "^" + in.name() : in.name());
        node.outputs.push_back(n.name());
        for (const auto &a : n.attribute())
            node.attributes.push_back({a.name(), valueText(a.value())});
        if (!n.full_name().empty())
            node.attributes.push_back({"full_name", "\"" + n.full_name() + "\""});
        if (n.has_output_type()) {
            ValueDescription v;
            v.name = n.name();
            fromType(n.output_type(), v);
            if (v.shapeKnown)
                d.values.push_back(std::move(v));
        }
        d.nodes.push_back(std::move(node));
    }
    return d;
}

GraphMetaSummary readGraphMeta(const std::string &path)
{
    const irpb::ModelProto model = parseGraphMeta(readFileBytes(path), path);
    GraphMetaSummary summary;
    summary.name = model.graph().name();
    summary.nodes = static_cast<size_t>(model.graph().node_size());
    summary.parameters = static_cast<size_t>(model.graph().parameters_size());
    summary.constants = static_cast<size_t>(model.graph().const_vals_size());
    for (const auto &n : model.graph().node())
        ++summary.opCounts[n.op_type()];
    return summary;
}

} // namespace netwright::mindspore
