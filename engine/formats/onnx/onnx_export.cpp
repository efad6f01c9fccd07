// SPDX-License-Identifier: Apache-2.0
#include "formats/onnx/onnx_export.h"

#include "core/error.h"
#include "formats/inference_graph.h"
#include "ops/op.h"

#include <onnx/onnx_pb.h>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>

namespace netwright::onnx_format {

namespace {

using Attrs = std::map<std::string, Attribute>;

// The ONNX ops the engine runs, each with the first opset that has it with the engine's (opset
// 13+) meaning; an earlier target gets a rewrite (see Writer::write) or a refusal. Gelu, Mish and
// GroupNormalization are not ONNX ops at 11–17: always written as compositions.
const std::map<std::string, int64_t> &onnxOps()
{
    static const std::map<std::string, int64_t> ops = [] {
        std::map<std::string, int64_t> m;
        for (const char *op :
             {"Abs", "Acos", "Acosh", "Add", "And", "ArgMax", "ArgMin", "Asin", "Asinh", "Atan", "Atanh", "AveragePool",
              "BatchNormalization", "BitShift", "Cast", "Ceil", "Clip", "Compress", "Concat", "ConstantOfShape", "Conv",
              "ConvTranspose", "Cos", "Cosh", "CumSum", "DepthToSpace", "Div", "Dropout", "Elu", "Equal", "Erf", "Exp", "Expand",
              "EyeLike", "Flatten", "Floor", "GRU", "Gather", "GatherElements", "GatherND", "Gemm", "GlobalAveragePool",
              "GlobalLpPool", "GlobalMaxPool", "Greater", "HardSigmoid", "Hardmax", "Identity", "If", "InstanceNormalization", "IsInf",
              "IsNaN", "LRN", "LSTM", "LeakyRelu", "Less", "Log", "LogSoftmax", "Loop", "LpNormalization", "LpPool", "MatMul",
              "MatMulInteger", "Max", "MaxPool", "MaxUnpool", "Mean", "MeanVarianceNormalization", "Min", "Mod", "Mul", "Neg",
              "NonZero", "Not", "OneHot", "Or", "PRelu", "Pad", "Pow", "RNN", "Range", "Reciprocal", "ReduceL1", "ReduceL2",
              "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum",
              "ReduceSumSquare", "Relu", "Reshape", "Resize", "ReverseSequence", "Round", "Scan", "ScatterElements", "ScatterND", "Selu",
              "Shape", "Shrink", "Sigmoid", "Sign", "Sin", "Sinh", "Size", "Slice", "Softmax", "Softplus", "Softsign",
              "SpaceToDepth", "Split", "Sqrt", "Squeeze", "Sub", "Sum", "Tan", "Tanh", "ThresholdedRelu", "Tile", "TopK",
              "Transpose", "Unsqueeze", "Where", "Xor",
              // written as compositions before their opset (or always)
              "Celu", "GreaterOrEqual", "LessOrEqual", "HardSwish", "Trilu", "CastLike", "LayerNormalization", "Gelu", "Mish",
              "GroupNormalization"})
            m[op] = 11;
        m["Einsum"] = 12;
        m["NegativeLogLikelihoodLoss"] = 12;
        m["SoftmaxCrossEntropyLoss"] = 12;
        return m;
    }();
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

bool isFloat(DType t)
{
    return t == DType::Float32 || t == DType::Float64 || t == DType::Float16 || t == DType::BFloat16;
}

void fillTensor(onnx::TensorProto &p, const std::string &name, const Tensor &t)
{
    p.set_name(name);
    p.set_data_type(onnxType(t.dtype()));
    for (int64_t d : t.shape())
        p.add_dims(d);
    p.set_raw_data(static_cast<const char *>(t.raw()), t.byteSize()); // little-endian, C order
}

// A 0-d tensor of `type` holding `v`; undefined for the 16-bit float types.
Tensor scalarTensor(DType type, double v)
{
    Tensor t({}, type);
    switch (type) {
    case DType::Float32: *t.dataAs<float>() = static_cast<float>(v); break;
    case DType::Float64: *t.dataAs<double>() = v; break;
    case DType::Int64: *t.dataAs<int64_t>() = static_cast<int64_t>(v); break;
    case DType::Int32: *t.dataAs<int32_t>() = static_cast<int32_t>(v); break;
    case DType::Int16: *t.dataAs<int16_t>() = static_cast<int16_t>(v); break;
    case DType::Int8: *t.dataAs<int8_t>() = static_cast<int8_t>(v); break;
    case DType::UInt64: *t.dataAs<uint64_t>() = static_cast<uint64_t>(v); break;
    case DType::UInt32: *t.dataAs<uint32_t>() = static_cast<uint32_t>(v); break;
    case DType::UInt16: *t.dataAs<uint16_t>() = static_cast<uint16_t>(v); break;
    case DType::UInt8: *t.dataAs<uint8_t>() = static_cast<uint8_t>(v); break;
    case DType::Bool: *t.dataAs<uint8_t>() = v != 0; break;
    default: return {};
    }
    return t;
}

std::optional<std::vector<int64_t>> intsOf(const Tensor &t)
{
    if (t.dtype() == DType::Int64)
        return std::vector<int64_t>(t.dataAs<int64_t>(), t.dataAs<int64_t>() + t.numel());
    if (t.dtype() == DType::Int32)
        return std::vector<int64_t>(t.dataAs<int32_t>(), t.dataAs<int32_t>() + t.numel());
    return std::nullopt;
}

// Writes an attribute; false for a subgraph (GRAPH attributes are written by Writer::writeBody).
bool fillAttribute(onnx::AttributeProto &a, const std::string &name, const Attribute &value)
{
    a.set_name(name);
    if (const auto *i = std::get_if<int64_t>(&value)) {
        a.set_type(onnx::AttributeProto::INT);
        a.set_i(*i);
    } else if (const auto *f = std::get_if<float>(&value)) {
        a.set_type(onnx::AttributeProto::FLOAT);
        a.set_f(*f);
    } else if (const auto *s = std::get_if<std::string>(&value)) {
        a.set_type(onnx::AttributeProto::STRING);
        a.set_s(*s);
    } else if (const auto *is = std::get_if<std::vector<int64_t>>(&value)) {
        a.set_type(onnx::AttributeProto::INTS);
        for (int64_t x : *is)
            a.add_ints(x);
    } else if (const auto *fs = std::get_if<std::vector<float>>(&value)) {
        a.set_type(onnx::AttributeProto::FLOATS);
        for (float x : *fs)
            a.add_floats(x);
    } else if (const auto *ss = std::get_if<std::vector<std::string>>(&value)) {
        a.set_type(onnx::AttributeProto::STRINGS);
        for (const auto &x : *ss)
            a.add_strings(x);
    } else if (const auto *t = std::get_if<Tensor>(&value)) {
        a.set_type(onnx::AttributeProto::TENSOR);
        fillTensor(*a.mutable_t(), "", *t);
    } else {
        return false;
    }
    return true;
}

// ONNX's IR version for an opset (the newest IR the opset appeared with).
int64_t irVersionFor(int64_t opset)
{
    return opset <= 11 ? 6 : opset <= 14 ? 7 : 8;
}

// What the exporter knows of the values ahead of a run, for one setting of the free dimensions.
struct Analysis {
    std::map<std::string, Shape> shapes;
    std::map<std::string, DType> types;
    std::map<std::string, Tensor> constants; // initializers and what folds from them and from shapes
};

// What is known before any node runs: the data inputs at `inputs` and the initializers.
Analysis seedAnalysis(const std::map<std::string, Tensor> &initializers, const std::map<std::string, ValueInfo> &inputs)
{
    Analysis a;
    for (const auto &[name, v] : inputs) {
        a.shapes[name] = v.shape;
        a.types[name] = v.dtype;
    }
    for (const auto &[name, t] : initializers) {
        a.shapes[name] = t.shape();
        a.types[name] = t.dtype();
        if (t.device().type == DeviceType::Cpu)
            a.constants[name] = t;
    }
    return a;
}

// Adds the shapes, element types and folded values of every value `nodes` compute to `a` (seeded
// with what is known before them). What follows a node without a kernel, or whose shapes do not
// fit, stays unknown; an element type is known wherever the inputs' types are.
void analyse(Analysis &a, const std::vector<const Node *> &nodes)
{
    constexpr int64_t kFoldLimit = 1 << 16;
    for (const Node *n : nodes) {
        if (!hasKernel(n->opType))
            continue; // its outputs stay unknown
        const OpKernel &op = kernelFor(n->opType, DeviceType::Cpu, *n);
        std::vector<Shape> in;
        std::vector<DType> types;
        std::vector<const Tensor *> constIn;
        bool allShapes = true, allTypes = true, allConstant = true;
        for (const auto &i : n->inputs) {
            if (i.empty()) {
                in.emplace_back();
                types.push_back(DType::Float32);
                constIn.push_back(nullptr);
                continue;
            }
            const auto s = a.shapes.find(i);
            const auto t = a.types.find(i);
            const auto c = a.constants.find(i);
            allShapes = allShapes && s != a.shapes.end();
            allTypes = allTypes && t != a.types.end();
            in.push_back(s != a.shapes.end() ? s->second : Shape{});
            types.push_back(t != a.types.end() ? t->second : DType::Float32);
            constIn.push_back(c == a.constants.end() ? nullptr : &c->second);
            allConstant = allConstant && c != a.constants.end();
        }
        if (!allTypes)
            continue; // an input after an op without a kernel
        try {
            const std::vector<DType> outTypes = op.outputTypes(*n, types);
            for (size_t k = 0; k < n->outputs.size() && k < outTypes.size(); ++k)
                if (!n->outputs[k].empty())
                    a.types[n->outputs[k]] = outTypes[k];
        } catch (const Error &) {
            continue;
        }
        if (!allShapes)
            continue;
        std::vector<Shape> out;
        try {
            out = op.inferShapes(*n, in, constIn);
        } catch (const Error &) {
            continue;
        }
        for (size_t k = 0; k < n->outputs.size() && k < out.size(); ++k)
            if (!n->outputs[k].empty())
                a.shapes[n->outputs[k]] = out[k];
        std::vector<Tensor> values;
        if (auto v = op.valueFromShapes(*n, in)) {
            values.push_back(std::move(*v));
        } else if (allConstant && !n->outputs.empty() && n->opType != "Dropout") {
            int64_t total = 0;
            for (const Shape &s : out)
                total += shapeNumel(s);
            if (total <= kFoldLimit) {
                try {
                    values = evaluateNode(*n, constIn);
                } catch (const Error &) {
                    values.clear();
                }
            }
        }
        for (size_t k = 0; k < values.size() && k < n->outputs.size(); ++k)
            if (!n->outputs[k].empty() && values[k].defined())
                a.constants[n->outputs[k]] = std::move(values[k]);
    }
}

bool sameTensor(const Tensor &a, const Tensor &b)
{
    return a.dtype() == b.dtype() && a.shape() == b.shape() && std::memcmp(a.raw(), b.raw(), a.byteSize()) == 0;
}

// One graph being written — the model's, or a subgraph (If's branches, Loop's and Scan's body, the
// batch loop Scan-8 becomes) — with what is known of its values ahead of a run and the initializers
// it writes. A subgraph reads the values of the graphs around it by name (ONNX's outer scope).
struct Scope {
    const Graph *graph = nullptr; // null for a graph the exporter makes
    onnx::GraphProto *proto = nullptr;
    Scope *parent = nullptr;
    std::optional<Analysis> a, a2; // at free dimensions 1 and 2
    std::set<std::string> usedInitializers;
    std::vector<std::pair<std::string, Tensor>> newInitializers;
};

// What an op feeds a subgraph's input: its element type and its shape at each setting of the free
// dimensions, where known.
struct BodyInput {
    std::optional<DType> type;
    std::optional<Shape> shape[2];
};

class Writer {
public:
    Writer(const Graph &model, const OnnxExportOptions &options) : m_model(model), m_options(options), V(options.opset) {}

    std::string run();

private:
    // ---- problems, once per op type and reason ----
    void problem(const Node &n, const std::string &why) { m_problems.add(n, why); }

    // ---- what is known ahead of a run (in the graph being written) ----
    std::optional<Shape> shapeOf(const std::string &v, int setting = 0) const
    {
        const std::optional<Analysis> &a = setting == 0 ? m_scope->a : m_scope->a2;
        if (!a)
            return std::nullopt;
        const auto it = a->shapes.find(v);
        return it == a->shapes.end() ? std::nullopt : std::optional<Shape>(it->second);
    }
    std::optional<int> rankOf(const std::string &v) const
    {
        const auto s = shapeOf(v);
        return s ? std::optional<int>(static_cast<int>(s->size())) : std::nullopt;
    }
    // The initializer `v` names in the graph being written or one around it, and that graph's scope.
    std::pair<Scope *, const Tensor *> initializerOf(const std::string &v) const
    {
        for (Scope *s = m_scope; s; s = s->parent)
            if (s->graph)
                if (const auto it = s->graph->initializers.find(v); it != s->graph->initializers.end())
                    return {s, &it->second};
        return {nullptr, nullptr};
    }
    std::optional<DType> typeOf(const std::string &v) const
    {
        if (const Tensor *t = initializerOf(v).second)
            return t->dtype();
        if (!m_scope->a)
            return std::nullopt;
        const auto it = m_scope->a->types.find(v);
        return it == m_scope->a->types.end() ? std::nullopt : std::optional<DType>(it->second);
    }
    // A value that is the same whatever the free dimensions are (initializers, constant folds).
    const Tensor *constantOf(const std::string &v) const
    {
        if (const Tensor *t = initializerOf(v).second)
            return t;
        const std::optional<Analysis> &a1 = m_scope->a, &a2 = m_scope->a2;
        if (!a1 || !a2)
            return nullptr;
        const auto a = a1->constants.find(v), b = a2->constants.find(v);
        if (a == a1->constants.end() || b == a2->constants.end() || !sameTensor(a->second, b->second))
            return nullptr;
        return &a->second;
    }
    // A dimension that does not follow the free dimensions (the batch).
    std::optional<int64_t> staticDim(const std::string &v, int axis) const
    {
        const auto s1 = shapeOf(v, 0), s2 = shapeOf(v, 1);
        if (!s1 || !s2)
            return std::nullopt;
        const Shape &a = *s1, &b = *s2;
        if (a.size() != b.size() || axis < 0 || axis >= static_cast<int>(a.size()) || a[axis] != b[axis])
            return std::nullopt;
        return a[axis];
    }

    // ---- writing ----
    std::string fresh(const std::string &base)
    {
        std::string name = base;
        while (!m_names.insert(name).second)
            name += "_";
        return name;
    }
    std::string constant(const std::string &base, const Tensor &t)
    {
        const std::string name = fresh(base);
        m_scope->newInitializers.emplace_back(name, t);
        return name;
    }
    std::string ints(const std::string &base, const std::vector<int64_t> &values)
    {
        return constant(base, Tensor::fromInt64({static_cast<int64_t>(values.size())}, values));
    }
    // A scalar of the element type of `like` (float32 when unknown); empty when that type has none.
    std::string scalarLike(const std::string &base, const std::string &like, double v)
    {
        const Tensor t = scalarTensor(typeOf(like).value_or(DType::Float32), v);
        return t.defined() ? constant(base, t) : std::string();
    }
    // A value read by the graph being written: an initializer of it or of a graph around it is written.
    void use(const std::string &v)
    {
        if (Scope *s = initializerOf(v).first)
            s->usedInitializers.insert(v);
    }
    // Writes a node into the graph being written (its subgraph attributes are the caller's to add).
    onnx::NodeProto &emit(const std::string &op, const std::string &name, const std::vector<std::string> &inputs,
                          const std::vector<std::string> &outputs, const Attrs &attrs = {})
    {
        auto *node = m_scope->proto->add_node();
        std::string nodeName = name;
        while (!m_nodeNames.insert(nodeName).second)
            nodeName += "_";
        node->set_name(nodeName);
        node->set_op_type(op);
        for (const auto &i : inputs) {
            node->add_input(i);
            use(i);
        }
        for (const auto &o : outputs)
            node->add_output(o);
        for (const auto &[k, v] : attrs)
            if (!std::holds_alternative<std::shared_ptr<Graph>>(v))
                fillAttribute(*node->add_attribute(), k, v);
        return *node;
    }

    // An operand that ONNX moved between attribute and input: written as an input (asInput) or as
    // the attribute `attr` (which needs its value ahead of a run). False after a problem.
    bool placeOperand(const Node &n, size_t index, const std::string &attr, bool asInput, std::vector<std::string> &inputs,
                      Attrs &attrs, const std::string &since);

    void write(const Node &n);
    bool writeSpecial(const Node &n, std::vector<std::string> &inputs, std::vector<std::string> &outputs, Attrs &attrs);
    void layerNorm(const Node &n);
    void groupNorm(const Node &n);
    void recurrentLayout(const Node &n, Attrs attrs);
    bool usedLater(const std::string &value) const { return !value.empty() && m_read.count(value); }

    // ---- subgraphs ----
    void controlFlow(const Node &n, std::vector<std::string> inputs, std::vector<std::string> outputs, const Attrs &attrs);
    void scan8(const Node &n, const std::vector<std::string> &inputs, std::vector<std::string> outputs);
    void writeBody(onnx::AttributeProto &attribute, const std::string &attr, const Graph &body, const std::vector<BodyInput> &declared,
                   const std::vector<std::pair<size_t, size_t>> &carried);
    void bodyValue(onnx::ValueInfoProto &p, const ValueInfo &v, std::optional<DType> type) const;

    const Graph &m_model;
    const OnnxExportOptions &m_options;
    const int64_t V;
    Scope m_top;              // the model's graph
    Scope *m_scope = &m_top;  // the graph being written
    std::string m_analysisError;
    std::set<std::string> m_names, m_nodeNames, m_read; // over the model's graph and every subgraph
    ExportProblems m_problems;
};

// Makes `scope` the graph being written until it goes out of scope.
class ScopeGuard {
public:
    ScopeGuard(Scope *&current, Scope &scope) : m_current(current), m_saved(current) { current = &scope; }
    ~ScopeGuard() { m_current = m_saved; }
    ScopeGuard(const ScopeGuard &) = delete;
    ScopeGuard &operator=(const ScopeGuard &) = delete;

private:
    Scope *&m_current;
    Scope *m_saved;
};

bool Writer::placeOperand(const Node &n, size_t index, const std::string &attr, bool asInput, std::vector<std::string> &inputs,
                          Attrs &attrs, const std::string &since)
{
    const bool hasInput = index < inputs.size() && !inputs[index].empty();
    if (asInput) {
        const auto it = attrs.find(attr);
        if (it == attrs.end())
            return true;
        std::string value;
        if (const auto *is = std::get_if<std::vector<int64_t>>(&it->second))
            value = ints(n.name + "/" + attr, *is);
        else if (const auto *i = std::get_if<int64_t>(&it->second))
            value = ints(n.name + "/" + attr, {*i});
        attrs.erase(it);
        if (value.empty() || hasInput)
            return true;
        if (inputs.size() <= index)
            inputs.resize(index + 1);
        inputs[index] = value;
        return true;
    }
    if (!hasInput)
        return true;
    const Tensor *c = constantOf(inputs[index]);
    const auto values = c ? intsOf(*c) : std::nullopt;
    if (!values) {
        problem(n, attr + " is computed at run time; before opset " + since + " ONNX takes it as an attribute");
        return false;
    }
    attrs[attr] = *values;
    inputs.erase(inputs.begin() + static_cast<std::ptrdiff_t>(index));
    while (!inputs.empty() && inputs.back().empty())
        inputs.pop_back();
    return true;
}

void Writer::write(const Node &n)
{
    const auto known = onnxOps().find(n.opType);
    if (known == onnxOps().end()) {
        problem(n, "no ONNX export");
        return;
    }
    if (V < known->second) {
        problem(n, "not an ONNX op before opset " + std::to_string(known->second));
        return;
    }
    // Never the outer-scope values a subgraph reads (Node::implicitInputs): they are not ONNX inputs.
    std::vector<std::string> inputs(n.inputs.begin(), n.inputs.end() - static_cast<std::ptrdiff_t>(n.implicitInputs)), outputs = n.outputs;
    Attrs attrs = n.attributes;
    if (!writeSpecial(n, inputs, outputs, attrs))
        return;
    // Trailing omitted inputs and outputs are simply left off.
    while (!inputs.empty() && inputs.back().empty())
        inputs.pop_back();
    while (!outputs.empty() && outputs.back().empty())
        outputs.pop_back();
    emit(n.opType, n.name, inputs, outputs, attrs);
}

// Rewrites of `n` into the target opset's form. Returns false when the node was written already
// (a composition) or refused; true to write n.opType with the (changed) inputs, outputs, attrs.
bool Writer::writeSpecial(const Node &n, std::vector<std::string> &inputs, std::vector<std::string> &outputs, Attrs &attrs)
{
    const std::string &op = n.opType;
    const std::string x = inputs.empty() ? std::string() : inputs[0];
    const std::string y = outputs.empty() ? std::string() : outputs[0];
    const std::string base = n.name + "/";
    auto floatInput = [&](const char *what) {
        const auto t = typeOf(x);
        if (t && (*t == DType::Float32 || *t == DType::Float64))
            return true;
        problem(n, std::string(what) + " is written for float32 and float64 inputs only");
        return false;
    };

    if (op == "If" || op == "Loop" || op == "Scan") {
        controlFlow(n, inputs, outputs, attrs);
        return false;
    }
    if (op == "Dropout") { // the identity at inference; the mask is not exported
        emit("Identity", n.name, {x}, {y});
        return false;
    }
    if (op == "Squeeze" || op == "Unsqueeze")
        return placeOperand(n, 1, "axes", V >= 13, inputs, attrs, "13");
    if (op == "Split") {
        if (attrs.count("num_outputs")) { // opset 18: the last part may be smaller; write the sizes
            attrs.erase("num_outputs");
            if (inputs.size() < 2 || inputs[1].empty()) {
                const auto r = rankOf(x);
                std::vector<int64_t> split;
                for (const auto &o : outputs) {
                    const auto d = r ? staticDim(o, static_cast<int>((n.attrInt("axis", 0) + *r) % *r)) : std::nullopt;
                    if (!d) {
                        problem(n, "num_outputs (opset 18) with a size known only at run time is not written");
                        return false;
                    }
                    split.push_back(*d);
                }
                attrs["split"] = split;
            }
        }
        return placeOperand(n, 1, "split", V >= 13, inputs, attrs, "13");
    }
    if (op.rfind("Reduce", 0) == 0) {
        const bool axesInput = op == "ReduceSum" && V >= 13; // the others take axes as an input from 18
        if (!placeOperand(n, 1, "axes", axesInput, inputs, attrs, op == "ReduceSum" ? "13" : "18"))
            return false;
        const int64_t noop = n.attrInt("noop_with_empty_axes", 0);
        if (!axesInput) {
            attrs.erase("noop_with_empty_axes");
            const auto it = attrs.find("axes");
            const bool empty = it == attrs.end() || std::get<std::vector<int64_t>>(it->second).empty();
            if (noop && empty) { // reduce nothing: the identity
                emit("Identity", n.name, {x}, {y});
                return false;
            }
        }
        return true;
    }
    if (op == "Pad") {
        if (inputs.size() > 3 && !inputs[3].empty()) {
            problem(n, "the axes input (opset 18) is not written");
            return false;
        }
        placeOperand(n, 1, "pads", true, inputs, attrs, "11");
        if (const auto it = attrs.find("value"); it != attrs.end()) {
            const float v = std::get<float>(it->second);
            attrs.erase(it);
            if (v != 0.0f) {
                const std::string c = scalarLike(base + "value", x, v);
                if (c.empty()) {
                    problem(n, "a constant value for this element type is not written");
                    return false;
                }
                inputs.resize(std::max<size_t>(inputs.size(), 3));
                inputs[2] = c;
            }
        }
        return true;
    }
    if (op == "Clip") {
        const auto t = typeOf(x);
        if (V < 12 && t && !isFloat(*t)) {
            problem(n, "integer Clip needs opset 12");
            return false;
        }
        for (const auto &[attr, index] : {std::pair<std::string, size_t>{"min", 1}, {"max", 2}}) {
            const auto it = attrs.find(attr);
            if (it == attrs.end())
                continue;
            const std::string c = scalarLike(base + attr, x, std::get<float>(it->second));
            attrs.erase(it);
            inputs.resize(std::max<size_t>(inputs.size(), index + 1));
            inputs[index] = c;
        }
        return true;
    }
    if (op == "TopK")
        return placeOperand(n, 1, "k", true, inputs, attrs, "10");
    if (op == "Slice") {
        if (attrs.count("starts")) { // the opset-1 form: operands as attributes
            inputs.resize(1);
            for (const char *a : {"starts", "ends", "axes"})
                if (attrs.count(a)) {
                    inputs.push_back(ints(base + a, std::get<std::vector<int64_t>>(attrs.at(a))));
                    attrs.erase(a);
                }
        }
        return true;
    }
    if ((op == "Softmax" || op == "LogSoftmax" || op == "Hardmax") && V < 13) {
        // Before 13 these flatten at `axis` and normalise rows: the same only for the last axis.
        const auto r = rankOf(x);
        int64_t axis = n.attrInt("axis", -1);
        if (!r) {
            if (axis == -1)
                return true;
            problem(n, "the input's rank is unknown, so axis " + std::to_string(axis) + " cannot be written before opset 13");
            return false;
        }
        if (axis < 0)
            axis += *r;
        attrs["axis"] = int64_t{-1};
        if (axis == *r - 1)
            return true;
        std::vector<int64_t> perm(static_cast<size_t>(*r));
        for (int i = 0; i < *r; ++i)
            perm[static_cast<size_t>(i)] = i;
        std::swap(perm[static_cast<size_t>(axis)], perm[static_cast<size_t>(*r - 1)]);
        const std::string t1 = fresh(base + "last_axis"), t2 = fresh(base + "normalised");
        emit("Transpose", base + "to_last", {x}, {t1}, {{"perm", perm}});
        emit(op, n.name, {t1}, {t2}, attrs);
        emit("Transpose", base + "back", {t2}, {y}, {{"perm", perm}});
        return false;
    }
    if (op == "BatchNormalization") {
        // An inference export: the running statistics, no training-mode outputs.
        attrs.erase("training_mode");
        for (size_t i = 1; i < outputs.size(); ++i)
            if (usedLater(outputs[i])) {
                problem(n, "the training-mode statistics outputs are not exported (an inference export)");
                return false;
            }
        outputs.resize(1);
        return true;
    }
    if (op == "Resize") {
        for (const char *a : {"antialias", "keep_aspect_ratio_policy"})
            if (attrs.count(a)) {
                problem(n, std::string(a) + " (opset 18) is not written");
                return false;
            }
        if (attrs.count("axes")) {
            problem(n, "axes (opset 18) is not written");
            return false;
        }
        if (V < 13) { // roi and scales are required inputs before 13 (empty when unused)
            inputs.resize(std::max<size_t>(inputs.size(), 3));
            for (size_t i : {size_t{1}, size_t{2}})
                if (inputs[i].empty())
                    inputs[i] = constant(base + (i == 1 ? "roi" : "scales"), Tensor({0}, DType::Float32));
        }
        return true;
    }
    if (op == "ArgMax" || op == "ArgMin") {
        if (V < 12 && n.attrInt("select_last_index", 0) != 0) {
            problem(n, "select_last_index needs opset 12");
            return false;
        }
        if (V < 12)
            attrs.erase("select_last_index");
        return true;
    }
    if (op == "GatherND") {
        if (V < 12 && n.attrInt("batch_dims", 0) != 0) {
            problem(n, "batch_dims needs opset 12");
            return false;
        }
        if (V < 12)
            attrs.erase("batch_dims");
        return true;
    }
    if (op == "Shape" && V < 15 && (attrs.count("start") || attrs.count("end"))) {
        const std::string whole = fresh(base + "shape");
        emit("Shape", n.name, {x}, {whole});
        const int64_t start = n.attrInt("start", 0), end = n.attrInt("end", std::numeric_limits<int64_t>::max());
        emit("Slice", base + "start_end", {whole, ints(base + "start", {start}), ints(base + "end", {end}), ints(base + "axis", {0})}, {y});
        return false;
    }
    if ((op == "Cast" || op == "CastLike") && V < 13) {
        const auto from = typeOf(x);
        const auto to = op == "Cast" ? std::optional<int64_t>(n.attrInt("to", 0)) : std::nullopt;
        const auto like = op == "CastLike" && inputs.size() > 1 ? typeOf(inputs[1]) : std::nullopt;
        if ((from && *from == DType::BFloat16) || (to && *to == onnx::TensorProto::BFLOAT16) || (like && *like == DType::BFloat16)) {
            problem(n, "bfloat16 casts need opset 13");
            return false;
        }
        if (op == "Cast")
            return true;
    }
    if (op == "CastLike" && V < 15) {
        const auto t = inputs.size() > 1 ? typeOf(inputs[1]) : std::nullopt;
        if (!t) {
            problem(n, "the target element type is unknown, so it cannot be written as a Cast before opset 15");
            return false;
        }
        emit("Cast", n.name, {x}, {y}, {{"to", int64_t{onnxType(*t)}}});
        return false;
    }
    if (op == "Celu" && V < 12) { // alpha · Elu(x / alpha)
        if (!floatInput("Celu before opset 12"))
            return false;
        const double alpha = n.attrFloat("alpha", 1.0f);
        const std::string a = scalarLike(base + "alpha", x, alpha), s = fresh(base + "scaled"), e = fresh(base + "elu");
        emit("Div", base + "div", {x, a}, {s});
        emit("Elu", base + "elu", {s}, {e}, {{"alpha", 1.0f}});
        emit("Mul", n.name, {e, a}, {y});
        return false;
    }
    if (op == "HardSwish" && V < 14) { // x · HardSigmoid(x; 1/6, 1/2)
        const std::string h = fresh(base + "hard_sigmoid");
        emit("HardSigmoid", base + "hard_sigmoid", {x}, {h}, {{"alpha", 1.0f / 6.0f}, {"beta", 0.5f}});
        emit("Mul", n.name, {x, h}, {y});
        return false;
    }
    if ((op == "GreaterOrEqual" || op == "LessOrEqual") && V < 12) { // (a > b) or (a == b), NaN-exact
        const std::string s = fresh(base + "strict"), e = fresh(base + "equal");
        emit(op == "GreaterOrEqual" ? "Greater" : "Less", base + "strict", {inputs[0], inputs[1]}, {s});
        emit("Equal", base + "equal", {inputs[0], inputs[1]}, {e});
        emit("Or", n.name, {s, e}, {y});
        return false;
    }
    if (op == "Trilu" && V < 14) { // Where(mask, x, 0) with the mask a constant
        const auto r = rankOf(x);
        const auto rows = r && *r >= 2 ? staticDim(x, *r - 2) : std::nullopt, cols = r && *r >= 2 ? staticDim(x, *r - 1) : std::nullopt;
        std::optional<int64_t> k = 0;
        if (inputs.size() > 1 && !inputs[1].empty()) {
            const Tensor *c = constantOf(inputs[1]);
            const auto v = c ? intsOf(*c) : std::nullopt;
            k = v && v->size() == 1 ? std::optional<int64_t>((*v)[0]) : std::nullopt;
        }
        const std::string zero = scalarLike(base + "zero", x, 0.0);
        if (!rows || !cols || !k || zero.empty()) {
            problem(n, "before opset 14 Trilu is written as a constant mask, which needs its last two dimensions and k known ahead of a run");
            return false;
        }
        const bool upper = n.attrInt("upper", 1) != 0;
        Tensor mask({*rows, *cols}, DType::Bool);
        for (int64_t i = 0; i < *rows; ++i)
            for (int64_t j = 0; j < *cols; ++j)
                mask.dataAs<uint8_t>()[i * *cols + j] = upper ? (j - i >= *k) : (j - i <= *k);
        emit("Where", n.name, {constant(base + "mask", mask), x, zero}, {y});
        return false;
    }
    if (op == "LayerNormalization" && V < 17) {
        if (floatInput("LayerNormalization before opset 17"))
            layerNorm(n);
        return false;
    }
    if (op == "GroupNormalization") {
        if (floatInput("GroupNormalization (not an ONNX op before opset 18)"))
            groupNorm(n);
        return false;
    }
    if (op == "Gelu") { // not an ONNX op before 20
        if (!floatInput("Gelu (not an ONNX op before opset 20)"))
            return false;
        const std::string half = scalarLike(base + "half", x, 0.5), one = scalarLike(base + "one", x, 1.0);
        const std::string inner = fresh(base + "inner"), t = fresh(base + "t"), t1 = fresh(base + "one_plus"), xt = fresh(base + "x_times");
        if (n.attrString("approximate", "none") == "tanh") { // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
            const std::string x2 = fresh(base + "x2"), x3 = fresh(base + "x3"), cx3 = fresh(base + "c_x3"), sum = fresh(base + "sum");
            emit("Mul", base + "x2", {x, x}, {x2});
            emit("Mul", base + "x3", {x2, x}, {x3});
            emit("Mul", base + "c_x3", {x3, scalarLike(base + "c", x, 0.044715)}, {cx3});
            emit("Add", base + "sum", {x, cx3}, {sum});
            emit("Mul", base + "inner", {sum, scalarLike(base + "sqrt_2_over_pi", x, 0.7978845608028654)}, {inner});
            emit("Tanh", base + "tanh", {inner}, {t});
        } else { // 0.5·x·(1 + erf(x/√2))
            emit("Div", base + "inner", {x, scalarLike(base + "sqrt2", x, std::sqrt(2.0))}, {inner});
            emit("Erf", base + "erf", {inner}, {t});
        }
        emit("Add", base + "one_plus", {t, one}, {t1});
        emit("Mul", base + "x_times", {x, t1}, {xt});
        emit("Mul", n.name, {xt, half}, {y});
        return false;
    }
    if (op == "Mish") { // x · tanh(softplus(x)); not an ONNX op before 18
        if (!floatInput("Mish (not an ONNX op before opset 18)"))
            return false;
        const std::string sp = fresh(base + "softplus"), th = fresh(base + "tanh");
        emit("Softplus", base + "softplus", {x}, {sp});
        emit("Tanh", base + "tanh", {sp}, {th});
        emit("Mul", n.name, {x, th}, {y});
        return false;
    }
    if (op == "RNN" || op == "GRU" || op == "LSTM") {
        if (V < 14) {
            const int64_t layout = n.attrInt("layout", 0);
            attrs.erase("layout");
            if (layout != 0) {
                recurrentLayout(n, attrs);
                return false;
            }
        }
        return true;
    }
    if (op == "Reshape" && V < 14 && attrs.count("allowzero")) {
        if (n.attrInt("allowzero", 0) != 0) {
            const Tensor *c = inputs.size() > 1 ? constantOf(inputs[1]) : nullptr;
            const auto v = c ? intsOf(*c) : std::nullopt;
            if (!v || std::find(v->begin(), v->end(), 0) != v->end()) {
                problem(n, "allowzero=1 with a zero (or run-time) shape needs opset 14");
                return false;
            }
        }
        attrs.erase("allowzero");
        return true;
    }
    if (op == "ScatterElements" || op == "ScatterND") {
        const std::string reduction = n.attrString("reduction", "none");
        if (reduction == "min" || reduction == "max") {
            problem(n, "reduction " + reduction + " needs opset 18");
            return false;
        }
        if (V < 16 && reduction != "none") {
            problem(n, "reduction " + reduction + " needs opset 16");
            return false;
        }
        if (V < 16)
            attrs.erase("reduction");
        return true;
    }
    if (op == "Pow" && V < 12) { // before 12 the base is a float, the exponent of its type
        const auto tb = typeOf(x), te = inputs.size() > 1 ? typeOf(inputs[1]) : std::nullopt;
        if (tb && !isFloat(*tb)) {
            problem(n, "an integer base needs opset 12");
            return false;
        }
        if (tb && te && *tb != *te) {
            const std::string c = fresh(base + "exponent");
            emit("Cast", base + "exponent", {inputs[1]}, {c}, {{"to", int64_t{onnxType(*tb)}}});
            inputs[1] = c;
        }
        return true;
    }
    if (op == "MaxPool" && V < 12) {
        const auto t = typeOf(x);
        if (t && (*t == DType::Int8 || *t == DType::UInt8)) {
            problem(n, dtypeName(*t) + " MaxPool needs opset 12");
            return false;
        }
        return true;
    }
    if ((op == "Max" || op == "Min") && V < 12) {
        const auto t = typeOf(x);
        if (t && !isFloat(*t)) {
            problem(n, "integer " + op + " needs opset 12");
            return false;
        }
        return true;
    }
    if ((op == "Add" || op == "Sub" || op == "Mul" || op == "Div") && V < 14) {
        const auto t = typeOf(x);
        if (t && (*t == DType::Int8 || *t == DType::Int16 || *t == DType::UInt8 || *t == DType::UInt16)) {
            problem(n, dtypeName(*t) + " arithmetic needs opset 14");
            return false;
        }
        return true;
    }
    if (op == "Relu" && V < 14) {
        const auto t = typeOf(x);
        if (t && !isFloat(*t)) {
            problem(n, "integer Relu needs opset 14");
            return false;
        }
        return true;
    }
    if (op == "AveragePool" && attrs.count("dilations")) {
        for (int64_t d : n.attrInts("dilations", {}))
            if (d != 1) {
                problem(n, "dilations (opset 19) are not written");
                return false;
            }
        attrs.erase("dilations");
        return true;
    }
    if (op == "LpPool" && (n.attrInt("ceil_mode", 0) != 0 || attrs.count("dilations"))) {
        for (int64_t d : n.attrInts("dilations", {}))
            if (d != 1 || n.attrInt("ceil_mode", 0) != 0) {
                problem(n, "ceil_mode and dilations (opset 18) are not written");
                return false;
            }
        attrs.erase("dilations");
        attrs.erase("ceil_mode");
        return true;
    }
    return true;
}

// LayerNormalization before opset 17: mean and variance over the axes from `axis` on.
void Writer::layerNorm(const Node &n)
{
    const std::string x = n.inputs[0], base = n.name + "/";
    const auto r = rankOf(x);
    if (!r) {
        problem(n, "the input's rank is unknown, so it cannot be written as a composition before opset 17");
        return;
    }
    int64_t axis = n.attrInt("axis", -1);
    if (axis < 0)
        axis += *r;
    std::vector<int64_t> axes;
    for (int64_t a = axis; a < *r; ++a)
        axes.push_back(a);
    const std::string mean = n.outputs.size() > 1 && !n.outputs[1].empty() ? n.outputs[1] : fresh(base + "mean");
    const std::string d = fresh(base + "centred"), d2 = fresh(base + "squared"), var = fresh(base + "variance"),
                      ve = fresh(base + "variance_eps"), sd = fresh(base + "std"), norm = fresh(base + "normalised");
    emit("ReduceMean", base + "mean", {x}, {mean}, {{"axes", axes}, {"keepdims", int64_t{1}}});
    emit("Sub", base + "centre", {x, mean}, {d});
    emit("Mul", base + "square", {d, d}, {d2});
    emit("ReduceMean", base + "variance", {d2}, {var}, {{"axes", axes}, {"keepdims", int64_t{1}}});
    emit("Add", base + "add_epsilon", {var, scalarLike(base + "epsilon", x, n.attrFloat("epsilon", 1e-5f))}, {ve});
    emit("Sqrt", base + "std", {ve}, {sd});
    if (n.outputs.size() > 2 && !n.outputs[2].empty())
        emit("Reciprocal", base + "inv_std", {sd}, {n.outputs[2]});
    emit("Div", base + "normalise", {d, sd}, {norm});
    const bool bias = n.inputs.size() > 2 && !n.inputs[2].empty();
    const std::string scaled = bias ? fresh(base + "scaled") : n.outputs[0];
    emit("Mul", base + "scale", {norm, n.inputs[1]}, {scaled});
    if (bias)
        emit("Add", n.name, {scaled, n.inputs[2]}, {n.outputs[0]});
}

// GroupNormalization (opset 18; scale and bias per group as 18, or per channel as 21 and PyTorch):
// X [N, C, …] reshaped to [N, G, −1], normalised over the last axis, scaled, reshaped back.
void Writer::groupNorm(const Node &n)
{
    const std::string x = n.inputs[0], base = n.name + "/";
    const auto r = rankOf(x);
    const auto C = r && *r >= 2 ? staticDim(x, 1) : std::nullopt;
    const int64_t G = n.attrInt("num_groups", 0);
    const auto scaleShape = shapeOf(n.inputs.at(1));
    if (!C || G <= 0 || !scaleShape || scaleShape->size() != 1) {
        problem(n, "it is written as a composition, which needs the channel count and num_groups known ahead of a run");
        return;
    }
    const bool perGroup = (*scaleShape)[0] == G && G != *C;
    const std::string x3 = fresh(base + "grouped"), mean = fresh(base + "mean"), d = fresh(base + "centred"), d2 = fresh(base + "squared"),
                      var = fresh(base + "variance"), ve = fresh(base + "variance_eps"), sd = fresh(base + "std"),
                      norm = fresh(base + "normalised"), shape = fresh(base + "input_shape");
    emit("Reshape", base + "group", {x, ints(base + "group_shape", {0, G, -1})}, {x3});
    emit("ReduceMean", base + "mean", {x3}, {mean}, {{"axes", std::vector<int64_t>{2}}, {"keepdims", int64_t{1}}});
    emit("Sub", base + "centre", {x3, mean}, {d});
    emit("Mul", base + "square", {d, d}, {d2});
    emit("ReduceMean", base + "variance", {d2}, {var}, {{"axes", std::vector<int64_t>{2}}, {"keepdims", int64_t{1}}});
    emit("Add", base + "add_epsilon", {var, scalarLike(base + "epsilon", x, n.attrFloat("epsilon", 1e-5f))}, {ve});
    emit("Sqrt", base + "std", {ve}, {sd});
    emit("Div", base + "normalise", {d, sd}, {norm});
    emit("Shape", base + "shape", {x}, {shape});
    std::vector<int64_t> paramShape{perGroup ? G : *C};
    for (int i = 2; i < (perGroup ? 3 : *r); ++i)
        paramShape.push_back(1);
    const std::string pshape = ints(base + "param_shape", paramShape);
    const std::string s = fresh(base + "scale_shaped"), b = fresh(base + "bias_shaped"), scaled = fresh(base + "scaled"),
                      shifted = fresh(base + "shifted");
    emit("Reshape", base + "scale_shape", {n.inputs[1], pshape}, {s});
    emit("Reshape", base + "bias_shape", {n.inputs.at(2), pshape}, {b});
    if (perGroup) { // scale the groups, then back to X's shape
        emit("Mul", base + "scale", {norm, s}, {scaled});
        emit("Add", base + "shift", {scaled, b}, {shifted});
        emit("Reshape", n.name, {shifted, shape}, {n.outputs[0]});
    } else { // back to X's shape, then scale the channels
        const std::string back = fresh(base + "ungrouped");
        emit("Reshape", base + "ungroup", {norm, shape}, {back});
        emit("Mul", base + "scale", {back, s}, {scaled});
        emit("Add", n.name, {scaled, b}, {n.outputs[0]});
    }
}

// RNN/GRU/LSTM with layout=1 (batch first) before opset 14: the layout-0 op between Transposes.
void Writer::recurrentLayout(const Node &n, Attrs attrs)
{
    const std::string base = n.name + "/";
    std::vector<std::string> inputs = n.inputs, outputs = n.outputs;
    const std::vector<int64_t> swap01{1, 0, 2};
    auto transposeIn = [&](size_t i, const char *what) {
        if (i >= inputs.size() || inputs[i].empty())
            return;
        const std::string t = fresh(base + what + "_seq_first");
        emit("Transpose", base + what + "_seq_first", {inputs[i]}, {t}, {{"perm", swap01}});
        inputs[i] = t;
    };
    transposeIn(0, "X");
    transposeIn(5, "initial_h");
    transposeIn(6, "initial_c");
    std::vector<std::pair<std::string, std::vector<int64_t>>> after; // (final output, perm) per output
    for (size_t i = 0; i < outputs.size() && i < 3; ++i) {
        if (outputs[i].empty())
            continue;
        const std::string final = outputs[i];
        outputs[i] = fresh(final + "/seq_first");
        after.emplace_back(final, i == 0 ? std::vector<int64_t>{2, 0, 1, 3} : swap01);
    }
    while (!inputs.empty() && inputs.back().empty())
        inputs.pop_back();
    while (!outputs.empty() && outputs.back().empty())
        outputs.pop_back();
    emit(n.opType, n.name, inputs, outputs, attrs);
    size_t k = 0;
    for (size_t i = 0; i < outputs.size() && i < 3; ++i) {
        if (outputs[i].empty())
            continue;
        emit("Transpose", base + "batch_first_" + std::to_string(i), {outputs[i]}, {after[k].first}, {{"perm", after[k].second}});
        ++k;
    }
}

// ---- subgraphs ----

namespace {

// The shape with `axis` (negative: from the end) taken out; nullopt when unknown or out of range.
std::optional<Shape> withoutAxis(const std::optional<Shape> &s, int64_t axis)
{
    if (!s)
        return std::nullopt;
    const int64_t r = static_cast<int64_t>(s->size());
    if (axis < 0)
        axis += r;
    if (axis < 0 || axis >= r)
        return std::nullopt;
    Shape out = *s;
    out.erase(out.begin() + axis);
    return out;
}

const Graph *subgraphOf(const Node &n, const std::string &attr)
{
    const auto it = n.attributes.find(attr);
    if (it == n.attributes.end())
        return nullptr;
    const auto *g = std::get_if<std::shared_ptr<Graph>>(&it->second);
    return g ? g->get() : nullptr;
}

} // namespace

// If, Loop and Scan: the node with its subgraphs as GRAPH attributes. The outer-scope values the
// subgraphs read (the node's implicit inputs) are not inputs in ONNX: the subgraphs name them.
void Writer::controlFlow(const Node &n, std::vector<std::string> inputs, std::vector<std::string> outputs, const Attrs &attrs)
{
    const std::vector<const char *> keys = n.opType == "If" ? std::vector<const char *>{"then_branch", "else_branch"}
                                                             : std::vector<const char *>{"body"};
    for (const char *key : keys)
        if (!subgraphOf(n, key)) {
            problem(n, std::string("its ") + key + " is not a graph");
            return;
        }
    if (n.opType == "Scan" && n.attrInt("netwright.scan8_batch", 0) != 0) {
        scan8(n, inputs, outputs);
        return;
    }
    const size_t explicitInputs = inputs.size();
    while (inputs.size() > (n.opType == "Loop" ? 2u : 0u) && inputs.back().empty())
        inputs.pop_back();
    while (!outputs.empty() && outputs.back().empty())
        outputs.pop_back();
    // What the op feeds each body input, at both settings of the free dimensions.
    auto fed = [&](const std::string &v, const std::function<std::optional<Shape>(const std::optional<Shape> &)> &shape) {
        BodyInput b;
        if (v.empty())
            return b;
        b.type = typeOf(v);
        for (int k = 0; k < 2; ++k)
            b.shape[k] = shape(shapeOf(v, k));
        return b;
    };
    auto same = [](const std::optional<Shape> &s) { return s; };
    std::vector<BodyInput> declared;
    std::vector<std::pair<size_t, size_t>> carried; // (body input, body output) of a value carried between iterations
    if (n.opType == "Loop") { // body: (iteration number, condition, carried…) → (condition, carried…, scan outputs…)
        declared.push_back({DType::Int64, {Shape{}, Shape{}}});
        declared.push_back({DType::Bool, {Shape{}, Shape{}}});
        for (size_t k = 2; k < explicitInputs; ++k) {
            declared.push_back(fed(n.inputs[k], same));
            carried.emplace_back(k, k - 1);
        }
    } else if (n.opType == "Scan") { // body: (states…, one slice of each scanned input…) → (states…, scan outputs…)
        const int64_t m = n.attrInt("num_scan_inputs", 0);
        const size_t states = m >= 0 && static_cast<size_t>(m) <= explicitInputs ? explicitInputs - static_cast<size_t>(m) : 0;
        const std::vector<int64_t> axes = n.attrInts("scan_input_axes", {});
        for (size_t k = 0; k < explicitInputs; ++k) {
            if (k < states) {
                declared.push_back(fed(n.inputs[k], same));
                carried.emplace_back(k, k);
                continue;
            }
            const int64_t axis = k - states < axes.size() ? axes[k - states] : 0;
            declared.push_back(fed(n.inputs[k], [&](const std::optional<Shape> &s) { return withoutAxis(s, axis); }));
        }
    }
    onnx::NodeProto &node = emit(n.opType, n.name, inputs, outputs, attrs);
    for (const char *key : keys)
        writeBody(*node.add_attribute(), key, *subgraphOf(n, key), declared, carried);
}

// Scan-8 (opset 8: a batch axis first on every input, sequence_lens first) as Scan 9+ does it: an
// outer Scan over the batch axis, with no state, whose body scans one batch item's sequence with
// the node's body — the engine runs Scan-8 item by item the same way. sequence_lens is written
// only when it is a constant equal to the sequence length (the one case the engine runs).
void Writer::scan8(const Node &n, const std::vector<std::string> &inputs, std::vector<std::string> outputs)
{
    const Graph &body = *subgraphOf(n, "body");
    const int64_t m = n.attrInt("num_scan_inputs", 0);
    if (inputs.size() < 2 || m < 1 || static_cast<size_t>(m) > inputs.size() - 1) {
        problem(n, "its inputs do not fit num_scan_inputs");
        return;
    }
    const std::vector<std::string> values(inputs.begin() + 1, inputs.end());
    const size_t states = values.size() - static_cast<size_t>(m);
    if (!inputs[0].empty()) {
        const Tensor *c = constantOf(inputs[0]);
        const auto lens = c ? intsOf(*c) : std::nullopt;
        const auto length = staticDim(values[states], 1);
        if (!lens || !length || std::any_of(lens->begin(), lens->end(), [&](int64_t l) { return l != *length; })) {
            problem(n, "sequence_lens (Scan-8) is written only as a constant equal to the sequence length: later Scans have none");
            return;
        }
    }
    const size_t results = body.outputs.size();
    outputs.resize(std::max(outputs.size(), results));
    std::vector<std::optional<DType>> resultTypes;
    for (auto &o : outputs) {
        resultTypes.push_back(o.empty() ? std::nullopt : typeOf(o));
        if (o.empty())
            o = fresh(n.name + "/unused");
    }
    onnx::NodeProto &outer = emit("Scan", n.name, values, outputs, {{"num_scan_inputs", static_cast<int64_t>(values.size())}});
    onnx::AttributeProto &attribute = *outer.add_attribute();
    attribute.set_name("body");
    attribute.set_type(onnx::AttributeProto::GRAPH);

    // The outer body: one batch item of every input → the inner Scan's results.
    Scope scope;
    scope.proto = attribute.mutable_g();
    scope.parent = m_scope;
    scope.proto->set_name(n.name + "/batch_item");
    std::vector<std::string> items, itemResults;
    std::vector<BodyInput> declared;
    std::vector<std::pair<size_t, size_t>> carried;
    for (size_t j = 0; j < values.size(); ++j) {
        items.push_back(fresh(n.name + "/item_" + std::to_string(j)));
        BodyInput item, slice;
        item.type = slice.type = typeOf(values[j]);
        for (int k = 0; k < 2; ++k) {
            item.shape[k] = withoutAxis(shapeOf(values[j], k), 0);
            slice.shape[k] = j < states ? item.shape[k] : withoutAxis(item.shape[k], 0);
        }
        declared.push_back(slice);
        if (j < states)
            carried.emplace_back(j, j);
        for (int k = 0; k < 2; ++k) {
            std::optional<Analysis> &a = k == 0 ? scope.a : scope.a2;
            const std::optional<Analysis> &around = k == 0 ? m_scope->a : m_scope->a2;
            if (!around)
                continue;
            if (!a)
                a = *around;
            if (item.type)
                a->types[items[j]] = *item.type;
            if (item.shape[k])
                a->shapes[items[j]] = *item.shape[k];
        }
    }
    for (size_t o = 0; o < results; ++o)
        itemResults.push_back(fresh(n.name + "/item_result_" + std::to_string(o)));
    ScopeGuard guard(m_scope, scope);
    Attrs inner{{"num_scan_inputs", m}};
    if (n.hasAttribute("directions"))
        inner["scan_input_directions"] = n.attrInts("directions", {});
    onnx::NodeProto &scan = emit("Scan", n.name + "/item", items, itemResults, inner);
    writeBody(*scan.add_attribute(), "body", body, declared, carried);
    for (const auto &i : items)
        bodyValue(*scope.proto->add_input(), ValueInfo{i, {}, DType::Float32}, typeOf(i));
    for (size_t o = 0; o < results; ++o)
        bodyValue(*scope.proto->add_output(), ValueInfo{itemResults[o], {}, DType::Float32}, resultTypes[o]);
    for (const auto &[name, t] : scope.newInitializers)
        fillTensor(*scope.proto->add_initializer(), name, t);
}

// Writes `body` as the GRAPH attribute `attr` of the node just written: its nodes (each in the
// target opset's form, like the model's), the initializers it reads, and its inputs and outputs
// typed as far as they are known. `declared` is what the op feeds the body's inputs, in order;
// `carried` pairs an input with the output it comes back as between iterations, whose shape is
// taken as known in the body only when the body keeps it.
void Writer::writeBody(onnx::AttributeProto &attribute, const std::string &attr, const Graph &body,
                       const std::vector<BodyInput> &declared, const std::vector<std::pair<size_t, size_t>> &carried)
{
    attribute.set_name(attr);
    attribute.set_type(onnx::AttributeProto::GRAPH);
    Scope scope;
    scope.graph = &body;
    scope.proto = attribute.mutable_g();
    scope.parent = m_scope;
    scope.proto->set_name(body.name.empty() ? attr : body.name);
    std::vector<const Node *> nodes;
    for (const Node &n : body.nodes)
        nodes.push_back(&n);

    // What is known in it: the values around it, its initializers, its inputs as the op feeds them.
    auto analyseAt = [&](int k, bool carriedShapes) -> std::optional<Analysis> {
        const std::optional<Analysis> &around = k == 0 ? m_scope->a : m_scope->a2;
        if (!around)
            return std::nullopt;
        Analysis a = *around;
        for (const auto &[name, t] : body.initializers) {
            a.shapes[name] = t.shape();
            a.types[name] = t.dtype();
            if (t.device().type == DeviceType::Cpu)
                a.constants[name] = t;
        }
        for (size_t i = 0; i < body.inputs.size() && i < declared.size(); ++i) {
            const std::string &v = body.inputs[i].name;
            a.shapes.erase(v);
            a.types.erase(v);
            a.constants.erase(v);
            if (declared[i].type)
                a.types[v] = *declared[i].type;
            const bool isCarried = std::any_of(carried.begin(), carried.end(), [&](const auto &c) { return c.first == i; });
            if (declared[i].shape[k] && (carriedShapes || !isCarried))
                a.shapes[v] = *declared[i].shape[k];
        }
        analyse(a, nodes);
        return a;
    };
    try {
        scope.a = analyseAt(0, true);
        scope.a2 = analyseAt(1, true);
        bool kept = true; // every carried value keeps its shape through an iteration
        for (const auto &[i, o] : carried)
            for (int k = 0; k < 2; ++k) {
                const std::optional<Analysis> &a = k == 0 ? scope.a : scope.a2;
                if (!a || i >= declared.size() || !declared[i].shape[k] || o >= body.outputs.size())
                    continue;
                const auto it = a->shapes.find(body.outputs[o].name);
                kept = kept && it != a->shapes.end() && it->second == *declared[i].shape[k];
            }
        if (!kept) {
            scope.a = analyseAt(0, false);
            scope.a2 = analyseAt(1, false);
        }
    } catch (const Error &) {
        scope.a.reset();
        scope.a2.reset();
    }

    ScopeGuard guard(m_scope, scope);
    for (const Node *n : nodes)
        write(*n);
    for (size_t i = 0; i < body.inputs.size(); ++i)
        bodyValue(*scope.proto->add_input(), body.inputs[i], i < declared.size() ? declared[i].type : std::nullopt);
    for (const auto &o : body.outputs) {
        use(o.name);
        bodyValue(*scope.proto->add_output(), o, std::nullopt);
    }
    for (const auto &[name, t] : body.initializers)
        if (scope.usedInitializers.count(name))
            fillTensor(*scope.proto->add_initializer(), name, t);
    for (const auto &[name, t] : scope.newInitializers)
        fillTensor(*scope.proto->add_initializer(), name, t);
}

// A subgraph's input or output, typed as far as it is known: the element type the op feeds (or the
// file declared, or the analysis found — the importer's float32 without a shape also stands for "not
// declared"); the shape the file declared (-1: a dimension of unknown size), else the analysis's,
// with the dimensions that follow the free ones unknown. Neither known: the value is left untyped,
// which ONNX allows in subgraphs.
void Writer::bodyValue(onnx::ValueInfoProto &p, const ValueInfo &v, std::optional<DType> type) const
{
    p.set_name(v.name);
    const bool undeclared = v.dtype == DType::Float32 && v.shape.empty();
    if (!type && !undeclared)
        type = v.dtype;
    if (!type)
        type = typeOf(v.name);
    if (!type)
        return;
    auto *t = p.mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnxType(*type));
    if (!v.shape.empty()) {
        auto *shape = t->mutable_shape();
        for (int64_t d : v.shape) {
            auto *dim = shape->add_dim();
            if (d >= 0)
                dim->set_dim_value(d);
        }
        return;
    }
    const auto s1 = shapeOf(v.name, 0), s2 = shapeOf(v.name, 1);
    if (!s1 || !s2 || s1->size() != s2->size())
        return;
    auto *shape = t->mutable_shape();
    for (size_t i = 0; i < s1->size(); ++i) {
        auto *dim = shape->add_dim();
        if ((*s1)[i] == (*s2)[i])
            dim->set_dim_value((*s1)[i]);
    }
}

std::string Writer::run()
{
    check(V >= 11 && V <= 17, "ONNX export writes opsets 11–17, not " + std::to_string(V) + ".");
    // The inference graph: no loss, and no input only a loss reads.
    std::set<std::string> dropped{"labels"}, lossReads;
    std::vector<const Node *> nodes;
    for (const auto &n : m_model.nodes) {
        if (isTrainingLoss(n.opType)) {
            dropped.insert(n.outputs.begin(), n.outputs.end());
            lossReads.insert(n.inputs.begin(), n.inputs.end());
            continue;
        }
        nodes.push_back(&n);
        m_read.insert(n.inputs.begin(), n.inputs.end());
    }
    for (const auto &out : m_model.outputs)
        m_read.insert(out.name);
    std::vector<ValueInfo> inputs;
    for (const auto &in : m_model.inputs)
        if (!dropped.count(in.name) && !m_model.initializers.count(in.name) && (m_read.count(in.name) || !lossReads.count(in.name)))
            inputs.push_back(in);
    // A graph of constants alone (no data input) is a valid ONNX model too.

    // Every value name the model and its subgraphs use, so that the values a rewrite adds are new
    // (ONNX wants a name defined once across a graph and its subgraphs); what subgraphs read.
    std::function<void(const Graph &, bool)> names = [&](const Graph &g, bool sub) {
        for (const auto &in : g.inputs)
            m_names.insert(in.name);
        for (const auto &out : g.outputs) {
            m_names.insert(out.name);
            if (sub)
                m_read.insert(out.name);
        }
        for (const auto &[k, v] : g.initializers)
            m_names.insert(k);
        for (const auto &n : g.nodes) {
            m_names.insert(n.inputs.begin(), n.inputs.end());
            m_names.insert(n.outputs.begin(), n.outputs.end());
            if (sub)
                m_read.insert(n.inputs.begin(), n.inputs.end());
            for (const auto &[k, v] : n.attributes)
                if (const auto *body = std::get_if<std::shared_ptr<Graph>>(&v); body && *body)
                    names(**body, true);
        }
    };
    names(m_model, false);

    // Shapes, types and constants at two settings of the free dimensions (batch 1 and 2, or the
    // batch the input fixes): what differs follows them.
    std::vector<int64_t> batches;
    for (const auto &in : inputs)
        batches.push_back(exportBatch(in, m_options.dynamicBatch));
    auto settingOf = [&](int64_t free) {
        std::map<std::string, ValueInfo> s;
        for (size_t i = 0; i < inputs.size(); ++i) {
            ValueInfo v = inputs[i];
            for (size_t d = 0; d < v.shape.size(); ++d)
                if (d == 0)
                    v.shape[d] = batches[i] > 0 ? batches[i] : free;
                else if (v.shape[d] < 0)
                    v.shape[d] = free;
            s[v.name] = v;
        }
        return s;
    };
    try {
        m_top.a = seedAnalysis(m_model.initializers, settingOf(1));
        analyse(*m_top.a, nodes);
        m_top.a2 = seedAnalysis(m_model.initializers, settingOf(2));
        analyse(*m_top.a2, nodes);
    } catch (const Error &e) {
        m_top.a.reset();
        m_top.a2.reset();
        m_analysisError = e.what();
    }

    onnx::ModelProto m;
    m.set_ir_version(irVersionFor(V));
    m.set_producer_name("Netwright");
    m.set_producer_version(m_options.producerVersion);
    auto *opset = m.add_opset_import();
    opset->set_domain("");
    opset->set_version(V);
    for (const auto &[k, v] : m_options.metadata) {
        auto *p = m.add_metadata_props();
        p->set_key(k);
        p->set_value(v);
    }
    m_top.graph = &m_model;
    m_top.proto = m.mutable_graph();
    onnx::GraphProto *const g = m_top.proto;
    g->set_name(m_model.name);

    for (const Node *n : nodes)
        write(*n);
    m_problems.raise(m_model, "ONNX opset " + std::to_string(V));

    const bool anyFreeBatch = std::find(batches.begin(), batches.end(), -1) != batches.end();
    auto typeProto = [&](onnx::ValueInfoProto &v, const std::string &name, DType dtype, const std::optional<Shape> &shape,
                         const std::function<void(onnx::TensorShapeProto_Dimension &, size_t, int64_t)> &dim) {
        v.set_name(name);
        auto *t = v.mutable_type()->mutable_tensor_type();
        t->set_elem_type(onnxType(dtype));
        if (!shape)
            return;
        auto *s = t->mutable_shape();
        for (size_t i = 0; i < shape->size(); ++i)
            dim(*s->add_dim(), i, (*shape)[i]);
    };
    for (size_t i = 0; i < inputs.size(); ++i)
        typeProto(*g->add_input(), inputs[i].name, inputs[i].dtype, inputs[i].shape,
                  [&](onnx::TensorShapeProto_Dimension &d, size_t k, int64_t v) {
                      if (k == 0 && batches[i] < 0)
                          d.set_dim_param("batch");
                      else if (k == 0)
                          d.set_dim_value(batches[i]);
                      else if (v < 0)
                          d.set_dim_param(inputs[i].name + "_dim" + std::to_string(k));
                      else
                          d.set_dim_value(v);
                  });
    for (const auto &out : m_model.outputs) {
        if (dropped.count(out.name))
            continue;
        // The shape as analysed, else as the model declares it (-1: unknown); the declared type.
        std::optional<Shape> shape = out.shape;
        if (m_top.a && m_top.a->shapes.count(out.name))
            shape = m_top.a->shapes.at(out.name);
        const DType dtype = out.dtype;
        typeProto(*g->add_output(), out.name, dtype, shape, [&](onnx::TensorShapeProto_Dimension &d, size_t k, int64_t v) {
            const auto fixed = staticDim(out.name, static_cast<int>(k));
            if (fixed)
                d.set_dim_value(*fixed);
            else if (k == 0 && anyFreeBatch)
                d.set_dim_param("batch");
            else if (v >= 0 && !(m_top.a && m_top.a->shapes.count(out.name)))
                d.set_dim_value(v);
        });
    }
    for (const auto &[name, t] : m_model.initializers)
        if (m_top.usedInitializers.count(name))
            fillTensor(*g->add_initializer(), name, t);
    for (const auto &[name, t] : m_top.newInitializers)
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

} // namespace

std::vector<std::string> exportableOps()
{
    std::vector<std::string> out;
    for (const auto &[op, v] : onnxOps())
        if (!isTrainingLoss(op))
            out.push_back(op);
    return out;
}

int64_t firstExportOpset(const std::string &opType)
{
    const auto it = onnxOps().find(opType);
    return it == onnxOps().end() ? 0 : it->second;
}

std::string exportOnnx(const Graph &model, const OnnxExportOptions &options)
{
    return Writer(model, options).run();
}

} // namespace netwright::onnx_format
