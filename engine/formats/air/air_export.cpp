// SPDX-License-Identifier: Apache-2.0
#include "formats/air/air_export.h"

#include "core/error.h"
#include "formats/air/air_reader.h"
#include "formats/format_util.h"
#include "formats/inference_graph.h"
#include "ge_ir.pb.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <set>

namespace netwright::air {

namespace {

using ge::proto::AttrDef;

void fillDesc(ge::proto::TensorDescriptor &d, DType dtype, const Shape &shape)
{
    d.set_dtype(static_cast<ge::proto::DataType>(protoTypeOf(dtype)));
    auto *s = d.mutable_shape();
    for (int64_t x : shape)
        s->add_dim(x);
    d.set_layout(shape.size() == 4 ? "NCHW" : "ND");
}

class Writer : public OpTableWriter {
public:
    explicit Writer(const InferenceGraph &ig) : OpTableWriter(ig)
    {
        m_graph = m_model.add_graph();
        m_graph->set_name(m_g.name.empty() ? "graph" : m_g.name);
        // What ge::Model::Init records (air.md section 3.1).
        auto &attrs = *m_model.mutable_attr();
        for (const char *k : {"event_num", "label_num", "memory_size", "p2p_memory_size", "stream_num", "weight_size"})
            attrs[k].set_i(0);
        attrs["target_type"].set_s("MINI");
    }

    std::string run()
    {
        auto &data = op("Data", m_ig.input.name);
        data.mutable_attr()->operator[]("index").set_i(0);
        fillDesc(*data.add_input_desc(), m_ig.input.dtype, m_ig.input.shape);
        fillDesc(*data.add_output_desc(), m_ig.input.dtype, m_ig.input.shape);
        m_ports[m_ig.input.name] = {m_ig.input.name + ":0", m_ig.input.shape, m_ig.input.dtype};
        m_graph->add_input(m_ig.input.name + ":0");
        for (const Node *n : m_ig.nodes) {
            emit(*n);
            if (!m_ports.count(n->outputs.at(0)))
                m_ports[n->outputs.at(0)] = {"?", {}, DType::Float32}; // not mapped: listed in m_problems
        }
        m_problems.raise(m_g, "AIR");
        for (const auto &out : m_ig.outputs)
            m_graph->add_output(port(out.name).ref);
        std::string bytes;
        {
            google::protobuf::io::StringOutputStream raw(&bytes);
            google::protobuf::io::CodedOutputStream coded(&raw);
            coded.SetSerializationDeterministic(true); // map entries sorted by key
            m_model.SerializeToCodedStream(&coded);
        }
        return bytes;
    }

private:
    struct Port {
        std::string ref; // "<op>:<index>"
        Shape shape;
        DType dtype = DType::Float32;
    };

    ge::proto::OpDef &op(const std::string &type, const std::string &name)
    {
        std::string unique = name;
        for (int k = 1; !m_opNames.insert(unique).second; ++k)
            unique = name + "_" + std::to_string(k);
        auto *o = m_graph->add_op();
        o->set_name(unique);
        o->set_type(type);
        o->set_id(m_nextId++);
        return *o;
    }

    // The producer port of an engine value; weights become Const ops on first use.
    const Port &port(const std::string &engineName)
    {
        const std::string &name = m_ig.source(engineName);
        if (const auto it = m_ports.find(name); it != m_ports.end())
            return it->second;
        const auto w = m_g.initializers.find(name);
        check(w != m_g.initializers.end(), "AIR export: value \"" + name + "\" has no producer.");
        return constant(name, w->second);
    }

    const Port &constant(const std::string &name, const Tensor &t)
    {
        auto &c = op("Const", name + "_const");
        auto *def = (*c.mutable_attr())["value"].mutable_t();
        fillDesc(*def->mutable_desc(), t.dtype(), t.shape());
        def->set_data(static_cast<const char *>(t.raw()), t.byteSize()); // little-endian, C order
        fillDesc(*c.add_output_desc(), t.dtype(), t.shape());
        return m_ports[name] = {c.name() + ":0", t.shape(), t.dtype()};
    }

    // A computing op on `inputs` (engine values or ports), with descriptors on every port.
    ge::proto::OpDef &compute(const std::string &type, const std::string &name, const std::vector<Port> &inputs,
                              const std::vector<Shape> &outputs)
    {
        auto &o = op(type, name);
        for (const auto &in : inputs) {
            o.add_input(in.ref);
            fillDesc(*o.add_input_desc(), in.dtype, in.shape);
        }
        for (const auto &s : outputs)
            fillDesc(*o.add_output_desc(), DType::Float32, s);
        return o;
    }

    static void ints(ge::proto::OpDef &o, const std::string &k, const std::vector<int64_t> &v)
    {
        auto *l = (*o.mutable_attr())[k].mutable_list();
        for (int64_t x : v)
            l->add_i(x);
        l->set_val_type(AttrDef::ListValue::VT_LIST_INT);
    }
    static void integer(ge::proto::OpDef &o, const std::string &k, int64_t v) { (*o.mutable_attr())[k].set_i(v); }
    static void boolean(ge::proto::OpDef &o, const std::string &k, bool v) { (*o.mutable_attr())[k].set_b(v); }
    static void real(ge::proto::OpDef &o, const std::string &k, float v) { (*o.mutable_attr())[k].set_f(v); }
    static void text(ge::proto::OpDef &o, const std::string &k, const std::string &v) { (*o.mutable_attr())[k].set_s(v); }

    const Shape &shapeOf(const std::string &v) const { return m_ig.shape(v); }




    void emit(const Node &n)
    {
        const std::string &op = n.opType;
        const std::string &out = n.outputs.at(0);
        const Shape &y = shapeOf(out);
        auto in = [&](size_t i) { return port(n.inputs.at(i)); };
        ge::proto::OpDef *result = nullptr;
        if (op == "Gemm") {
            if (n.attrFloat("alpha", 1.0f) != 1.0f || n.attrFloat("beta", 1.0f) != 1.0f)
                return void(fail(n, "alpha/beta other than 1 have no GE MatMulV2 equivalent"));
            const bool hasBias = n.inputs.size() > 2 && !n.inputs[2].empty();
            auto &mm = compute("MatMulV2", hasBias ? n.name + "/MatMulV2" : n.name, {in(0), in(1)}, {y});
            boolean(mm, "transpose_x1", n.attrInt("transA", 0) != 0);
            boolean(mm, "transpose_x2", n.attrInt("transB", 0) != 0);
            integer(mm, "offset_x", 0);
            result = &mm;
            if (hasBias) {
                const Port mmOut{mm.name() + ":0", y, DType::Float32};
                const Shape &c = shapeOf(n.inputs[2]);
                if (c.size() == 1 && c[0] == y[1]) {
                    result = &compute("BiasAdd", n.name, {mmOut, in(2)}, {y});
                    text(*result, "data_format", "NCHW");
                } else {
                    result = &compute("Add", n.name, {mmOut, in(2)}, {y});
                }
            }
        } else if (op == "MatMul") {
            if (shapeOf(n.inputs[0]).size() != 2 || shapeOf(n.inputs[1]).size() != 2)
                return void(fail(n, "only 2-D MatMul maps to GE's MatMulV2"));
            result = &compute("MatMulV2", n.name, {in(0), in(1)}, {y});
            boolean(*result, "transpose_x1", false);
            boolean(*result, "transpose_x2", false);
            integer(*result, "offset_x", 0);
        } else if (op == "Conv") {
            std::vector<int64_t> k, s, p, d;
            if (!window2d(n, k, s, p, d))
                return;
            std::vector<Port> ports{in(0), in(1)};
            if (n.inputs.size() > 2 && !n.inputs[2].empty())
                ports.push_back(in(2));
            result = &compute("Conv2D", n.name, ports, {y});
            ints(*result, "strides", {1, 1, s[0], s[1]});
            ints(*result, "pads", p);
            ints(*result, "dilations", {1, 1, d[0], d[1]});
            integer(*result, "groups", n.attrInt("group", 1));
            text(*result, "data_format", "NCHW");
            integer(*result, "offset_x", 0);
        } else if (op == "MaxPool" || op == "AveragePool") {
            std::vector<int64_t> k, s, p, d;
            if (!window2d(n, k, s, p, d))
                return;
            if (d != std::vector<int64_t>{1, 1})
                return void(fail(n, "dilated pooling is not exported to GE"));
            const bool ceilMode = n.attrInt("ceil_mode", 0) != 0; // MaxPool only (window2d)
            // Explicit pads and ceil_mode are attributes of MaxPoolV3 and AvgPoolV2.
            const bool calculated = p != std::vector<int64_t>{0, 0, 0, 0} || ceilMode;
            const bool max = op == "MaxPool";
            result = &compute(calculated ? (max ? "MaxPoolV3" : "AvgPoolV2") : (max ? "MaxPool" : "AvgPool"), n.name, {in(0)}, {y});
            ints(*result, "ksize", {1, 1, k[0], k[1]});
            ints(*result, "strides", {1, 1, s[0], s[1]});
            text(*result, "data_format", "NCHW");
            if (calculated) {
                text(*result, "padding_mode", "CALCULATED");
                ints(*result, "pads", p);
                boolean(*result, "global_pooling", false);
                boolean(*result, "ceil_mode", ceilMode);
                if (!max)
                    boolean(*result, "exclusive", n.attrInt("count_include_pad", 0) == 0);
            } else {
                text(*result, "padding", "VALID");
            }
        } else if (op == "GlobalAveragePool") {
            result = &compute("ReduceMeanD", n.name, {in(0)}, {y});
            ints(*result, "axes", {2, 3});
            boolean(*result, "keep_dims", true);
        } else if (op == "BatchNormalization") {
            const Shape c = shapeOf(n.inputs.at(1));
            result = &compute("BatchNorm", n.name, {in(0), in(1), in(2), in(3), in(4)}, {y, c, c, c, c});
            real(*result, "epsilon", n.attrFloat("epsilon", 1e-5f));
            text(*result, "data_format", "NCHW");
            boolean(*result, "is_training", false);
        } else if (op == "Relu" || op == "Sigmoid" || op == "Tanh") {
            result = &compute(op, n.name, {in(0)}, {y});
        } else if (op == "LeakyRelu") {
            result = &compute("LeakyRelu", n.name, {in(0)}, {y});
            real(*result, "negative_slope", n.attrFloat("alpha", 0.01f));
        } else if (op == "Clip") {
            const auto lo = n.inputs.size() > 1 ? scalarOf(n.inputs[1]) : std::nullopt;
            const auto hi = n.inputs.size() > 2 ? scalarOf(n.inputs[2]) : std::nullopt;
            if (lo == 0.0f && hi == 6.0f) {
                result = &compute("Relu6", n.name, {in(0)}, {y});
            } else if (lo && hi) {
                result = &compute("ClipByValue", n.name, {in(0), in(1), in(2)}, {y});
            } else {
                return void(fail(n, "Clip needs constant min and max for GE's ClipByValue"));
            }
        } else if (op == "Softmax" || op == "LogSoftmax") {
            result = &compute(op == "Softmax" ? "SoftmaxV2" : "LogSoftmaxV2", n.name, {in(0)}, {y});
            ints(*result, "axes", {n.attrInt("axis", -1)});
        } else if (op == "Flatten") {
            result = &compute("Flatten", n.name, {in(0)}, {y});
            integer(*result, "axis", n.attrInt("axis", 1));
        } else if (op == "Reshape") {
            const Tensor *target = m_ig.initializer(n.inputs.at(1));
            if (!target || target->dtype() != DType::Int64)
                return void(fail(n, "the target shape must be a constant"));
            // GE's Reshape takes the shape as an input; ONNX's 0 ("copy this dimension") is resolved.
            std::vector<int64_t> shape(target->dataAs<int64_t>(), target->dataAs<int64_t>() + target->numel());
            const Shape &x = shapeOf(n.inputs[0]);
            for (size_t i = 0; i < shape.size(); ++i)
                if (shape[i] == 0 && n.attrInt("allowzero", 0) == 0 && i < x.size())
                    shape[i] = x[i];
            const Port shapePort = constant(n.name + ".shape", Tensor::fromInt64({static_cast<int64_t>(shape.size())}, shape));
            result = &compute("Reshape", n.name, {in(0), shapePort}, {y});
            integer(*result, "axis", 0);
            integer(*result, "num_axes", -1);
        } else if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
            result = &compute(op == "Div" ? "RealDiv" : op, n.name, {in(0), in(1)}, {y});
        } else if (op == "Transpose") {
            std::vector<int64_t> perm = n.attrInts("perm", {});
            if (perm.empty())
                for (int64_t i = static_cast<int64_t>(shapeOf(n.inputs[0]).size()) - 1; i >= 0; --i)
                    perm.push_back(i);
            result = &compute("TransposeD", n.name, {in(0)}, {y});
            ints(*result, "perm", perm);
        } else if (op == "Concat") {
            std::vector<Port> parts;
            for (size_t i = 0; i < n.inputs.size(); ++i)
                parts.push_back(in(i));
            result = &compute("ConcatD", n.name, parts, {y});
            integer(*result, "concat_dim", n.attrInt("axis", 0));
            integer(*result, "N", static_cast<int64_t>(parts.size()));
        } else {
            return void(fail(n, "no AIR equivalent"));
        }
        m_ports[out] = {result->name() + ":0", y, DType::Float32};
    }

    ge::proto::ModelDef m_model;
    ge::proto::GraphDef *m_graph = nullptr;
    std::map<std::string, Port> m_ports;
    std::set<std::string> m_opNames;
    int64_t m_nextId = 0;
};

} // namespace

std::string exportAir(const Graph &model, const AirExportOptions &options)
{
    static const std::set<std::string> mapped{"Gemm", "MatMul", "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization", "Relu", "Sigmoid", "Tanh", "LeakyRelu", "Clip", "Softmax", "LogSoftmax", "Flatten", "Reshape", "Add", "Sub", "Mul", "Div", "Transpose", "Concat"};
    const InferenceGraph ig = inferenceGraph(model, options.dynamicBatch, "AIR", [](const std::string &op) { return mapped.count(op) != 0; });
    return Writer(ig).run();
}

} // namespace netwright::air
