// SPDX-License-Identifier: Apache-2.0
// CNTK model-v2 files (../shared/formats/cntk-v2.md, sections 2–8): one CNTK.proto.Dictionary
// holding a CompositeFunction. We write the training function of a graph (model output, loss and
// classification error under a Combine, as Trainer::SaveCheckpoint does) and read any v2 file's
// variables and functions. Dimensions: CNTK lists them column-major, we keep the row-major
// (Python) order in Tensor shapes; the element bytes are the same. Layer: engine/formats.
#pragma once

#include "core/tensor.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netwright {
class Graph;
}

namespace netwright::cntk {

// The first bytes of a legacy v1 file: a model (UTF-16 "BCN") or an SGD checkpoint ("BVersion").
bool isLegacyV1(std::string_view head);
// "legacy CNTK model-v1 file" or "legacy CNTK v1 SGD checkpoint", for messages.
std::string legacyV1Kind(std::string_view head);
// The first bytes of a CNTK v2 Dictionary: version (field 1, varint 1), then field 2 (data).
bool isV2Dictionary(std::string_view head);
enum class FileKind { NotCntk, Model, TrainerCheckpoint };
// What a file is by content: a v2 Dictionary with "primitive_functions" and "inputs" (a model) or
// with "Learners" (a trainer checkpoint); anything else (other protobufs too) is NotCntk.
FileKind classify(const std::string &path);

enum class VariableKind { Input = 0, Output = 1, Parameter = 2, Constant = 3, Placeholder = 4 };

struct Variable {
    std::string uid, name;
    VariableKind kind = VariableKind::Input;
    std::vector<uint64_t> cntkShape;  // as stored (column-major)
    std::optional<Tensor> value;      // Parameters and Constants; shape = reversed cntkShape
    std::string dataType;             // "float32", "float64", "float16", …
};

struct Function {
    std::string uid, name;
    uint64_t op = 0;
    std::string opName;               // PrimitiveOpType name, "op<N>" when unknown
    std::vector<std::string> inputs;  // uids (outputs as "<uid>_Output_<i>")
    // Numeric attributes flattened to numbers (bools 0/1, NDShapes and vectors element-wise,
    // an Axis as its static index), strings in `text`; CNTK order (column-major shapes).
    std::map<std::string, std::vector<double>> attributes;
    std::map<std::string, std::string> text;
    // A Block (a composite layer: Dense, Convolution …): the op name it stands for, the uid of its
    // composite's root (its primitives are in the model's list, before the Block), and which of
    // the composite's placeholders stands for which of the Block's inputs.
    std::string blockOpName, blockRoot;
    std::vector<std::pair<std::string, std::string>> blockArguments; // placeholder uid → input uid
};

struct Model {
    std::string uid, root, name;
    std::vector<Variable> variables;  // the `inputs` vector, in file order
    std::vector<Function> functions;  // topological order, root last
};

// The name of a PrimitiveOpType value ("Convolution" for 33); "" when unknown.
std::string primitiveOpName(uint64_t op);

// Encodes the training function of `trainingGraph` (inputs "input" and "labels", a
// SoftmaxCrossEntropyLoss node) deterministically. Float32 initializers become Parameters
// (trainable) or Constants (buffers) named as in the graph, in the graph's initializer order.
// Every engine op CNTK has as a primitive or an exact composition of primitives is written (the
// batch as CNTK's dynamic axis, axis attributes column-major over the sample; RNN/GRU/LSTM unrolled
// step by step, a time-major [T, B, …] value as its sample with the batch left out); shape
// arithmetic on constants is computed and written as Constants. Throws one Error naming, once per op type and
// reason, every node that has no CNTK equivalent (ExportProblems); nothing is produced then.
std::string encodeTrainingModel(const Graph &trainingGraph);
// The model alone (what `netwright export --format cntk` writes): the same graph without the
// labels input and the criteria, rooted at the model's output function.
std::string encodeInferenceModel(const Graph &trainingGraph);

// Parses a model-v2 file's bytes (`source` names it in errors).
Model decodeModel(std::string_view bytes, const std::string &source);
Model readModel(const std::string &path);

// A model-v2 file as a runnable, trainable engine graph: Input variables feeding the model output
// become graph inputs (batch axis first), Parameters and Constants initializers (row-major, same
// bytes), and the functions reachable from the output map to engine ops — Times/TransposeTimes
// (+ Plus) to Gemm (inputs of higher rank flattened; a computed matrix under TransposeTimes too)
// or, for a matrix per sample, MatMul;
// Convolution (+ Plus) to Conv or, transposed, ConvTranspose; Pooling, BatchNormalization, the
// element-wise math (ReLU, Sigmoid/StableSigmoid, Tanh, ELU, Negate, Exp, Log, …), Clip, Pow,
// Plus/Minus/ElementTimes, the comparisons (booleans, cast to float where read as numbers),
// Select to Where, Softmax/LogSoftmax/Hardmax, TransposeAxes to Transpose, Slice, ReduceElements
// to Reduce*, Pad, Gather (constant indices), Dropout, Reshape, Splice (along a static axis) to
// Concat. Named Constants no function reads come back as initializers. The output is the root, or
// under a Combine its first non-criterion input. Block
// functions and other ops are refused with an Error listing them.
Graph importModel(std::string_view bytes, const std::string &source);

} // namespace netwright::cntk
