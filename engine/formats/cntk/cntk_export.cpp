// SPDX-License-Identifier: Apache-2.0
// The CNTK model-v2 writer's driver and op tables: which op types map and why the others do not,
// encode() (the pre-flight, the leaves, every node, the root) and the encode*Model entry points
// of cntk_model.h.
#include "formats/cntk/cntk_model.h"

#include "core/error.h"
#include "formats/cntk/cntk_writer.h"

#include <algorithm>
#include <set>

namespace netwright::cntk {

namespace v2 {

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

std::string Writer::encode(bool training)
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

} // namespace v2

std::string encodeTrainingModel(const Graph &trainingGraph)
{
    return v2::Writer(trainingGraph).encode(true);
}

std::string encodeInferenceModel(const Graph &trainingGraph)
{
    return v2::Writer(trainingGraph).encode(false);
}

} // namespace netwright::cntk
