// SPDX-License-Identifier: Apache-2.0
#include "formats/mindspore/mindir_export.h"

#include "core/error.h"
#include "formats/format_util.h"
#include "formats/inference_graph.h"
#include "mind_ir.pb.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <set>

namespace netwright::mindspore {

namespace {

using A = ::mind_ir::AttributeProto;

A *boolAttr(::mind_ir::PrimitiveProto &p, const std::string &name, bool v)
{
    A *a = p.add_attribute();
    a->set_name(name);
    a->set_type(A::BOOL);
    a->set_i(v ? 1 : 0);
    return a;
}

void intAttr(::mind_ir::PrimitiveProto &p, const std::string &name, int64_t v)
{
    A *a = p.add_attribute();
    a->set_name(name);
    a->set_type(A::INT64);
    a->set_i(v);
}

void floatAttr(::mind_ir::PrimitiveProto &p, const std::string &name, float v)
{
    A *a = p.add_attribute();
    a->set_name(name);
    a->set_type(A::FLOAT);
    a->set_f(v);
}

void stringAttr(::mind_ir::PrimitiveProto &p, const std::string &name, const std::string &v)
{
    A *a = p.add_attribute();
    a->set_name(name);
    a->set_type(A::STRING);
    a->set_s(v);
}

// A tuple of INT64: each element carries its own type and the value in ints[0] (section 4.6).
void fillIntTuple(A &a, const std::vector<int64_t> &v)
{
    a.set_type(A::TUPLE);
    for (int64_t x : v) {
        A *e = a.add_values();
        e->set_type(A::INT64);
        e->add_ints(x);
    }
}

void tupleAttr(::mind_ir::PrimitiveProto &p, const std::string &name, const std::vector<int64_t> &v)
{
    A *a = p.add_attribute();
    a->set_name(name);
    fillIntTuple(*a, v);
}

void namesAttr(::mind_ir::PrimitiveProto &p, const std::string &name, const std::vector<std::string> &v)
{
    A *a = p.add_attribute();
    a->set_name(name);
    a->set_type(A::LIST);
    for (const auto &s : v) {
        A *e = a->add_values();
        e->set_type(A::STRING);
        e->add_strings(s);
    }
}

void fillShape(A &a, const Shape &shape, DType dtype)
{
    auto *t = a.add_tensors();
    for (int64_t d : shape)
        t->add_dims(d);
    t->set_data_type(onnxElementNumber(dtype));
    a.set_type(A::TENSORS);
}

class Writer : public OpTableWriter {
public:
    Writer(const InferenceGraph &ig, const MindirExportOptions &options) : OpTableWriter(ig)
    {
        m_graphName = (m_g.name.empty() ? std::string("Net") : m_g.name) + "_construct_1";
        m_model.set_ir_version("0.1.1");
        m_model.set_producer_name("MindSpore");
        m_model.set_model_version(options.modelVersion);
        m_model.set_little_endian(true);
        m_model.set_mind_ir_version(1);
        for (const auto &[k, v] : options.userInfo)
            (*m_model.mutable_user_info())[k] = v;
        m_graph = m_model.mutable_graph();
        m_graph->set_name(m_graphName);
        m_graph->set_bprop_hash("");
        m_graph->set_bprop_filepath("");
    }

    std::string run()
    {
        const std::string in = prefixed(m_ig.input.name);
        m_names[m_ig.input.name] = in;
        auto *vi = m_graph->add_input();
        vi->set_name(in);
        auto *t = vi->add_tensor();
        for (int64_t d : m_ig.input.shape)
            t->add_dims(d);
        t->set_data_type(onnxElementNumber(m_ig.input.dtype));
        for (const Node *n : m_ig.nodes) {
            emit(*n);
            if (!m_names.count(n->outputs.at(0)))
                m_names[n->outputs.at(0)] = "?"; // not mapped: listed in m_problems
        }
        throwExportProblems(m_g, "MindIR", m_problems);
        for (const auto &out : m_ig.outputs) {
            auto *o = m_graph->add_output();
            o->set_name(value(out.name));
            auto *ot = o->add_tensor();
            for (int64_t d : out.shape)
                ot->add_dims(d);
            ot->set_data_type(onnxElementNumber(out.dtype));
        }
        std::string bytes;
        {
            google::protobuf::io::StringOutputStream raw(&bytes);
            google::protobuf::io::CodedOutputStream coded(&raw);
            coded.SetSerializationDeterministic(true);
            m_model.SerializeToCodedStream(&coded);
        }
        return bytes;
    }

private:
    std::string prefixed(const std::string &name) const { return m_graphName + ":" + name; }

    // The MindIR name of an engine value; initializers become graph parameters on first use.
    std::string value(const std::string &engineName)
    {
        const std::string &name = m_ig.source(engineName);
        if (const auto it = m_names.find(name); it != m_names.end())
            return it->second;
        if (const auto it = m_g.initializers.find(name); it != m_g.initializers.end()) {
            const Tensor &w = it->second;
            auto *p = m_graph->add_parameter();
            for (int64_t d : w.shape())
                p->add_dims(d);
            p->set_data_type(onnxElementNumber(w.dtype()));
            p->set_name(prefixed(name));
            p->set_raw_data(static_cast<const char *>(w.raw()), w.byteSize()); // little-endian, C order
            p->set_ref_key(name);
            p->set_compression_type(::mind_ir::TensorProto::NO_COMPRESSION);
            return m_names[name] = prefixed(name);
        }
        throw Error("MindIR export: value \"" + name + "\" has no producer."); // validate() rules this out
    }

    ::mind_ir::PrimitiveProto &primitive(const std::string &opType, const std::vector<std::string> &inputNames)
    {
        auto *p = m_model.add_primitives();
        p->set_name(opType + ":" + std::to_string(++m_id));
        p->set_op_type(opType);
        namesAttr(*p, "input_names", inputNames);
        namesAttr(*p, "output_names", {"output"});
        return *p;
    }

    // A CNode calling `prim` on `inputs`, with the output abstract; returns its name.
    std::string cnode(const ::mind_ir::PrimitiveProto &prim, const std::vector<std::string> &inputs, const std::string &debugName,
                      const std::vector<Shape> &outputShapes)
    {
        auto *n = m_graph->add_node();
        for (const auto &i : inputs)
            n->add_input(i);
        const std::string name = prefixed(debugName + ":" + std::to_string(++m_id));
        n->add_output(name);
        n->set_name(name);
        n->set_op_type("REF::" + prim.name());
        A *shape = n->add_attribute();
        shape->set_name("shape");
        if (outputShapes.size() == 1) {
            fillShape(*shape, outputShapes[0], DType::Float32);
        } else {
            shape->set_type(A::TUPLE);
            for (const auto &s : outputShapes)
                fillShape(*shape->add_values(), s, DType::Float32);
        }
        n->set_domain("Default/" + m_scope + "/" + prim.op_type() + "-op" + std::to_string(m_opIndex++));
        return name;
    }

    // A Constant node (value node); returns its name and fills `value` through `set`.
    template<typename Fill>
    std::string constant(Fill set)
    {
        auto *n = m_graph->add_node();
        const std::string name = prefixed("[ValueNode]" + std::to_string(++m_id));
        n->add_output(name);
        n->set_name(name);
        n->set_op_type("Constant");
        A *a = n->add_attribute();
        a->set_name("value");
        set(*a);
        return name;
    }

    std::string constantTuple(const std::vector<int64_t> &values)
    {
        return constant([&](A &a) { fillIntTuple(a, values); });
    }

    std::string constantInt(int64_t v)
    {
        return constant([&](A &a) {
            a.set_type(A::INT64);
            a.set_i(v);
        });
    }

    const Shape &shapeOf(const std::string &v) const { return m_ig.shape(v); }

    // int64 values of an initializer input (Reshape's shape), or nullopt.
    std::optional<std::vector<int64_t>> intsOf(const std::string &v) const
    {
        const Tensor *t = m_ig.initializer(v);
        if (!t || t->dtype() != DType::Int64)
            return std::nullopt;
        return std::vector<int64_t>(t->dataAs<int64_t>(), t->dataAs<int64_t>() + t->numel());
    }




    void emit(const Node &n)
    {
        m_scope = n.name + "-" + n.opType;
        const std::string &out = n.outputs.at(0);
        const Shape &y = shapeOf(out);
        std::string result;
        auto in = [&](size_t i) { return value(n.inputs.at(i)); };
        const std::string &op = n.opType;
        if (op == "Gemm") {
            if (n.attrFloat("alpha", 1.0f) != 1.0f || n.attrFloat("beta", 1.0f) != 1.0f)
                return void(fail(n, "alpha/beta other than 1 have no MindIR equivalent"));
            auto &mm = primitive("MatMul", {"x1", "x2"});
            const bool ta = n.attrInt("transA", 0) != 0, tb = n.attrInt("transB", 0) != 0;
            boolAttr(mm, "transpose_a", ta);
            boolAttr(mm, "transpose_b", tb);
            boolAttr(mm, "transpose_x1", ta);
            boolAttr(mm, "transpose_x2", tb);
            result = cnode(mm, {in(0), in(1)}, n.name, {y});
            if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
                const Shape &c = shapeOf(n.inputs[2]);
                if (c.size() == 1 && c[0] == y[1]) {
                    auto &ba = primitive("BiasAdd", {"x", "b"});
                    stringAttr(ba, "format", "NCHW");
                    stringAttr(ba, "data_format", "NCHW");
                    result = cnode(ba, {result, in(2)}, n.name, {y});
                } else {
                    result = cnode(primitive("Add", {"x", "y"}), {result, in(2)}, n.name, {y});
                }
            }
        } else if (op == "MatMul") {
            if (shapeOf(n.inputs[0]).size() != 2 || shapeOf(n.inputs[1]).size() != 2)
                return void(fail(n, "only 2-D MatMul maps to MindSpore's MatMul"));
            auto &mm = primitive("MatMul", {"x1", "x2"});
            for (const char *a : {"transpose_a", "transpose_b", "transpose_x1", "transpose_x2"})
                boolAttr(mm, a, false);
            result = cnode(mm, {in(0), in(1)}, n.name, {y});
        } else if (op == "Conv") {
            std::vector<int64_t> k, s, p, d;
            if (!window2d(n, k, s, p, d))
                return;
            const Tensor *w = m_ig.initializer(n.inputs.at(1));
            if (!w)
                return void(fail(n, "the weight must be a parameter"));
            auto &conv = primitive("Conv2D", {"x", "w"});
            tupleAttr(conv, "kernel_size", k);
            intAttr(conv, "mode", 1);
            intAttr(conv, "out_channel", w->shape()[0]);
            stringAttr(conv, "pad_mode", "pad");
            tupleAttr(conv, "pad", p); // (t,b,l,r)
            tupleAttr(conv, "pad_list", p);
            tupleAttr(conv, "stride", {1, 1, s[0], s[1]});
            tupleAttr(conv, "dilation", {1, 1, d[0], d[1]});
            intAttr(conv, "group", n.attrInt("group", 1));
            intAttr(conv, "groups", n.attrInt("group", 1));
            stringAttr(conv, "format", "NCHW");
            result = cnode(conv, {in(0), in(1)}, n.name, {y});
            if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
                auto &ba = primitive("BiasAdd", {"x", "b"});
                stringAttr(ba, "format", "NCHW");
                stringAttr(ba, "data_format", "NCHW");
                result = cnode(ba, {result, in(2)}, n.name, {y});
            }
        } else if (op == "MaxPool" || op == "AveragePool") {
            std::vector<int64_t> k, s, p, d;
            if (!window2d(n, k, s, p, d))
                return;
            if (d != std::vector<int64_t>{1, 1})
                return void(fail(n, "dilated pooling has no MindIR equivalent"));
            const bool padded = p != std::vector<int64_t>{0, 0, 0, 0};
            const bool ceilMode = n.attrInt("ceil_mode", 0) != 0; // MaxPool only (window2d)
            if (padded && op == "AveragePool")
                return void(fail(n, "MindSpore's AvgPool pads only as SAME/VALID; this node has explicit pads " + formatInts(p)));
            if (padded && (p[0] != p[1] || p[2] != p[3]))
                return void(fail(n, "asymmetric pads " + formatInts(p) + " have no MindIR max-pooling equivalent"));
            if (padded || ceilMode) {
                // Explicit symmetric padding or ceil_mode (squeezenet's pooling): MaxPoolWithArgmaxV2
                // (what ops.max_pool2d compiles to), whose first output is the pooled tensor.
                auto &mp = primitive("MaxPoolWithArgmaxV2", {"x"});
                tupleAttr(mp, "kernel_size", {1, 1, k[0], k[1]});
                tupleAttr(mp, "strides", {1, 1, s[0], s[1]});
                tupleAttr(mp, "pads", {1, 1, p[0], p[2]});
                tupleAttr(mp, "dilation", {1, 1, 1, 1});
                boolAttr(mp, "ceil_mode", ceilMode);
                intAttr(mp, "argmax_type", 35); // mindspore.int64
                const std::string both = cnode(mp, {in(0)}, n.name, {y, y});
                result = cnode(primitive("TupleGetItem", {"input", "index"}), {both, constantInt(0)}, n.name, {y});
            } else {
                auto &pool = primitive(op == "MaxPool" ? "MaxPool" : "AvgPool", {"x"});
                tupleAttr(pool, "kernel_size", {1, 1, k[0], k[1]});
                tupleAttr(pool, "strides", {1, 1, s[0], s[1]});
                stringAttr(pool, "pad_mode", "VALID");
                stringAttr(pool, "format", "NCHW");
                result = cnode(pool, {in(0)}, n.name, {y});
            }
        } else if (op == "GlobalAveragePool") {
            auto &rm = primitive("ReduceMean", {"input_x", "axis"});
            boolAttr(rm, "keep_dims", true);
            result = cnode(rm, {in(0), constantTuple({2, 3})}, n.name, {y});
        } else if (op == "BatchNormalization") {
            if (shapeOf(n.inputs[0]).size() != 4 && shapeOf(n.inputs[0]).size() != 2)
                return void(fail(n, "MindSpore's BatchNorm takes 2-D or 4-D input"));
            auto &bn = primitive("BatchNorm", {"x", "scale", "offset", "mean", "variance"});
            boolAttr(bn, "is_training", false);
            floatAttr(bn, "epsilon", n.attrFloat("epsilon", 1e-5f));
            floatAttr(bn, "momentum", 1.0f - n.attrFloat("momentum", 0.9f)); // MindSpore weighs the batch statistics
            stringAttr(bn, "format", "NCHW");
            const Shape c{shapeOf(n.inputs[1])};
            const std::string all = cnode(bn, {in(0), in(1), in(2), in(3), in(4)}, n.name, {y, c, c, c, c});
            result = cnode(primitive("TupleGetItem", {"input", "index"}), {all, constantInt(0)}, n.name, {y});
        } else if (op == "Relu" || op == "Sigmoid" || op == "Tanh") {
            result = cnode(primitive(op == "Relu" ? "ReLU" : op, {"x"}), {in(0)}, n.name, {y});
        } else if (op == "LeakyRelu") {
            return void(fail(n, "MindSpore has no LeakyReLU primitive (nn.LeakyReLU compiles to Maximum)"));
        } else if (op == "Clip") {
            const auto lo = n.inputs.size() > 1 ? scalarOf(n.inputs[1]) : std::nullopt;
            const auto hi = n.inputs.size() > 2 ? scalarOf(n.inputs[2]) : std::nullopt;
            if (lo == 0.0f && hi == 6.0f)
                result = cnode(primitive("ReLU6", {"x"}), {in(0)}, n.name, {y});
            else if (lo == 0.0f && !hi && (n.inputs.size() < 3 || n.inputs[2].empty()))
                result = cnode(primitive("ReLU", {"x"}), {in(0)}, n.name, {y});
            else
                return void(fail(n, "only Clip(0, 6) (ReLU6) and Clip(0, ∞) (ReLU) map to MindSpore primitives"));
        } else if (op == "Softmax") {
            auto &sm = primitive("Softmax", {"x"});
            tupleAttr(sm, "axis", {n.attrInt("axis", -1)});
            result = cnode(sm, {in(0)}, n.name, {y});
        } else if (op == "LogSoftmax") {
            auto &sm = primitive("LogSoftmax", {"logits"});
            intAttr(sm, "axis", n.attrInt("axis", -1));
            result = cnode(sm, {in(0)}, n.name, {y});
        } else if (op == "Flatten") {
            if (n.attrInt("axis", 1) != 1)
                return void(fail(n, "MindSpore's Flatten keeps axis 0 only (axis 1)"));
            result = cnode(primitive("Flatten", {"input_x"}), {in(0)}, n.name, {y});
        } else if (op == "Reshape") {
            const auto target = intsOf(n.inputs.at(1));
            if (!target)
                return void(fail(n, "the target shape must be a constant"));
            std::vector<int64_t> shape = *target;
            const Shape &x = shapeOf(n.inputs[0]);
            for (size_t i = 0; i < shape.size(); ++i)
                if (shape[i] == 0 && n.attrInt("allowzero", 0) == 0 && i < x.size())
                    shape[i] = x[i] < 0 ? -1 : x[i]; // ONNX's "copy this dimension"
            result = cnode(primitive("Reshape", {"tensor", "shape"}), {in(0), constantTuple(shape)}, n.name, {y});
        } else if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
            result = cnode(primitive(op == "Div" ? "RealDiv" : op, {"x", "y"}), {in(0), in(1)}, n.name, {y});
        } else if (op == "Transpose") {
            std::vector<int64_t> perm = n.attrInts("perm", {});
            if (perm.empty())
                for (int64_t i = static_cast<int64_t>(shapeOf(n.inputs[0]).size()) - 1; i >= 0; --i)
                    perm.push_back(i);
            result = cnode(primitive("Transpose", {"x", "perm"}), {in(0), constantTuple(perm)}, n.name, {y});
        } else if (op == "Concat") {
            std::vector<std::string> parts;
            std::vector<Shape> partShapes;
            for (size_t i = 0; i < n.inputs.size(); ++i) {
                parts.push_back(in(i));
                partShapes.push_back(shapeOf(n.inputs[i]));
            }
            const std::string tuple = cnode(primitive("MakeTuple", {}), parts, n.name, partShapes);
            auto &cat = primitive("Concat", {"x"});
            intAttr(cat, "axis", n.attrInt("axis", 0));
            result = cnode(cat, {tuple}, n.name, {y});
        } else {
            return void(fail(n, "no MindIR equivalent"));
        }
        m_names[out] = result;
    }

    ::mind_ir::ModelProto m_model;
    ::mind_ir::GraphProto *m_graph = nullptr;
    std::string m_graphName, m_scope;
    std::map<std::string, std::string> m_names;
    int m_id = 0, m_opIndex = 0;
};

} // namespace

std::string exportMindir(const Graph &model, const MindirExportOptions &options)
{
    static const std::set<std::string> mapped{"Gemm", "MatMul", "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization", "Relu", "Sigmoid", "Tanh", "Clip", "Softmax", "LogSoftmax", "Flatten", "Reshape", "Add", "Sub", "Mul", "Div", "Transpose", "Concat"};
    const InferenceGraph ig = inferenceGraph(model, options.dynamicBatch, "MindIR", [](const std::string &op) { return mapped.count(op) != 0; });
    return Writer(ig, options).run();
}

} // namespace netwright::mindspore
