// SPDX-License-Identifier: Apache-2.0
// Each engine op in the target opset's form: operands moved between attributes and inputs, the
// attributes an opset lacks refused or rewritten, and exact compositions where the target has no
// such op (Writer::write, writeSpecial and the compositions).
#include "formats/onnx/onnx_export_writer.h"

#include "core/error.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace netwright::onnx_format::exporter {

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

} // namespace netwright::onnx_format::exporter
