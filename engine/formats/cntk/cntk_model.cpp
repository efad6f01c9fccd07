// SPDX-License-Identifier: Apache-2.0
#include "formats/cntk/cntk_model.h"

#include "core/error.h"
#include "formats/cntk/dictionary.h"
#include "formats/inference_graph.h"
#include "graph/graph.h"

#include <algorithm>
#include <array>
#include <limits>
#include <map>
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
    ReLU = 3, Sigmoid = 1, Tanh = 2, Softmax = 10, Dropout = 15, Reshape = 16, Pooling = 17, Plus = 19, Times = 31,
    TransposeTimes = 32, Convolution = 33, Minus = 20, ElementTimes = 21, CrossEntropyWithSoftmax = 35, ClassificationError = 36, BatchNormalization = 40,
    Clip = 41, Splice = 43, Combine = 44, LogSoftmax = 51
};

using dict::Dictionary;
using dict::Value;

std::vector<Value> bools(size_t n, bool v)
{
    return std::vector<Value>(n, dict::boolean(v));
}

// Builds the CompositeFunction: uids are <Kind|Op><counter> with one counter, as CNTK numbers them.
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
        // Pre-flight: every op the writer does not map, before anything else.
        static const std::set<std::string> mapped{"Relu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Flatten", "Reshape", "Dropout", "Gemm",
                                                  "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization", "Identity",
                                                  "Add", "Sub", "Mul", "Clip", "Concat", "SoftmaxCrossEntropyLoss"};
        ExportProblems problems;
        for (const auto &n : m_g.nodes)
            if (!mapped.count(n.opType))
                problems.add(n, "no CNTK model-v2 equivalent");
        problems.raise(m_g, "CNTK model-v2");
        const ValueInfo *input = nullptr;
        for (const auto &in : m_g.inputs)
            if (in.name != "labels" && !m_g.initializers.count(in.name) && !input)
                input = &in;
        check(input != nullptr, "Graph \"" + m_g.name + "\" has no data input.");
        // Shapes at the batch the input fixes (PyTorch's default export folds it into its
        // constants), else 1; CNTK's batch axis is dynamic either way.
        Shape inShape = input->shape;
        inShape[0] = inShape[0] > 0 ? inShape[0] : 1;
        m_shapes = m_g.inferShapes({{input->name, inShape}, {"labels", {inShape[0]}}});
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
        if (training)
            m_values["labels"] = addInput("labels", {classes});
        for (const auto &[name, t] : m_g.initializers)
            if (t.dtype() == DType::Float32)
                m_values[name] = addVariable(m_g.trainable.count(name) ? "Parameter" : "Constant", name, t, dict::reversed(t.shape()));
        for (const auto &n : m_g.nodes)
            if (&n != loss)
                addNode(n);
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

    void addNode(const Node &n)
    {
        auto in = [&](size_t i) {
            const auto it = m_values.find(n.inputs.at(i));
            check(it != m_values.end(), n.describe() + ": input \"" + n.inputs.at(i) + "\" is not a float tensor the CNTK writer holds.");
            return it->second;
        };
        std::string out;
        if (n.opType == "Relu") {
            out = addFunction(ReLU, n.name, {in(0)}, dict::make());
        } else if (n.opType == "Sigmoid" || n.opType == "Tanh") {
            out = addFunction(n.opType == "Sigmoid" ? Sigmoid : Tanh, n.name, {in(0)}, dict::make());
        } else if (n.opType == "Softmax" || n.opType == "LogSoftmax") {
            out = addFunction(n.opType == "Softmax" ? Softmax : LogSoftmax, n.name, {in(0)}, dict::make());
        } else if (n.opType == "Flatten" || n.opType == "Reshape") {
            Shape s = m_shapes.at(n.outputs[0]);
            s.erase(s.begin()); // the batch axis is CNTK's dynamic axis
            Dictionary a = dict::make();
            dict::put(a, "newShape", dict::shape(dict::reversed(s)));
            out = addFunction(Reshape, n.name, {in(0)}, std::move(a));
        } else if (n.opType == "Dropout") {
            Dictionary a = dict::make();
            dict::put(a, "dropoutRate", dict::real(n.attrFloat("ratio", 0.5f)));
            dict::put(a, "rngSeed", dict::sizeT(0));
            dict::put(a, "rngOffset", dict::sizeT(0));
            out = addFunction(Dropout, n.name, {in(0)}, std::move(a));
            Dictionary rng = dict::make();
            dict::put(rng, "rng_seed", dict::sizeT(0));
            dict::put(rng, "rng_offset", dict::sizeT(0));
            dict::put(m_state, out.substr(0, out.find("_Output_")), dict::dictionary(std::move(rng)));
        } else if (n.opType == "Gemm") {
            check(n.attrInt("transA", 0) == 0 && n.attrFloat("alpha", 1.0f) == 1.0f && n.attrFloat("beta", 1.0f) == 1.0f,
                  n.describe() + " uses transA/alpha/beta, which the CNTK writer does not map.");
            // W is [out,in] (transB) or [in,out] row-major; its CNTK shape is the reverse, so
            // W[out,in] needs TransposeTimes and W[in,out] plain Times.
            Dictionary a = dict::make();
            dict::put(a, "outputRank", dict::sizeT(1));
            if (n.attrInt("transB", 0) == 0)
                dict::put(a, "inferInputRankToMap", dict::integer(-1));
            out = addFunction(n.attrInt("transB", 0) ? TransposeTimes : Times, n.name + ".matmul", {in(1), in(0)}, std::move(a));
            if (n.inputs.size() > 2 && !n.inputs[2].empty())
                out = addFunction(Plus, n.name, {out, in(2)}, dict::make());
        } else if (n.opType == "Conv") {
            const Shape &w = initializer(n, n.inputs.at(1)).shape();
            const auto pads = n.attrInts("pads", {0, 0, 0, 0});
            check(n.attrString("auto_pad", "NOTSET") == "NOTSET" && pads.size() == 4, n.describe() + ": only 2-D explicit padding is written to CNTK.");
            const auto groups = static_cast<uint64_t>(n.attrInt("group", 1));
            const auto channels = static_cast<uint64_t>(w[1]) * groups;
            Dictionary a = dict::make();
            dict::put(a, "strides", dict::shape(pair(n.attrInts("strides", {1, 1}), channels)));
            dict::put(a, "dilation", dict::shape(pair(n.attrInts("dilations", {1, 1}), 1)));
            dict::put(a, "sharing", dict::vector(bools(3, true)));
            dict::put(a, "autoPadding", dict::vector(bools(3, false)));
            dict::put(a, "lowerPad", dict::shape(pair({pads[0], pads[1]}, 0)));
            dict::put(a, "upperPad", dict::shape(pair({pads[2], pads[3]}, 0)));
            dict::put(a, "transpose", dict::boolean(false));
            dict::put(a, "maxTempMemSizeInSamples", dict::sizeT(0));
            dict::put(a, "groups", dict::sizeT(groups));
            out = addFunction(Convolution, n.name + ".conv", {in(1), in(0)}, std::move(a));
            if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
                // CNTK's convolution bias is [1, 1, C]; the bytes are the same as our [C].
                const Tensor &b = initializer(n, n.inputs[2]);
                rebindAsParameter(source(n.inputs[2]), {1, 1, static_cast<uint64_t>(b.numel())});
                out = addFunction(Plus, n.name, {out, in(2)}, dict::make());
            }
        } else if (n.opType == "MaxPool" || n.opType == "AveragePool") {
            const auto kernel = n.attrInts("kernel_shape", {});
            const auto pads = n.attrInts("pads", {0, 0, 0, 0});
            check(kernel.size() == 2 && pads.size() == 4, n.describe() + ": only 2-D pooling is written to CNTK.");
            Dictionary a = dict::make();
            dict::put(a, "poolingType", dict::sizeT(n.opType == "MaxPool" ? 0 : 1));
            dict::put(a, "poolingWindowShape", dict::shape(pair(kernel)));
            dict::put(a, "strides", dict::shape(pair(n.attrInts("strides", {1, 1}))));
            dict::put(a, "autoPadding", dict::vector(bools(2, false)));
            dict::put(a, "lowerPad", dict::shape(pair({pads[0], pads[1]})));
            dict::put(a, "upperPad", dict::shape(pair({pads[2], pads[3]})));
            dict::put(a, "ceilOutDim", dict::boolean(n.attrInt("ceil_mode", 0) != 0));
            dict::put(a, "includePad", dict::boolean(n.attrInt("count_include_pad", 0) != 0));
            out = addFunction(Pooling, n.name, {in(0)}, std::move(a));
        } else if (n.opType == "BatchNormalization") {
            Dictionary a = dict::make();
            dict::put(a, "spatial", dict::boolean(true));
            dict::put(a, "normalizationTimeConstant", dict::real(0.0));
            dict::put(a, "blendTimeConstant", dict::real(0.0));
            dict::put(a, "epsilon", dict::real(n.attrFloat("epsilon", 1e-5f)));
            dict::put(a, "useCuDNNEngine", dict::boolean(false));
            // CNTK's sixth operand counts the samples the running statistics have seen.
            const std::string count = addVariable("Constant", n.name + ".run_count", Tensor::zeros({}), {});
            out = addFunction(BatchNormalization, n.name, {in(0), in(1), in(2), in(3), in(4), count}, std::move(a));
        } else if (n.opType == "GlobalAveragePool") {
            // Average pooling over the whole feature map.
            const Shape &x = m_shapes.at(n.inputs.at(0));
            check(x.size() == 4, n.describe() + ": only 2-D global pooling is written to CNTK.");
            Dictionary a = dict::make();
            dict::put(a, "poolingType", dict::sizeT(1));
            dict::put(a, "poolingWindowShape", dict::shape(pair({x[2], x[3]})));
            dict::put(a, "strides", dict::shape(pair({x[2], x[3]})));
            dict::put(a, "autoPadding", dict::vector(bools(2, false)));
            dict::put(a, "lowerPad", dict::shape(pair({0, 0})));
            dict::put(a, "upperPad", dict::shape(pair({0, 0})));
            dict::put(a, "ceilOutDim", dict::boolean(false));
            dict::put(a, "includePad", dict::boolean(false));
            out = addFunction(Pooling, n.name, {in(0)}, std::move(a));
        } else if (n.opType == "Add" || n.opType == "Sub" || n.opType == "Mul") {
            out = addFunction(n.opType == "Add" ? Plus : n.opType == "Sub" ? Minus : ElementTimes, n.name, {in(0), in(1)}, dict::make());
        } else if (n.opType == "Clip") {
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
                Tensor bound = Tensor::zeros({});
                bound.data()[0] = n.attrFloat(key, i == 1 ? -infinity : infinity);
                operands.push_back(addVariable("Constant", n.name + "." + key, bound, {}));
            }
            out = addFunction(Clip, n.name, operands, dict::make());
        } else if (n.opType == "Concat") {
            // Splice along a static axis: CNTK numbers a sample's axes column-major, so ONNX axis
            // a of a rank-r value (batch first) is CNTK's static axis r-1-a.
            const auto rank = static_cast<int64_t>(m_shapes.at(n.outputs[0]).size());
            int64_t axis = n.attrInt("axis", 0);
            if (axis < 0)
                axis += rank;
            check(axis >= 1 && axis < rank, n.describe() + ": only a concatenation along a sample axis (not the batch) is written to CNTK.");
            std::vector<std::string> operands;
            for (size_t i = 0; i < n.inputs.size(); ++i)
                operands.push_back(in(i));
            const auto index = static_cast<int32_t>(rank - 1 - axis);
            Dictionary a = dict::make();
            dict::put(a, "axis", dict::axis(index, "staticAxis_" + std::to_string(index), false));
            out = addFunction(Splice, n.name, operands, std::move(a));
        } else if (n.opType == "Identity") {
            m_values[n.outputs[0]] = in(0);
            return;
        } else {
            throw Error(n.describe() + " has no CNTK model-v2 equivalent in Netwright's writer.");
        }
        m_values[n.outputs[0]] = out;
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

    const Tensor &initializer(const Node &n, const std::string &v) const
    {
        const auto it = m_g.initializers.find(source(v));
        check(it != m_g.initializers.end(), n.describe() + ": \"" + v + "\" must be a parameter for the CNTK writer.");
        return it->second;
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
    std::map<std::string, Shape> m_shapes;
    std::map<std::string, std::string> m_values; // graph value → CNTK uid (or <uid>_Output_0)
    std::vector<Value> m_inputs, m_functions;
    Dictionary m_state = dict::make();
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
