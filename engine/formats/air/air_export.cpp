// SPDX-License-Identifier: Apache-2.0
// The AIR writer's driver and op tables: which op types map, the pre-flight over them, and the
// Writer (air_writer.h) over the inference graph.
#include "formats/air/air_export.h"

#include "formats/air/air_writer.h"

namespace netwright::air {

namespace exporter {

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

} // namespace exporter

std::string exportAir(const Graph &model, const AirExportOptions &options)
{
    const InferenceGraph ig = inferenceGraph(model, options.dynamicBatch, "AIR", exporter::mappable);
    return exporter::Writer(ig).run();
}

} // namespace netwright::air
