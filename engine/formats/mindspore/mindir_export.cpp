// SPDX-License-Identifier: Apache-2.0
#include "formats/mindspore/mindir_export.h"

#include "core/error.h"
#include "formats/format_util.h"
#include "formats/inference_graph.h"
#include "mind_ir.pb.h"
#include "ops/op.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <set>

namespace netwright::mindspore {

namespace {

using A = ::mind_ir::AttributeProto;
using Prim = ::mind_ir::PrimitiveProto;

// Engine op → MindSpore primitive of the same meaning, one input.
const std::map<std::string, std::string> &unaryOps()
{
    static const std::map<std::string, std::string> m{
        {"Relu", "ReLU"},         {"Sigmoid", "Sigmoid"},   {"Tanh", "Tanh"},       {"Erf", "Erf"},       {"Exp", "Exp"},
        {"Log", "Log"},           {"Sqrt", "Sqrt"},         {"Neg", "Neg"},         {"Abs", "Abs"},       {"Reciprocal", "Reciprocal"},
        {"Floor", "Floor"},       {"Ceil", "Ceil"},         {"Sin", "Sin"},         {"Cos", "Cos"},       {"Tan", "Tan"},
        {"Asin", "Asin"},         {"Acos", "ACos"},         {"Atan", "Atan"},       {"Sinh", "Sinh"},     {"Cosh", "Cosh"},
        {"Asinh", "Asinh"},       {"Acosh", "Acosh"},       {"Atanh", "Atanh"},     {"Sign", "Sign"},     {"Round", "Round"},
        {"Softplus", "Softplus"}, {"Softsign", "Softsign"}, {"Mish", "Mish"},       {"HardSwish", "HSwish"}, {"Not", "LogicalNot"},
        {"IsNaN", "IsNan"}};
    return m;
}

// Engine op → MindSpore primitive of the same meaning, two inputs with ONNX broadcasting.
const std::map<std::string, std::string> &binaryOps()
{
    static const std::map<std::string, std::string> m{
        {"Add", "Add"},         {"Sub", "Sub"},         {"Mul", "Mul"},
        {"Div", "RealDiv"},     {"Pow", "Pow"},         {"Max", "Maximum"},
        {"Min", "Minimum"},     {"Sum", "Add"},         {"Equal", "Equal"},
        {"Less", "Less"},       {"Greater", "Greater"}, {"LessOrEqual", "LessEqual"},
        {"GreaterOrEqual", "GreaterEqual"}, {"And", "LogicalAnd"}, {"Or", "LogicalOr"}};
    return m;
}

// Every op type the writer has a mapping for (some settings of them may still be refused).
bool mappable(const std::string &op)
{
    static const std::set<std::string> other{
        "Gemm", "MatMul", "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "BatchNormalization",
        "LayerNormalization", "Clip", "Softmax", "LogSoftmax", "Flatten", "Reshape", "Transpose", "Concat", "Squeeze", "Unsqueeze",
        "Slice", "Gather", "Expand", "Tile", "Split", "Pad", "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd",
        "Where", "HardSigmoid", "LeakyRelu", "Elu", "Selu", "Celu", "PRelu", "Gelu", "DepthToSpace", "SpaceToDepth", "LSTM", "GRU",
        "RNN", "Shape", "Size", "ConstantOfShape", "Range", "Cast", "CastLike", "ArgMax", "ArgMin"};
    return other.count(op) || unaryOps().count(op) || binaryOps().count(op);
}

bool isRandom(const std::string &op)
{
    return op == "Dropout" || op == "RandomNormal" || op == "RandomUniform" || op == "RandomNormalLike" || op == "RandomUniformLike"
           || op == "Bernoulli" || op == "Multinomial";
}

A *boolAttr(Prim &p, const std::string &name, bool v)
{
    A *a = p.add_attribute();
    a->set_name(name);
    a->set_type(A::BOOL);
    a->set_i(v ? 1 : 0);
    return a;
}

void intAttr(Prim &p, const std::string &name, int64_t v)
{
    A *a = p.add_attribute();
    a->set_name(name);
    a->set_type(A::INT64);
    a->set_i(v);
}

void floatAttr(Prim &p, const std::string &name, float v)
{
    A *a = p.add_attribute();
    a->set_name(name);
    a->set_type(A::FLOAT);
    a->set_f(v);
}

void stringAttr(Prim &p, const std::string &name, const std::string &v)
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

void tupleAttr(Prim &p, const std::string &name, const std::vector<int64_t> &v)
{
    A *a = p.add_attribute();
    a->set_name(name);
    fillIntTuple(*a, v);
}

void namesAttr(Prim &p, const std::string &name, const std::vector<std::string> &v)
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

int64_t normAxis(int64_t axis, size_t rank)
{
    return axis < 0 ? axis + static_cast<int64_t>(rank) : axis;
}

bool isStatic(const Shape &s)
{
    return std::all_of(s.begin(), s.end(), [](int64_t d) { return d >= 0; });
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
        m_types[m_ig.input.name] = m_ig.input.dtype;
        auto *vi = m_graph->add_input();
        vi->set_name(in);
        auto *t = vi->add_tensor();
        for (int64_t d : m_ig.input.shape)
            t->add_dims(d);
        t->set_data_type(onnxElementNumber(m_ig.input.dtype));
        for (const Node *n : m_ig.nodes)
            for (const auto &i : n->inputs)
                if (!i.empty())
                    m_used.insert(m_ig.source(i));
        for (const auto &o : m_ig.outputs)
            m_used.insert(o.name);
        for (const Node *n : m_ig.nodes) {
            inferTypes(*n);
            if (symbolic(*n) || fold(*n))
                continue;
            emit(*n);
            for (const auto &o : n->outputs)
                if (!o.empty() && !m_names.count(o))
                    m_names[o] = "?"; // not mapped: listed in the problems
        }
        for (const auto &out : m_ig.outputs)
            if (const std::string &o = m_ig.source(out.name); m_partial.count(o) || m_filled.count(o))
                refuseDynamic(out.name, o, "the output \"" + out.name + "\"");
        throwGrouped();
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

    // Records that `n` does not map; the problems are listed once per op type and reason.
    void refuse(const Node &n, const std::string &why) { m_problems.add(n, why); }

    void throwGrouped() { m_problems.raise(m_g, "MindIR"); }

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

    // Shape arithmetic on constants (PyTorch's Shape → Gather → Concat → Reshape) is computed
    // here and written as constants. Nodes reading a model's float tensors are never folded, so
    // every weight stays a parameter.
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

    // The MindIR name of an engine value; initializers become graph parameters on first use,
    // folded values Constant tensors.
    std::string value(const std::string &engineName)
    {
        const std::string &name = m_ig.source(engineName);
        if (const auto it = m_names.find(name); it != m_names.end())
            return it->second;
        if (const auto it = m_folded.find(name); it != m_folded.end())
            return m_names[name] = constantTensor(it->second);
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


    // ---- shape arithmetic at a free batch ---------------------------------------------------
    //
    // PyTorch computes its reshapes (and an RNN's zero initial state) from Shape of values that
    // follow the batch. At a dynamic batch those values are integer vectors only partly known
    // ahead of a run: the dimensions the batch does not move are constants, the others are
    // unknown. They are followed entry by entry through Gather/Unsqueeze/Concat/arithmetic; a
    // result that comes out fully known is folded into a constant, a Reshape target with one
    // unknown entry is written with -1 there (the element count fixes it, at every batch), and a
    // ConstantOfShape of such a shape is a "filled" value: an RNN's zero initial state is written
    // as no initial state (the same computation). Anything else that needs such a value at run
    // time is refused, naming the node, with "export with --static-batch".

    struct Partial {
        std::vector<std::optional<int64_t>> v;
        bool scalar = false;
        std::string root; // the Shape node it comes from
    };
    struct Filled {
        Tensor value; // the one fill element
        std::string root;
    };

    const Partial *partialOf(const std::string &v) const
    {
        if (v.empty())
            return nullptr;
        const auto it = m_partial.find(m_ig.source(v));
        return it == m_partial.end() ? nullptr : &it->second;
    }
    const Filled *filledOf(const std::string &v) const
    {
        if (v.empty())
            return nullptr;
        const auto it = m_filled.find(m_ig.source(v));
        return it == m_filled.end() ? nullptr : &it->second;
    }

    // A known integer value (an initializer, a folded value) as a partial one; nullopt otherwise.
    std::optional<Partial> asPartial(const std::string &v) const
    {
        if (const Partial *p = partialOf(v))
            return *p;
        const auto ints = intsOf(v);
        if (!ints)
            return std::nullopt;
        Partial p;
        p.scalar = known(v)->shape().empty();
        for (int64_t x : *ints)
            p.v.emplace_back(x);
        return p;
    }

    // Records `p` as the value of `out`: folded into a constant when every entry is known.
    void setPartial(const std::string &out, Partial p)
    {
        if (std::all_of(p.v.begin(), p.v.end(), [](const auto &x) { return x.has_value(); })) {
            std::vector<int64_t> v;
            for (const auto &x : p.v)
                v.push_back(*x);
            const Shape shape = p.scalar ? Shape{} : Shape{static_cast<int64_t>(v.size())};
            Tensor t = Tensor::fromInt64(shape, v);
            if (const auto it = m_types.find(out); it != m_types.end() && it->second == DType::Int32) {
                Tensor t32(shape, DType::Int32);
                for (size_t i = 0; i < v.size(); ++i)
                    t32.dataAs<int32_t>()[i] = static_cast<int32_t>(v[i]);
                t = std::move(t32);
            }
            m_folded[out] = std::move(t);
        } else {
            m_partial[out] = std::move(p);
        }
    }

    // The Shape node a value computed from the free batch comes from.
    std::string dynamicRoot(const std::string &v) const
    {
        if (const Partial *p = partialOf(v))
            return p->root;
        if (const Filled *f = filledOf(v))
            return f->root;
        return {};
    }

    void refuseDynamic(const Node &n, const std::string &input)
    {
        refuse(n, "its input \"" + input + "\" is computed from the free batch dimension (by \"" + dynamicRoot(input)
                      + "\") and is needed at run time; export with --static-batch");
        for (const auto &o : n.outputs)
            if (!o.empty())
                m_names[o] = "?";
    }

    void refuseDynamic(const std::string &what, const std::string &v, const std::string &where)
    {
        for (const Node *n : m_ig.nodes)
            if (n->name == dynamicRoot(v))
                return refuse(*n, where + " is computed from the free batch dimension; export with --static-batch");
        m_problems.add(where + " (\"" + what + "\") is computed from the free batch dimension; export with --static-batch");
    }

    // True when `n` was handled here: its outputs partial, filled, folded, or refused.
    bool symbolic(const Node &n)
    {
        const std::string &op = n.opType;
        auto has = [&](size_t i) { return n.inputs.size() > i && !n.inputs[i].empty(); };
        const std::string out = n.outputs.empty() ? std::string() : n.outputs[0];
        if (op == "Shape" || op == "Size") {
            const Shape &x = shapeOf(n.inputs.at(0));
            if (isStatic(x))
                return false; // a constant: folded
            Partial p;
            p.root = n.name;
            if (op == "Size") {
                p.scalar = true;
                p.v.emplace_back();
            } else {
                const auto rank = static_cast<int64_t>(x.size());
                auto clampAxis = [&](int64_t a) { return std::clamp<int64_t>(a < 0 ? a + rank : a, 0, rank); };
                const int64_t start = clampAxis(n.attrInt("start", 0)), end = clampAxis(n.attrInt("end", rank));
                for (int64_t i = start; i < end; ++i)
                    p.v.push_back(x[static_cast<size_t>(i)] < 0 ? std::nullopt : std::optional<int64_t>(x[static_cast<size_t>(i)]));
            }
            setPartial(out, std::move(p));
            return true;
        }
        std::string dynamicInput;
        for (size_t i = 0; i < n.inputs.size() && dynamicInput.empty(); ++i)
            if (partialOf(n.inputs[i]) || filledOf(n.inputs[i]))
                dynamicInput = n.inputs[i];
        if (dynamicInput.empty())
            return false;
        m_scope = n.name + "-" + n.opType;
        m_debug = n.name;
        const Partial *p0 = has(0) ? partialOf(n.inputs[0]) : nullptr;
        const Filled *f0 = has(0) ? filledOf(n.inputs[0]) : nullptr;
        // Inputs other than `i` free of the batch arithmetic.
        auto plainBesides = [&](size_t i) {
            for (size_t k = 0; k < n.inputs.size(); ++k)
                if (k != i && (partialOf(n.inputs[k]) || filledOf(n.inputs[k])))
                    return false;
            return true;
        };

        // Consumers that take such a value as written.
        if (op == "Reshape" && !p0 && !f0 && plainBesides(1)) {
            emit(n);
            return true;
        }
        if (op == "Expand" && !p0 && !f0 && plainBesides(1)) {
            emit(n); // written as BroadcastTo the inferred shape
            return true;
        }
        if (op == "LSTM" || op == "GRU" || op == "RNN") {
            bool zeroStates = true;
            for (size_t i = 0; i < n.inputs.size(); ++i) {
                if (!partialOf(n.inputs[i]) && !filledOf(n.inputs[i]))
                    continue;
                const Filled *f = filledOf(n.inputs[i]);
                zeroStates = zeroStates && (i == 5 || (i == 6 && op == "LSTM")) && f && isZero(f->value);
            }
            if (zeroStates) {
                emit(n); // rnn() writes a zero initial state as none
                return true;
            }
        }
        if (op == "ConstantOfShape" && p0) {
            Filled f;
            f.root = p0->root;
            const auto it = n.attributes.find("value");
            const Tensor *v = it == n.attributes.end() ? nullptr : std::get_if<Tensor>(&it->second);
            f.value = v ? *v : Tensor::full({}, 0.0f);
            m_filled[out] = std::move(f);
            return true;
        }
        // A filled value reshaped, sliced or broadcast stays filled.
        static const std::set<std::string> moves{"Slice", "Gather", "Squeeze", "Unsqueeze", "Reshape", "Transpose", "Expand", "Flatten", "Tile"};
        if (f0 && moves.count(op)) {
            bool operandsKnown = true;
            for (size_t i = 1; i < n.inputs.size(); ++i)
                operandsKnown = operandsKnown && (!has(i) || known(n.inputs[i]) || ((op == "Reshape" || op == "Expand") && partialOf(n.inputs[i])));
            if (operandsKnown) {
                m_filled[out] = *f0;
                return true;
            }
        }

        // Integer arithmetic on partly known vectors.
        std::optional<Partial> r;
        if (op == "Gather" && p0 && n.attrInt("axis", 0) == 0 && intsOf(n.inputs.at(1))) {
            const auto idx = *intsOf(n.inputs[1]);
            Partial q;
            q.root = p0->root;
            q.scalar = known(n.inputs[1])->shape().empty();
            bool ok = !p0->scalar;
            for (int64_t i : idx) {
                const int64_t k = i < 0 ? i + static_cast<int64_t>(p0->v.size()) : i;
                ok = ok && k >= 0 && k < static_cast<int64_t>(p0->v.size());
                if (ok)
                    q.v.push_back(p0->v[static_cast<size_t>(k)]);
            }
            if (ok && known(n.inputs[1])->shape().size() <= 1)
                r = std::move(q);
        } else if ((op == "Unsqueeze" || op == "Squeeze") && p0 && plainBesides(0)) {
            const auto axes = operand(n, 1, "axes");
            Partial q = *p0;
            if (op == "Unsqueeze" && p0->scalar && axes && axes->size() == 1 && ((*axes)[0] == 0 || (*axes)[0] == -1)) {
                q.scalar = false;
                r = std::move(q);
            } else if (op == "Squeeze" && !p0->scalar && p0->v.size() == 1 && axes && (axes->empty() || (axes->size() == 1 && ((*axes)[0] == 0 || (*axes)[0] == -1)))) {
                q.scalar = true;
                r = std::move(q);
            }
        } else if (op == "Concat" && normAxis(n.attrInt("axis", 0), 1) == 0) {
            Partial q;
            bool ok = true;
            for (size_t i = 0; i < n.inputs.size() && ok; ++i) {
                if (!has(i))
                    continue;
                const auto part = asPartial(n.inputs[i]);
                ok = part && !part->scalar;
                if (ok) {
                    q.v.insert(q.v.end(), part->v.begin(), part->v.end());
                    if (q.root.empty())
                        q.root = part->root;
                }
            }
            if (ok)
                r = std::move(q);
        } else if ((op == "Add" || op == "Sub" || op == "Mul" || op == "Div") && n.inputs.size() == 2) {
            const auto a = asPartial(n.inputs[0]), b = asPartial(n.inputs[1]);
            if (a && b && (a->v.size() == b->v.size() || a->v.size() == 1 || b->v.size() == 1)) {
                Partial q;
                q.root = !a->root.empty() ? a->root : b->root;
                q.scalar = a->scalar && b->scalar;
                const size_t count = std::max(a->v.size(), b->v.size());
                for (size_t i = 0; i < count; ++i) {
                    const auto &x = a->v[a->v.size() == 1 ? 0 : i], &y = b->v[b->v.size() == 1 ? 0 : i];
                    if (!x || !y || (op == "Div" && *y == 0)) {
                        q.v.emplace_back();
                        continue;
                    }
                    q.v.emplace_back(op == "Add" ? *x + *y : op == "Sub" ? *x - *y : op == "Mul" ? *x * *y : *x / *y); // ONNX truncates, as C++ does
                }
                r = std::move(q);
            }
        } else if ((op == "Cast" || op == "CastLike") && p0 && (typeOf(out) == DType::Int64 || typeOf(out) == DType::Int32)) {
            r = *p0;
        } else if (op == "Slice" && p0 && !p0->scalar && plainBesides(0)) {
            const auto starts = operand(n, 1, "starts"), ends = operand(n, 2, "ends");
            const auto axes = operand(n, 3, "axes"), steps = operand(n, 4, "steps");
            if (starts && ends && axes && steps && starts->size() == 1 && ends->size() == 1 && (axes->empty() || normAxis((*axes)[0], 1) == 0)
                && (steps->empty() || (*steps)[0] == 1)) {
                const auto dim = static_cast<int64_t>(p0->v.size());
                int64_t b = (*starts)[0], e = (*ends)[0];
                b = std::clamp<int64_t>(b < 0 ? b + dim : b, 0, dim);
                e = std::clamp<int64_t>(e < 0 ? e + dim : e, 0, dim);
                Partial q;
                q.root = p0->root;
                for (int64_t i = b; i < e; ++i)
                    q.v.push_back(p0->v[static_cast<size_t>(i)]);
                r = std::move(q);
            }
        }
        if (r && !out.empty()) {
            setPartial(out, std::move(*r));
            return true;
        }
        refuseDynamic(n, dynamicInput);
        return true;
    }

    static bool isZero(const Tensor &t)
    {
        const auto *b = static_cast<const unsigned char *>(t.raw());
        for (size_t i = 0; i < t.byteSize(); ++i)
            if (b[i] != 0 && !(t.dtype() == DType::Float32 && b[i] == 0x80 && i % 4 == 3))
                return false;
        return true;
    }

    // ---- nodes ------------------------------------------------------------------------------

    Prim &primitive(const std::string &opType, const std::vector<std::string> &inputNames)
    {
        auto *p = m_model.add_primitives();
        p->set_name(opType + ":" + std::to_string(++m_id));
        p->set_op_type(opType);
        namesAttr(*p, "input_names", inputNames);
        namesAttr(*p, "output_names", {"output"});
        return *p;
    }

    // A CNode calling `prim` on `inputs`, with the output abstract; returns its name.
    std::string cnode(const Prim &prim, const std::vector<std::string> &inputs, const std::vector<Shape> &outputShapes,
                      const std::vector<DType> &types = {})
    {
        auto *n = m_graph->add_node();
        for (const auto &i : inputs)
            n->add_input(i);
        const std::string name = prefixed(m_debug + ":" + std::to_string(++m_id));
        n->add_output(name);
        n->set_name(name);
        n->set_op_type("REF::" + prim.name());
        A *shape = n->add_attribute();
        shape->set_name("shape");
        auto type = [&](size_t i) { return i < types.size() ? types[i] : types.empty() ? DType::Float32 : types.back(); };
        if (outputShapes.size() == 1) {
            fillShape(*shape, outputShapes[0], type(0));
        } else {
            shape->set_type(A::TUPLE);
            for (size_t i = 0; i < outputShapes.size(); ++i)
                fillShape(*shape->add_values(), outputShapes[i], type(i));
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

    std::string constantTensor(const Tensor &t)
    {
        return constant([&](A &a) {
            a.set_type(A::TENSORS);
            auto *x = a.add_tensors();
            for (int64_t d : t.shape())
                x->add_dims(d);
            x->set_data_type(onnxElementNumber(t.dtype()));
            x->set_name("value0");
            x->set_raw_data(static_cast<const char *>(t.raw()), t.byteSize());
        });
    }

    std::string scalarConst(float v) { return constantTensor(Tensor::full({}, v)); }
    std::string indexConst(int64_t v) { return constantTensor(Tensor::fromInt64({}, {v})); }

    const Shape &shapeOf(const std::string &v) const { return m_ig.shape(v); }

    // One-output primitive with input names `names` on `inputs`.
    std::string call(const std::string &op, const std::vector<std::string> &names, const std::vector<std::string> &inputs,
                     const Shape &shape, DType type = DType::Float32)
    {
        return cnode(primitive(op, names), inputs, {shape}, {type});
    }
    std::string unary(const std::string &op, const std::string &x, const Shape &s) { return call(op, {"x"}, {x}, s); }
    std::string binary(const std::string &op, const std::string &x, const std::string &y, const Shape &s)
    {
        return call(op, {"x", "y"}, {x, y}, s);
    }

    // x · yᵀ (2-D), optionally + bias along axis 1: what nn.Dense compiles to.
    std::string dense(const std::string &x, const std::string &w, const std::string &bias, const Shape &s)
    {
        auto &mm = primitive("MatMul", {"x1", "x2"});
        boolAttr(mm, "transpose_a", false);
        boolAttr(mm, "transpose_b", true);
        boolAttr(mm, "transpose_x1", false);
        boolAttr(mm, "transpose_x2", true);
        std::string r = cnode(mm, {x, w}, {s});
        if (!bias.empty())
            r = biasAdd(r, bias, s);
        return r;
    }

    std::string biasAdd(const std::string &x, const std::string &b, const Shape &s)
    {
        auto &ba = primitive("BiasAdd", {"x", "b"});
        stringAttr(ba, "format", "NCHW");
        stringAttr(ba, "data_format", "NCHW");
        return cnode(ba, {x, b}, {s});
    }

    // x[..., begin:end:stride] per axis; axes whose entry in `full` is true are taken whole
    // (begin_mask / end_mask bits), so a dynamic batch needs no bound.
    std::string stridedSlice(const std::string &x, std::vector<int64_t> begin, std::vector<int64_t> end, std::vector<int64_t> strides,
                             int64_t beginMask, int64_t endMask, const Shape &s, DType type = DType::Float32)
    {
        auto &p = primitive("StridedSlice", {"x", "begin", "end", "strides"});
        intAttr(p, "begin_mask", beginMask);
        intAttr(p, "end_mask", endMask);
        intAttr(p, "ellipsis_mask", 0);
        intAttr(p, "new_axis_mask", 0);
        intAttr(p, "shrink_axis_mask", 0);
        return cnode(p, {x, constantTuple(begin), constantTuple(end), constantTuple(strides)}, {s}, {type});
    }

    std::string gather(const std::string &x, const std::string &indices, int64_t axis, const Shape &s, DType type = DType::Float32)
    {
        auto &p = primitive("Gather", {"input_params", "input_indices", "axis"});
        intAttr(p, "batch_dims", 0);
        return cnode(p, {x, indices, constantInt(axis)}, {s}, {type});
    }

    std::string expandDims(const std::string &x, int64_t axis, const Shape &s, DType type = DType::Float32)
    {
        return cnode(primitive("ExpandDims", {"x", "axis"}), {x, constantInt(axis)}, {s}, {type});
    }

    std::string concat(const std::vector<std::string> &parts, const std::vector<Shape> &shapes, int64_t axis, const Shape &s,
                       DType type = DType::Float32)
    {
        const std::string tuple = cnode(primitive("MakeTuple", {}), parts, shapes, {type});
        auto &cat = primitive("Concat", {"x"});
        intAttr(cat, "axis", axis);
        return cnode(cat, {tuple}, {s}, {type});
    }

    std::string reshape(const std::string &x, const std::vector<int64_t> &shape, const Shape &s, DType type = DType::Float32)
    {
        return cnode(primitive("Reshape", {"tensor", "shape"}), {x, constantTuple(shape)}, {s}, {type});
    }

    std::string reduce(const std::string &op, const std::string &x, const std::vector<int64_t> &axes, bool keep, const Shape &s,
                       DType type = DType::Float32)
    {
        auto &p = primitive(op, {"input_x", "axis"});
        boolAttr(p, "keep_dims", keep);
        return cnode(p, {x, constantTuple(axes)}, {s}, {type});
    }

    // A Reshape target written as a tuple: at most one free (-1) dimension.
    static bool reshapeable(const Shape &s) { return std::count(s.begin(), s.end(), int64_t(-1)) <= 1; }

    void emit(const Node &n)
    {
        m_scope = n.name + "-" + n.opType;
        m_debug = n.name;
        if (n.opType == "LSTM" || n.opType == "GRU" || n.opType == "RNN")
            return rnn(n); // Y may be omitted
        const std::string &out = n.outputs.at(0);
        const Shape &y = shapeOf(out);
        const DType yt = typeOf(out);
        std::string result;
        auto in = [&](size_t i) { return value(n.inputs.at(i)); };
        auto has = [&](size_t i) { return n.inputs.size() > i && !n.inputs[i].empty(); };
        const std::string &op = n.opType;
        for (size_t i = 0; i < n.inputs.size(); ++i)
            if (has(i) && m_names.count(m_ig.source(n.inputs[i])) && m_names.at(m_ig.source(n.inputs[i])) == "?")
                return; // an input already refused: that node is named
        const size_t rank = has(0) ? shapeOf(n.inputs[0]).size() : 0;

        if (const auto u = unaryOps().find(op); u != unaryOps().end()) {
            result = cnode(primitive(u->second, {"x"}), {in(0)}, {y}, {yt});
        } else if (const auto b = binaryOps().find(op); b != binaryOps().end()) {
            if (op == "Div" && typeOf(n.inputs[0]) != DType::Float32)
                return refuse(n, "integer division truncates in ONNX; MindSpore's RealDiv is float division");
            if ((op == "Sum" || op == "Max" || op == "Min") && n.inputs.size() == 1) {
                m_names[out] = in(0);
                return;
            }
            result = in(0);
            for (size_t i = 1; i < n.inputs.size(); ++i)
                result = cnode(primitive(b->second, {"x", "y"}), {result, in(i)}, {y}, {yt});
        } else if (op == "Gemm") {
            if (n.attrFloat("alpha", 1.0f) != 1.0f || n.attrFloat("beta", 1.0f) != 1.0f)
                return refuse(n, "alpha/beta other than 1 have no MindIR equivalent");
            auto &mm = primitive("MatMul", {"x1", "x2"});
            const bool ta = n.attrInt("transA", 0) != 0, tb = n.attrInt("transB", 0) != 0;
            boolAttr(mm, "transpose_a", ta);
            boolAttr(mm, "transpose_b", tb);
            boolAttr(mm, "transpose_x1", ta);
            boolAttr(mm, "transpose_x2", tb);
            result = cnode(mm, {in(0), in(1)}, {y});
            if (has(2)) {
                const Shape &c = shapeOf(n.inputs[2]);
                if (c.size() == 1 && c[0] == y[1])
                    result = biasAdd(result, in(2), y);
                else
                    result = binary("Add", result, in(2), y);
            }
        } else if (op == "MatMul") {
            const Shape &a = shapeOf(n.inputs[0]), &w = shapeOf(n.inputs[1]);
            if (a.size() == 2 && w.size() == 2) {
                auto &mm = primitive("MatMul", {"x1", "x2"});
                for (const char *t : {"transpose_a", "transpose_b", "transpose_x1", "transpose_x2"})
                    boolAttr(mm, t, false);
                result = cnode(mm, {in(0), in(1)}, {y});
            } else if (a.size() == w.size() && a.size() >= 3 && std::equal(a.begin(), a.end() - 2, w.begin())) {
                auto &mm = primitive("BatchMatMul", {"x1", "x2"});
                boolAttr(mm, "transpose_a", false);
                boolAttr(mm, "transpose_b", false);
                result = cnode(mm, {in(0), in(1)}, {y});
            } else if (a.size() >= 3 && w.size() == 2 && reshapeable(y)) {
                // [..., K] × [K, N]: rows flattened, one MatMul, the leading dimensions restored.
                const Shape flat{-1, a.back()}, flatOut{-1, w.back()};
                auto &mm = primitive("MatMul", {"x1", "x2"});
                for (const char *t : {"transpose_a", "transpose_b", "transpose_x1", "transpose_x2"})
                    boolAttr(mm, t, false);
                const std::string rows = reshape(in(0), {-1, a.back()}, flat);
                result = reshape(cnode(mm, {rows, in(1)}, {flatOut}), std::vector<int64_t>(y.begin(), y.end()), y);
            } else {
                return refuse(n, "broadcasting MatMul of shapes " + shapeToString(a) + " and " + shapeToString(w)
                                     + " has no MindSpore primitive (MatMul is 2-D, BatchMatMul needs equal batch dimensions)");
            }
        } else if (op == "Conv") {
            Window2d w;
            if (const std::string p = netwright::window2d(n, m_ig, w); !p.empty())
                return refuse(n, p);
            const Tensor *wt = m_ig.initializer(n.inputs.at(1));
            if (!wt)
                return refuse(n, "the weight must be a parameter");
            auto &conv = primitive("Conv2D", {"x", "w"});
            tupleAttr(conv, "kernel_size", w.kernel);
            intAttr(conv, "mode", 1);
            intAttr(conv, "out_channel", wt->shape()[0]);
            stringAttr(conv, "pad_mode", "pad");
            tupleAttr(conv, "pad", w.pads); // (t,b,l,r)
            tupleAttr(conv, "pad_list", w.pads);
            tupleAttr(conv, "stride", {1, 1, w.strides[0], w.strides[1]});
            tupleAttr(conv, "dilation", {1, 1, w.dilations[0], w.dilations[1]});
            intAttr(conv, "group", n.attrInt("group", 1));
            intAttr(conv, "groups", n.attrInt("group", 1));
            stringAttr(conv, "format", "NCHW");
            result = cnode(conv, {in(0), in(1)}, {y});
            if (has(2))
                result = biasAdd(result, in(2), y);
        } else if (op == "ConvTranspose") {
            Window2d w;
            if (const std::string p = netwright::window2d(n, m_ig, w); !p.empty())
                return refuse(n, p);
            const Tensor *wt = m_ig.initializer(n.inputs.at(1));
            if (!wt)
                return refuse(n, "the weight must be a parameter");
            if (!isStatic(y))
                return refuse(n, "Conv2DBackpropInput takes the output size as a constant; export with a fixed batch");
            // Conv2DBackpropInput is the gradient of the Conv2D whose input is this node's output:
            // its weight layout [C_in, C_out/group, kh, kw] is ConvTranspose's, and input_size
            // (the output shape) fixes output_padding.
            const int64_t group = n.attrInt("group", 1);
            auto &ct = primitive("Conv2DBackpropInput", {"out_backprop", "filter", "input_sizes"});
            tupleAttr(ct, "kernel_size", w.kernel);
            intAttr(ct, "mode", 1);
            intAttr(ct, "out_channel", wt->shape()[1] * group);
            stringAttr(ct, "pad_mode", "pad");
            tupleAttr(ct, "pad", w.pads);
            tupleAttr(ct, "pad_list", w.pads);
            tupleAttr(ct, "stride", {1, 1, w.strides[0], w.strides[1]});
            tupleAttr(ct, "dilation", {1, 1, w.dilations[0], w.dilations[1]});
            intAttr(ct, "group", group);
            intAttr(ct, "groups", group);
            stringAttr(ct, "format", "NCHW");
            result = cnode(ct, {in(0), in(1), constantTuple(std::vector<int64_t>(y.begin(), y.end()))}, {y});
            if (has(2))
                result = biasAdd(result, in(2), y);
        } else if (op == "MaxPool" || op == "AveragePool") {
            Window2d w;
            if (const std::string p = netwright::window2d(n, m_ig, w); !p.empty())
                return refuse(n, p);
            if (n.outputs.size() > 1 && !n.outputs[1].empty() && m_used.count(n.outputs[1]))
                return refuse(n, "the argmax output is not exported");
            const auto &k = w.kernel, &s = w.strides, &p = w.pads;
            if (w.dilations != std::vector<int64_t>{1, 1})
                return refuse(n, "dilated pooling has no MindIR equivalent");
            const bool padded = p != std::vector<int64_t>{0, 0, 0, 0};
            const bool ceilMode = n.attrInt("ceil_mode", 0) != 0;
            if (padded && op == "AveragePool")
                return refuse(n, "MindSpore's AvgPool pads only as SAME/VALID; explicit pads are not exported");
            if (padded && (p[0] != p[1] || p[2] != p[3]))
                return refuse(n, "asymmetric pads have no MindIR max-pooling equivalent");
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
                const std::string both = cnode(mp, {in(0)}, {y, y}, {DType::Float32, DType::Int64});
                result = cnode(primitive("TupleGetItem", {"input", "index"}), {both, constantInt(0)}, {y});
            } else {
                auto &pool = primitive(op == "MaxPool" ? "MaxPool" : "AvgPool", {"x"});
                tupleAttr(pool, "kernel_size", {1, 1, k[0], k[1]});
                tupleAttr(pool, "strides", {1, 1, s[0], s[1]});
                stringAttr(pool, "pad_mode", "VALID");
                stringAttr(pool, "format", "NCHW");
                result = cnode(pool, {in(0)}, {y});
            }
        } else if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
            std::vector<int64_t> axes;
            for (size_t i = 2; i < rank; ++i)
                axes.push_back(static_cast<int64_t>(i));
            result = reduce(op == "GlobalAveragePool" ? "ReduceMean" : "ReduceMax", in(0), axes, true, y);
        } else if (op == "ReduceMean" || op == "ReduceSum" || op == "ReduceMax" || op == "ReduceMin" || op == "ReduceProd") {
            const auto axes = operand(n, 1, "axes");
            if (!axes)
                return refuse(n, "the axes must be constants");
            std::vector<int64_t> a;
            for (int64_t x : *axes)
                a.push_back(normAxis(x, rank));
            if (a.empty() && n.attrInt("noop_with_empty_axes", 0) != 0) {
                m_names[out] = in(0);
                return;
            }
            if (a.empty())
                for (size_t i = 0; i < rank; ++i)
                    a.push_back(static_cast<int64_t>(i));
            result = reduce(op, in(0), a, n.attrInt("keepdims", 1) != 0, y, yt);
        } else if (op == "BatchNormalization") {
            if (rank != 4 && rank != 2)
                return refuse(n, "MindSpore's BatchNorm takes 2-D or 4-D input");
            auto &bn = primitive("BatchNorm", {"x", "scale", "offset", "mean", "variance"});
            // An export is an inference graph (as ONNX's, AIR's and CNTK's are): the running
            // statistics, whatever training_mode a training-mode import carries.
            boolAttr(bn, "is_training", false);
            floatAttr(bn, "epsilon", n.attrFloat("epsilon", 1e-5f));
            floatAttr(bn, "momentum", 1.0f - n.attrFloat("momentum", 0.9f)); // MindSpore weighs the batch statistics
            stringAttr(bn, "format", "NCHW");
            const Shape c{shapeOf(n.inputs[1])};
            const std::string all = cnode(bn, {in(0), in(1), in(2), in(3), in(4)}, {y, c, c, c, c});
            result = cnode(primitive("TupleGetItem", {"input", "index"}), {all, constantInt(0)}, {y});
        } else if (op == "LayerNormalization") {
            for (size_t k = 1; k < n.outputs.size(); ++k)
                if (!n.outputs[k].empty() && m_used.count(n.outputs[k]))
                    return refuse(n, "the mean and inverse-deviation outputs are not exported");
            if (!has(2))
                return refuse(n, "MindSpore's LayerNorm needs a bias (beta) input");
            if (n.attrInt("stash_type", 1) != 1)
                return refuse(n, "stash_type other than float32 is not exported");
            const int64_t axis = normAxis(n.attrInt("axis", -1), rank);
            auto &ln = primitive("LayerNorm", {"input_x", "gamma", "beta"});
            intAttr(ln, "begin_norm_axis", axis);
            intAttr(ln, "begin_params_axis", axis);
            floatAttr(ln, "epsilon", n.attrFloat("epsilon", 1e-5f));
            Shape stat(y);
            for (size_t i = static_cast<size_t>(axis); i < stat.size(); ++i)
                stat[i] = 1;
            const std::string all = cnode(ln, {in(0), in(1), in(2)}, {y, stat, stat});
            result = cnode(primitive("TupleGetItem", {"input", "index"}), {all, constantInt(0)}, {y});
        } else if (op == "Clip") {
            const auto lo = has(1) ? scalarOf(n.inputs[1]) : n.hasAttribute("min") ? std::optional<float>(n.attrFloat("min", 0)) : std::nullopt;
            const auto hi = has(2) ? scalarOf(n.inputs[2]) : n.hasAttribute("max") ? std::optional<float>(n.attrFloat("max", 0)) : std::nullopt;
            if ((has(1) && !lo) || (has(2) && !hi))
                return refuse(n, "the bounds must be float32 constants");
            if (lo == 0.0f && hi == 6.0f) {
                result = unary("ReLU6", in(0), y);
            } else if (lo == 0.0f && !hi) {
                result = unary("ReLU", in(0), y);
            } else {
                result = in(0);
                if (lo)
                    result = binary("Maximum", result, scalarConst(*lo), y);
                if (hi)
                    result = binary("Minimum", result, scalarConst(*hi), y);
            }
        } else if (op == "Softmax") {
            auto &sm = primitive("Softmax", {"x"});
            tupleAttr(sm, "axis", {n.attrInt("axis", -1)});
            result = cnode(sm, {in(0)}, {y});
        } else if (op == "LogSoftmax") {
            auto &sm = primitive("LogSoftmax", {"logits"});
            intAttr(sm, "axis", n.attrInt("axis", -1));
            result = cnode(sm, {in(0)}, {y});
        } else if (op == "HardSigmoid") {
            const float alpha = n.attrFloat("alpha", 0.2f), beta = n.attrFloat("beta", 0.5f);
            if (alpha == 1.0f / 6.0f && beta == 0.5f) {
                result = unary("HSigmoid", in(0), y); // relu6(x + 3) / 6
            } else {
                // max(0, min(1, alpha·x + beta)), as written
                const std::string t = binary("Add", binary("Mul", in(0), scalarConst(alpha), y), scalarConst(beta), y);
                result = binary("Maximum", binary("Minimum", t, scalarConst(1.0f), y), scalarConst(0.0f), y);
            }
        } else if (op == "LeakyRelu") {
            // MindSpore's nn.LeakyReLU computes max(x, αx) (min for α > 1): the same values.
            const float alpha = n.attrFloat("alpha", 0.01f);
            if (alpha < 0)
                return refuse(n, "a negative slope has no max/min form");
            result = binary(alpha <= 1 ? "Maximum" : "Minimum", in(0), binary("Mul", in(0), scalarConst(alpha), y), y);
        } else if (op == "Elu") {
            auto &p = primitive("Elu", {"x"});
            floatAttr(p, "alpha", n.attrFloat("alpha", 1.0f));
            result = cnode(p, {in(0)}, {y});
        } else if (op == "Celu") {
            auto &p = primitive("CeLU", {"x"});
            floatAttr(p, "alpha", n.attrFloat("alpha", 1.0f));
            result = cnode(p, {in(0)}, {y});
        } else if (op == "Selu") {
            if (std::abs(n.attrFloat("alpha", 1.67326319217681884765625f) - 1.67326319217681884765625f) > 1e-6f
                || std::abs(n.attrFloat("gamma", 1.05070102214813232421875f) - 1.05070102214813232421875f) > 1e-6f)
                return refuse(n, "MindSpore's SeLU has fixed alpha and gamma");
            result = unary("SeLU", in(0), y);
        } else if (op == "Gelu") {
            // 0.5·x·(1 + erf(x/√2)) as written (MindSpore's GeLU primitive is approximated on some
            // backends); the tanh form likewise.
            if (n.attrString("approximate", "none") != "none")
                return refuse(n, "the tanh approximation is not exported");
            const std::string e = unary("Erf", binary("Mul", in(0), scalarConst(0.70710678118654752f), y), y);
            result = binary("Mul", binary("Mul", in(0), binary("Add", e, scalarConst(1.0f), y), y), scalarConst(0.5f), y);
        } else if (op == "PRelu") {
            const Shape &slope = shapeOf(n.inputs[1]);
            const int64_t count = shapeNumel(slope);
            const bool perChannel = rank >= 2 && !slope.empty() && slope[0] == shapeOf(n.inputs[0])[1] && count == slope[0]
                                    && (slope.size() + 1 == rank || (rank == 2 && slope.size() == 1));
            if (count != 1 && !perChannel)
                return refuse(n, "only a slope per channel (or one slope) maps to PReLU");
            result = call("PReLU", {"x", "weight"}, {in(0), reshape(in(1), {count}, {count})}, y);
        } else if (op == "Flatten") {
            const int64_t axis = normAxis(n.attrInt("axis", 1), rank);
            if (axis == 1)
                result = cnode(primitive("Flatten", {"input_x"}), {in(0)}, {y}, {yt});
            else if (reshapeable(y))
                result = reshape(in(0), std::vector<int64_t>(y.begin(), y.end()), y, yt);
            else
                return refuse(n, "the flattened shape has more than one free dimension");
        } else if (op == "Reshape") {
            // A target computed from the free batch (partial): its unknown entries are -1.
            const auto target = asPartial(n.inputs.at(1));
            if (!target || target->scalar)
                return refuse(n, "the target shape must be a constant (export with --static-batch)");
            std::vector<int64_t> shape;
            for (const auto &d : target->v)
                shape.push_back(d ? *d : -1);
            const Shape &x = shapeOf(n.inputs[0]);
            for (size_t i = 0; i < shape.size(); ++i)
                if (target->v[i] == 0 && n.attrInt("allowzero", 0) == 0 && i < x.size())
                    shape[i] = x[i] < 0 ? -1 : x[i]; // ONNX's "copy this dimension"
            if (std::count(shape.begin(), shape.end(), int64_t(-1)) > 1) {
                if (!reshapeable(y) || y.size() != shape.size())
                    return refuse(n, "the target shape has more than one free dimension; export with --static-batch");
                shape.assign(y.begin(), y.end());
            }
            result = reshape(in(0), shape, y, yt);
        } else if (op == "Squeeze" || op == "Unsqueeze") {
            const auto axes = operand(n, 1, "axes");
            if (!axes)
                return refuse(n, "the axes must be constants");
            std::vector<int64_t> a;
            const size_t r = op == "Squeeze" ? rank : y.size();
            for (int64_t x : *axes)
                a.push_back(normAxis(x, r));
            std::sort(a.begin(), a.end());
            if (op == "Squeeze") {
                if (a.empty()) {
                    const Shape &x = shapeOf(n.inputs[0]);
                    for (size_t i = 0; i < x.size(); ++i) {
                        if (x[i] < 0)
                            return refuse(n, "squeezing every unit axis of a shape with a free dimension");
                        if (x[i] == 1)
                            a.push_back(static_cast<int64_t>(i));
                    }
                }
                auto &p = primitive("Squeeze", {"x"});
                tupleAttr(p, "axis", a);
                result = cnode(p, {in(0)}, {y}, {yt});
            } else {
                result = in(0);
                Shape s = shapeOf(n.inputs[0]);
                for (int64_t ax : a) {
                    s.insert(s.begin() + ax, 1);
                    result = expandDims(result, ax, s, yt);
                }
            }
        } else if (op == "Transpose") {
            std::vector<int64_t> perm = n.attrInts("perm", {});
            if (perm.empty())
                for (int64_t i = static_cast<int64_t>(rank) - 1; i >= 0; --i)
                    perm.push_back(i);
            result = cnode(primitive("Transpose", {"x", "perm"}), {in(0), constantTuple(perm)}, {y}, {yt});
        } else if (op == "Concat") {
            std::vector<std::string> parts;
            std::vector<Shape> partShapes;
            for (size_t i = 0; i < n.inputs.size(); ++i) {
                if (!has(i) || (isStatic(shapeOf(n.inputs[i])) && shapeNumel(shapeOf(n.inputs[i])) == 0))
                    continue;
                parts.push_back(in(i));
                partShapes.push_back(shapeOf(n.inputs[i]));
            }
            result = concat(parts, partShapes, normAxis(n.attrInt("axis", 0), rank), y, yt);
        } else if (op == "Split") {
            const int64_t axis = normAxis(n.attrInt("axis", 0), rank);
            std::vector<int64_t> sizes;
            std::vector<Shape> shapes;
            for (const auto &o : n.outputs) {
                shapes.push_back(shapeOf(o));
                sizes.push_back(shapes.back()[static_cast<size_t>(axis)]);
            }
            if (std::any_of(sizes.begin(), sizes.end(), [](int64_t s) { return s < 0; }))
                return refuse(n, "splitting a free dimension");
            const bool equal = std::all_of(sizes.begin(), sizes.end(), [&](int64_t s) { return s == sizes[0]; });
            auto &p = primitive(equal ? "Split" : "SplitV", {"x"});
            if (equal) {
                intAttr(p, "axis", axis);
                intAttr(p, "output_num", static_cast<int64_t>(sizes.size()));
            } else {
                tupleAttr(p, "size_splits", sizes);
                intAttr(p, "split_dim", axis);
                intAttr(p, "num_split", static_cast<int64_t>(sizes.size()));
            }
            const std::string all = cnode(p, {in(0)}, shapes, {yt});
            for (size_t k = 0; k < n.outputs.size(); ++k)
                m_names[n.outputs[k]] = cnode(primitive("TupleGetItem", {"input", "index"}), {all, constantInt(static_cast<int64_t>(k))},
                                              {shapes[k]}, {yt});
            return;
        } else if (op == "Slice") {
            const Shape &x = shapeOf(n.inputs[0]);
            const auto starts = operand(n, 1, "starts"), ends = operand(n, 2, "ends");
            auto axes = operand(n, 3, "axes");
            auto steps = operand(n, 4, "steps");
            if (!starts || !ends || !axes || !steps)
                return refuse(n, "starts, ends, axes and steps must be constants (export with a fixed batch)");
            if (axes->empty())
                for (size_t i = 0; i < starts->size(); ++i)
                    axes->push_back(static_cast<int64_t>(i));
            if (steps->empty())
                steps->assign(starts->size(), 1);
            std::vector<int64_t> begin(rank, 0), end(rank, 0), stride(rank, 1);
            int64_t beginMask = (int64_t(1) << rank) - 1, endMask = beginMask;
            for (size_t i = 0; i < axes->size(); ++i) {
                const auto a = static_cast<size_t>(normAxis((*axes)[i], rank));
                const int64_t dim = x[a], step = (*steps)[i];
                int64_t s = (*starts)[i], e = (*ends)[i];
                if (dim < 0 && (step < 0 || s < 0 || (e < 0 && e > INT_MIN)))
                    return refuse(n, "slicing a free dimension from its end");
                stride[a] = step;
                if (dim >= 0) {
                    // ONNX's clamping; Python's (and StridedSlice's) agree except for the end
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
                if (step < 0 && e < 0) {
                    end[a] = 0;
                } else if (dim < 0 && e >= INT_MAX) {
                    end[a] = 0;
                } else {
                    end[a] = e;
                    endMask &= ~(int64_t(1) << a);
                }
            }
            result = stridedSlice(in(0), begin, end, stride, beginMask, endMask, y, yt);
        } else if (op == "Gather") {
            const int64_t axis = normAxis(n.attrInt("axis", 0), rank);
            std::string indices;
            if (const auto idx = intsOf(n.inputs[1]); idx && shapeOf(n.inputs[0])[static_cast<size_t>(axis)] > 0) {
                // Negative indices count from the end in ONNX; written normalised.
                const int64_t dim = shapeOf(n.inputs[0])[static_cast<size_t>(axis)];
                std::vector<int64_t> v = *idx;
                for (auto &i : v)
                    i = i < 0 ? i + dim : i;
                indices = constantTensor(Tensor::fromInt64(shapeOf(n.inputs[1]), v));
            } else {
                indices = in(1);
            }
            result = gather(in(0), indices, axis, y, yt);
        } else if (op == "Expand") {
            std::vector<int64_t> target(y.begin(), y.end());
            result = cnode([&]() -> Prim & {
                auto &p = primitive("BroadcastTo", {"x"});
                tupleAttr(p, "shape", target);
                return p;
            }(),
                           {in(0)}, {y}, {yt});
        } else if (op == "Tile") {
            const auto reps = intsOf(n.inputs.at(1));
            if (!reps)
                return refuse(n, "the repeats must be constants");
            result = cnode(primitive("Tile", {"x", "multiples"}), {in(0), constantTuple(*reps)}, {y}, {yt});
        } else if (op == "Pad") {
            if (n.attrString("mode", "constant") != "constant")
                return refuse(n, "only constant padding maps to MindSpore's Pad");
            const auto pads = operand(n, 1, "pads");
            if (!pads || pads->size() != 2 * rank)
                return refuse(n, "the pads must be constants");
            if (has(3))
                return refuse(n, "padding chosen axes is not exported");
            if (has(2)) {
                const Tensor *v = known(n.inputs[2]);
                if (!v || v->numel() != 1 || v->dtype() != DType::Float32 || v->data()[0] != 0.0f)
                    return refuse(n, "MindSpore's Pad pads with zeros only");
            }
            auto &p = primitive("Pad", {"x"});
            A *a = p.add_attribute();
            a->set_name("paddings");
            a->set_type(A::TUPLE);
            for (size_t i = 0; i < rank; ++i) {
                if ((*pads)[i] < 0 || (*pads)[i + rank] < 0)
                    return refuse(n, "negative pads (cropping) are not exported");
                fillIntTuple(*a->add_values(), {(*pads)[i], (*pads)[i + rank]});
            }
            result = cnode(p, {in(0)}, {y}, {yt});
        } else if (op == "Where") {
            result = cnode(primitive("Select", {"cond", "x", "y"}), {in(0), in(1), in(2)}, {y}, {yt});
        } else if (op == "DepthToSpace" || op == "SpaceToDepth") {
            if (op == "DepthToSpace" && n.attrString("mode", "DCR") != "DCR")
                return refuse(n, "MindSpore's DepthToSpace is the DCR arrangement; CRD is not");
            auto &p = primitive(op, {"x"});
            intAttr(p, "block_size", n.attrInt("blocksize", 2));
            stringAttr(p, "format", "NCHW");
            result = cnode(p, {in(0)}, {y});
        } else if (op == "Cast" || op == "CastLike") {
            return refuse(n, "MindSpore's Cast takes its target type as a type object, which this writer does not encode");
        } else if (op == "ArgMax" || op == "ArgMin") {
            return refuse(n, "MindSpore's Argmax/Argmin return int32 indices (ONNX: int64) and have no select_last_index");
        } else if (op == "LSTM" || op == "GRU" || op == "RNN") {
            return rnn(n);
        } else if (op == "Shape" || op == "Size" || op == "ConstantOfShape" || op == "Range") {
            return refuse(n, "its operands are computed from the free batch dimension; export with --static-batch");
        } else {
            return refuse(n, "no MindIR equivalent");
        }
        m_names[out] = result;
    }

    // LSTM, GRU and RNN as their exact step-by-step composition: MindSpore's own LSTM/GRU
    // primitives take one flattened weight in their own gate order, which would make the
    // weights differ from the model's; here W, R and B stay the model's tensors and every step
    // is MatMul(transpose_b) + BiasAdd, StridedSlice per gate, Sigmoid/Tanh, Mul/Add.
    void rnn(const Node &n)
    {
        const std::string &op = n.opType;
        const int64_t gates = op == "LSTM" ? 4 : op == "GRU" ? 3 : 1;
        const int64_t hidden = n.attrInt("hidden_size", 0);
        const std::string direction = n.attrString("direction", "forward");
        const int64_t dirs = direction == "bidirectional" ? 2 : 1;
        auto has = [&](size_t i) { return n.inputs.size() > i && !n.inputs[i].empty(); };
        if (n.attrInt("layout", 0) != 0)
            return refuse(n, "layout 1 (batch first) is not exported");
        if (n.hasAttribute("clip"))
            return refuse(n, "cell clipping is not exported");
        if (n.hasAttribute("activations") || n.hasAttribute("activation_alpha"))
            return refuse(n, "activations other than the defaults are not exported");
        if (n.attrInt("input_forget", 0) != 0)
            return refuse(n, "input_forget is not exported");
        if (has(4))
            return refuse(n, "sequence_lens is not exported");
        if (op == "LSTM" && has(7))
            return refuse(n, "peepholes are not exported");
        const Shape &xs = shapeOf(n.inputs[0]);
        if (xs.size() != 3 || xs[0] <= 0 || hidden <= 0)
            return refuse(n, "the sequence length must be fixed");
        const int64_t steps = xs[0], batch = xs[1], gh = gates * hidden;
        const bool linearBeforeReset = n.attrInt("linear_before_reset", 0) != 0;
        const Shape bh{batch, hidden}, bg{batch, gh};
        const std::string X = value(n.inputs[0]), W = value(n.inputs[1]), R = value(n.inputs[2]);
        // A zero initial state computed from the free batch (ConstantOfShape) is written as none:
        // the same computation.
        auto state = [&](size_t i) { return has(i) && !filledOf(n.inputs[i]) ? value(n.inputs[i]) : std::string(); };
        const std::string B = has(3) ? value(n.inputs[3]) : "", H0 = state(5);
        const std::string C0 = op == "LSTM" ? state(6) : "";
        const int64_t inputSize = xs[2];
        // Gate k of a [batch, G·H] value.
        auto gate = [&](const std::string &v, int64_t k) {
            return stridedSlice(v, {0, k * hidden}, {0, (k + 1) * hidden}, {1, 1}, 1, 1, bh);
        };
        std::vector<std::string> ys(static_cast<size_t>(dirs)), hs(static_cast<size_t>(dirs)), cs(static_cast<size_t>(dirs));
        for (int64_t d = 0; d < dirs; ++d) {
            m_debug = n.name + (dirs > 1 ? ".d" + std::to_string(d) : "");
            const bool reverse = direction == "reverse" || d == 1;
            const std::string w = gather(W, indexConst(d), 0, {gh, inputSize});
            std::string r = gather(R, indexConst(d), 0, {gh, hidden});
            std::string wb, rb, rbh, rh;
            if (!B.empty()) {
                const std::string b = gather(B, indexConst(d), 0, {2 * gh});
                wb = stridedSlice(b, {0}, {gh}, {1}, 0, 0, {gh});
                rb = stridedSlice(b, {gh}, {2 * gh}, {1}, 0, 0, {gh});
            }
            if (op == "GRU" && !linearBeforeReset) {
                // (r ⊙ h)·Rhᵀ: the reset gate before the recurrent product of the hidden gate.
                rh = stridedSlice(r, {2 * hidden, 0}, {3 * hidden, 0}, {1, 1}, 2, 2, {hidden, hidden});
                r = stridedSlice(r, {0, 0}, {2 * hidden, 0}, {1, 1}, 2, 2, {2 * hidden, hidden});
                if (!rb.empty()) {
                    rbh = stridedSlice(rb, {2 * hidden}, {3 * hidden}, {1}, 0, 0, {hidden});
                    rb = stridedSlice(rb, {0}, {2 * hidden}, {1}, 0, 0, {2 * hidden});
                }
            }
            std::string h = H0.empty() ? "" : gather(H0, indexConst(d), 0, bh);
            std::string c = C0.empty() ? "" : gather(C0, indexConst(d), 0, bh);
            std::vector<std::string> outs(static_cast<size_t>(steps));
            for (int64_t s = 0; s < steps; ++s) {
                const int64_t t = reverse ? steps - 1 - s : s;
                m_debug = n.name + (dirs > 1 ? ".d" + std::to_string(d) : "") + ".t" + std::to_string(t);
                const std::string xt = gather(X, indexConst(t), 0, {batch, inputSize});
                const std::string gx = dense(xt, w, wb, bg);
                const Shape rgShape{batch, op == "GRU" && !linearBeforeReset ? 2 * hidden : gh};
                // The recurrent term; with no initial state the first step's is the bias alone.
                std::string hr = !h.empty() ? dense(h, r, rb, rgShape) : rb;
                if (op == "RNN") {
                    h = unary("Tanh", hr.empty() ? gx : binary("Add", gx, hr, bg), bh);
                } else if (op == "LSTM") {
                    const std::string a = hr.empty() ? gx : binary("Add", gx, hr, bg);
                    const std::string i = unary("Sigmoid", gate(a, 0), bh), o = unary("Sigmoid", gate(a, 1), bh);
                    const std::string f = unary("Sigmoid", gate(a, 2), bh), g = unary("Tanh", gate(a, 3), bh);
                    const std::string ig = binary("Mul", i, g, bh);
                    c = c.empty() ? ig : binary("Add", binary("Mul", f, c, bh), ig, bh);
                    h = binary("Mul", o, unary("Tanh", c, bh), bh);
                } else {
                    auto sum = [&](const std::string &a, const std::string &b) { return b.empty() ? a : binary("Add", a, b, bh); };
                    // Bias alone (no state yet) is [G·H]: sliced as a vector.
                    auto part = [&](const std::string &v, int64_t k) {
                        if (v.empty())
                            return std::string();
                        if (!h.empty())
                            return gate(v, k);
                        return stridedSlice(v, {k * hidden}, {(k + 1) * hidden}, {1}, 0, 0, {hidden});
                    };
                    const std::string z = unary("Sigmoid", sum(gate(gx, 0), part(hr, 0)), bh);
                    const std::string rg = unary("Sigmoid", sum(gate(gx, 1), part(hr, 1)), bh);
                    std::string hn;
                    if (linearBeforeReset) {
                        const std::string hh = part(hr, 2);
                        hn = hh.empty() ? gate(gx, 2) : binary("Add", gate(gx, 2), binary("Mul", rg, hh, bh), bh);
                    } else {
                        std::string rec = !h.empty() ? dense(binary("Mul", rg, h, bh), rh, rbh, bh) : rbh;
                        hn = sum(gate(gx, 2), rec);
                    }
                    hn = unary("Tanh", hn, bh);
                    const std::string keep = binary("Mul", binary("Sub", scalarConst(1.0f), z, bh), hn, bh);
                    h = h.empty() ? keep : binary("Add", keep, binary("Mul", z, h, bh), bh);
                }
                outs[static_cast<size_t>(t)] = expandDims(h, 0, {1, batch, hidden});
            }
            m_debug = n.name + (dirs > 1 ? ".d" + std::to_string(d) : "");
            if (!n.outputs.empty() && !n.outputs[0].empty() && m_used.count(n.outputs[0]))
                ys[static_cast<size_t>(d)] = expandDims(concat(outs, std::vector<Shape>(outs.size(), {1, batch, hidden}), 0, {steps, batch, hidden}),
                                                        1, {steps, 1, batch, hidden});
            hs[static_cast<size_t>(d)] = expandDims(h, 0, {1, batch, hidden});
            if (!c.empty())
                cs[static_cast<size_t>(d)] = expandDims(c, 0, {1, batch, hidden});
        }
        m_debug = n.name;
        auto join = [&](const std::vector<std::string> &parts, const Shape &one, int64_t axis, const Shape &all) {
            return parts.size() == 1 ? parts[0] : concat(parts, {one, one}, axis, all);
        };
        if (!ys[0].empty())
            m_names[n.outputs[0]] = join(ys, {steps, 1, batch, hidden}, 1, {steps, dirs, batch, hidden});
        if (n.outputs.size() > 1 && !n.outputs[1].empty())
            m_names[n.outputs[1]] = join(hs, {1, batch, hidden}, 0, {dirs, batch, hidden});
        if (n.outputs.size() > 2 && !n.outputs[2].empty() && m_used.count(n.outputs[2])) {
            if (cs[0].empty())
                return refuse(n, "Y_c of a zero-length state");
            m_names[n.outputs[2]] = join(cs, {1, batch, hidden}, 0, {dirs, batch, hidden});
        }
    }

    ::mind_ir::ModelProto m_model;
    ::mind_ir::GraphProto *m_graph = nullptr;
    std::string m_graphName, m_scope, m_debug;
    std::map<std::string, std::string> m_names;
    std::map<std::string, Tensor> m_folded;
    std::map<std::string, Partial> m_partial;  // shape arithmetic on the free batch
    std::map<std::string, Filled> m_filled;    // ConstantOfShape of such a shape
    std::map<std::string, DType> m_types;
    std::set<std::string> m_used;
    int m_id = 0, m_opIndex = 0;
};

} // namespace

std::string exportMindir(const Graph &model, const MindirExportOptions &options)
{
    // Op types without a mapping are listed (once per type) even when the engine cannot infer
    // the graph's shapes; otherwise every node is tried and what does not map is listed after.
    ExportProblems unknown;
    for (const auto &n : model.nodes)
        if (!isTrainingLoss(n.opType) && n.opType != "Dropout" && n.opType != "Identity" && !mappable(n.opType))
            unknown.add(n, "no MindIR equivalent");
    InferenceGraph ig;
    try {
        ig = inferenceGraph(model, options.dynamicBatch);
    } catch (const Error &) {
        unknown.raise(model, "MindIR");
        throw;
    }
    return Writer(ig, options).run();
}

} // namespace netwright::mindspore
