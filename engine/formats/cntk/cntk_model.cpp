// SPDX-License-Identifier: Apache-2.0
// CNTK model-v2 files (cntk_model.h): the PrimitiveOpType names, what a file is by its first bytes
// and content, and decoding a model's variables and functions. The writer is cntk_writer.h's.
#include "formats/cntk/cntk_model.h"

#include "core/error.h"
#include "formats/cntk/dictionary.h"

#include <array>

namespace netwright::cntk {

namespace {

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

using dict::Dictionary;
using dict::Value;

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
        if (const Value *c = dict::find(d, "block_function_composite"); c && c->value_case() == Value::kDictionaryValue)
            if (const Value *root = dict::find(c->dictionary_value(), "root"); root && root->value_case() == Value::kStringValue)
                f.blockRoot = root->string_value();
        if (const Value *n = dict::find(d, "block_function_op_name"); n && n->value_case() == Value::kStringValue)
            f.blockOpName = n->string_value();
        const Value *keys = dict::find(d, "block_function_composite_arguments_map_keys");
        const Value *values = dict::find(d, "block_function_composite_arguments_map_values");
        if (keys && values && keys->value_case() == Value::kVectorValue && values->value_case() == Value::kVectorValue) {
            const auto &k = keys->vector_value().value();
            const auto &v = values->vector_value().value();
            check(k.size() == v.size(), "\"" + source + "\": Block \"" + f.uid + "\" maps " + std::to_string(k.size()) + " placeholders to " +
                                            std::to_string(v.size()) + " inputs.");
            for (int i = 0; i < k.size(); ++i)
                f.blockArguments.emplace_back(k[i].string_value(), v[i].string_value());
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
