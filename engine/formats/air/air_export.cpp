// SPDX-License-Identifier: Apache-2.0
#include "formats/air/air_export.h"

#include "core/error.h"
#include "formats/air/air_reader.h"
#include "formats/format_util.h"
#include "formats/inference_graph.h"
#include "ge_ir.pb.h"
#include "ops/op.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <set>

namespace netwright::air {

namespace {

using ge::proto::AttrDef;

// Engine op → GE operator of the same meaning on one input "x" (MindSpore's GE adapters).
const std::map<std::string, std::string> &unaryOps()
{
    static const std::map<std::string, std::string> m{
        {"Relu", "Relu"},         {"Sigmoid", "Sigmoid"},   {"Tanh", "Tanh"},     {"Exp", "Exp"},         {"Sqrt", "Sqrt"},
        {"Neg", "Neg"},           {"Abs", "Abs"},           {"Erf", "Erf"},       {"Reciprocal", "Reciprocal"},
        {"Sin", "Sin"},           {"Cos", "Cos"},           {"Tan", "Tan"},       {"Floor", "Floor"},     {"Ceil", "Ceil"},
        {"Sign", "Sign"},         {"Round", "Round"},       {"Sinh", "Sinh"},     {"Cosh", "Cosh"},       {"Asin", "Asin"},
        {"Acos", "Acos"},         {"Atan", "Atan"},         {"Asinh", "Asinh"},   {"Acosh", "Acosh"},     {"Atanh", "Atanh"},
        {"Softplus", "Softplus"}, {"Softsign", "Softsign"}, {"Mish", "Mish"},     {"HardSwish", "HardSwish"},
        {"Not", "LogicalNot"}};
    return m;
}

// Engine op → GE operator of the same meaning on "x1", "x2" with ONNX (NumPy) broadcasting;
// the variadic Sum/Max/Min chain it.
const std::map<std::string, std::string> &binaryOps()
{
    static const std::map<std::string, std::string> m{
        {"Add", "Add"},         {"Sub", "Sub"},         {"Mul", "Mul"},           {"Div", "RealDiv"},
        {"Pow", "Pow"},         {"Max", "Maximum"},     {"Min", "Minimum"},       {"Sum", "Add"},
        {"Equal", "Equal"},     {"Less", "Less"},       {"Greater", "Greater"},   {"LessOrEqual", "LessEqual"},
        {"GreaterOrEqual", "GreaterEqual"},             {"And", "LogicalAnd"},    {"Or", "LogicalOr"}};
    return m;
}

// Every op type the writer has a mapping for (some settings of them may still be refused). The
// shape computations (Shape, Constant, …) are folded into Const ops where their values are known.
bool mappable(const std::string &op)
{
    static const std::set<std::string> other{
        "Gemm", "MatMul", "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
        "BatchNormalization", "LayerNormalization", "LeakyRelu", "Clip", "Softmax", "LogSoftmax", "Flatten", "Reshape",
        "Transpose", "Concat", "Squeeze", "Unsqueeze", "Slice", "Gather", "Expand", "Tile", "Split", "Pad", "ReduceMean",
        "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "Where", "HardSigmoid", "Elu", "Selu", "PRelu", "Gelu", "Log",
        "Mean", "Cast", "CastLike", "Shape", "Size", "Constant", "ConstantOfShape", "Range", "LSTM", "GRU", "RNN"};
    return other.count(op) || unaryOps().count(op) || binaryOps().count(op);
}

bool isRandom(const std::string &op)
{
    return op == "Dropout" || op == "RandomNormal" || op == "RandomUniform" || op == "RandomNormalLike" || op == "RandomUniformLike"
           || op == "Bernoulli" || op == "Multinomial";
}

bool isStatic(const Shape &s)
{
    return std::all_of(s.begin(), s.end(), [](int64_t d) { return d >= 0; });
}

int64_t normAxis(int64_t axis, size_t rank)
{
    return axis < 0 ? axis + static_cast<int64_t>(rank) : axis;
}

void fillDesc(ge::proto::TensorDescriptor &d, DType dtype, const Shape &shape)
{
    d.set_dtype(static_cast<ge::proto::DataType>(protoTypeOf(dtype)));
    auto *s = d.mutable_shape();
    for (int64_t x : shape)
        s->add_dim(x);
    d.set_layout(shape.size() == 4 ? "NCHW" : "ND");
}

Tensor int64s(const std::vector<int64_t> &v)
{
    return Tensor::fromInt64({static_cast<int64_t>(v.size())}, v);
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
        m_types[m_ig.input.name] = m_ig.input.dtype;
        m_graph->add_input(m_ig.input.name + ":0");
        for (const Node *n : m_ig.nodes)
            for (const auto &i : n->inputs)
                if (!i.empty())
                    m_used.insert(m_ig.source(i));
        for (const auto &o : m_ig.outputs)
            m_used.insert(o.name);
        for (const Node *n : m_ig.nodes) {
            inferTypes(*n);
            if (fold(*n))
                continue;
            emit(*n);
            for (const auto &o : n->outputs)
                if (!o.empty() && !m_ports.count(o))
                    m_ports[o] = {"?", {}, DType::Float32}; // not mapped: listed in m_problems
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

    // ---- values -----------------------------------------------------------------------------

    // A value known ahead of a run: an initializer or a folded shape computation.
    const Tensor *known(const std::string &v) const
    {
        if (v.empty())
            return nullptr;
        const std::string &s = m_ig.source(v);
        if (const auto it = m_folded.find(s); it != m_folded.end())
            return &it->second;
        return m_ig.initializer(s);
    }

    std::optional<std::vector<int64_t>> intsOf(const std::string &v) const
    {
        const Tensor *t = known(v);
        if (!t)
            return std::nullopt;
        if (t->dtype() == DType::Int64)
            return std::vector<int64_t>(t->dataAs<int64_t>(), t->dataAs<int64_t>() + t->numel());
        if (t->dtype() == DType::Int32)
            return std::vector<int64_t>(t->dataAs<int32_t>(), t->dataAs<int32_t>() + t->numel());
        return std::nullopt;
    }

    // An integer operand from input `i` or, in its older attribute form, attribute `attr`.
    std::optional<std::vector<int64_t>> operand(const Node &n, size_t i, const std::string &attr) const
    {
        if (n.inputs.size() > i && !n.inputs[i].empty())
            return intsOf(n.inputs[i]);
        if (n.hasAttribute(attr))
            return n.attrInts(attr, {});
        return std::vector<int64_t>{};
    }

    DType typeOf(const std::string &v) const
    {
        const std::string &s = m_ig.source(v);
        if (const auto it = m_types.find(s); it != m_types.end())
            return it->second;
        if (const Tensor *t = known(s))
            return t->dtype();
        return DType::Float32;
    }

    void inferTypes(const Node &n)
    {
        std::vector<DType> in;
        for (const auto &i : n.inputs)
            in.push_back(i.empty() ? DType::Float32 : typeOf(i));
        try {
            const auto out = kernelFor(n.opType, DeviceType::Cpu, n).outputTypes(n, in);
            for (size_t k = 0; k < out.size() && k < n.outputs.size(); ++k)
                m_types[n.outputs[k]] = out[k];
        } catch (const Error &) {
        }
    }

    // Shape arithmetic on constants (PyTorch's Shape → Gather → Concat → Reshape at a fixed batch)
    // is computed here and written as Const ops. Nodes reading a model's float tensors are never
    // folded, so every weight stays a Const of its own.
    bool fold(const Node &n)
    {
        if (isRandom(n.opType))
            return false;
        const OpKernel &k = kernelFor(n.opType, DeviceType::Cpu, n);
        std::vector<Shape> shapes;
        std::vector<const Tensor *> values;
        bool all = true, staticShapes = true, weights = false;
        for (const auto &i : n.inputs) {
            if (i.empty()) {
                shapes.emplace_back();
                values.push_back(nullptr);
                continue;
            }
            shapes.push_back(shapeOf(i));
            staticShapes = staticShapes && isStatic(shapes.back());
            const Tensor *t = known(i);
            values.push_back(t);
            all = all && t;
            const Tensor *w = m_ig.initializer(i);
            weights = weights || (w && w->dtype() == DType::Float32);
        }
        std::vector<Tensor> out;
        if (staticShapes)
            if (auto v = k.valueFromShapes(n, shapes))
                out.push_back(std::move(*v));
        if (out.empty() && all && !weights) {
            int64_t total = 0;
            for (const auto &o : n.outputs)
                if (!o.empty() && m_ig.shapes.count(o) && isStatic(m_ig.shapes.at(o)))
                    total += shapeNumel(m_ig.shapes.at(o));
            if (total > (1 << 16))
                return false;
            out = evaluateNode(n, values);
        }
        if (out.empty())
            return false;
        for (size_t i = 0; i < out.size() && i < n.outputs.size(); ++i)
            if (!n.outputs[i].empty() && out[i].defined())
                m_folded[n.outputs[i]] = std::move(out[i]);
        return true;
    }

    // ---- ops --------------------------------------------------------------------------------

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

    // The producer port of an engine value; weights and folded values become Const ops on first use.
    Port port(const std::string &engineName)
    {
        const std::string &name = m_ig.source(engineName);
        if (const auto it = m_ports.find(name); it != m_ports.end())
            return it->second;
        if (const auto it = m_folded.find(name); it != m_folded.end())
            return constant(name, it->second);
        const auto w = m_g.initializers.find(name);
        check(w != m_g.initializers.end(), "AIR export: value \"" + name + "\" has no producer.");
        return constant(name, w->second);
    }

    // A Const op "<name>_const" holding `t`; its port is remembered under `name`.
    Port constant(const std::string &name, const Tensor &t)
    {
        auto &c = op("Const", name + "_const");
        auto *def = (*c.mutable_attr())["value"].mutable_t();
        fillDesc(*def->mutable_desc(), t.dtype(), t.shape());
        def->set_data(static_cast<const char *>(t.raw()), t.byteSize()); // little-endian, C order
        fillDesc(*c.add_output_desc(), t.dtype(), t.shape());
        return m_ports[name] = {c.name() + ":0", t.shape(), t.dtype()};
    }
    // An operand this writer makes up (a shape, an axis, a composition's scalar): "<node>.<what>".
    Port operandConst(const Node &n, const std::string &what, const Tensor &t) { return constant(n.name + "." + what, t); }
    Port scalar(const Node &n, const std::string &what, float v) { return operandConst(n, what, Tensor::full({}, v)); }

    // A computing op on `inputs`, with descriptors on every port.
    ge::proto::OpDef &compute(const std::string &type, const std::string &name, const std::vector<Port> &inputs,
                              const std::vector<Shape> &outputs, const std::vector<DType> &types = {})
    {
        auto &o = op(type, name);
        for (const auto &in : inputs) {
            o.add_input(in.ref);
            fillDesc(*o.add_input_desc(), in.dtype, in.shape);
        }
        for (size_t i = 0; i < outputs.size(); ++i)
            fillDesc(*o.add_output_desc(), i < types.size() ? types[i] : types.empty() ? DType::Float32 : types.back(), outputs[i]);
        return o;
    }
    static Port out0(const ge::proto::OpDef &o, const Shape &s, DType t = DType::Float32) { return {o.name() + ":0", s, t}; }

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

    Port binary(const std::string &type, const std::string &name, const Port &a, const Port &b, const Shape &y, DType t = DType::Float32)
    {
        return out0(compute(type, name, {a, b}, {y}, {t}), y, t);
    }
    Port unary(const std::string &type, const std::string &name, const Port &a, const Shape &y)
    {
        return out0(compute(type, name, {a}, {y}), y);
    }

    void emit(const Node &n)
    {
        const std::string &op = n.opType;
        const std::string &out = n.outputs.at(0);
        auto has = [&](size_t i) { return n.inputs.size() > i && !n.inputs[i].empty(); };
        for (size_t i = 0; i < n.inputs.size(); ++i)
            if (has(i) && m_ports.count(m_ig.source(n.inputs[i])) && m_ports.at(m_ig.source(n.inputs[i])).ref == "?")
                return; // an input already refused: that node is named
        if (op == "LSTM" || op == "GRU" || op == "RNN")
            return rnn(n); // its Y may be unnamed
        const Shape &y = shapeOf(out);
        const DType yt = typeOf(out);
        auto in = [&](size_t i) { return port(n.inputs.at(i)); };
        const size_t rank = has(0) ? shapeOf(n.inputs[0]).size() : 0;
        ge::proto::OpDef *result = nullptr;
        Port alias; // a result that is another op's port (a chain's last link, an identity)

        if (const auto u = unaryOps().find(op); u != unaryOps().end()) {
            result = &compute(u->second, n.name, {in(0)}, {y}, {yt});
        } else if (op == "Log") {
            result = &compute("Log", n.name, {in(0)}, {y}, {yt});
            real(*result, "base", -1.0f); // natural logarithm of (shift + scale·x)
            real(*result, "scale", 1.0f);
            real(*result, "shift", 0.0f);
        } else if (const auto b = binaryOps().find(op); b != binaryOps().end()) {
            if (op == "Div" && typeOf(n.inputs[0]) != DType::Float32)
                return void(fail(n, "integer division truncates in ONNX; GE's RealDiv is float division"));
            Port acc = in(0);
            for (size_t i = 1; i < n.inputs.size(); ++i) {
                const bool last = i + 1 == n.inputs.size();
                acc = binary(b->second, last ? n.name : n.name + "/" + std::to_string(i), acc, in(i), last ? y : broadcastShape(i, n), yt);
            }
            alias = acc;
        } else if (op == "Mean") {
            if (yt != DType::Float32)
                return void(fail(n, "only float Mean is exported"));
            Port acc = in(0);
            for (size_t i = 1; i < n.inputs.size(); ++i)
                acc = binary("Add", n.name + "/" + std::to_string(i), acc, in(i), broadcastShape(i, n));
            alias = binary("RealDiv", n.name, acc, scalar(n, "count", static_cast<float>(n.inputs.size())), y);
        } else if (op == "Gemm") {
            if (n.attrFloat("alpha", 1.0f) != 1.0f || n.attrFloat("beta", 1.0f) != 1.0f)
                return void(fail(n, "alpha/beta other than 1 have no GE MatMulV2 equivalent"));
            const bool hasBias = has(2);
            auto &mm = compute("MatMulV2", hasBias ? n.name + "/MatMulV2" : n.name, {in(0), in(1)}, {y});
            boolean(mm, "transpose_x1", n.attrInt("transA", 0) != 0);
            boolean(mm, "transpose_x2", n.attrInt("transB", 0) != 0);
            integer(mm, "offset_x", 0);
            result = &mm;
            if (hasBias) {
                const Shape &c = shapeOf(n.inputs[2]);
                if (c.size() == 1 && c[0] == y[1]) {
                    result = &compute("BiasAdd", n.name, {out0(mm, y), in(2)}, {y});
                    text(*result, "data_format", "NCHW");
                } else {
                    result = &compute("Add", n.name, {out0(mm, y), in(2)}, {y});
                }
            }
        } else if (op == "MatMul") {
            const Shape &a = shapeOf(n.inputs[0]), &w = shapeOf(n.inputs[1]);
            if (a.size() < 2 || w.size() < 2)
                return void(fail(n, "a 1-D operand has no GE MatMulV2/BatchMatMulV2 form"));
            if (a.size() == 2 && w.size() == 2) {
                result = &compute("MatMulV2", n.name, {in(0), in(1)}, {y});
                boolean(*result, "transpose_x1", false);
                boolean(*result, "transpose_x2", false);
                integer(*result, "offset_x", 0);
            } else {
                // Batched, the batch dimensions broadcast (TensorFlow's BatchMatMulV2).
                result = &compute("BatchMatMulV2", n.name, {in(0), in(1)}, {y});
                boolean(*result, "adj_x1", false);
                boolean(*result, "adj_x2", false);
            }
        } else if (op == "Conv") {
            std::vector<int64_t> k, s, p, d;
            if (!window2d(n, k, s, p, d))
                return;
            std::vector<Port> ports{in(0), in(1)};
            if (has(2))
                ports.push_back(in(2));
            result = &compute("Conv2D", n.name, ports, {y});
            ints(*result, "strides", {1, 1, s[0], s[1]});
            ints(*result, "pads", p);
            ints(*result, "dilations", {1, 1, d[0], d[1]});
            integer(*result, "groups", n.attrInt("group", 1));
            text(*result, "data_format", "NCHW");
            integer(*result, "offset_x", 0);
        } else if (op == "ConvTranspose") {
            // Conv2DTransposeD: the filter in ONNX's [C_in, C_out/group, kh, kw] layout, the output
            // size (input_size) fixed, which fixes output_padding too.
            Node sized = n;
            if (!sized.hasAttribute("kernel_shape") && m_ig.initializer(n.inputs.at(1))) {
                const Shape &ws = m_ig.initializer(n.inputs[1])->shape();
                sized.attributes["kernel_shape"] = std::vector<int64_t>(ws.begin() + std::min<size_t>(2, ws.size()), ws.end());
            }
            Window2d w;
            if (const std::string problem = netwright::window2d(sized, m_ig, w); !problem.empty())
                return void(fail(n, problem));
            if (y.size() != 4 || !isStatic(y))
                return void(fail(n, "Conv2DTransposeD takes the output size as an attribute; export with --static-batch"));
            if (n.hasAttribute("output_shape"))
                return void(fail(n, "output_shape is not exported; give pads and output_padding"));
            const auto op2 = n.attrInts("output_padding", {0, 0});
            if (op2.size() != 2)
                return void(fail(n, "output_padding must have 2 values"));
            std::vector<Port> ports{in(0), in(1)};
            if (has(2))
                ports.push_back(in(2));
            result = &compute("Conv2DTransposeD", n.name, ports, {y});
            ints(*result, "input_size", std::vector<int64_t>(y.begin(), y.end()));
            ints(*result, "strides", {1, 1, w.strides[0], w.strides[1]});
            ints(*result, "pads", w.pads);
            ints(*result, "dilations", {1, 1, w.dilations[0], w.dilations[1]});
            integer(*result, "groups", n.attrInt("group", 1));
            text(*result, "data_format", "NCHW");
            ints(*result, "output_padding", {0, 0, op2[0], op2[1]});
            integer(*result, "offset_x", 0);
        } else if (op == "MaxPool" || op == "AveragePool") {
            std::vector<int64_t> k, s, p, d;
            if (!window2d(n, k, s, p, d))
                return;
            if (d != std::vector<int64_t>{1, 1})
                return void(fail(n, "dilated pooling is not exported to GE"));
            if (n.outputs.size() > 1 && !n.outputs[1].empty() && m_used.count(n.outputs[1]))
                return void(fail(n, "the argmax output is not exported"));
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
        } else if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
            std::vector<int64_t> axes;
            for (size_t i = 2; i < rank; ++i)
                axes.push_back(static_cast<int64_t>(i));
            result = &compute(op == "GlobalAveragePool" ? "ReduceMeanD" : "ReduceMaxD", n.name, {in(0)}, {y});
            ints(*result, "axes", axes);
            boolean(*result, "keep_dims", true);
        } else if (op == "ReduceMean" || op == "ReduceSum" || op == "ReduceMax" || op == "ReduceMin" || op == "ReduceProd") {
            const auto axes = operand(n, 1, "axes");
            if (!axes)
                return void(fail(n, "the axes must be constants"));
            std::vector<int64_t> a;
            for (int64_t x : *axes)
                a.push_back(normAxis(x, rank));
            if (a.empty() && n.attrInt("noop_with_empty_axes", 0) != 0) {
                m_ports[out] = in(0);
                return;
            }
            if (a.empty())
                for (size_t i = 0; i < rank; ++i)
                    a.push_back(static_cast<int64_t>(i));
            std::sort(a.begin(), a.end());
            result = &compute(op + "D", n.name, {in(0)}, {y}, {yt});
            ints(*result, "axes", a);
            boolean(*result, "keep_dims", n.attrInt("keepdims", 1) != 0);
        } else if (op == "BatchNormalization") {
            if (n.outputs.size() > 1 && std::any_of(n.outputs.begin() + 1, n.outputs.end(), [&](const std::string &o) { return !o.empty() && m_used.count(o); }))
                return void(fail(n, "the running-statistics outputs are not exported"));
            const Shape c = shapeOf(n.inputs.at(1));
            result = &compute("BatchNorm", n.name, {in(0), in(1), in(2), in(3), in(4)}, {y, c, c, c, c});
            real(*result, "epsilon", n.attrFloat("epsilon", 1e-5f));
            text(*result, "data_format", "NCHW");
            boolean(*result, "is_training", false);
        } else if (op == "LayerNormalization") {
            for (size_t k = 1; k < n.outputs.size(); ++k)
                if (!n.outputs[k].empty() && m_used.count(n.outputs[k]))
                    return void(fail(n, "the mean and inverse-deviation outputs are not exported (GE's LayerNorm returns the variance)"));
            if (n.attrInt("stash_type", 1) != 1)
                return void(fail(n, "stash_type other than float32 is not exported"));
            const int64_t axis = normAxis(n.attrInt("axis", -1), rank);
            const Port beta = has(2) ? in(2) : operandConst(n, "beta", Tensor::zeros(shapeOf(n.inputs.at(1))));
            Shape stat(y);
            for (size_t i = static_cast<size_t>(axis); i < stat.size(); ++i)
                stat[i] = 1;
            result = &compute("LayerNorm", n.name, {in(0), in(1), beta}, {y, stat, stat});
            integer(*result, "begin_norm_axis", axis);
            integer(*result, "begin_params_axis", axis);
            real(*result, "epsilon", n.attrFloat("epsilon", 1e-5f));
        } else if (op == "LeakyRelu") {
            result = &compute("LeakyRelu", n.name, {in(0)}, {y});
            real(*result, "negative_slope", n.attrFloat("alpha", 0.01f));
        } else if (op == "Clip") {
            const auto lo = has(1) ? scalarOf(n.inputs[1]) : n.hasAttribute("min") ? std::optional<float>(n.attrFloat("min", 0)) : std::nullopt;
            const auto hi = has(2) ? scalarOf(n.inputs[2]) : n.hasAttribute("max") ? std::optional<float>(n.attrFloat("max", 0)) : std::nullopt;
            if ((has(1) && !lo) || (has(2) && !hi))
                return void(fail(n, "the bounds must be float32 constants"));
            if (lo == 0.0f && hi == 6.0f) {
                result = &compute("Relu6", n.name, {in(0)}, {y});
            } else if (lo && hi) {
                result = &compute("ClipByValue", n.name,
                                  {in(0), has(1) ? in(1) : scalar(n, "min", *lo), has(2) ? in(2) : scalar(n, "max", *hi)}, {y});
            } else if (lo) {
                alias = binary("Maximum", n.name, in(0), has(1) ? in(1) : scalar(n, "min", *lo), y);
            } else if (hi) {
                alias = binary("Minimum", n.name, in(0), has(2) ? in(2) : scalar(n, "max", *hi), y);
            } else {
                alias = in(0);
            }
        } else if (op == "Softmax" || op == "LogSoftmax") {
            result = &compute(op == "Softmax" ? "SoftmaxV2" : "LogSoftmaxV2", n.name, {in(0)}, {y});
            ints(*result, "axes", {n.attrInt("axis", -1)});
        } else if (op == "HardSigmoid") {
            result = &compute("HardSigmoid", n.name, {in(0)}, {y}); // max(0, min(1, alpha·x + beta))
            real(*result, "alpha", n.attrFloat("alpha", 0.2f));
            real(*result, "beta", n.attrFloat("beta", 0.5f));
        } else if (op == "Elu") {
            result = &compute("Elu", n.name, {in(0)}, {y});
            real(*result, "alpha", n.attrFloat("alpha", 1.0f));
        } else if (op == "Selu") {
            if (std::abs(n.attrFloat("alpha", 1.67326319217681884765625f) - 1.67326319217681884765625f) > 1e-6f
                || std::abs(n.attrFloat("gamma", 1.05070102214813232421875f) - 1.05070102214813232421875f) > 1e-6f)
                return void(fail(n, "GE's Selu has fixed alpha and gamma"));
            result = &compute("Selu", n.name, {in(0)}, {y});
        } else if (op == "PRelu") {
            // GE's PRelu takes one slope or one per channel (axis 1) as a vector.
            const Shape &slope = shapeOf(n.inputs[1]);
            const int64_t count = shapeNumel(slope);
            const Shape &x = shapeOf(n.inputs[0]);
            const bool perChannel = rank >= 2 && !slope.empty() && slope[0] == x[1] && count == slope[0]
                                    && (slope.size() + 1 == rank || (rank == 2 && slope.size() == 1));
            if (count != 1 && !perChannel)
                return void(fail(n, "only a slope per channel (or one slope) maps to GE's PRelu"));
            const Port flat = out0(compute("Reshape", n.name + "/slope", {in(1), operandConst(n, "slope_shape", int64s({count}))}, {{count}}), {count});
            result = &compute("PRelu", n.name, {in(0), flat}, {y});
        } else if (op == "Gelu") {
            // 0.5·x·(1 + erf(x/√2)), or the tanh form, as written: GE's Gelu is one approximation.
            const Port x = in(0);
            Port inner;
            if (n.attrString("approximate", "none") == "tanh") {
                const Port cube = binary("Mul", n.name + "/x3", binary("Mul", n.name + "/x2", x, x, y), x, y);
                const Port poly = binary("Add", n.name + "/poly", x, binary("Mul", n.name + "/c", cube, scalar(n, "c", 0.044715f), y), y);
                inner = unary("Tanh", n.name + "/tanh", binary("Mul", n.name + "/scaled", poly, scalar(n, "k", 0.7978845608028654f), y), y);
            } else {
                inner = unary("Erf", n.name + "/erf", binary("Mul", n.name + "/scaled", x, scalar(n, "k", 0.70710678118654752f), y), y);
            }
            const Port onePlus = binary("Add", n.name + "/one_plus", inner, scalar(n, "one", 1.0f), y);
            alias = binary("Mul", n.name, binary("Mul", n.name + "/x_times", x, onePlus, y), scalar(n, "half", 0.5f), y);
        } else if (op == "Cast" || op == "CastLike") {
            const int64_t dst = cppTypeOf(yt);
            if (dst < 0)
                return void(fail(n, "GE's Cast has no target type for " + dtypeName(yt)));
            result = &compute("Cast", n.name, {in(0)}, {y}, {yt});
            (*result->mutable_attr())["dst_type"].set_dt(dst); // ge::DataType (C++ numbering)
        } else if (op == "Flatten") {
            result = &compute("Flatten", n.name, {in(0)}, {y}, {yt});
            integer(*result, "axis", n.attrInt("axis", 1));
        } else if (op == "Reshape") {
            const auto target = intsOf(n.inputs.at(1));
            if (!target)
                return void(fail(n, "the target shape must be a constant (export with --static-batch)"));
            // GE's Reshape takes the shape as an input; ONNX's 0 ("copy this dimension") is resolved.
            std::vector<int64_t> shape = *target;
            const Shape &x = shapeOf(n.inputs[0]);
            for (size_t i = 0; i < shape.size(); ++i)
                if (shape[i] == 0 && n.attrInt("allowzero", 0) == 0 && i < x.size())
                    shape[i] = x[i];
            if (std::count(shape.begin(), shape.end(), int64_t(-1)) > 1)
                return void(fail(n, "the target shape has more than one free dimension; export with --static-batch"));
            result = &compute("Reshape", n.name, {in(0), operandConst(n, "shape", int64s(shape))}, {y}, {yt});
            integer(*result, "axis", 0);
            integer(*result, "num_axes", -1);
        } else if (op == "Transpose") {
            std::vector<int64_t> perm = n.attrInts("perm", {});
            if (perm.empty())
                for (int64_t i = static_cast<int64_t>(rank) - 1; i >= 0; --i)
                    perm.push_back(i);
            result = &compute("TransposeD", n.name, {in(0)}, {y}, {yt});
            ints(*result, "perm", perm);
        } else if (op == "Concat") {
            std::vector<Port> parts;
            for (size_t i = 0; i < n.inputs.size(); ++i)
                if (has(i) && !(isStatic(shapeOf(n.inputs[i])) && shapeNumel(shapeOf(n.inputs[i])) == 0))
                    parts.push_back(in(i));
            result = &compute("ConcatD", n.name, parts, {y}, {yt});
            integer(*result, "concat_dim", normAxis(n.attrInt("axis", 0), rank));
            integer(*result, "N", static_cast<int64_t>(parts.size()));
        } else if (op == "Squeeze" || op == "Unsqueeze") {
            const auto axes = operand(n, 1, "axes");
            if (!axes)
                return void(fail(n, "the axes must be constants"));
            std::vector<int64_t> a;
            for (int64_t x : *axes)
                a.push_back(normAxis(x, op == "Squeeze" ? rank : y.size()));
            if (op == "Squeeze" && a.empty()) {
                const Shape &x = shapeOf(n.inputs[0]);
                for (size_t i = 0; i < x.size(); ++i) {
                    if (x[i] < 0)
                        return void(fail(n, "squeezing every unit axis of a shape with a free dimension"));
                    if (x[i] == 1)
                        a.push_back(static_cast<int64_t>(i));
                }
            }
            std::sort(a.begin(), a.end());
            result = &compute(op, n.name, {in(0)}, {y}, {yt});
            ints(*result, op == "Squeeze" ? "axis" : "axes", a);
        } else if (op == "Slice") {
            const Shape &x = shapeOf(n.inputs[0]);
            const auto starts = operand(n, 1, "starts"), ends = operand(n, 2, "ends");
            auto axes = operand(n, 3, "axes");
            auto steps = operand(n, 4, "steps");
            if (!starts || !ends || !axes || !steps)
                return void(fail(n, "starts, ends, axes and steps must be constants (export with --static-batch)"));
            if (axes->empty())
                for (size_t i = 0; i < starts->size(); ++i)
                    axes->push_back(static_cast<int64_t>(i));
            if (steps->empty())
                steps->assign(starts->size(), 1);
            if (axes->size() != starts->size() || ends->size() != starts->size() || steps->size() != starts->size())
                return void(fail(n, "starts, ends, axes and steps differ in length"));
            if (rank > 62)
                return void(fail(n, "StridedSlice's masks hold at most 62 axes"));
            // StridedSlice over every axis: the axes not sliced are taken whole (begin/end mask bits).
            std::vector<int64_t> begin(rank, 0), end(rank, 0), stride(rank, 1);
            int64_t beginMask = (int64_t(1) << rank) - 1, endMask = beginMask;
            for (size_t i = 0; i < axes->size(); ++i) {
                const auto a = static_cast<size_t>(normAxis((*axes)[i], rank));
                if (a >= rank)
                    return void(fail(n, "an axis is out of range"));
                const int64_t dim = x[a], step = (*steps)[i];
                int64_t s = (*starts)[i], e = (*ends)[i];
                if (dim < 0 && (step < 0 || s < 0 || (e < 0 && e > INT_MIN)))
                    return void(fail(n, "slicing a free dimension from its end; export with --static-batch"));
                stride[a] = step;
                if (dim >= 0) {
                    // ONNX's clamping; TensorFlow's (and StridedSlice's) agree except for the end
                    // "before index 0" of a negative step, which is the end mask.
                    if (s < 0)
                        s += dim;
                    if (e < 0)
                        e += dim;
                    s = step > 0 ? std::clamp<int64_t>(s, 0, dim) : std::clamp<int64_t>(s, 0, dim - 1);
                    e = step > 0 ? std::clamp<int64_t>(e, 0, dim) : std::clamp<int64_t>(e, -1, dim - 1);
                }
                begin[a] = s;
                beginMask &= ~(int64_t(1) << a);
                if ((step < 0 && e < 0) || (dim < 0 && e >= INT_MAX)) {
                    end[a] = 0;
                } else {
                    end[a] = e;
                    endMask &= ~(int64_t(1) << a);
                }
            }
            result = &compute("StridedSlice", n.name,
                              {in(0), operandConst(n, "begin", int64s(begin)), operandConst(n, "end", int64s(end)),
                               operandConst(n, "strides", int64s(stride))},
                              {y}, {yt});
            integer(*result, "begin_mask", beginMask);
            integer(*result, "end_mask", endMask);
            integer(*result, "ellipsis_mask", 0);
            integer(*result, "new_axis_mask", 0);
            integer(*result, "shrink_axis_mask", 0);
        } else if (op == "Gather") {
            const int64_t axis = normAxis(n.attrInt("axis", 0), rank);
            const auto idx = intsOf(n.inputs.at(1));
            const int64_t dim = shapeOf(n.inputs[0]).at(static_cast<size_t>(axis));
            if (!idx || dim < 0)
                return void(fail(n, "only constant indices into a fixed dimension are exported (ONNX's negative indices count from the end)"));
            std::vector<int64_t> v = *idx; // written normalised
            for (auto &i : v)
                i = i < 0 ? i + dim : i;
            result = &compute("GatherV2", n.name,
                              {in(0), operandConst(n, "indices", Tensor::fromInt64(shapeOf(n.inputs[1]), v)),
                               operandConst(n, "axis", Tensor::fromInt64({}, {axis}))},
                              {y}, {yt});
            integer(*result, "batch_dims", 0);
        } else if (op == "Expand") {
            const auto shape = intsOf(n.inputs.at(1));
            if (!shape)
                return void(fail(n, "the shape must be a constant (export with --static-batch)"));
            result = &compute("Expand", n.name, {in(0), operandConst(n, "shape", int64s(*shape))}, {y}, {yt});
        } else if (op == "Tile") {
            const auto reps = intsOf(n.inputs.at(1));
            if (!reps)
                return void(fail(n, "the repeats must be constants"));
            result = &compute("Tile", n.name, {in(0), operandConst(n, "multiples", int64s(*reps))}, {y}, {yt});
        } else if (op == "Split") {
            const int64_t axis = normAxis(n.attrInt("axis", 0), rank);
            std::vector<int64_t> sizes;
            std::vector<Shape> shapes;
            for (const auto &o : n.outputs) {
                shapes.push_back(shapeOf(o));
                sizes.push_back(shapes.back().at(static_cast<size_t>(axis)));
            }
            if (std::any_of(sizes.begin(), sizes.end(), [](int64_t s) { return s < 0; }))
                return void(fail(n, "splitting a free dimension"));
            const bool equal = std::all_of(sizes.begin(), sizes.end(), [&](int64_t s) { return s == sizes[0]; });
            const auto count = static_cast<int64_t>(sizes.size());
            ge::proto::OpDef *split = nullptr;
            if (equal) {
                split = &compute("SplitD", n.name, {in(0)}, shapes, {yt});
                integer(*split, "split_dim", axis);
            } else {
                split = &compute("SplitV", n.name,
                                 {in(0), operandConst(n, "size_splits", int64s(sizes)), operandConst(n, "split_dim", Tensor::fromInt64({}, {axis}))},
                                 shapes, {yt});
            }
            integer(*split, "num_split", count);
            for (size_t k = 0; k < n.outputs.size(); ++k)
                if (!n.outputs[k].empty())
                    m_ports[n.outputs[k]] = {split->name() + ":" + std::to_string(k), shapes[k], yt};
            return;
        } else if (op == "Pad") {
            if (n.attrString("mode", "constant") != "constant")
                return void(fail(n, "only constant padding maps to GE's PadD"));
            const auto pads = operand(n, 1, "pads");
            if (!pads || pads->size() != 2 * rank)
                return void(fail(n, "the pads must be constants"));
            if (has(3))
                return void(fail(n, "padding chosen axes is not exported"));
            if (has(2) || n.hasAttribute("value")) {
                const Tensor *v = has(2) ? known(n.inputs[2]) : nullptr;
                const bool zero = has(2) ? (v && v->numel() == 1 && v->dtype() == DType::Float32 && v->data()[0] == 0.0f) : n.attrFloat("value", 0) == 0;
                if (!zero)
                    return void(fail(n, "GE's PadD pads with zeros only"));
            }
            result = &compute("PadD", n.name, {in(0)}, {y}, {yt});
            auto *lists = (*result->mutable_attr())["paddings"].mutable_list_list_int();
            for (size_t i = 0; i < rank; ++i) {
                if ((*pads)[i] < 0 || (*pads)[i + rank] < 0)
                    return void(fail(n, "negative pads (cropping) are not exported"));
                auto *pair = lists->add_list_list_i();
                pair->add_list_i((*pads)[i]);
                pair->add_list_i((*pads)[i + rank]);
            }
        } else if (op == "Where") {
            // Select takes operands of one shape; SelectV2 broadcasts them as ONNX's Where does.
            const bool same = shapeOf(n.inputs[0]) == y && shapeOf(n.inputs[1]) == y && shapeOf(n.inputs[2]) == y;
            result = &compute(same ? "Select" : "SelectV2", n.name, {in(0), in(1), in(2)}, {y}, {yt});
        } else if (op == "Resize" || op == "Upsample") {
            return void(fail(n, "GE's resize operators are not exported (their coordinate rules were not matched to ONNX's)"));
        } else if (op == "Shape" || op == "Size" || op == "ConstantOfShape" || op == "Range" || op == "Constant") {
            return void(fail(n, "its value is computed from the free batch dimension; export with --static-batch"));
        } else {
            return void(fail(n, "no AIR equivalent"));
        }
        m_ports[out] = result ? Port{result->name() + ":0", y, yt} : Port{alias.ref, y, yt};
    }

    static bool allZero(const Tensor *t)
    {
        return t && t->dtype() == DType::Float32 && std::all_of(t->data(), t->data() + t->numel(), [](float v) { return v == 0.0f; });
    }

    // True when `v` is zeros computed, not held as a weight: folded, or the ConstantOfShape of 0,
    // or zeros selected and repeated (PyTorch's Slice and Expand of a zero tensor to the batch).
    bool zeroFilled(const std::string &v, bool weightIsZeros = false) const
    {
        const std::string &s = m_ig.source(v);
        if (const Tensor *w = m_ig.initializer(s))
            return weightIsZeros && allZero(w);
        if (const auto it = m_folded.find(s); it != m_folded.end())
            return allZero(&it->second);
        const auto producer = std::find_if(m_ig.nodes.begin(), m_ig.nodes.end(), [&](const Node *n) {
            return std::find(n->outputs.begin(), n->outputs.end(), s) != n->outputs.end();
        });
        if (producer == m_ig.nodes.end())
            return false;
        const Node &p = **producer;
        static const std::set<std::string> selecting{"Expand", "Slice", "Gather", "Reshape", "Squeeze", "Unsqueeze", "Transpose", "Tile", "Flatten"};
        if (selecting.count(p.opType))
            return !p.inputs.empty() && !p.inputs[0].empty() && zeroFilled(p.inputs[0], true);
        if (p.opType == "ConstantOfShape") {
            const auto value = p.attributes.find("value");
            return value == p.attributes.end() || allZero(std::get_if<Tensor>(&value->second)); // ONNX's default fill is a float 0
        }
        return false;
    }

    // LSTM, GRU and RNN as their exact step-by-step composition, as the MindIR writer maps them
    // (mindir_rnn.cpp): GE's DynamicRNN/DynamicGRUV2 take one weight in their own layout and gate
    // order, which would make the weights differ from the model's; here W, R and B stay the model's
    // values and every step is GatherV2 of x_t, MatMulV2 (transpose_x2) + BiasAdd, StridedSlice per
    // gate, Sigmoid/Tanh, Mul/Add/Sub; the outputs are Unsqueeze + ConcatD of the steps.
    void rnn(const Node &n)
    {
        const std::string &op = n.opType;
        const int64_t gates = op == "LSTM" ? 4 : op == "GRU" ? 3 : 1;
        const int64_t hidden = n.attrInt("hidden_size", 0);
        const std::string direction = n.attrString("direction", "forward");
        const int64_t dirs = direction == "bidirectional" ? 2 : 1;
        auto has = [&](size_t i) { return n.inputs.size() > i && !n.inputs[i].empty(); };
        if (n.attrInt("layout", 0) != 0)
            return void(fail(n, "layout 1 (batch first) is not exported"));
        if (n.hasAttribute("clip"))
            return void(fail(n, "cell clipping is not exported"));
        if (n.hasAttribute("activations") || n.hasAttribute("activation_alpha"))
            return void(fail(n, "activations other than the defaults are not exported"));
        if (n.attrInt("input_forget", 0) != 0)
            return void(fail(n, "input_forget is not exported"));
        if (has(4))
            return void(fail(n, "sequence_lens is not exported"));
        if (op == "LSTM" && has(7))
            return void(fail(n, "peepholes are not exported"));
        const Shape &xs = shapeOf(n.inputs[0]);
        if (xs.size() != 3 || xs[0] <= 0 || hidden <= 0)
            return void(fail(n, "the sequence length must be fixed"));
        const bool usedY = !n.outputs.empty() && !n.outputs[0].empty() && m_used.count(n.outputs[0]);
        const bool usedH = n.outputs.size() > 1 && !n.outputs[1].empty() && m_used.count(n.outputs[1]);
        const bool usedC = op == "LSTM" && n.outputs.size() > 2 && !n.outputs[2].empty() && m_used.count(n.outputs[2]);
        const int64_t steps = xs[0], batch = xs[1], inputSize = xs[2], gh = gates * hidden;
        const bool linearBeforeReset = n.attrInt("linear_before_reset", 0) != 0;
        const Shape bh{batch, hidden}, bg{batch, gh}, one{1, batch, hidden};
        const Port none{};
        auto absent = [](const Port &p) { return p.ref.empty(); };
        // A zero initial state filled in to the batch (ConstantOfShape, or PyTorch's Expand of
        // zeros) is written as none: the same computation. A state the model holds as a weight
        // stays, and is read.
        auto state = [&](size_t i) { return !has(i) || zeroFilled(n.inputs[i]) ? none : port(n.inputs[i]); };
        const Port X = port(n.inputs[0]), W = port(n.inputs[1]), R = port(n.inputs[2]);
        const Port B = has(3) ? port(n.inputs[3]) : none, H0 = state(5), C0 = op == "LSTM" ? state(6) : none;

        // Integer operands, one Const each per node.
        std::map<std::pair<bool, std::vector<int64_t>>, Port> operands;
        auto operandOf = [&](const std::vector<int64_t> &v, bool scalar) {
            const auto key = std::make_pair(scalar, v);
            if (const auto it = operands.find(key); it != operands.end())
                return it->second;
            const Tensor t = scalar ? Tensor::fromInt64({}, v) : int64s(v);
            return operands[key] = operandConst(n, "operand" + std::to_string(operands.size()), t);
        };
        std::string at = n.name; // the op names' prefix: the node, its direction and step
        auto name = [&](const std::string &what) { return at + "/" + what; };
        auto gather = [&](const Port &x, int64_t index, const Shape &s) {
            auto &g = compute("GatherV2", name("GatherV2"), {x, operandOf({index}, true), operandOf({0}, true)}, {s});
            integer(g, "batch_dims", 0);
            return out0(g, s);
        };
        // x[begin:end] on every axis, those whose mask bit is set taken whole.
        auto slice = [&](const Port &x, const std::vector<int64_t> &begin, const std::vector<int64_t> &end, int64_t mask, const Shape &s) {
            auto &o = compute("StridedSlice", name("StridedSlice"),
                              {x, operandOf(begin, false), operandOf(end, false), operandOf(std::vector<int64_t>(begin.size(), 1), false)}, {s});
            integer(o, "begin_mask", mask);
            integer(o, "end_mask", mask);
            integer(o, "ellipsis_mask", 0);
            integer(o, "new_axis_mask", 0);
            integer(o, "shrink_axis_mask", 0);
            return out0(o, s);
        };
        // x · wᵀ (+ bias along axis 1).
        auto dense = [&](const Port &x, const Port &w, const Port &bias, const Shape &s) {
            auto &mm = compute("MatMulV2", name("MatMulV2"), {x, w}, {s});
            boolean(mm, "transpose_x1", false);
            boolean(mm, "transpose_x2", true);
            integer(mm, "offset_x", 0);
            if (absent(bias))
                return out0(mm, s);
            auto &b = compute("BiasAdd", name("BiasAdd"), {out0(mm, s), bias}, {s});
            text(b, "data_format", "NCHW");
            return out0(b, s);
        };
        auto unsqueeze = [&](const Port &x, int64_t axis, const Shape &s) {
            auto &o = compute("Unsqueeze", name("Unsqueeze"), {x}, {s});
            ints(o, "axes", {axis});
            return out0(o, s);
        };
        auto concat = [&](const std::vector<Port> &parts, int64_t axis, const Shape &s) {
            if (parts.size() == 1)
                return parts[0];
            auto &o = compute("ConcatD", name("ConcatD"), parts, {s});
            integer(o, "concat_dim", axis);
            integer(o, "N", static_cast<int64_t>(parts.size()));
            return out0(o, s);
        };
        auto un = [&](const std::string &type, const Port &x) { return unary(type, name(type), x, bh); };
        auto bin = [&](const std::string &type, const Port &a, const Port &b, const Shape &s) { return binary(type, name(type), a, b, s); };
        // Gate k of a [batch, G·H] value.
        auto gate = [&](const Port &v, int64_t k) { return slice(v, {0, k * hidden}, {0, (k + 1) * hidden}, 1, bh); };
        auto range = [&](const Port &v, int64_t from, int64_t to) { return slice(v, {from}, {to}, 0, {to - from}); };

        const Port oneConst = op == "GRU" ? scalar(n, "one", 1.0f) : none;
        std::vector<Port> ys, hs, cs;
        for (int64_t d = 0; d < dirs; ++d) {
            const std::string dir = n.name + (dirs > 1 ? "/d" + std::to_string(d) : "");
            at = dir;
            const bool reverse = direction == "reverse" || d == 1;
            const Port w = gather(W, d, {gh, inputSize});
            Port r = gather(R, d, {gh, hidden});
            Port wb, rb, rbh, rh;
            if (!absent(B)) {
                const Port b = gather(B, d, {2 * gh});
                wb = range(b, 0, gh);
                rb = range(b, gh, 2 * gh);
            }
            if (op == "GRU" && !linearBeforeReset) {
                // (r ⊙ h)·Rhᵀ: the reset gate before the recurrent product of the hidden gate.
                rh = slice(r, {2 * hidden, 0}, {3 * hidden, 0}, 2, {hidden, hidden});
                r = slice(r, {0, 0}, {2 * hidden, 0}, 2, {2 * hidden, hidden});
                if (!absent(rb)) {
                    rbh = range(rb, 2 * hidden, 3 * hidden);
                    rb = range(rb, 0, 2 * hidden);
                }
            }
            Port h = absent(H0) ? none : gather(H0, d, bh);
            Port c = absent(C0) ? none : gather(C0, d, bh);
            std::vector<Port> outs(static_cast<size_t>(steps));
            for (int64_t s = 0; s < steps; ++s) {
                const int64_t t = reverse ? steps - 1 - s : s;
                at = dir + "/t" + std::to_string(t);
                const Port xt = gather(X, t, {batch, inputSize});
                const Port gx = dense(xt, w, wb, bg);
                const Shape rgShape{batch, op == "GRU" && !linearBeforeReset ? 2 * hidden : gh};
                // The recurrent term; with no initial state the first step's is the bias alone.
                const Port hr = !absent(h) ? dense(h, r, rb, rgShape) : rb;
                if (op == "RNN") {
                    h = un("Tanh", absent(hr) ? gx : bin("Add", gx, hr, bg));
                } else if (op == "LSTM") {
                    const Port a = absent(hr) ? gx : bin("Add", gx, hr, bg);
                    const Port i = un("Sigmoid", gate(a, 0)), o = un("Sigmoid", gate(a, 1));
                    const Port f = un("Sigmoid", gate(a, 2)), g = un("Tanh", gate(a, 3));
                    const Port ig = bin("Mul", i, g, bh);
                    c = absent(c) ? ig : bin("Add", bin("Mul", f, c, bh), ig, bh);
                    h = bin("Mul", o, un("Tanh", c), bh);
                } else {
                    auto sum = [&](const Port &a, const Port &b) { return absent(b) ? a : bin("Add", a, b, bh); };
                    // The bias alone (no state yet) is [G·H]: sliced as a vector.
                    auto part = [&](const Port &v, int64_t k) {
                        if (absent(v))
                            return none;
                        return !absent(h) ? gate(v, k) : range(v, k * hidden, (k + 1) * hidden);
                    };
                    const Port z = un("Sigmoid", sum(gate(gx, 0), part(hr, 0)));
                    const Port rg = un("Sigmoid", sum(gate(gx, 1), part(hr, 1)));
                    Port hn;
                    if (linearBeforeReset) {
                        const Port hh = part(hr, 2);
                        hn = absent(hh) ? gate(gx, 2) : bin("Add", gate(gx, 2), bin("Mul", rg, hh, bh), bh);
                    } else {
                        const Port rec = !absent(h) ? dense(bin("Mul", rg, h, bh), rh, rbh, bh) : rbh;
                        hn = sum(gate(gx, 2), rec);
                    }
                    hn = un("Tanh", hn);
                    const Port keep = bin("Mul", bin("Sub", oneConst, z, bh), hn, bh);
                    h = absent(h) ? keep : bin("Add", keep, bin("Mul", z, h, bh), bh);
                }
                if (usedY)
                    outs[static_cast<size_t>(t)] = unsqueeze(h, 0, one);
            }
            at = dir;
            if (usedY)
                ys.push_back(unsqueeze(concat(outs, 0, {steps, batch, hidden}), 1, {steps, 1, batch, hidden}));
            if (usedH)
                hs.push_back(unsqueeze(h, 0, one));
            if (usedC && !absent(c))
                cs.push_back(unsqueeze(c, 0, one));
        }
        at = n.name;
        if (usedC && cs.size() != static_cast<size_t>(dirs))
            return void(fail(n, "Y_c of a zero-length state"));
        if (usedY)
            m_ports[n.outputs[0]] = concat(ys, 1, {steps, dirs, batch, hidden});
        if (usedH)
            m_ports[n.outputs[1]] = concat(hs, 0, {dirs, batch, hidden});
        if (usedC)
            m_ports[n.outputs[2]] = concat(cs, 0, {dirs, batch, hidden});
    }

    // The shape of a variadic chain's intermediate (inputs 0..i broadcast), for its descriptor.
    Shape broadcastShape(size_t i, const Node &n) const
    {
        Shape s;
        for (size_t k = 0; k <= i; ++k) {
            const Shape &x = shapeOf(n.inputs[k]);
            if (x.size() > s.size())
                s.insert(s.begin(), x.size() - s.size(), 1);
            for (size_t d = 0; d < x.size(); ++d) {
                int64_t &t = s[s.size() - x.size() + d];
                t = t == 1 ? x[d] : t;
            }
        }
        return s;
    }

    ge::proto::ModelDef m_model;
    ge::proto::GraphDef *m_graph = nullptr;
    std::map<std::string, Port> m_ports;
    std::map<std::string, Tensor> m_folded;
    std::map<std::string, DType> m_types;
    std::set<std::string> m_used;
    std::set<std::string> m_opNames;
    int64_t m_nextId = 0;
};

} // namespace

std::string exportAir(const Graph &model, const AirExportOptions &options)
{
    const InferenceGraph ig = inferenceGraph(model, options.dynamicBatch, "AIR", mappable);
    return Writer(ig).run();
}

} // namespace netwright::air
