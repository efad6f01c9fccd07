// SPDX-License-Identifier: Apache-2.0
// The MindIR writer's driver and op tables: which op types map, the pre-flight over them, and the
// Writer (mindir_writer.h) over the inference graph.
#include "formats/mindspore/mindir_export.h"

#include "core/error.h"
#include "formats/mindspore/mindir_writer.h"
#include "ops/op.h"

#include <set>

namespace netwright::mindspore {

namespace mindir {

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

} // namespace mindir

std::string exportMindir(const Graph &model, const MindirExportOptions &options)
{
    // Op types without a mapping are listed (once per type) even when the engine cannot infer
    // the graph's shapes; otherwise every node is tried and what does not map is listed after.
    ExportProblems unknown;
    for (const auto &n : model.nodes)
        if (!isTrainingLoss(n.opType) && n.opType != "Dropout" && n.opType != "Identity" && !mindir::mappable(n.opType))
            unknown.add(n, "no MindIR equivalent");
    InferenceGraph ig;
    try {
        ig = inferenceGraph(model, options.dynamicBatch);
    } catch (const Error &) {
        unknown.raise(model, "MindIR");
        throw;
    }
    return mindir::Writer(ig, options).run();
}

} // namespace netwright::mindspore
