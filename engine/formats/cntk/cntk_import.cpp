// SPDX-License-Identifier: Apache-2.0
// importModel (cntk_model.h): a CNTK model-v2 function graph as an engine graph.
#include "core/error.h"
#include "formats/cntk/cntk_model.h"
#include "formats/graph_import.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>

namespace netwright::cntk {

namespace {

// Criteria and evaluation ops that sit beside the model output under a Combine.
bool isCriterion(const std::string &op)
{
    return op == "CrossEntropyWithSoftmax" || op == "ClassificationError" || op == "SquaredError" || op == "Logistic"
           || op == "LambdaRank" || op == "NDCG" || op == "EditDistanceError" || op == "CosDistance";
}

// CNTK primitive → engine op of the same meaning, one operand.
const std::map<std::string, std::string> &unaryOps()
{
    static const std::map<std::string, std::string> m{
        {"Negate", "Neg"}, {"Exp", "Exp"}, {"Log", "Log"},   {"Sqrt", "Sqrt"}, {"Floor", "Floor"}, {"Abs", "Abs"},
        {"Reciprocal", "Reciprocal"},      {"Sin", "Sin"},   {"Cos", "Cos"},   {"Tan", "Tan"},     {"Asin", "Asin"},
        {"Acos", "Acos"},  {"Atan", "Atan"}, {"Sinh", "Sinh"}, {"Cosh", "Cosh"}, {"Asinh", "Asinh"}, {"Atanh", "Atanh"}};
    return m;
}

// CNTK comparisons → the engine's (NotEqual is Not of Equal).
const std::map<std::string, std::string> &comparisons()
{
    static const std::map<std::string, std::string> m{{"Equal", "Equal"},   {"NotEqual", "Equal"},          {"Less", "Less"},
                                                      {"Greater", "Greater"}, {"LessEqual", "LessOrEqual"}, {"GreaterEqual", "GreaterOrEqual"}};
    return m;
}

// Shapes cannot be inferred once a function the engine cannot run stands in as its input.
struct ShapesUnknown {};

std::string uidOf(const std::string &ref)
{
    const auto p = ref.find("_Output_");
    return p == std::string::npos ? ref : ref.substr(0, p);
}

class Importer {
public:
    Importer(const Model &m, const std::string &source) : m_m(m), m_source(source) {}

    Graph run()
    {
        m_graph.name = m_m.name.empty() ? "cntk" : m_m.name;
        for (const auto &v : m_m.variables)
            m_variables[v.uid] = &v;
        for (const auto &f : m_m.functions)
            m_functions[f.uid] = &f;
        // The model output: the root, or under a Combine its first input that is not a criterion.
        std::string output = m_m.root;
        if (const auto root = m_functions.find(uidOf(output)); root != m_functions.end() && root->second->opName == "Combine") {
            output.clear();
            for (const auto &in : root->second->inputs) {
                const auto f = m_functions.find(uidOf(in));
                if (f != m_functions.end() && !isCriterion(f->second->opName) && output.empty())
                    output = in;
            }
            check(!output.empty(), prefix() + "its Combine holds only criteria, no model output.");
        }
        count(output);
        const std::string y = asFloat(value(output));
        if (!m_unsupported.empty()) {
            std::string list;
            for (const auto &[op, n] : m_unsupported)
                list += (list.empty() ? "" : ", ") + op + " (" + std::to_string(n) + (n == 1 ? " function)" : " functions)");
            throw Error(prefix() + "the engine cannot run " + list + ". `netwright inspect` still shows the whole graph.");
        }
        // Named Constants no function reads (Netwright lists the model's constants its shape
        // arithmetic computed with, as a zero initial state PyTorch expands) come back as
        // initializers under their names: no node reads them.
        for (const auto &v : m_m.variables)
            if (v.kind == VariableKind::Constant && !v.name.empty() && v.value && !m_values.count(v.uid) && !m_graph.initializers.count(v.name))
                m_values[v.uid] = variable(v);
        m_graph.outputs.push_back({y, {}, DType::Float32});
        markTrainableParameters(m_graph);
        validateImported(m_graph, m_source, "CNTK model-v2");
        return std::move(m_graph);
    }

private:
    std::string prefix() const { return "Cannot import \"" + m_source + "\" as a CNTK model: "; }

    // How many functions read each output (for folding a Plus into its Times/Convolution).
    void count(const std::string &ref)
    {
        const auto f = m_functions.find(uidOf(ref));
        if (f == m_functions.end() || !m_counted.insert(f->first).second)
            return;
        for (const auto &in : f->second->inputs) {
            ++m_uses[in];
            count(in);
        }
    }

    std::string uniqueName(const std::string &base)
    {
        std::string name = base.empty() ? "node" : base;
        for (int k = 1; !m_names.insert(name).second; ++k)
            name = base + "_" + std::to_string(k);
        return name;
    }

    // The engine value of a variable uid or "<function uid>_Output_<i>".
    std::string value(const std::string &ref)
    {
        if (const auto it = m_values.find(ref); it != m_values.end())
            return it->second;
        // Some writers list function outputs among the variables ("<function uid>_Output_<i>", kind
        // Output or Placeholder): those resolve to the function that computes them.
        const bool functionOutput = ref.find("_Output_") != std::string::npos && m_functions.count(uidOf(ref));
        if (const auto v = m_variables.find(ref); v != m_variables.end() && !functionOutput)
            return m_values[ref] = variable(*v->second);
        const auto f = m_functions.find(uidOf(ref));
        check(f != m_functions.end(), prefix() + "\"" + ref + "\" names no variable or function.");
        check(ref == f->first || ref == f->first + "_Output_0",
              prefix() + "\"" + ref + "\" is a second output of " + f->second->opName + ", which the engine does not compute.");
        check(m_visiting.insert(f->first).second, prefix() + "function \"" + f->first + "\" feeds itself.");
        std::string out;
        try {
            out = function(*f->second);
        } catch (const ShapesUnknown &) { // after a function the engine cannot run: the file is refused anyway
            out = f->second->inputs.empty() ? std::string("?") : value(f->second->inputs.back());
        }
        m_values[f->first] = out;
        m_values[f->first + "_Output_0"] = out;
        return out;
    }

    std::string variable(const Variable &v)
    {
        const std::string name = uniqueName(v.name.empty() ? v.uid : v.name);
        Shape shape(v.cntkShape.rbegin(), v.cntkShape.rend());
        if (v.kind == VariableKind::Parameter || v.kind == VariableKind::Constant) {
            check(v.value.has_value(), prefix() + v.dataType + " " + (v.kind == VariableKind::Parameter ? "parameter" : "constant")
                                           + " \"" + name + "\" has no value the importer reads.");
            m_graph.addParameter(name, *v.value, false);
            return name;
        }
        check(v.kind == VariableKind::Input, prefix() + "variable \"" + name + "\" is a placeholder or an unbound output.");
        shape.insert(shape.begin(), -1); // CNTK's batch axis is dynamic
        m_graph.inputs.push_back({name, shape, DType::Float32});
        return name;
    }

    const Tensor *initializer(const std::string &name) const
    {
        const auto it = m_graph.initializers.find(name);
        return it == m_graph.initializers.end() ? nullptr : &it->second;
    }

    static std::vector<double> attr(const Function &f, const std::string &key, std::vector<double> fallback)
    {
        const auto it = f.attributes.find(key);
        return it == f.attributes.end() || it->second.empty() ? fallback : it->second;
    }

    // (H, W) from a CNTK (W, H[, C]) attribute.
    static std::vector<int64_t> hw(const std::vector<double> &v)
    {
        if (v.size() == 1)
            return {static_cast<int64_t>(v[0]), static_cast<int64_t>(v[0])};
        return {static_cast<int64_t>(v.at(1)), static_cast<int64_t>(v.at(0))};
    }

    // ONNX pads [t, l, b, r] for a window op: explicit lower/upper pads or CNTK's auto padding
    // (centred; only derived for stride 1, where it is (k-1)/2 before and the rest after).
    std::optional<std::vector<int64_t>> pads(const Function &f, const std::vector<int64_t> &kernel, const std::vector<int64_t> &strides)
    {
        const auto autoPad = attr(f, "autoPadding", {0});
        const bool any = std::any_of(autoPad.begin(), autoPad.begin() + std::min<size_t>(2, autoPad.size()), [](double b) { return b != 0; });
        if (any) {
            if (strides != std::vector<int64_t>{1, 1})
                return std::nullopt;
            std::vector<int64_t> lo(2, 0), hi(2, 0);
            for (size_t i = 0; i < 2; ++i) {
                const size_t c = 1 - i; // autoPadding is (W, H[, C])
                if (autoPad.size() == 1 ? autoPad[0] != 0 : autoPad[c] != 0) {
                    lo[i] = (kernel[i] - 1) / 2;
                    hi[i] = kernel[i] - 1 - lo[i];
                }
            }
            return std::vector<int64_t>{lo[0], lo[1], hi[0], hi[1]};
        }
        const auto lower = hw(attr(f, "lowerPad", {0, 0})), upper = hw(attr(f, "upperPad", {0, 0}));
        return std::vector<int64_t>{lower[0], lower[1], upper[0], upper[1]};
    }

    Node &add(const Function &f, const std::string &opType, std::vector<std::string> inputs, std::map<std::string, Attribute> a = {})
    {
        const std::string name = uniqueName(f.name.empty() ? f.uid : f.name);
        return m_graph.addNode(opType, name, std::move(inputs), {name}, std::move(a));
    }

    Node *producer(const std::string &engineValue)
    {
        for (auto &n : m_graph.nodes)
            if (n.outputs[0] == engineValue)
                return &n;
        return nullptr;
    }

    // The engine value as a float: a comparison's boolean is cast to CNTK's 0/1.
    std::string asFloat(const std::string &v)
    {
        if (!m_bool.count(v))
            return v;
        if (const auto it = m_asFloat.find(v); it != m_asFloat.end())
            return it->second;
        const std::string name = uniqueName(v + ".float");
        return m_asFloat[v] = m_graph.addNode("Cast", name, {v}, {name}, {{"to", int64_t(1)}}).outputs[0];
    }

    // Whether an engine value is computed from a data input (it then has the batch axis first).
    bool batched(const std::string &v)
    {
        if (const auto it = m_batchedMemo.find(v); it != m_batchedMemo.end())
            return it->second;
        bool b = false;
        if (m_graph.findInput(v))
            b = true;
        else if (const Node *p = producer(v))
            for (const auto &i : p->inputs)
                b = b || (!i.empty() && batched(i));
        return m_batchedMemo[v] = b;
    }

    // The shape of an engine value at batch 1 (shapes inferred again once nodes were added).
    const Shape &shapeOf(const std::string &v)
    {
        if (const Tensor *t = initializer(v))
            return t->shape();
        if (m_shapesAt != m_graph.nodes.size() || !m_shapes.count(v)) {
            std::map<std::string, Shape> inputs;
            for (const auto &i : m_graph.inputs) {
                Shape s = i.shape;
                if (!s.empty() && s[0] < 0)
                    s[0] = 1;
                inputs[i.name] = s;
            }
            try {
                m_shapes = m_graph.inferShapes(inputs);
            } catch (const Error &) {
                if (!m_unsupported.empty()) // an unsupported function stands in as its input
                    throw ShapesUnknown{};
                throw;
            }
            m_shapesAt = m_graph.nodes.size();
        }
        const auto it = m_shapes.find(v);
        check(it != m_shapes.end(), prefix() + "the shape of \"" + v + "\" is not known.");
        return it->second;
    }

    int64_t sampleRank(const std::string &v) { return static_cast<int64_t>(shapeOf(v).size()) - (batched(v) ? 1 : 0); }

    // Convolution with transpose = true: ONNX's ConvTranspose, its output_padding what
    // outputShape adds to the size strides, kernel and pads give.
    std::string convTranspose(const Function &f, const std::string &x, const std::string &w, const Tensor &W)
    {
        const std::vector<int64_t> kernel{W.dim(2), W.dim(3)};
        const auto strides = hw(attr(f, "strides", {1, 1})), dilations = hw(attr(f, "dilation", {1, 1}));
        const auto autoPad = attr(f, "autoPadding", {0});
        if (std::any_of(autoPad.begin(), autoPad.end(), [](double b) { return b != 0; }) || !f.attributes.count("outputShape")) {
            ++m_unsupported["transposed Convolution with auto padding or no output shape"];
            return x;
        }
        const auto lower = hw(attr(f, "lowerPad", {0, 0})), upper = hw(attr(f, "upperPad", {0, 0}));
        const auto outputShape = attr(f, "outputShape", {});
        check(outputShape.size() >= 2, prefix() + "transposed Convolution \"" + f.uid + "\" has no 2-D output shape.");
        const auto out = hw(outputShape);
        const Shape &in = shapeOf(x);
        check(in.size() == 4, prefix() + "transposed Convolution \"" + f.uid + "\" needs a [C, H, W] input.");
        std::vector<int64_t> outputPadding;
        for (size_t i = 0; i < 2; ++i) {
            const int64_t size = (in[i + 2] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - lower[i] - upper[i];
            outputPadding.push_back(out[i] - size);
            check(outputPadding.back() >= 0 && outputPadding.back() < std::max(strides[i], dilations[i]),
                  prefix() + "transposed Convolution \"" + f.uid + "\" has an output shape its strides and pads do not give.");
        }
        return add(f, "ConvTranspose", {x, w},
                   {{"kernel_shape", kernel}, {"strides", strides}, {"pads", std::vector<int64_t>{lower[0], lower[1], upper[0], upper[1]}},
                    {"dilations", dilations}, {"output_padding", outputPadding}, {"group", static_cast<int64_t>(attr(f, "groups", {1})[0])}})
            .outputs[0];
    }

    std::string function(const Function &f)
    {
        const std::string &op = f.opName;
        auto raw = [&](size_t k) {
            check(k < f.inputs.size(), prefix() + op + " \"" + f.uid + "\" has " + std::to_string(f.inputs.size()) + " inputs.");
            return value(f.inputs[k]);
        };
        // CNTK's comparisons compute 0/1 floats; the engine's give booleans, cast where read as numbers.
        auto in = [&](size_t k) { return asFloat(raw(k)); };
        if (op == "Times" || op == "TransposeTimes") {
            // Times(W, x): W's CNTK shape [out..., in...] is row-major [in..., out...].
            const std::string w = in(0);
            std::string x = in(1);
            const Tensor *W = initializer(w);
            check(static_cast<int64_t>(attr(f, "outputRank", {1})[0]) == 1, prefix() + op + " \"" + f.uid + "\" has an output rank above 1.");
            if (op == "Times" && (!W || (W->rank() == 2 && (!batched(x) || shapeOf(x).size() != 2)))) {
                // A matrix product per sample: x's last axis against W's sample matrix [K, N].
                const size_t rw = shapeOf(w).size() - (batched(w) ? 1 : 0), rx = shapeOf(x).size();
                const bool fits = rw == 2 && (!batched(w) || (batched(x) ? rx == 3 : rx == 2));
                if (!fits) {
                    ++m_unsupported["Times of tensors other than a matrix per sample"];
                    return x;
                }
                return add(f, "MatMul", {x, w}).outputs[0];
            }
            if (!W && op == "TransposeTimes") {
                // A computed matrix (a slice of a recurrent layer's weights): x·wᵀ for a vector per sample.
                if (batched(w) || shapeOf(w).size() != 2 || !batched(x) || shapeOf(x).size() != 2) {
                    ++m_unsupported["TransposeTimes of a computed matrix other than by a vector per sample"];
                    return x;
                }
                return add(f, "Gemm", {x, w}, {{"transB", int64_t(1)}}).outputs[0];
            }
            check(W != nullptr, prefix() + op + " \"" + f.uid + "\" multiplies by something other than a parameter.");
            std::string weight = w;
            if (W->rank() > 2) {
                // Input of rank > 1 (after a convolution): flatten it and view W as 2-D.
                const int64_t out = op == "Times" ? W->shape().back() : W->shape().front();
                const int64_t inner = W->numel() / out;
                m_graph.initializers[w] = W->reshaped(op == "Times" ? Shape{inner, out} : Shape{out, inner});
                x = m_graph.addNode("Flatten", uniqueName((f.name.empty() ? f.uid : f.name) + ".flatten"), {x},
                                    {uniqueName((f.name.empty() ? f.uid : f.name) + ".flat")}, {{"axis", int64_t(1)}})
                        .outputs[0];
            }
            return add(f, "Gemm", {x, weight}, {{"transB", int64_t(op == "TransposeTimes")}}).outputs[0];
        }
        if (op == "Plus" || op == "Minus" || op == "ElementTimes") {
            const std::string a = in(0), b = in(1);
            Node *p = producer(a);
            const Tensor *bias = initializer(b);
            if (op == "Plus" && p && bias && m_uses[f.inputs[0]] == 1 && p->inputs.size() == 2) {
                if (p->opType == "Gemm" && bias->rank() == 1) {
                    p->inputs.push_back(b);
                    return a;
                }
                // [C,1,1] → Conv's [C], same bytes (already [C] when another convolution shares it)
                if ((p->opType == "Conv" || p->opType == "ConvTranspose") && (bias->rank() == 1 || (bias->rank() == 3 && bias->dim(1) == 1 && bias->dim(2) == 1))) {
                    m_graph.initializers[b] = bias->reshaped({bias->numel()});
                    p->inputs.push_back(b);
                    return a;
                }
            }
            return add(f, op == "Plus" ? "Add" : op == "Minus" ? "Sub" : "Mul", {a, b}).outputs[0];
        }
        if (op == "Convolution") {
            const std::string w = in(0), x = in(1);
            const Tensor *W = initializer(w);
            check(W && W->rank() == 4, prefix() + "Convolution \"" + f.uid + "\" needs a 4-D parameter kernel (2-D convolution).");
            if (attr(f, "transpose", {0})[0] != 0)
                return convTranspose(f, x, w, *W);
            const std::vector<int64_t> kernel{W->dim(2), W->dim(3)};
            const auto strides = hw(attr(f, "strides", {1, 1}));
            const auto p = pads(f, kernel, strides);
            if (!p) {
                ++m_unsupported["Convolution with auto padding and stride > 1"];
                return x;
            }
            return add(f, "Conv", {x, w},
                       {{"kernel_shape", kernel}, {"strides", strides}, {"pads", *p}, {"dilations", hw(attr(f, "dilation", {1, 1}))},
                        {"group", static_cast<int64_t>(attr(f, "groups", {1})[0])}})
                .outputs[0];
        }
        if (op == "Pooling") {
            const std::string x = in(0);
            const auto kernel = hw(attr(f, "poolingWindowShape", {1, 1}));
            const auto strides = hw(attr(f, "strides", {1, 1}));
            const auto p = pads(f, kernel, strides);
            if (!p) {
                ++m_unsupported["Pooling with auto padding and stride > 1"];
                return x;
            }
            const bool max = attr(f, "poolingType", {0})[0] == 0;
            std::map<std::string, Attribute> a{{"kernel_shape", kernel}, {"strides", strides}, {"pads", *p},
                                               {"ceil_mode", int64_t(attr(f, "ceilOutDim", {0})[0] != 0)}};
            if (!max)
                a["count_include_pad"] = int64_t(attr(f, "includePad", {0})[0] != 0);
            return add(f, max ? "MaxPool" : "AveragePool", {x}, std::move(a)).outputs[0];
        }
        if (op == "BatchNormalization") {
            if (attr(f, "spatial", {1})[0] == 0) {
                ++m_unsupported["non-spatial BatchNormalization"];
                return in(0);
            }
            // Operands: x, scale, bias, running mean, running variance[, sample count].
            std::vector<std::string> ins{in(0), in(1), in(2), in(3), in(4)};
            for (size_t k = 1; k < 5; ++k)
                if (const Tensor *t = initializer(ins[k]); t && t->rank() != 1)
                    m_graph.initializers[ins[k]] = t->reshaped({t->numel()});
            return add(f, "BatchNormalization", ins, {{"epsilon", static_cast<float>(attr(f, "epsilon", {1e-5})[0])}}).outputs[0];
        }
        if (op == "ReLU" || op == "Sigmoid" || op == "StableSigmoid" || op == "Tanh") {
            return add(f, op == "ReLU" ? "Relu" : op == "Tanh" ? "Tanh" : "Sigmoid", {in(0)}).outputs[0];
        }
        if (op == "Clip") // Clip(operand, min, max): ONNX's Clip with its bounds as inputs
            return add(f, "Clip", {in(0), in(1), in(2)}).outputs[0];
        if (op == "Splice") {
            // CNTK's static axis k of a sample counts column-major: the k+1-th axis from the end.
            const double axis = attr(f, "axis", {0})[0];
            if (axis < 0 || axis >= 2147483643.0) { // a dynamic axis, or all of them (cntk-v2.md section 4.4)
                ++m_unsupported["Splice along a dynamic axis"];
                return in(0);
            }
            std::vector<std::string> parts;
            for (size_t k = 0; k < f.inputs.size(); ++k)
                parts.push_back(in(k));
            return add(f, "Concat", parts, {{"axis", -static_cast<int64_t>(axis) - 1}}).outputs[0];
        }
        if (op == "Softmax" || op == "LogSoftmax") // along `axis` (a static axis), else the sample's last row-major axis
            return add(f, op, {in(0)}, {{"axis", -static_cast<int64_t>(attr(f, "axis", {0})[0]) - 1}}).outputs[0];
        if (op == "Dropout") {
            const std::string x = in(0);
            const std::string name = uniqueName(f.name.empty() ? f.uid : f.name);
            return m_graph.addNode("Dropout", name, {x}, {name}, {{"ratio", static_cast<float>(attr(f, "dropoutRate", {0.5})[0])}}).outputs[0];
        }
        if (op == "Reshape") {
            const std::string x = in(0);
            const auto dims = attr(f, "newShape", {});
            check(f.attributes.count("newShape"), prefix() + "Reshape \"" + f.uid + "\" has no newShape.");
            if (dims.size() == 1 && batched(x)) // one axis per sample: a flatten
                return add(f, "Flatten", {x}, {{"axis", int64_t(1)}}).outputs[0];
            std::vector<int64_t> shape; // the batch axis is kept; a constant has no batch
            if (batched(x))
                shape.push_back(0);
            for (auto it = dims.rbegin(); it != dims.rend(); ++it)
                shape.push_back(*it >= static_cast<double>(std::numeric_limits<int64_t>::max()) ? -1 : static_cast<int64_t>(*it));
            const std::string target = uniqueName((f.name.empty() ? f.uid : f.name) + ".shape");
            m_graph.addParameter(target, Tensor::fromInt64({static_cast<int64_t>(shape.size())}, shape), false);
            return add(f, "Reshape", {x, target}).outputs[0];
        }
        if (const auto u = unaryOps().find(op); u != unaryOps().end())
            return add(f, u->second, {in(0)}).outputs[0];
        if (op == "ELU")
            return add(f, "Elu", {in(0)}, {{"alpha", 1.0f}}).outputs[0];
        if (op == "Pow")
            return add(f, "Pow", {in(0), in(1)}).outputs[0];
        if (const auto c = comparisons().find(op); c != comparisons().end()) {
            std::string out = add(f, c->second, {in(0), in(1)}).outputs[0];
            if (op == "NotEqual")
                out = m_graph.addNode("Not", uniqueName(out + ".not"), {out}, {uniqueName(out + ".not")}).outputs[0];
            m_bool.insert(out);
            return out;
        }
        if (op == "Select") {
            // Select(condition, then, else): a non-zero condition picks `then`.
            std::string condition = raw(0);
            if (!m_bool.count(condition))
                condition = m_graph.addNode("Cast", uniqueName(condition + ".bool"), {condition}, {uniqueName(condition + ".bool")},
                                            {{"to", int64_t(9)}})
                                .outputs[0];
            return add(f, "Where", {condition, in(1), in(2)}).outputs[0];
        }
        if (op == "Hardmax") {
            const std::string x = in(0);
            if (sampleRank(x) != 1) {
                ++m_unsupported["Hardmax of a sample of rank above 1"];
                return x;
            }
            return add(f, "Hardmax", {x}, {{"axis", int64_t(-1)}}).outputs[0];
        }
        if (op == "TransposeAxes") {
            // axisVec: output axis i is input axis perm[i], column-major; axis1/axis2: a swap.
            const std::string x = in(0);
            const int64_t r = sampleRank(x), shift = batched(x) ? 1 : 0;
            std::vector<int64_t> cntk;
            if (f.attributes.count("axisVec")) {
                for (double a : f.attributes.at("axisVec"))
                    cntk.push_back(static_cast<int64_t>(a));
            } else {
                for (int64_t i = 0; i < r; ++i)
                    cntk.push_back(i);
                const auto a1 = static_cast<int64_t>(attr(f, "axis1", {0})[0]), a2 = static_cast<int64_t>(attr(f, "axis2", {1})[0]);
                check(a1 >= 0 && a1 < r && a2 >= 0 && a2 < r, prefix() + "TransposeAxes \"" + f.uid + "\" swaps axes out of range.");
                std::swap(cntk[static_cast<size_t>(a1)], cntk[static_cast<size_t>(a2)]);
            }
            check(static_cast<int64_t>(cntk.size()) == r, prefix() + "TransposeAxes \"" + f.uid + "\" permutes " + std::to_string(cntk.size())
                                                              + " axes of a sample of rank " + std::to_string(r) + ".");
            std::vector<int64_t> perm(shift, 0);
            for (int64_t j = 0; j < r; ++j) // engine sample axis j is CNTK axis r-1-j
                perm.push_back(r - 1 - cntk.at(static_cast<size_t>(r - 1 - j)) + shift);
            return add(f, "Transpose", {x}, {{"perm", perm}}).outputs[0];
        }
        if (op == "Slice") {
            // One axis (axis, beginIndex, endIndex, sliceStrides) or several (the …Vec keys); an
            // end of 0 runs to the end of the axis.
            const std::string x = in(0);
            const bool vec = f.attributes.count("axisVec") != 0;
            const auto axes = attr(f, vec ? "axisVec" : "axis", {0}), begins = attr(f, vec ? "beginIndexVec" : "beginIndex", {0});
            const auto ends = attr(f, vec ? "endIndexVec" : "endIndex", {0});
            const auto steps = attr(f, vec ? "sliceStridesVec" : "sliceStrides", std::vector<double>(axes.size(), 1));
            check(begins.size() == axes.size() && ends.size() == axes.size() && steps.size() == axes.size(),
                  prefix() + "Slice \"" + f.uid + "\" lists different numbers of axes and bounds.");
            std::vector<int64_t> a, b, e, st;
            for (size_t i = 0; i < axes.size(); ++i) {
                if (axes[i] >= 2147483643.0) {
                    ++m_unsupported["Slice along a dynamic axis"];
                    return x;
                }
                a.push_back(-static_cast<int64_t>(axes[i]) - 1);
                b.push_back(static_cast<int64_t>(begins[i]));
                e.push_back(ends[i] == 0 ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(ends[i]));
                st.push_back(static_cast<int64_t>(steps[i]));
            }
            return add(f, "Slice", {x}, {{"starts", b}, {"ends", e}, {"axes", a}, {"steps", st}}).outputs[0];
        }
        if (op == "ReduceElements") {
            static const std::map<std::string, std::string> names{{"Sum", "ReduceSum"}, {"Mean", "ReduceMean"}, {"Max", "ReduceMax"},
                                                                  {"Min", "ReduceMin"}, {"Prod", "ReduceProd"}, {"LogSum", "ReduceLogSumExp"}};
            const std::string x = in(0);
            const auto name = names.find(f.text.count("reductionOpName") ? f.text.at("reductionOpName") : "");
            if (name == names.end()) {
                ++m_unsupported["ReduceElements " + (f.text.count("reductionOpName") ? f.text.at("reductionOpName") : "?")];
                return x;
            }
            std::vector<int64_t> axes;
            for (double k : attr(f, f.attributes.count("axisVec") ? "axisVec" : "axis", {2147483646.0})) {
                if (k == 2147483646.0) { // all static axes
                    for (int64_t i = 0; i < sampleRank(x); ++i)
                        axes.push_back(-i - 1);
                } else if (k >= 2147483643.0) {
                    ++m_unsupported["ReduceElements over a dynamic axis"];
                    return x;
                } else {
                    axes.push_back(-static_cast<int64_t>(k) - 1);
                }
            }
            return add(f, name->second, {x}, {{"axes", axes}, {"keepdims", int64_t(attr(f, "reductionKeepDimensions", {1})[0] != 0)}}).outputs[0];
        }
        if (op == "Pad") {
            // paddingHead/paddingFoot per sample axis, column-major; mode 0 constant, 1 reflect.
            const std::string x = in(0);
            const auto head = attr(f, "paddingHead", {}), foot = attr(f, "paddingFoot", {});
            const auto mode = static_cast<int64_t>(attr(f, "paddingMode", {0})[0]);
            const int64_t shift = batched(x) ? 1 : 0, r = static_cast<int64_t>(head.size());
            if (mode > 1 || foot.size() != head.size() || r != sampleRank(x)) {
                ++m_unsupported[mode > 1 ? "Pad in symmetric mode" : "Pad with padding lists that do not fit the sample"];
                return x;
            }
            std::vector<int64_t> pads(static_cast<size_t>(2 * (r + shift)), 0);
            for (int64_t j = 0; j < r; ++j) {
                pads[static_cast<size_t>(j + shift)] = static_cast<int64_t>(head[static_cast<size_t>(r - 1 - j)]);
                pads[static_cast<size_t>(j + shift + r + shift)] = static_cast<int64_t>(foot[static_cast<size_t>(r - 1 - j)]);
            }
            return add(f, "Pad", {x},
                       {{"pads", pads}, {"mode", std::string(mode == 0 ? "constant" : "reflect")},
                        {"value", static_cast<float>(attr(f, "paddingConstantValue", {0})[0])}})
                .outputs[0];
        }
        if (op == "Gather") {
            // Gather(indices, reference) along `axis` (the sample's first axis when absent); the
            // indices a constant of whole numbers.
            const std::string indices = raw(0), x = in(1);
            const Tensor *t = initializer(indices);
            if (!t || t->dtype() != DType::Float32) {
                ++m_unsupported["Gather with computed indices"];
                return x;
            }
            std::vector<int64_t> ints;
            for (int64_t i = 0; i < t->numel(); ++i) {
                const float v = t->data()[i];
                check(v >= 0 && v < 2147483648.0f && std::floor(v) == v, prefix() + "Gather \"" + f.uid + "\" has an index that is not a whole number ≥ 0.");
                ints.push_back(static_cast<int64_t>(v));
            }
            const std::string name = uniqueName(indices + ".int64");
            m_graph.addParameter(name, Tensor::fromInt64(t->shape(), ints), false);
            const int64_t axis = f.attributes.count("axis") ? -static_cast<int64_t>(attr(f, "axis", {0})[0]) - 1 : (batched(x) ? 1 : 0);
            return add(f, "Gather", {x, name}, {{"axis", axis}}).outputs[0];
        }
        if (op == "Block")
            ++m_unsupported["Block (composite layer)"];
        else
            ++m_unsupported[op];
        return f.inputs.empty() ? std::string("?") : value(f.inputs.back());
    }

    const Model &m_m;
    std::string m_source;
    Graph m_graph;
    std::map<std::string, const Variable *> m_variables;
    std::map<std::string, const Function *> m_functions;
    std::map<std::string, std::string> m_values;
    std::map<std::string, int> m_uses, m_unsupported;
    std::set<std::string> m_names, m_counted, m_visiting;
    std::set<std::string> m_bool;                   // engine values a comparison computed (booleans)
    std::map<std::string, std::string> m_asFloat;   // their float casts
    std::map<std::string, bool> m_batchedMemo;
    std::map<std::string, Shape> m_shapes;          // at batch 1, for m_shapesAt nodes
    size_t m_shapesAt = 0;
};

} // namespace

Graph importModel(std::string_view bytes, const std::string &source)
{
    return Importer(decodeModel(bytes, source), source).run();
}

} // namespace netwright::cntk
