// SPDX-License-Identifier: Apache-2.0
#include "formats/cntk/cntk_model.h"

#include "core/error.h"
#include "formats/cntk/dictionary.h"
#include "formats/inference_graph.h"
#include "graph/graph.h"
#include "ops/op.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <set>

namespace netwright::cntk {

namespace {

constexpr uint64_t kPrimitiveFunctionVersion = 24; // "Version 24: Add ConvolutionSequenceShape"
constexpr int32_t kDynamicAxis = 2147483647;       // static_axis_idx of a dynamic axis

// PrimitiveOpType (cntk-v2.md section 5), index = value.
constexpr std::array<const char *, 98> kOpNames{
    "Negate", "Sigmoid", "Tanh", "ReLU", "Exp", "Log", "Sqrt", "Floor", "Abs", "Reciprocal", "Softmax", "Hardmax",
    "TransposeAxes", "Where", "Slice", "Dropout", "Reshape", "Pooling", "SumAll", "Plus", "Minus", "ElementTimes", "Equal",
    "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "PackedIndex", "GatherPacked", "ScatterPacked", "Times",
    "TransposeTimes", "Convolution", "SquaredError", "CrossEntropyWithSoftmax", "ClassificationError", "PastValue",
    "FutureValue", "ReduceElements", "BatchNormalization", "Clip", "Select", "Splice", "Combine", "RandomSample",
    "RandomSampleInclusionFrequency", "ROIPooling", "Logistic", "OptimizedRNNStack", "ReconcileDynamicAxis", "LogSoftmax",
    "LogPlus", "CosDistance", "Sin", "Cos", "Pass", "Block", "Unpooling", "LambdaRank", "NDCG", "EditDistanceError", "NoOp",
    "LabelsToGraph", "StopGradient", "ELU", "ForwardBackward", "CosDistanceWithNegativeSamples", "OneHot", "Pow",
    "ToSequence", "ToSequenceLike", "UnpackSequence", "Assign", "Gather", "StableSigmoid", "RandomDistribution", "Sinh",
    "Cosh", "UnpackBatch", "ToBatch", "Asin", "Acos", "Pad", "Crop", "Atanh", "Asinh", "TopK", "Squeeze", "ConstantOp",
    "LatticeSequenceWithSoftmax", "Cast", "EyeLikeOp", "CustomProxyOp", "StraightThrough", "Tan", "Atan",
    "ConvolutionSequenceShape"};

enum Op : uint64_t {
    Negate = 0, Sigmoid = 1, Tanh = 2, ReLU = 3, Exp = 4, Log = 5, Sqrt = 6, Floor = 7, Abs = 8, Reciprocal = 9, Softmax = 10,
    Hardmax = 11, TransposeAxes = 12, Slice = 14, Dropout = 15, Reshape = 16, Pooling = 17, Plus = 19, Minus = 20, ElementTimes = 21,
    Equal = 22, Less = 24, LessEqual = 25, Greater = 26, GreaterEqual = 27, Times = 31, TransposeTimes = 32, Convolution = 33,
    CrossEntropyWithSoftmax = 35, ClassificationError = 36, ReduceElements = 39, BatchNormalization = 40, Clip = 41, Select = 42,
    Splice = 43, Combine = 44, LogSoftmax = 51, Sin = 54, Cos = 55, ELU = 65, Pow = 69, Gather = 74, Sinh = 77, Cosh = 78, Asin = 81,
    Acos = 82, Pad = 83, Atanh = 85, Asinh = 86, Tan = 95, Atan = 96
};

using dict::Dictionary;
using dict::Value;

std::vector<Value> bools(size_t n, bool v)
{
    return std::vector<Value>(n, dict::boolean(v));
}

// Engine op → CNTK primitive of the same meaning, one operand.
const std::map<std::string, uint64_t> &unaryOps()
{
    static const std::map<std::string, uint64_t> m{
        {"Relu", ReLU}, {"Sigmoid", Sigmoid}, {"Tanh", Tanh},   {"Neg", Negate}, {"Exp", Exp},   {"Log", Log},     {"Sqrt", Sqrt},
        {"Floor", Floor}, {"Abs", Abs},       {"Reciprocal", Reciprocal},        {"Sin", Sin},   {"Cos", Cos},     {"Tan", Tan},
        {"Asin", Asin}, {"Acos", Acos},       {"Atan", Atan},   {"Sinh", Sinh},  {"Cosh", Cosh}, {"Asinh", Asinh}, {"Atanh", Atanh}};
    return m;
}

// Engine op → CNTK primitive of the same meaning, two operands broadcast as ONNX does.
const std::map<std::string, uint64_t> &binaryOps()
{
    static const std::map<std::string, uint64_t> m{
        {"Add", Plus},       {"Sub", Minus},           {"Mul", ElementTimes},           {"Pow", Pow},      {"Equal", Equal},
        {"Less", Less},      {"Greater", Greater},     {"LessOrEqual", LessEqual},      {"GreaterOrEqual", GreaterEqual}};
    return m;
}

// Every op type the writer has a mapping for (some settings of them may still be refused).
bool mappable(const std::string &op)
{
    static const std::set<std::string> other{
        "Softmax", "LogSoftmax", "Hardmax", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Transpose", "Slice", "Split", "Concat",
        "Dropout", "Identity", "Gemm", "MatMul", "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool",
        "GlobalMaxPool", "BatchNormalization", "Clip", "Sum", "Where", "Ceil", "Elu", "LeakyRelu", "PRelu", "HardSigmoid",
        "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceLogSumExp", "Pad", "Gather", "Cast",
        "SoftmaxCrossEntropyLoss",
        // Written step by step (see rnn()).
        "LSTM", "GRU", "RNN",
        // Shape arithmetic: written as the constants it computes (see fold()).
        "Shape", "Size", "Constant", "ConstantOfShape", "Range"};
    return other.count(op) || unaryOps().count(op) || binaryOps().count(op);
}

// Why an op type has no CNTK mapping, for the pre-flight.
std::string refusal(const std::string &op)
{
    static const std::map<std::string, std::string> why{
        {"Div", "CNTK has no element-wise division (its element_divide is x·(1/y), which rounds differently)"},
        {"Max", "CNTK has no element-wise maximum (a Select of a comparison differs where an input is NaN)"},
        {"Min", "CNTK has no element-wise minimum (a Select of a comparison differs where an input is NaN)"},
        {"Erf", "CNTK has no error function"},
        {"Gelu", "CNTK has no error function (GELU needs erf)"},
        {"LayerNormalization", "CNTK has no layer normalization primitive, and its composition would divide (not exact in CNTK)"},
        {"HardSwish", "CNTK has no hard-swish (x·hard_sigmoid(x) multiplies by 1/6 where the engine divides by 6)"},
        {"Acosh", "CNTK has no inverse hyperbolic cosine"},
        {"Expand", "CNTK broadcasts only inside element-wise operations; it has no Expand"},
        {"Tile", "CNTK has no Tile"}};
    const auto it = why.find(op);
    return it == why.end() ? "no CNTK model-v2 equivalent" : it->second;
}

bool isRandom(const std::string &op)
{
    return op == "Dropout" || op == "RandomNormal" || op == "RandomUniform" || op == "RandomNormalLike" || op == "RandomUniformLike"
           || op == "Bernoulli" || op == "Multinomial";
}

// A tensor of any numeric type as float32 (CNTK computes in float): nullopt when a value does not
// survive the conversion exactly.
std::optional<Tensor> asFloat32(const Tensor &t)
{
    if (t.dtype() == DType::Float32)
        return t;
    Tensor out(t.shape(), DType::Float32);
    for (int64_t i = 0; i < t.numel(); ++i) {
        double v = 0;
        switch (t.dtype()) {
        case DType::Int64: v = static_cast<double>(t.dataAs<int64_t>()[i]); break;
        case DType::Int32: v = t.dataAs<int32_t>()[i]; break;
        case DType::Bool: v = t.dataAs<bool>()[i] ? 1.0 : 0.0; break;
        case DType::Float64: v = t.dataAs<double>()[i]; break;
        default: return std::nullopt;
        }
        out.data()[i] = static_cast<float>(v);
        if (static_cast<double>(out.data()[i]) != v)
            return std::nullopt;
    }
    return out;
}

std::optional<std::vector<int64_t>> asInts(const Tensor &t)
{
    std::vector<int64_t> out;
    for (int64_t i = 0; i < t.numel(); ++i) {
        if (t.dtype() == DType::Int64)
            out.push_back(t.dataAs<int64_t>()[i]);
        else if (t.dtype() == DType::Int32)
            out.push_back(t.dataAs<int32_t>()[i]);
        else
            return std::nullopt;
    }
    return out;
}

Value staticAxis(int64_t index)
{
    return dict::axis(static_cast<int32_t>(index), "staticAxis_" + std::to_string(index), false);
}

// Builds the CompositeFunction: uids are <Kind|Op><counter> with one counter, as CNTK numbers them.
// CNTK's batch is a dynamic axis, not one of a value's axes: a value computed from the data input
// ("batched") has the sample's axes only, listed column-major (CNTK static axis k of a sample of
// rank r is row-major sample axis r-1-k, engine axis r-k); constants keep all their axes.
class Writer {
public:
    explicit Writer(const Graph &g) : m_g(g) {}

    // training: the training function (output, loss and error under a Combine, with the labels
    // input); otherwise the model alone, rooted at its output.
    std::string encode(bool training)
    {
        const Node *loss = nullptr;
        for (const auto &n : m_g.nodes)
            if (n.opType == "SoftmaxCrossEntropyLoss")
                loss = &n;
        check(loss != nullptr || !training, "Graph \"" + m_g.name + "\" has no loss node: only a training graph is written as a CNTK checkpoint.");
        // Pre-flight, part 1: every op type the writer has no mapping for, listed before shapes
        // are inferred (which needs a kernel for every op).
        ExportProblems unknown;
        for (const auto &n : m_g.nodes)
            if (!mappable(n.opType))
                unknown.add(n, refusal(n.opType));
        const ValueInfo *input = nullptr;
        for (const auto &in : m_g.inputs)
            if (in.name != "labels" && !m_g.initializers.count(in.name) && !input)
                input = &in;
        if (!input)
            unknown.raise(m_g, "CNTK model-v2");
        check(input != nullptr, "Graph \"" + m_g.name + "\" has no data input.");
        // Shapes at the batch the input fixes (PyTorch's default export folds it into its
        // constants), else at 1 and 2 (to tell the axes that follow the batch); CNTK's batch axis
        // is dynamic either way.
        Shape inShape = input->shape;
        check(!inShape.empty(), "Graph \"" + m_g.name + "\": its input \"" + input->name + "\" has no batch axis.");
        const bool freeBatch = inShape[0] <= 0;
        m_batch = freeBatch ? 1 : inShape[0];
        inShape[0] = m_batch;
        try {
            m_shapes = m_g.inferShapes({{input->name, inShape}, {"labels", {m_batch}}});
            if (freeBatch) {
                Shape two = inShape;
                two[0] = 2;
                m_shapes2 = m_g.inferShapes({{input->name, two}, {"labels", {2}}});
            }
        } catch (const Error &) {
            unknown.raise(m_g, "CNTK model-v2");
            throw;
        }
        std::string output;
        for (const auto &o : m_g.outputs)
            if (o.name != "loss" && output.empty())
                output = o.name;
        if (loss)
            output = loss->inputs[0];
        check(!output.empty(), "Graph \"" + m_g.name + "\" has no output.");
        const int64_t classes = m_shapes.at(output).back();

        // Leaves: the data input, the one-hot labels CNTK's criteria take, then the initializers.
        Shape sample(inShape.begin() + 1, inShape.end());
        m_values[input->name] = addInput(input->name, sample);
        m_batched.insert(input->name);
        if (training)
            m_values["labels"] = addInput("labels", {classes});
        for (const auto &[name, t] : m_g.initializers)
            if (t.dtype() == DType::Float32)
                m_values[name] = addVariable(m_g.trainable.count(name) ? "Parameter" : "Constant", name, t, dict::reversed(t.shape()));
        for (const auto &n : m_g.nodes)
            for (const auto &i : n.inputs)
                m_used.insert(i);
        m_used.insert(output);
        for (const auto &n : m_g.nodes) {
            if (&n == loss || fold(n))
                continue;
            bool batched = false;
            for (const auto &i : n.inputs)
                batched = batched || (!i.empty() && m_batched.count(i));
            for (const auto &o : n.outputs)
                if (batched && !o.empty())
                    m_batched.insert(o);
            // A node fed by one that was refused is named only when its op type has no mapping at
            // all: its settings (where its batch axis lies) follow from the refused node's.
            const bool fed = std::any_of(n.inputs.begin(), n.inputs.end(), [&](const std::string &i) {
                const auto it = m_values.find(i);
                return it != m_values.end() && it->second == "?";
            });
            const bool ok = !mappable(n.opType) ? fail(n, refusal(n.opType)) : !fed && readsItsBatch(n) && addNode(n) && keepsTheBatch(n);
            for (const auto &o : n.outputs)
                if (!o.empty() && (!ok || !m_values.count(o)))
                    m_values[o] = "?"; // not written: named in the problems
        }
        m_problems.raise(m_g, "CNTK model-v2");
        check(m_values.count(output) && m_batched.count(output), "Graph \"" + m_g.name + "\": its output \"" + output + "\" is not computed from its input.");
        check(batchAxis(output) == 0, "Graph \"" + m_g.name + "\": its output \"" + output + "\" carries the batch on axis " + std::to_string(batchAxis(output))
                                          + ", not first, as CNTK's dynamic batch axis needs.");
        const std::string z = m_values.at(output);
        std::string root = z;
        if (training) {
            const std::string ce = addFunction(CrossEntropyWithSoftmax, "loss", {z, m_values["labels"]}, dict::make());
            const std::string err = addFunction(ClassificationError, "error", {z, m_values["labels"]}, dict::make());
            root = addFunction(Combine, "", {z, ce, err}, dict::make());
        }
        check(root.find("_Output_") != std::string::npos, "Graph \"" + m_g.name + "\": its output is not computed by any node.");

        Dictionary top = dict::make();
        dict::put(top, "version", dict::sizeT(1));
        dict::put(top, "type", dict::string("CompositeFunction"));
        dict::put(top, "uid", dict::string("CompositeFunction" + std::to_string(m_counter++)));
        dict::put(top, "root", dict::string(root.substr(0, root.find("_Output_"))));
        if (!m_g.name.empty())
            dict::put(top, "name", dict::string(m_g.name));
        dict::put(top, "inputs", dict::vector(std::move(m_inputs)));
        dict::put(top, "primitive_functions", dict::vector(std::move(m_functions)));
        dict::put(top, "state", dict::dictionary(std::move(m_state)));
        return dict::serialize(top);
    }

private:
    bool fail(const Node &n, const std::string &why)
    {
        m_problems.add(n, why);
        return false;
    }

    // A batched output keeps the batch as its first axis, which CNTK's dynamic axis stands for:
    // checked at two batch sizes when the batch is free, at the fixed batch otherwise.
    bool keepsTheBatch(const Node &n)
    {
        for (const auto &o : n.outputs) {
            if (o.empty() || !m_batched.count(o) || !m_shapes.count(o) || !m_values.count(o))
                continue; // BatchNormalization's running statistics, Dropout's mask: not written
            const Shape &a = m_shapes.at(o);
            const auto k = static_cast<size_t>(batchAxis(o));
            bool ok = a.size() > k && a[k] == m_batch;
            if (ok && !m_shapes2.empty()) {
                const Shape &b = m_shapes2.at(o);
                ok = b.size() == a.size() && b[k] == 2;
                for (size_t i = 0; ok && i < a.size(); ++i)
                    ok = i == k || a[i] == b[i];
            }
            if (!ok)
                return fail(n, "it moves or merges the batch axis, which CNTK keeps as a dynamic axis of its own");
        }
        return true;
    }

    // CNTK's batch is a dynamic axis; a value that carries the engine's batch on another axis than
    // the first (a recurrent layer's time-major [T, B, …] values, layout 0) is a sample with that
    // axis left out. Only ops that move axes around it read such values: Transpose, the reshapes,
    // the element-wise functions of one operand and the recurrent layers themselves.
    bool readsItsBatch(const Node &n)
    {
        static const std::set<std::string> movers{"Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "LSTM", "GRU", "RNN"};
        if (movers.count(n.opType) || unaryOps().count(n.opType))
            return true;
        for (const auto &i : n.inputs)
            if (!i.empty() && batchAxis(i) != 0)
                return fail(n, "its input \"" + i + "\" carries the batch on axis " + std::to_string(batchAxis(i))
                                   + " (time-major, as a recurrent layer's [T, B, …]), where CNTK keeps the batch as a dynamic axis of its own "
                                     "(only Transpose, the reshapes, functions of one operand and the recurrent layers are written over such a value)");
        return true;
    }

    // Shape arithmetic on constants (PyTorch's Shape → Gather → Concat → Reshape, Constant
    // nodes) is computed here: its results become CNTK Constants where a function reads them.
    // Nodes reading a model's trainable tensors are never folded, so every weight stays a Parameter
    // (a constant PyTorch expands into a recurrent layer's zero initial state folds).
    bool fold(const Node &n)
    {
        if (isRandom(n.opType) || n.opType == "Identity" || isTrainingLoss(n.opType) || !hasKernel(n.opType))
            return false;
        const OpKernel &k = kernelFor(n.opType, DeviceType::Cpu, n);
        std::vector<Shape> shapes;
        std::vector<const Tensor *> values;
        bool all = true, batched = false;
        for (const auto &i : n.inputs) {
            if (i.empty()) {
                shapes.emplace_back();
                values.push_back(nullptr);
                continue;
            }
            if (const auto it = m_g.initializers.find(i); it != m_g.initializers.end() && it->second.dtype() == DType::Float32 && m_g.trainable.count(i))
                return false;
            batched = batched || m_batched.count(i);
            shapes.push_back(m_shapes.count(i) ? m_shapes.at(i) : Shape{});
            const Tensor *t = known(i);
            values.push_back(t);
            all = all && t;
        }
        std::vector<Tensor> out;
        // The shape of a batched value is a constant only where the model fixes the batch.
        if (!batched || m_shapes2.empty())
            if (auto v = k.valueFromShapes(n, shapes))
                out.push_back(std::move(*v));
        if (out.empty() && all) {
            int64_t total = 0;
            for (const auto &o : n.outputs)
                if (!o.empty() && m_shapes.count(o))
                    total += shapeNumel(m_shapes.at(o));
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

    // A constant the writer knows: a non-float initializer or a folded value.
    const Tensor *known(const std::string &v) const
    {
        if (const auto it = m_folded.find(v); it != m_folded.end())
            return &it->second;
        if (const auto it = m_g.initializers.find(v); it != m_g.initializers.end())
            return &it->second;
        return nullptr;
    }

    std::optional<std::vector<int64_t>> constInts(const Node &n, size_t input, const char *attribute)
    {
        if (input < n.inputs.size() && !n.inputs[input].empty()) {
            const Tensor *t = known(n.inputs[input]);
            return t ? asInts(*t) : std::nullopt;
        }
        if (attribute && n.hasAttribute(attribute))
            return n.attrInts(attribute, {});
        return std::vector<int64_t>{};
    }

    std::optional<float> constFloat(const std::string &v) const
    {
        const Tensor *t = known(v);
        if (!t || t->numel() != 1)
            return std::nullopt;
        const auto f = asFloat32(*t);
        return f ? std::optional<float>(f->data()[0]) : std::nullopt;
    }

    std::string addInput(const std::string &name, const Shape &sampleShape)
    {
        Dictionary v = variable("Input", name, 0);
        dict::put(v, "dynamic_axis", dict::vector({dict::axis(kDynamicAxis, "defaultBatchAxis", false)}));
        dict::put(v, "needs_gradient", dict::boolean(false));
        dict::put(v, "shape", dict::shape(dict::reversed(sampleShape)));
        return finishVariable(std::move(v));
    }

    std::string addVariable(const std::string &kind, const std::string &name, const Tensor &t, const std::vector<uint64_t> &cntkShape)
    {
        Dictionary v = variable(kind, name, kind == "Parameter" ? 2 : 3);
        dict::put(v, "dynamic_axis", dict::vector({}));
        dict::put(v, "needs_gradient", dict::boolean(kind == "Parameter"));
        dict::put(v, "shape", dict::shape(cntkShape));
        dict::put(v, "value", dict::array(t, cntkShape));
        return finishVariable(std::move(v));
    }

    std::string scalarConstant(const std::string &name, float value)
    {
        return addVariable("Constant", name, Tensor::full({}, value), {});
    }

    Dictionary variable(const std::string &kind, const std::string &name, uint64_t kindValue)
    {
        Dictionary v = dict::make();
        m_uid = kind + std::to_string(m_counter++);
        dict::put(v, "version", dict::sizeT(1));
        dict::put(v, "type", dict::string("Variable"));
        dict::put(v, "uid", dict::string(m_uid));
        dict::put(v, "kind", dict::sizeT(kindValue));
        dict::put(v, "data_type", dict::sizeT(1)); // Float
        dict::put(v, "is_sparse", dict::boolean(false));
        if (!name.empty())
            dict::put(v, "name", dict::string(name));
        return v;
    }

    std::string finishVariable(Dictionary v)
    {
        m_inputs.push_back(dict::dictionary(std::move(v)));
        return m_uid;
    }

    // Returns the output uid "<uid>_Output_0".
    std::string addFunction(uint64_t op, const std::string &name, const std::vector<std::string> &inputs, Dictionary attributes)
    {
        const std::string uid = kOpNames.at(op) + std::to_string(m_counter++);
        Dictionary f = dict::make();
        dict::put(f, "version", dict::sizeT(kPrimitiveFunctionVersion));
        dict::put(f, "type", dict::string("PrimitiveFunction"));
        dict::put(f, "uid", dict::string(uid));
        dict::put(f, "op", dict::sizeT(op));
        if (!name.empty())
            dict::put(f, "name", dict::string(name));
        std::vector<Value> in;
        for (const auto &i : inputs)
            in.push_back(dict::string(i));
        dict::put(f, "inputs", dict::vector(std::move(in)));
        dict::put(f, "attributes", dict::dictionary(std::move(attributes)));
        m_functions.push_back(dict::dictionary(std::move(f)));
        return uid + "_Output_0";
    }

    // The spatial attributes of a 2-D window op, CNTK order (W, H[, C]).
    static std::vector<uint64_t> pair(const std::vector<int64_t> &hw, std::optional<uint64_t> channels = {})
    {
        std::vector<uint64_t> out{static_cast<uint64_t>(hw.at(1)), static_cast<uint64_t>(hw.at(0))};
        if (channels)
            out.push_back(*channels);
        return out;
    }

    // The CNTK uid of an engine value; a folded value or a non-float initializer becomes a
    // Constant the first time a function reads it ("?" when it cannot, or was not written).
    std::string value(const std::string &v)
    {
        if (const auto it = m_values.find(v); it != m_values.end())
            return it->second;
        if (const Tensor *t = known(v))
            if (const auto f = asFloat32(*t))
                return m_values[v] = addVariable("Constant", v, *f, dict::reversed(f->shape()));
        return "?";
    }

    const Shape &shape(const std::string &v) const { return m_shapes.at(v); }
    bool batched(const std::string &v) const { return m_batched.count(v) != 0; }
    int64_t sampleRank(const std::string &v) const { return static_cast<int64_t>(shape(v).size()) - (batched(v) ? 1 : 0); }
    // A value's shape as CNTK lists it: the sample's axes (no batch), column-major.
    std::vector<uint64_t> cntkShape(const std::string &v) const
    {
        Shape s = shape(v);
        if (batched(v))
            s.erase(s.begin() + batchAxis(v));
        return dict::reversed(s);
    }
    // The engine axis of a batched value that carries the batch: 0 but after a recurrent layer's
    // time-major values (and the Transposes and reshapes that move them).
    int64_t batchAxis(const std::string &v) const
    {
        const auto it = m_batchAxis.find(v);
        return it == m_batchAxis.end() ? 0 : it->second;
    }
    void setBatchAxis(const std::string &v, int64_t axis)
    {
        if (axis == 0)
            m_batchAxis.erase(v);
        else
            m_batchAxis[v] = axis;
    }
    // Engine axis `a` of `v` (negative counts from the end) as CNTK's static axis index; nullopt
    // for the batch axis or an axis out of range.
    std::optional<int64_t> cntkAxis(const std::string &v, int64_t a) const
    {
        const auto rank = static_cast<int64_t>(shape(v).size());
        if (a < 0)
            a += rank;
        const int64_t b = batchAxis(v);
        if (a < 0 || a >= rank || (batched(v) && a == b))
            return std::nullopt;
        return sampleRank(v) - 1 - (a - (batched(v) && a > b ? 1 : 0));
    }

    // An operand of an element-wise op whose output is `out`. CNTK aligns trailing axes as ONNX
    // does, but the batch is none of its axes: two batched operands must have the same rank, and
    // a constant that reaches the batch axis may only be 1 there (its leading 1s are reshaped away).
    std::optional<std::string> elementwise(const Node &n, const std::string &v, const std::string &out)
    {
        const Shape &s = shape(v), &o = shape(out);
        if (batched(v)) {
            if (s.size() != o.size()) {
                fail(n, "it broadcasts a batched value of lower rank against the batch axis, which CNTK does not");
                return std::nullopt;
            }
            return value(v);
        }
        if (!batched(out) || s.size() < o.size())
            return value(v);
        const size_t extra = s.size() - (o.size() - 1);
        for (size_t k = 0; k < extra; ++k)
            if (s[k] != 1) {
                fail(n, "a constant operand varies along the batch axis, which CNTK broadcasts over");
                return std::nullopt;
            }
        Dictionary a = dict::make();
        dict::put(a, "newShape", dict::shape(dict::reversed(Shape(s.begin() + static_cast<std::ptrdiff_t>(extra), s.end()))));
        return addFunction(Reshape, n.name + "." + std::to_string(m_counter) + ".rank", {value(v)}, std::move(a));
    }

    bool addNode(const Node &n)
    {
        const std::string &y = n.outputs.at(0);
        auto in = [&](size_t i) { return value(n.inputs.at(i)); };
        const std::string &op = n.opType;
        std::string out;
        if (const auto u = unaryOps().find(op); u != unaryOps().end()) {
            out = addFunction(u->second, n.name, {in(0)}, dict::make());
            setBatchAxis(y, batchAxis(n.inputs[0]));
        } else if (op == "Ceil") {
            // ceil(x) = −floor(−x), exactly (signed zeros and NaN included).
            const std::string neg = addFunction(Negate, n.name + ".neg", {in(0)}, dict::make());
            out = addFunction(Negate, n.name, {addFunction(Floor, n.name + ".floor", {neg}, dict::make())}, dict::make());
        } else if (const auto b = binaryOps().find(op); b != binaryOps().end() || op == "Sum") {
            std::vector<std::string> operands;
            for (const auto &i : n.inputs) {
                const auto v = elementwise(n, i, y);
                if (!v)
                    return false;
                operands.push_back(*v);
            }
            if (op == "Sum") { // left to right, as the engine adds
                out = operands.at(0);
                for (size_t i = 1; i < operands.size(); ++i)
                    out = addFunction(Plus, i + 1 == operands.size() ? n.name : n.name + "." + std::to_string(i), {out, operands[i]}, dict::make());
                if (operands.size() == 1)
                    return alias(n, n.inputs[0]);
            } else {
                out = addFunction(b->second, n.name, {operands.at(0), operands.at(1)}, dict::make());
            }
        } else if (op == "Where") {
            std::vector<std::string> operands;
            for (const auto &i : n.inputs) {
                const auto v = elementwise(n, i, y);
                if (!v)
                    return false;
                operands.push_back(*v);
            }
            out = addFunction(Select, n.name, operands, dict::make());
        } else if (op == "Elu" || op == "LeakyRelu" || op == "PRelu") {
            // CNTK's ELU has alpha 1; other alphas, LeakyRelu and PRelu are x < 0 ? a·x : x, as
            // CNTK's own leaky_relu composes it (Select of Less).
            const float alpha = n.attrFloat("alpha", op == "Elu" ? 1.0f : 0.01f);
            if (op == "Elu" && alpha == 1.0f) {
                out = addFunction(ELU, n.name, {in(0)}, dict::make());
            } else {
                std::string slope;
                if (op == "PRelu") {
                    const auto s = elementwise(n, n.inputs.at(1), y);
                    if (!s)
                        return false;
                    slope = *s;
                } else {
                    slope = scalarConstant(n.name + ".alpha", alpha);
                }
                const std::string negative = addFunction(Less, n.name + ".negative", {in(0), scalarConstant(n.name + ".zero", 0.0f)}, dict::make());
                const std::string x = op == "Elu" ? addFunction(ELU, n.name + ".elu", {in(0)}, dict::make()) : in(0);
                const std::string scaled = addFunction(ElementTimes, n.name + ".scaled", {x, slope}, dict::make());
                out = addFunction(Select, n.name, {negative, scaled, in(0)}, dict::make());
            }
        } else if (op == "HardSigmoid") {
            // max(0, min(1, alpha·x + beta)) = Clip(alpha·x + beta, 0, 1), operation for operation.
            const std::string scaled =
                addFunction(ElementTimes, n.name + ".scaled", {in(0), scalarConstant(n.name + ".alpha", n.attrFloat("alpha", 0.2f))}, dict::make());
            const std::string shifted =
                addFunction(Plus, n.name + ".shifted", {scaled, scalarConstant(n.name + ".beta", n.attrFloat("beta", 0.5f))}, dict::make());
            out = addFunction(Clip, n.name, {shifted, scalarConstant(n.name + ".min", 0.0f), scalarConstant(n.name + ".max", 1.0f)}, dict::make());
        } else if (op == "Softmax" || op == "LogSoftmax" || op == "Hardmax") {
            const auto axis = cntkAxis(n.inputs[0], n.attrInt("axis", -1));
            if (!axis)
                return fail(n, "it normalises along the batch axis, which CNTK keeps as a dynamic axis");
            Dictionary a = dict::make();
            if (op == "Hardmax") {
                if (sampleRank(n.inputs[0]) != 1)
                    return fail(n, "CNTK's Hardmax takes the whole sample, not one axis of a sample of rank above 1");
            } else if (sampleRank(n.inputs[0]) > 1) {
                dict::put(a, "axis", staticAxis(*axis));
            }
            out = addFunction(op == "Softmax" ? Softmax : op == "LogSoftmax" ? LogSoftmax : Hardmax, n.name, {in(0)}, std::move(a));
        } else if (op == "Flatten" || op == "Reshape" || op == "Squeeze" || op == "Unsqueeze") {
            if (batchAxis(n.inputs[0]) != 0)
                return reshapeAround(n);
            if (shape(n.inputs[0]) == shape(y))
                return alias(n, n.inputs[0]);
            Dictionary a = dict::make();
            dict::put(a, "newShape", dict::shape(cntkShape(y)));
            out = addFunction(Reshape, n.name, {in(0)}, std::move(a));
        } else if (op == "Cast") {
            // CNTK computes in float32: a Cast to float of a float or of a comparison's 0/1 is the value itself.
            const DType from = typeOf(n.inputs[0]);
            if (n.attrInt("to", 1) != 1 || (from != DType::Float32 && from != DType::Bool))
                return fail(n, "CNTK computes in float32 only; a Cast to or from another type has no CNTK equivalent");
            return alias(n, n.inputs[0]);
        } else if (op == "Transpose") {
            return transpose(n);
        } else if (op == "Slice" || op == "Split") {
            return slice(n);
        } else if (op.rfind("Reduce", 0) == 0) {
            return reduce(n);
        } else if (op == "Pad") {
            return pad(n);
        } else if (op == "Gather") {
            return gather(n);
        } else if (op == "MatMul") {
            return matmul(n);
        } else if (op == "ConvTranspose") {
            return convTranspose(n);
        } else if (op == "Dropout") {
            Dictionary a = dict::make();
            dict::put(a, "dropoutRate", dict::real(n.attrFloat("ratio", 0.5f)));
            dict::put(a, "rngSeed", dict::sizeT(0));
            dict::put(a, "rngOffset", dict::sizeT(0));
            out = addFunction(Dropout, n.name, {in(0)}, std::move(a));
            Dictionary rng = dict::make();
            dict::put(rng, "rng_seed", dict::sizeT(0));
            dict::put(rng, "rng_offset", dict::sizeT(0));
            dict::put(m_state, out.substr(0, out.find("_Output_")), dict::dictionary(std::move(rng)));
        } else if (op == "Gemm") {
            if (n.attrInt("transA", 0) != 0 || n.attrFloat("alpha", 1.0f) != 1.0f || n.attrFloat("beta", 1.0f) != 1.0f)
                return fail(n, "transA, alpha and beta other than 0, 1, 1 have no CNTK Times equivalent");
            if (!batched(n.inputs[0]) || batched(n.inputs[1]))
                return fail(n, "CNTK's Times is written for a batched input times a constant matrix only");
            // W is [out,in] (transB) or [in,out] row-major; its CNTK shape is the reverse, so
            // W[out,in] needs TransposeTimes and W[in,out] plain Times.
            Dictionary a = dict::make();
            dict::put(a, "outputRank", dict::sizeT(1));
            if (n.attrInt("transB", 0) == 0)
                dict::put(a, "inferInputRankToMap", dict::integer(-1));
            out = addFunction(n.attrInt("transB", 0) ? TransposeTimes : Times, n.name + ".matmul", {in(1), in(0)}, std::move(a));
            if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
                const auto c = elementwise(n, n.inputs[2], y);
                if (!c)
                    return false;
                out = addFunction(Plus, n.name, {out, *c}, dict::make());
            }
        } else if (op == "Conv") {
            const Tensor *w = initializer(n.inputs.at(1));
            Window2d win;
            InferenceGraph none;
            none.graph = &m_g;
            if (!w || w->rank() != 4)
                return fail(n, "CNTK's Convolution is written for a 2-D constant kernel only");
            if (const std::string problem = window2d(n, none, win); !problem.empty())
                return fail(n, problem);
            const auto pads = n.attrInts("pads", {0, 0, 0, 0});
            const auto groups = static_cast<uint64_t>(n.attrInt("group", 1));
            const auto channels = static_cast<uint64_t>(w->dim(1)) * groups;
            Dictionary a = dict::make();
            dict::put(a, "strides", dict::shape(pair(win.strides, channels)));
            dict::put(a, "dilation", dict::shape(pair(win.dilations, 1)));
            dict::put(a, "sharing", dict::vector(bools(3, true)));
            dict::put(a, "autoPadding", dict::vector(bools(3, false)));
            dict::put(a, "lowerPad", dict::shape(pair({pads[0], pads[1]}, 0)));
            dict::put(a, "upperPad", dict::shape(pair({pads[2], pads[3]}, 0)));
            dict::put(a, "transpose", dict::boolean(false));
            dict::put(a, "maxTempMemSizeInSamples", dict::sizeT(0));
            dict::put(a, "groups", dict::sizeT(groups));
            out = addFunction(Convolution, n.name + ".conv", {in(1), in(0)}, std::move(a));
            if (n.inputs.size() > 2 && !n.inputs[2].empty())
                out = convBias(n, out);
        } else if (op == "MaxPool" || op == "AveragePool") {
            const auto kernel = n.attrInts("kernel_shape", {});
            const auto pads = n.attrInts("pads", {0, 0, 0, 0});
            if (kernel.size() != 2 || pads.size() != 4)
                return fail(n, "CNTK's Pooling is written for 2-D windows only");
            if (n.attrString("auto_pad", "NOTSET") != "NOTSET")
                return fail(n, "auto_pad is not written to CNTK; use explicit pads");
            if (n.attrInts("dilations", {1, 1}) != std::vector<int64_t>{1, 1})
                return fail(n, "CNTK's Pooling has no dilation");
            Dictionary a = dict::make();
            dict::put(a, "poolingType", dict::sizeT(op == "MaxPool" ? 0 : 1));
            dict::put(a, "poolingWindowShape", dict::shape(pair(kernel)));
            dict::put(a, "strides", dict::shape(pair(n.attrInts("strides", {1, 1}))));
            dict::put(a, "autoPadding", dict::vector(bools(2, false)));
            dict::put(a, "lowerPad", dict::shape(pair({pads[0], pads[1]})));
            dict::put(a, "upperPad", dict::shape(pair({pads[2], pads[3]})));
            dict::put(a, "ceilOutDim", dict::boolean(n.attrInt("ceil_mode", 0) != 0));
            dict::put(a, "includePad", dict::boolean(n.attrInt("count_include_pad", 0) != 0));
            out = addFunction(Pooling, n.name, {in(0)}, std::move(a));
        } else if (op == "BatchNormalization") {
            Dictionary a = dict::make();
            dict::put(a, "spatial", dict::boolean(true));
            dict::put(a, "normalizationTimeConstant", dict::real(0.0));
            dict::put(a, "blendTimeConstant", dict::real(0.0));
            dict::put(a, "epsilon", dict::real(n.attrFloat("epsilon", 1e-5f)));
            dict::put(a, "useCuDNNEngine", dict::boolean(false));
            // CNTK's sixth operand counts the samples the running statistics have seen.
            const std::string count = addVariable("Constant", n.name + ".run_count", Tensor::zeros({}), {});
            out = addFunction(BatchNormalization, n.name, {in(0), in(1), in(2), in(3), in(4), count}, std::move(a));
        } else if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
            // Pooling over the whole feature map.
            const Shape &x = shape(n.inputs.at(0));
            if (x.size() != 4)
                return fail(n, "CNTK's Pooling is written for 2-D windows only");
            Dictionary a = dict::make();
            dict::put(a, "poolingType", dict::sizeT(op == "GlobalMaxPool" ? 0 : 1));
            dict::put(a, "poolingWindowShape", dict::shape(pair({x[2], x[3]})));
            dict::put(a, "strides", dict::shape(pair({x[2], x[3]})));
            dict::put(a, "autoPadding", dict::vector(bools(2, false)));
            dict::put(a, "lowerPad", dict::shape(pair({0, 0})));
            dict::put(a, "upperPad", dict::shape(pair({0, 0})));
            dict::put(a, "ceilOutDim", dict::boolean(false));
            dict::put(a, "includePad", dict::boolean(false));
            out = addFunction(Pooling, n.name, {in(0)}, std::move(a));
        } else if (op == "Clip") {
            // CNTK's Clip(operand, min, max) takes its bounds as operands, as ONNX Clip does since
            // opset 11 (ReLU6 is Clip(x, 0, 6)); a bound left out, or given as an attribute by an
            // older opset, becomes a scalar Constant (±infinity when absent).
            std::vector<std::string> operands{in(0)};
            for (size_t i = 1; i <= 2; ++i) {
                if (i < n.inputs.size() && !n.inputs[i].empty()) {
                    operands.push_back(in(i));
                    continue;
                }
                const std::string key = i == 1 ? "min" : "max";
                const float infinity = std::numeric_limits<float>::infinity();
                operands.push_back(scalarConstant(n.name + "." + key, n.attrFloat(key, i == 1 ? -infinity : infinity)));
            }
            out = addFunction(Clip, n.name, operands, dict::make());
        } else if (op == "Concat") {
            // Splice along a static axis of batched values, or of constants (a recurrent layer's
            // weights PyTorch reorders gate by gate).
            const auto axis = cntkAxis(y, n.attrInt("axis", 0));
            const bool constants = std::none_of(n.inputs.begin(), n.inputs.end(), [&](const std::string &i) { return batched(i); });
            if (!axis || (!batched(y) && !constants))
                return fail(n, "only a concatenation of batched values along a sample axis (not the batch) is written to CNTK");
            std::vector<std::string> operands;
            for (size_t i = 0; i < n.inputs.size(); ++i) {
                if (!batched(n.inputs[i]) && !constants)
                    return fail(n, "it concatenates a constant with batched values, which CNTK would broadcast over the batch");
                operands.push_back(in(i));
            }
            Dictionary a = dict::make();
            dict::put(a, "axis", staticAxis(*axis));
            out = addFunction(Splice, n.name, operands, std::move(a));
        } else if (op == "Identity") {
            return alias(n, n.inputs[0]);
        } else if (op == "LSTM" || op == "GRU" || op == "RNN") {
            return rnn(n);
        } else {
            return fail(n, refusal(op));
        }
        m_values[y] = out;
        return true;
    }

    bool alias(const Node &n, const std::string &from)
    {
        m_values[n.outputs[0]] = value(from);
        setBatchAxis(n.outputs[0], batchAxis(from));
        return true;
    }

    // LSTM, GRU and RNN as their exact step-by-step composition over the model's own W, R, B (and
    // P), as the MindIR writer unrolls them: per direction and step TransposeTimes by the
    // direction's matrices (sliced from W and R), Plus of the biases, one Slice per gate,
    // Sigmoid/Tanh/ReLU (Clip first under `clip`), ElementTimes, Plus and Minus. The sequence X is
    // a batched value whose sample is [T, I]: layout 1's [B, T, I], or layout 0's [T, B, I] with the
    // batch (CNTK's dynamic axis) on axis 1, as PyTorch's batch-first layers transpose their input.
    // Y's sample is [T, D, H] and Y_h's and Y_c's [D, H] in both layouts.
    bool rnn(const Node &n)
    {
        const std::string &op = n.opType;
        const int64_t gates = op == "LSTM" ? 4 : op == "GRU" ? 3 : 1, hidden = n.attrInt("hidden_size", 0);
        const std::string direction = n.attrString("direction", "forward");
        const int64_t dirs = direction == "bidirectional" ? 2 : 1, layout = n.attrInt("layout", 0), gh = gates * hidden;
        const bool linearBeforeReset = op == "GRU" && n.attrInt("linear_before_reset", 0) != 0;
        const bool inputForget = op == "LSTM" && n.attrInt("input_forget", 0) != 0;
        auto has = [&](size_t i) { return n.inputs.size() > i && !n.inputs[i].empty(); };
        const std::string &X = n.inputs.at(0);
        const int64_t batchAt = layout == 0 ? 1 : 0; // where X, Y_h and Y_c carry the batch
        if (!batched(X))
            return fail(n, "its sequence X is not computed from the model's input");
        if (batchAxis(X) != batchAt)
            return fail(n, "layout " + std::to_string(layout) + " reads X as " + (layout == 0 ? "[T, B, I]" : "[B, T, I]")
                               + ", but the model's batch (CNTK's dynamic batch axis) is X's axis " + std::to_string(batchAxis(X))
                               + ": its sequence axis would be the batch, not a static axis of the sample");
        for (size_t i : {size_t(1), size_t(2), size_t(3), size_t(7)})
            if (has(i) && batched(n.inputs[i]))
                return fail(n, "its weights are computed from the model's input; CNTK's Times is written for constant matrices only");
        // Activations: ONNX's defaults, or any of Sigmoid, Tanh and Relu (CNTK primitives) per slot.
        const size_t perDirection = op == "LSTM" ? 3 : op == "GRU" ? 2 : 1;
        std::vector<std::string> acts = n.attrStrings("activations", {});
        if (n.hasAttribute("activation_alpha") || n.hasAttribute("activation_beta"))
            return fail(n, "activations with alpha/beta parameters are not written to CNTK (Sigmoid, Tanh and Relu are)");
        if (acts.empty())
            for (int64_t d = 0; d < dirs; ++d)
                for (size_t k = 0; k < perDirection; ++k)
                    acts.push_back(op == "RNN" || k > 0 ? "Tanh" : "Sigmoid");
        static const std::map<std::string, uint64_t> cntkActs{{"Sigmoid", Sigmoid}, {"Tanh", Tanh}, {"Relu", ReLU}};
        for (const auto &a : acts)
            if (!cntkActs.count(a))
                return fail(n, "the activation \"" + a + "\" is not written to CNTK (Sigmoid, Tanh and Relu are)");
        if (acts.size() != perDirection * static_cast<size_t>(dirs))
            return fail(n, "its activations do not give one function per gate and direction");
        if (has(4)) {
            const Tensor *lens = known(n.inputs[4]);
            const auto ints = lens ? asInts(*lens) : std::nullopt;
            const int64_t steps = shape(X).at(layout == 0 ? 0 : 1);
            if (!ints || std::any_of(ints->begin(), ints->end(), [&](int64_t l) { return l != steps; }))
                return fail(n, "per-sample sequence lengths are not written to CNTK (a length per batch item would index CNTK's dynamic batch axis)");
        }
        // An initial state: none (absent, or a zero the model computes: the same computation), or
        // a batched [D, H] sample.
        auto state = [&](size_t i, std::string &uid) {
            uid.clear();
            if (!has(i))
                return true;
            const std::string &v = n.inputs[i];
            const bool parameter = m_g.initializers.count(v) && m_g.trainable.count(v);
            if (const Tensor *t = known(v); t && !parameter) {
                const auto f = asFloat32(*t);
                if (f && std::all_of(f->data(), f->data() + f->numel(), [](float x) { return x == 0.0f; }))
                    return true;
            }
            if (!batched(v))
                return fail(n, "only a zero initial state or one computed from the model's input is written to CNTK");
            if (batchAxis(v) != batchAt)
                return fail(n, "its initial state carries the batch on axis " + std::to_string(batchAxis(v)) + ", where layout "
                                   + std::to_string(layout) + " puts it on axis " + std::to_string(batchAt));
            uid = value(v);
            return true;
        };
        std::string H0, C0;
        if (!state(5, H0) || (op == "LSTM" && !state(6, C0)))
            return false;
        if (hidden <= 0)
            return fail(n, "hidden_size must be positive");
        Shape xs = shape(X);
        xs.erase(xs.begin() + batchAt);
        const int64_t steps = xs.at(0);

        // Building blocks over CNTK uids; shapes are the sample's, row-major.
        auto fn = [&](uint64_t cntkOp, const std::string &name, std::vector<std::string> inputs) {
            return addFunction(cntkOp, name, inputs, dict::make());
        };
        auto slice = [&](const std::string &name, const std::string &x, int64_t axis, int64_t begin, int64_t end) {
            Dictionary a = dict::make();
            dict::put(a, "axis", staticAxis(axis));
            dict::put(a, "beginIndex", dict::integer(static_cast<int32_t>(begin)));
            dict::put(a, "endIndex", dict::integer(static_cast<int32_t>(end)));
            dict::put(a, "sliceStrides", dict::integer(1));
            return addFunction(Slice, name, {x}, std::move(a));
        };
        auto reshape = [&](const std::string &name, const std::string &x, const Shape &to) {
            Dictionary a = dict::make();
            dict::put(a, "newShape", dict::shape(dict::reversed(to)));
            return addFunction(Reshape, name, {x}, std::move(a));
        };
        // Item k of the first axis of a value whose sample (or constant) shape is `s`.
        auto item = [&](const std::string &name, const std::string &x, const Shape &s, int64_t k) {
            const auto r = static_cast<int64_t>(s.size());
            const std::string one = s.at(0) == 1 ? x : slice(name + ".slice", x, r - 1, k, k + 1);
            return reshape(name, one, Shape(s.begin() + 1, s.end()));
        };
        auto times = [&](const std::string &name, const std::string &w, const std::string &x) { // x·wᵀ, w [rows, x's size]
            Dictionary a = dict::make();
            dict::put(a, "outputRank", dict::sizeT(1));
            return addFunction(TransposeTimes, name, {w, x}, std::move(a));
        };
        auto plus = [&](const std::string &name, const std::string &a, const std::string &b) { return b.empty() ? a : fn(Plus, name, {a, b}); };
        auto part = [&](const std::string &name, const std::string &v, int64_t k, int64_t size) { // entries [k·size, (k+1)·size) of a vector
            return v.empty() ? v : slice(name, v, 0, k * size, (k + 1) * size);
        };
        std::string clipMin, clipMax;
        if (n.hasAttribute("clip")) {
            const float clip = n.attrFloat("clip", 0.0f);
            clipMin = scalarConstant(n.name + ".clip_min", -clip);
            clipMax = scalarConstant(n.name + ".clip_max", clip);
        }
        std::string one; // 1 − z (GRU), 1 − i (input_forget)
        if (op == "GRU" || inputForget)
            one = scalarConstant(n.name + ".one", 1.0f);
        const std::string W = value(n.inputs.at(1)), R = value(n.inputs.at(2)), B = has(3) ? value(n.inputs[3]) : "";
        const std::string P = op == "LSTM" && has(7) ? value(n.inputs[7]) : "";
        const Shape wShape = shape(n.inputs[1]), rShape = shape(n.inputs[2]);
        const Shape bShape = has(3) ? shape(n.inputs[3]) : Shape{}, pShape = P.empty() ? Shape{} : shape(n.inputs[7]);
        const Shape hShape{dirs, hidden};

        const bool useY = !n.outputs.at(0).empty() && m_used.count(n.outputs[0]) != 0;
        std::vector<std::string> ys, hs, cs;
        for (int64_t d = 0; d < dirs; ++d) {
            const std::string dn = n.name + (dirs > 1 ? ".d" + std::to_string(d) : "");
            const bool reverse = direction == "reverse" || d == 1;
            auto act = [&](size_t k, const std::string &name, const std::string &x) {
                const std::string in = clipMin.empty() ? x : fn(Clip, name + ".clip", {x, clipMin, clipMax});
                return fn(cntkActs.at(acts.at(static_cast<size_t>(d) * perDirection + k)), name, {in});
            };
            const std::string w = item(dn + ".W", W, wShape, d);
            std::string r = item(dn + ".R", R, rShape, d), rh, wb, rb, rbh;
            if (!B.empty()) {
                const std::string b = item(dn + ".B", B, bShape, d);
                wb = slice(dn + ".Wb", b, 0, 0, gh);
                rb = slice(dn + ".Rb", b, 0, gh, 2 * gh);
            }
            if (op == "GRU" && !linearBeforeReset) {
                // (r ⊙ h)·Rhᵀ: the reset gate before the recurrent product of the hidden gate.
                rh = slice(dn + ".Rh", r, 1, 2 * hidden, 3 * hidden);
                r = slice(dn + ".Rzr", r, 1, 0, 2 * hidden);
                if (!rb.empty()) {
                    rbh = part(dn + ".Rbh", rb, 2, hidden);
                    rb = slice(dn + ".Rbzr", rb, 0, 0, 2 * hidden);
                }
            }
            std::string pi, po, pf;
            if (!P.empty()) {
                const std::string p = item(dn + ".P", P, pShape, d);
                pi = part(dn + ".Pi", p, 0, hidden), po = part(dn + ".Po", p, 1, hidden), pf = part(dn + ".Pf", p, 2, hidden);
            }
            std::string h = H0.empty() ? "" : item(dn + ".h0", H0, hShape, d);
            std::string c = C0.empty() ? "" : item(dn + ".c0", C0, hShape, d);
            std::vector<std::string> outs(static_cast<size_t>(steps));
            for (int64_t s = 0; s < steps; ++s) {
                const int64_t t = reverse ? steps - 1 - s : s;
                const std::string tn = dn + ".t" + std::to_string(t);
                const std::string xt = item(tn + ".x", value(X), xs, t);
                const std::string gx = plus(tn + ".gx", times(tn + ".xW", w, xt), wb);
                // The recurrent term; with no state yet it is the bias alone (or nothing).
                const std::string hr = h.empty() ? rb : plus(tn + ".hr", times(tn + ".hR", r, h), rb);
                auto gate = [&](const std::string &v, int64_t k, const char *name) { return part(tn + "." + name, v, k, hidden); };
                if (op == "RNN") {
                    h = act(0, tn + ".h", plus(tn + ".a", gx, hr));
                } else if (op == "LSTM") {
                    const std::string a = plus(tn + ".a", gx, hr);
                    std::string ai = gate(a, 0, "ai"), ao = gate(a, 1, "ao"), af = gate(a, 2, "af");
                    if (!pi.empty() && !c.empty()) {
                        ai = fn(Plus, tn + ".ai_p", {ai, fn(ElementTimes, tn + ".pi_c", {pi, c})});
                        af = fn(Plus, tn + ".af_p", {af, fn(ElementTimes, tn + ".pf_c", {pf, c})});
                    }
                    const std::string i = act(0, tn + ".i", ai);
                    const std::string f = inputForget ? fn(Minus, tn + ".f", {one, i}) : act(0, tn + ".f", af);
                    const std::string g = act(1, tn + ".g", gate(a, 3, "ag"));
                    const std::string ig = fn(ElementTimes, tn + ".ig", {i, g});
                    c = c.empty() ? ig : fn(Plus, tn + ".c", {fn(ElementTimes, tn + ".fc", {f, c}), ig});
                    if (!po.empty())
                        ao = fn(Plus, tn + ".ao_p", {ao, fn(ElementTimes, tn + ".po_c", {po, c})});
                    h = fn(ElementTimes, tn + ".h", {act(0, tn + ".o", ao), act(2, tn + ".hc", c)});
                } else {
                    const std::string z = act(0, tn + ".z", plus(tn + ".az", gate(gx, 0, "gxz"), gate(hr, 0, "hrz")));
                    const std::string rg = act(0, tn + ".r", plus(tn + ".ar", gate(gx, 1, "gxr"), gate(hr, 1, "hrr")));
                    std::string hn;
                    if (linearBeforeReset) {
                        const std::string hh = gate(hr, 2, "hrh");
                        hn = hh.empty() ? gate(gx, 2, "gxh") : fn(Plus, tn + ".ah", {gate(gx, 2, "gxh"), fn(ElementTimes, tn + ".rhh", {rg, hh})});
                    } else {
                        const std::string rec = h.empty() ? rbh : plus(tn + ".rec", times(tn + ".rhR", rh, fn(ElementTimes, tn + ".rh", {rg, h})), rbh);
                        hn = plus(tn + ".ah", gate(gx, 2, "gxh"), rec);
                    }
                    hn = act(1, tn + ".hn", hn);
                    const std::string keep = fn(ElementTimes, tn + ".keep", {fn(Minus, tn + ".1-z", {one, z}), hn});
                    h = h.empty() ? keep : fn(Plus, tn + ".h", {keep, fn(ElementTimes, tn + ".zh", {z, h})});
                }
                if (useY)
                    outs[static_cast<size_t>(t)] = reshape(tn + ".y", h, {1, 1, hidden});
            }
            auto splice = [&](const std::string &name, const std::vector<std::string> &parts, int64_t axis) {
                if (parts.size() == 1)
                    return parts[0];
                std::vector<std::string> in(parts.begin(), parts.end());
                Dictionary a = dict::make();
                dict::put(a, "axis", staticAxis(axis));
                return addFunction(Splice, name, in, std::move(a));
            };
            if (useY)
                ys.push_back(splice(dn + ".Y", outs, 2)); // [T, 1, H]: T is CNTK axis 2
            if (h.empty() || (op == "LSTM" && c.empty()))
                return fail(n, "a sequence of length 0 has no state to write");
            hs.push_back(reshape(dn + ".Y_h", h, {1, hidden}));
            if (op == "LSTM")
                cs.push_back(reshape(dn + ".Y_c", c, {1, hidden}));
        }
        auto join = [&](const std::string &name, const std::vector<std::string> &parts) { // along D, CNTK axis 1
            if (parts.size() == 1)
                return parts[0];
            Dictionary a = dict::make();
            dict::put(a, "axis", staticAxis(1));
            return addFunction(Splice, name, parts, std::move(a));
        };
        const std::vector<std::pair<size_t, std::vector<std::string> *>> outputs{{0, &ys}, {1, &hs}, {2, &cs}};
        for (const auto &[k, parts] : outputs) {
            if (k >= n.outputs.size() || n.outputs[k].empty() || !m_used.count(n.outputs[k]) || parts->empty())
                continue;
            m_values[n.outputs[k]] = join(n.name + (k == 0 ? ".Y" : k == 1 ? ".Y_h" : ".Y_c"), *parts);
            setBatchAxis(n.outputs[k], layout == 0 ? (k == 0 ? 2 : 1) : 0);
        }
        return true;
    }

    // A reshape of a value whose batch is not its first axis. The batch stays an axis of its own
    // where the output's leading axes hold as many elements as the input's before the batch: every
    // sample then keeps its elements in the same order, and the reshape is one of the sample.
    bool reshapeAround(const Node &n)
    {
        const std::string &x = n.inputs[0], &y = n.outputs[0];
        const auto b = static_cast<size_t>(batchAxis(x));
        auto candidates = [&](const std::map<std::string, Shape> &shapes) {
            std::set<size_t> ks;
            const Shape &in = shapes.at(x), &out = shapes.at(y);
            int64_t before = 1, prod = 1;
            for (size_t i = 0; i < b; ++i)
                before *= in[i];
            for (size_t k = 0; k < out.size(); prod *= out[k], ++k)
                if (prod == before && out[k] == in.at(b))
                    ks.insert(k);
            return ks;
        };
        std::set<size_t> ks = candidates(m_shapes);
        if (!m_shapes2.empty()) {
            const std::set<size_t> two = candidates(m_shapes2);
            std::set<size_t> both;
            std::set_intersection(ks.begin(), ks.end(), two.begin(), two.end(), std::inserter(both, both.begin()));
            ks = both;
        }
        if (ks.empty())
            return fail(n, "it merges the batch axis with others, which CNTK keeps as a dynamic axis of its own");
        setBatchAxis(y, static_cast<int64_t>(*ks.begin()));
        if (cntkShape(x) == cntkShape(y)) {
            m_values[y] = value(x);
            return true;
        }
        Dictionary a = dict::make();
        dict::put(a, "newShape", dict::shape(cntkShape(y)));
        m_values[y] = addFunction(Reshape, n.name, {value(x)}, std::move(a));
        return true;
    }

    // Whether every reader of `v` is a recurrent layer reading it as its sequence X or an initial
    // state (PyTorch's batch-first layers transpose their input to [T, B, I] for ONNX's layout 0).
    bool feedsRecurrentOnly(const std::string &v) const
    {
        for (const auto &o : m_g.outputs)
            if (o.name == v)
                return false;
        bool any = false;
        for (const auto &n : m_g.nodes)
            for (size_t i = 0; i < n.inputs.size(); ++i)
                if (n.inputs[i] == v) {
                    if (n.opType == "Shape" || n.opType == "Size")
                        continue; // computed here at a fixed batch, else refused on its own
                    if ((i != 0 && i != 5 && i != 6) || (n.opType != "LSTM" && n.opType != "GRU" && n.opType != "RNN"))
                        return false;
                    any = true;
                }
        return any;
    }

    DType typeOf(const std::string &v)
    {
        if (const Tensor *t = known(v))
            return t->dtype();
        for (const auto &n : m_g.nodes)
            for (size_t k = 0; k < n.outputs.size(); ++k)
                if (n.outputs[k] == v) {
                    std::vector<DType> in;
                    for (const auto &i : n.inputs)
                        in.push_back(i.empty() ? DType::Float32 : typeOf(i));
                    try {
                        const auto out = kernelFor(n.opType, DeviceType::Cpu, n).outputTypes(n, in);
                        return k < out.size() ? out[k] : DType::Float32;
                    } catch (const Error &) {
                        return DType::Float32;
                    }
                }
        return DType::Float32;
    }

    // Transpose as CNTK's TransposeAxes with a permutation (axisVec): output axis i is input axis
    // perm[i], both counted column-major, so engine perm p over a sample of rank r is
    // i ↦ r − p[r − i] (batched; the batch stays first) or i ↦ r−1 − p[r−1−i] (a constant).
    bool transpose(const Node &n)
    {
        const std::string &x = n.inputs[0];
        const auto rank = static_cast<int64_t>(shape(x).size());
        std::vector<int64_t> perm = n.attrInts("perm", {});
        if (perm.empty())
            for (int64_t i = rank - 1; i >= 0; --i)
                perm.push_back(i);
        if (static_cast<int64_t>(perm.size()) != rank)
            return fail(n, "its permutation does not fit its input's rank");
        // The batch may move only into a recurrent layer's time-major input, or out of (and
        // around) a recurrent layer's time-major output: the sample's own axes are permuted.
        const int64_t b = batched(x) ? batchAxis(x) : -1;
        const auto to = std::find(perm.begin(), perm.end(), b);
        const int64_t ob = batched(x) ? static_cast<int64_t>(to - perm.begin()) : -1;
        if (batched(x) && b == 0 && ob != 0 && !feedsRecurrentOnly(n.outputs[0]))
            return fail(n, "it moves the batch axis, which CNTK keeps as a dynamic axis of its own");
        std::vector<int64_t> sample; // the permutation of the sample's axes
        for (int64_t i = 0; i < rank; ++i)
            if (i != ob)
                sample.push_back(perm[static_cast<size_t>(i)] - (b >= 0 && perm[static_cast<size_t>(i)] > b ? 1 : 0));
        bool identity = true;
        for (size_t i = 0; i < sample.size(); ++i)
            identity = identity && sample[i] == static_cast<int64_t>(i);
        if (batched(x))
            setBatchAxis(n.outputs[0], ob);
        if (identity) {
            m_values[n.outputs[0]] = value(x);
            return true;
        }
        const int64_t r = sampleRank(x);
        std::vector<Value> axes;
        for (int64_t i = 0; i < r; ++i)
            axes.push_back(staticAxis(r - 1 - sample.at(static_cast<size_t>(r - 1 - i))));
        Dictionary a = dict::make();
        dict::put(a, "axisVec", dict::vector(std::move(axes)));
        m_values[n.outputs[0]] = addFunction(TransposeAxes, n.name, {value(x)}, std::move(a));
        return true;
    }

    // One CNTK Slice (axis, beginIndex, endIndex, sliceStrides) per sliced axis; Split as a Slice
    // per output.
    std::string sliceAxis(const std::string &name, const std::string &x, const std::string &engineValue, int64_t axis, int64_t begin,
                          int64_t end, int64_t step)
    {
        Dictionary a = dict::make();
        dict::put(a, "axis", staticAxis(*cntkAxis(engineValue, axis)));
        dict::put(a, "beginIndex", dict::integer(static_cast<int32_t>(begin)));
        dict::put(a, "endIndex", dict::integer(static_cast<int32_t>(end)));
        dict::put(a, "sliceStrides", dict::integer(static_cast<int32_t>(step)));
        return addFunction(Slice, name, {x}, std::move(a));
    }

    bool slice(const Node &n)
    {
        const std::string &x = n.inputs[0];
        const Shape &s = shape(x);
        const auto rank = static_cast<int64_t>(s.size());
        if (n.opType == "Split") {
            int64_t axis = n.attrInt("axis", 0);
            axis = axis < 0 ? axis + rank : axis;
            if (!cntkAxis(x, axis))
                return fail(n, "it splits the batch axis, which CNTK keeps as a dynamic axis");
            int64_t begin = 0;
            for (const auto &o : n.outputs) {
                const int64_t size = shape(o).at(static_cast<size_t>(axis));
                if (!o.empty())
                    m_values[o] = size == s[static_cast<size_t>(axis)] ? value(x) : sliceAxis(n.name + "." + o, value(x), x, axis, begin, begin + size, 1);
                begin += size;
            }
            return true;
        }
        const auto starts = constInts(n, 1, "starts"), ends = constInts(n, 2, "ends");
        auto axes = constInts(n, 3, "axes");
        auto steps = constInts(n, 4, "steps");
        if (!starts || !ends || !axes || !steps)
            return fail(n, "CNTK's Slice takes constant bounds only");
        if (axes->empty())
            for (int64_t i = 0; i < static_cast<int64_t>(starts->size()); ++i)
                axes->push_back(i);
        if (steps->empty())
            steps->assign(starts->size(), 1);
        std::string out = value(x);
        for (size_t i = 0; i < starts->size(); ++i) {
            const int64_t axis = axes->at(i) < 0 ? axes->at(i) + rank : axes->at(i);
            if (axis < 0 || axis >= rank)
                return fail(n, "an axis is out of range");
            const int64_t dim = s[static_cast<size_t>(axis)], step = steps->at(i);
            if (step <= 0)
                return fail(n, "CNTK's Slice steps forward only (a negative step has no CNTK equivalent)");
            auto clamp = [&](int64_t v) { return std::clamp(v < 0 ? v + dim : v, int64_t(0), dim); };
            const int64_t begin = clamp(starts->at(i)), end = clamp(ends->at(i));
            if (begin == 0 && end == dim && step == 1)
                continue;
            if (!cntkAxis(x, axis))
                return fail(n, "it slices the batch axis, which CNTK keeps as a dynamic axis");
            if (begin >= end)
                return fail(n, "an empty slice has no CNTK equivalent");
            out = sliceAxis(i + 1 == starts->size() ? n.name : n.name + "." + std::to_string(i), out, x, axis, begin, end, step);
        }
        m_values[n.outputs[0]] = out;
        return true;
    }

    // ReduceSum/Mean/Max/Min/Prod/LogSumExp as ReduceElements over sample axes (axis, or axisVec
    // for several), reductionKeepDimensions as keepdims.
    bool reduce(const Node &n)
    {
        static const std::map<std::string, std::string> names{{"ReduceSum", "Sum"}, {"ReduceMean", "Mean"}, {"ReduceMax", "Max"},
                                                              {"ReduceMin", "Min"}, {"ReduceProd", "Prod"}, {"ReduceLogSumExp", "LogSum"}};
        const auto name = names.find(n.opType);
        if (name == names.end())
            return fail(n, refusal(n.opType));
        const std::string &x = n.inputs[0];
        const auto axes = constInts(n, 1, "axes");
        if (!axes)
            return fail(n, "CNTK's ReduceElements takes constant axes only");
        if (axes->empty() && n.attrInt("noop_with_empty_axes", 0) != 0)
            return alias(n, x);
        std::vector<int64_t> cntk;
        const auto rank = static_cast<int64_t>(shape(x).size());
        for (int64_t a = 0; a < rank; ++a)
            if (axes->empty() || std::find_if(axes->begin(), axes->end(), [&](int64_t b) { return (b < 0 ? b + rank : b) == a; }) != axes->end()) {
                const auto k = cntkAxis(x, a);
                if (!k)
                    return fail(n, "it reduces over the batch axis; CNTK reduces within a sample");
                cntk.push_back(*k);
            }
        Dictionary a = dict::make();
        dict::put(a, "reductionOpName", dict::string(name->second));
        if (cntk.size() == 1) {
            dict::put(a, "axis", staticAxis(cntk[0]));
        } else {
            std::vector<Value> v;
            for (int64_t k : cntk)
                v.push_back(staticAxis(k));
            dict::put(a, "axisVec", dict::vector(std::move(v)));
        }
        dict::put(a, "reductionKeepDimensions", dict::boolean(n.attrInt("keepdims", 1) != 0));
        m_values[n.outputs[0]] = addFunction(ReduceElements, n.name, {value(x)}, std::move(a));
        return true;
    }

    // Pad: paddingHead/paddingFoot per sample axis (column-major), constant or reflect.
    bool pad(const Node &n)
    {
        const std::string &x = n.inputs[0];
        const auto rank = static_cast<int64_t>(shape(x).size());
        auto pads = constInts(n, 1, "pads");
        if (pads && pads->empty())
            pads = n.attrInts("paddings", {});
        if (!pads || static_cast<int64_t>(pads->size()) != 2 * rank)
            return fail(n, "CNTK's Pad takes constant pads for every axis");
        if (n.inputs.size() > 3 && !n.inputs[3].empty())
            return fail(n, "Pad with an axes operand is not written to CNTK");
        const std::string mode = n.attrString("mode", "constant");
        if (mode != "constant" && mode != "reflect")
            return fail(n, "CNTK pads with a constant, reflect or symmetric values; \"" + mode + "\" has no CNTK equivalent");
        float constant = n.attrFloat("value", 0.0f);
        if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
            const auto c = constFloat(n.inputs[2]);
            if (!c)
                return fail(n, "CNTK's Pad takes a constant padding value only");
            constant = *c;
        }
        std::vector<Value> head, foot;
        for (int64_t a = rank - 1; a >= 0; --a) {
            const int64_t lo = pads->at(static_cast<size_t>(a)), hi = pads->at(static_cast<size_t>(a + rank));
            if (lo < 0 || hi < 0)
                return fail(n, "CNTK's Pad does not crop (negative pads)");
            if (batched(x) && a == 0) {
                if (lo != 0 || hi != 0)
                    return fail(n, "it pads the batch axis, which CNTK keeps as a dynamic axis");
                continue;
            }
            head.push_back(dict::sizeT(static_cast<uint64_t>(lo)));
            foot.push_back(dict::sizeT(static_cast<uint64_t>(hi)));
        }
        Dictionary a = dict::make();
        dict::put(a, "paddingHead", dict::vector(std::move(head)));
        dict::put(a, "paddingFoot", dict::vector(std::move(foot)));
        dict::put(a, "paddingMode", dict::sizeT(mode == "constant" ? 0 : 1));
        dict::put(a, "paddingConstantValue", dict::real(constant));
        m_values[n.outputs[0]] = addFunction(Pad, n.name, {value(x)}, std::move(a));
        return true;
    }

    // Gather with constant indices: CNTK's Gather(indices, reference) along `axis`, the indices a
    // float Constant (negative ones resolved here; CNTK does not count from the end).
    bool gather(const Node &n)
    {
        const std::string &x = n.inputs[0];
        const Tensor *indices = known(n.inputs.at(1));
        const auto ints = indices ? asInts(*indices) : std::nullopt;
        if (!ints || batched(n.inputs[1]))
            return fail(n, "CNTK's Gather is written with constant indices only");
        int64_t axis = n.attrInt("axis", 0);
        const auto k = cntkAxis(x, axis);
        if (!k)
            return fail(n, "it gathers along the batch axis, which CNTK keeps as a dynamic axis");
        const auto rank = static_cast<int64_t>(shape(x).size());
        const int64_t dim = shape(x).at(static_cast<size_t>(axis < 0 ? axis + rank : axis));
        Tensor idx(indices->shape(), DType::Float32);
        for (size_t i = 0; i < ints->size(); ++i) {
            const int64_t v = (*ints)[i] < 0 ? (*ints)[i] + dim : (*ints)[i];
            if (v < 0 || v >= dim)
                return fail(n, "an index is out of range");
            idx.data()[i] = static_cast<float>(v);
        }
        const std::string c = addVariable("Constant", n.name + ".indices", idx, dict::reversed(idx.shape()));
        Dictionary a = dict::make();
        dict::put(a, "axis", staticAxis(*k));
        m_values[n.outputs[0]] = addFunction(Gather, n.name, {c, value(x)}, std::move(a));
        return true;
    }

    // MatMul a·b as CNTK's Times(b, a) with outputRank 1: b's sample (or constant) is a matrix
    // [K, N]; it contracts a's last axis. Per sample this is ONNX's product where the batch is
    // the only broadcast axis: a batched a of any rank times a constant matrix, a batched [B,M,K]
    // times a batched [B,K,N], or a constant [M,K] times a batched [B,K,N].
    bool matmul(const Node &n)
    {
        const std::string &a = n.inputs[0], &b = n.inputs[1];
        const size_t ra = shape(a).size(), rb = shape(b).size();
        bool ok = false;
        if (!batched(b))
            ok = rb == 2 && ra >= (batched(a) ? 2u : 1u);
        else
            ok = rb == 3 && ((batched(a) && ra == 3) || (!batched(a) && ra == 2));
        if (!ok)
            return fail(n, "CNTK's Times multiplies one matrix per sample; this product broadcasts over more axes than the batch");
        Dictionary at = dict::make();
        dict::put(at, "outputRank", dict::sizeT(1));
        dict::put(at, "inferInputRankToMap", dict::integer(-1));
        m_values[n.outputs[0]] = addFunction(Times, n.name, {value(b), value(a)}, std::move(at));
        return true;
    }

    // ConvTranspose as CNTK's Convolution with transpose = true: the kernel [C_in, C_out, kH, kW]
    // as it is, lowerPad/upperPad ONNX's begin/end pads and outputShape the output's (W, H, C),
    // which also carries ONNX's output_padding.
    bool convTranspose(const Node &n)
    {
        const Tensor *w = initializer(n.inputs.at(1));
        if (!w || w->rank() != 4)
            return fail(n, "CNTK's transposed Convolution is written for a 2-D constant kernel only");
        if (n.attrInt("group", 1) != 1)
            return fail(n, "CNTK's transposed Convolution has no groups");
        if (n.attrString("auto_pad", "NOTSET") != "NOTSET" || n.hasAttribute("output_shape"))
            return fail(n, "auto_pad and output_shape are not written to CNTK; use explicit pads");
        const auto pads = n.attrInts("pads", {0, 0, 0, 0});
        if (pads.size() != 4)
            return fail(n, "CNTK's transposed Convolution is written for 2-D windows only");
        const Shape &y = shape(n.outputs[0]);
        const auto channels = static_cast<uint64_t>(w->dim(1));
        Dictionary a = dict::make();
        dict::put(a, "strides", dict::shape(pair(n.attrInts("strides", {1, 1}), channels)));
        dict::put(a, "dilation", dict::shape(pair(n.attrInts("dilations", {1, 1}), 1)));
        dict::put(a, "sharing", dict::vector(bools(3, true)));
        dict::put(a, "autoPadding", dict::vector(bools(3, false)));
        dict::put(a, "lowerPad", dict::shape(pair({pads[0], pads[1]}, 0)));
        dict::put(a, "upperPad", dict::shape(pair({pads[2], pads[3]}, 0)));
        dict::put(a, "transpose", dict::boolean(true));
        dict::put(a, "outputShape", dict::shape(pair({y.at(2), y.at(3)}, static_cast<uint64_t>(y.at(1)))));
        dict::put(a, "maxTempMemSizeInSamples", dict::sizeT(0));
        dict::put(a, "groups", dict::sizeT(1));
        std::string out = addFunction(Convolution, n.name + ".conv", {value(n.inputs[1]), value(n.inputs[0])}, std::move(a));
        if (n.inputs.size() > 2 && !n.inputs[2].empty())
            out = convBias(n, out);
        m_values[n.outputs[0]] = out;
        return true;
    }

    // CNTK's convolution bias is [1, 1, C]; the bytes are the same as our [C].
    std::string convBias(const Node &n, const std::string &conv)
    {
        const std::string bias = source(n.inputs[2]);
        if (const Tensor *b = initializer(bias)) {
            rebindAsParameter(bias, {1, 1, static_cast<uint64_t>(b->numel())});
            return addFunction(Plus, n.name, {conv, value(bias)}, dict::make());
        }
        fail(n, "CNTK's convolution bias is written as a constant only");
        return "?";
    }

    // The value an Identity chain forwards (PyTorch's exporter shares initializers through Identity).
    std::string source(const std::string &v) const
    {
        std::string name = v;
        for (int hops = 0; hops < 64 && !m_g.initializers.count(name); ++hops) {
            const auto n = std::find_if(m_g.nodes.begin(), m_g.nodes.end(), [&](const Node &x) { return !x.outputs.empty() && x.outputs[0] == name; });
            if (n == m_g.nodes.end() || n->opType != "Identity")
                break;
            name = n->inputs.at(0);
        }
        return name;
    }

    // A float initializer (through Identity), or nullptr.
    const Tensor *initializer(const std::string &v) const
    {
        const auto it = m_g.initializers.find(source(v));
        return it != m_g.initializers.end() && it->second.dtype() == DType::Float32 ? &it->second : nullptr;
    }

    // Rewrites the stored CNTK shape of an already-added Parameter (the value bytes do not change).
    void rebindAsParameter(const std::string &name, const std::vector<uint64_t> &cntkShape)
    {
        const std::string &uid = m_values.at(name);
        for (auto &v : m_inputs) {
            auto *d = v.mutable_dictionary_value();
            const Value *u = dict::find(*d, "uid");
            if (u && u->string_value() == uid) {
                dict::put(*d, "shape", dict::shape(cntkShape));
                auto *shape = (*d->mutable_data())["value"].mutable_nd_array_view_value()->mutable_shape();
                shape->clear_shape_dim();
                for (uint64_t x : cntkShape)
                    shape->add_shape_dim(x);
            }
        }
    }

    const Graph &m_g;
    std::map<std::string, Shape> m_shapes, m_shapes2; // at the batch m_batch; at batch 2 when the batch is free
    int64_t m_batch = 1;
    std::set<std::string> m_batched;             // values computed from the data input
    std::map<std::string, int64_t> m_batchAxis;  // their batch axis, where it is not the first
    std::set<std::string> m_used;                // values some node (or the output) reads
    std::map<std::string, Tensor> m_folded;      // shape arithmetic computed here
    std::map<std::string, std::string> m_values; // graph value → CNTK uid (or <uid>_Output_0)
    std::vector<Value> m_inputs, m_functions;
    Dictionary m_state = dict::make();
    ExportProblems m_problems;
    std::string m_uid;
    uint64_t m_counter = 0;
};

std::string dataTypeName(uint64_t t)
{
    switch (t) {
    case 1: return "float32";
    case 2: return "float64";
    case 4: return "float16";
    case 5: return "int8";
    case 6: return "int16";
    default: return "type " + std::to_string(t);
    }
}

} // namespace

bool isLegacyV1(std::string_view head)
{
    return head.size() >= 8
           && (head.substr(0, 6) == std::string_view("B\0C\0N\0", 6) || head.substr(0, 8) == std::string_view("B\0V\0e\0r\0", 8));
}

std::string legacyV1Kind(std::string_view head)
{
    return head.substr(0, 6) == std::string_view("B\0C\0N\0", 6) ? "legacy CNTK model-v1 file (BrainScript/cntk.exe)"
                                                                : "legacy CNTK v1 SGD checkpoint";
}

bool isV2Dictionary(std::string_view head)
{
    return head.size() >= 3 && head[0] == 0x08 && head[1] >= 0x01 && head[1] <= 0x03 && head[2] == 0x12; // CNTK writes version 1 or 2
}

FileKind classify(const std::string &path)
{
    const std::string bytes = dict::readFile(path);
    if (!isV2Dictionary(bytes))
        return FileKind::NotCntk;
    Dictionary top;
    try {
        top = dict::parse(bytes, path);
    } catch (const Error &) {
        return FileKind::NotCntk;
    }
    auto has = [&](const char *key, Value::ValueCase c) {
        const Value *v = dict::find(top, key);
        return v && v->value_case() == c;
    };
    if (has("primitive_functions", Value::kVectorValue) && has("inputs", Value::kVectorValue))
        return FileKind::Model;
    if (has("Learners", Value::kVectorValue))
        return FileKind::TrainerCheckpoint;
    return FileKind::NotCntk;
}

namespace {

// A DictionaryValue flattened to numbers (see Function::attributes).
std::vector<double> numbers(const Value &v, int depth = 0)
{
    switch (v.value_case()) {
    case Value::kBoolValue: return {v.bool_value() ? 1.0 : 0.0};
    case Value::kIntValue: return {static_cast<double>(v.int_value())};
    case Value::kSizeTValue: return {static_cast<double>(v.size_t_value())};
    case Value::kFloatValue: return {v.float_value()};
    case Value::kDoubleValue: return {v.double_value()};
    case Value::kNdShapeValue: return {v.nd_shape_value().shape_dim().begin(), v.nd_shape_value().shape_dim().end()};
    case Value::kAxisValue: return {static_cast<double>(v.axis_value().static_axis_idx())};
    case Value::kVectorValue: {
        std::vector<double> out;
        if (depth < 4)
            for (const auto &e : v.vector_value().value())
                for (double x : numbers(e, depth + 1))
                    out.push_back(x);
        return out;
    }
    default: return {};
    }
}

} // namespace

std::string primitiveOpName(uint64_t op)
{
    return op < kOpNames.size() ? kOpNames[op] : std::string();
}

std::string encodeTrainingModel(const Graph &trainingGraph)
{
    return Writer(trainingGraph).encode(true);
}

std::string encodeInferenceModel(const Graph &trainingGraph)
{
    return Writer(trainingGraph).encode(false);
}

Model decodeModel(std::string_view bytes, const std::string &source)
{
    if (isLegacyV1(bytes))
        throw Error("\"" + source + "\" is a " + legacyV1Kind(bytes) + "; Netwright reads CNTK v2 files only.");
    const Dictionary top = dict::parse(bytes, source);
    const Value *inputs = dict::find(top, "inputs");
    const Value *functions = dict::find(top, "primitive_functions");
    if (!inputs || !functions || inputs->value_case() != Value::kVectorValue || functions->value_case() != Value::kVectorValue)
        throw Error("\"" + source + "\" is a CNTK Dictionary but not a model: it has no \"inputs\" and \"primitive_functions\".");
    Model m;
    m.uid = dict::getString(top, "uid", source);
    m.root = dict::getString(top, "root", source);
    if (const Value *n = dict::find(top, "name"))
        m.name = n->string_value();
    for (const auto &item : inputs->vector_value().value()) {
        check(item.value_case() == Value::kDictionaryValue, "\"" + source + "\": an element of \"inputs\" is not a Dictionary.");
        const Dictionary &d = item.dictionary_value();
        Variable v;
        v.uid = dict::getString(d, "uid", source);
        if (const Value *n = dict::find(d, "name"))
            v.name = n->string_value();
        v.kind = static_cast<VariableKind>(dict::getSizeT(d, "kind", source));
        v.dataType = dataTypeName(dict::find(d, "data_type") ? dict::getSizeT(d, "data_type", source) : 0);
        if (const Value *s = dict::find(d, "shape"))
            v.cntkShape.assign(s->nd_shape_value().shape_dim().begin(), s->nd_shape_value().shape_dim().end());
        if (const Value *value = dict::find(d, "value"); value && value->value_case() == Value::kNdArrayViewValue)
            v.value = dict::toTensor(value->nd_array_view_value(), source, "variable \"" + v.uid + "\"");
        m.variables.push_back(std::move(v));
    }
    for (const auto &item : functions->vector_value().value()) {
        check(item.value_case() == Value::kDictionaryValue, "\"" + source + "\": an element of \"primitive_functions\" is not a Dictionary.");
        const Dictionary &d = item.dictionary_value();
        Function f;
        f.uid = dict::getString(d, "uid", source);
        if (const Value *n = dict::find(d, "name"))
            f.name = n->string_value();
        f.op = dict::getSizeT(d, "op", source);
        f.opName = primitiveOpName(f.op);
        if (f.opName.empty())
            f.opName = "op" + std::to_string(f.op);
        if (const Value *in = dict::find(d, "inputs"))
            for (const auto &s : in->vector_value().value())
                f.inputs.push_back(s.string_value());
        if (const Value *a = dict::find(d, "attributes"); a && a->value_case() == Value::kDictionaryValue)
            for (const auto &[key, v] : a->dictionary_value().data()) {
                if (v.value_case() == Value::kStringValue)
                    f.text[key] = v.string_value();
                else
                    f.attributes[key] = numbers(v);
            }
        m.functions.push_back(std::move(f));
    }
    return m;
}

Model readModel(const std::string &path)
{
    return decodeModel(dict::readFile(path), path);
}

} // namespace netwright::cntk
