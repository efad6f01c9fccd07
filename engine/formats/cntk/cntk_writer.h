// SPDX-License-Identifier: Apache-2.0
// Internal to the CNTK model-v2 writer (cntk_model.h says what it writes): the Writer over one
// training graph, its op tables, and the files that hold its parts —
//   cntk_writer.cpp           variables, functions, constants and folded values, batch-axis
//                             tracking, the building blocks; addNode() dispatches to the groups
//   cntk_map_elementwise.cpp  unary/binary ops, Sum, Where, Ceil, the ELU family, HardSigmoid,
//                             softmaxes, Clip
//   cntk_map_layers.cpp       Gemm/MatMul, Conv/ConvTranspose, pools, BatchNormalization,
//                             Dropout, reductions
//   cntk_map_shape.cpp        reshapes, Cast, Transpose, Slice/Split, Pad, Gather, Concat, Identity
//   cntk_rnn.cpp              LSTM, GRU and RNN, step by step
//   cntk_export.cpp           the op tables, encode() (pre-flight, then the nodes) and the
//                             encode*Model entry points
// CNTK's batch is a dynamic axis, not one of a value's axes: a value computed from the data input
// ("batched") has the sample's axes only, listed column-major (CNTK static axis k of a sample of
// rank r is row-major sample axis r-1-k, engine axis r-k); constants keep all their axes.
#pragma once

#include "formats/cntk/dictionary.h"
#include "formats/export_values.h"
#include "graph/graph.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace netwright::cntk::v2 {

inline constexpr uint64_t kPrimitiveFunctionVersion = 24; // "Version 24: Add ConvolutionSequenceShape"
inline constexpr int32_t kDynamicAxis = 2147483647;       // static_axis_idx of a dynamic axis

// The PrimitiveOpType values the writer uses (cntk-v2.md section 5; primitiveOpName names them).
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

// ---- op tables (cntk_export.cpp) ---------------------------------------------------------------

// Engine op → CNTK primitive of the same meaning, one operand.
const std::map<std::string, uint64_t> &unaryOps();
// Engine op → CNTK primitive of the same meaning, two operands broadcast as ONNX does.
const std::map<std::string, uint64_t> &binaryOps();
// Every op type the writer has a mapping for (some settings of them may still be refused).
bool mappable(const std::string &op);
// Why an op type has no CNTK mapping, for the pre-flight.
std::string refusal(const std::string &op);

// ---- value helpers (cntk_writer.cpp) -----------------------------------------------------------

std::vector<Value> bools(size_t n, bool v);
// A tensor of any numeric type as float32 (CNTK computes in float): nullopt when a value does not
// survive the conversion exactly.
std::optional<Tensor> asFloat32(const Tensor &t);
std::optional<std::vector<int64_t>> asInts(const Tensor &t);
Value staticAxis(int64_t index);

// Builds the CompositeFunction: uids are <Kind|Op><counter> with one counter, as CNTK numbers them.
class Writer {
public:
    explicit Writer(const Graph &g) : m_g(g) {}

    // training: the training function (output, loss and error under a Combine, with the labels
    // input); otherwise the model alone, rooted at its output (cntk_export.cpp).
    std::string encode(bool training);

private:
    // Records that `n` does not map (the problems are listed once per op type and reason); false.
    bool fail(const Node &n, const std::string &why)
    {
        m_problems.add(n, why);
        return false;
    }

    // ---- batch-axis checks and folding (cntk_writer.cpp) -------------------------------------

    // A batched output keeps the batch as its first axis, which CNTK's dynamic axis stands for:
    // checked at two batch sizes when the batch is free, at the fixed batch otherwise.
    bool keepsTheBatch(const Node &n);
    // CNTK's batch is a dynamic axis; a value that carries the engine's batch on another axis than
    // the first (a recurrent layer's time-major [T, B, …] values, layout 0) is a sample with that
    // axis left out. Only ops that move axes around it read such values: Transpose, the reshapes,
    // the element-wise functions of one operand and the recurrent layers themselves.
    bool readsItsBatch(const Node &n);
    // Shape arithmetic on constants (PyTorch's Shape → Gather → Concat → Reshape, Constant
    // nodes) is computed here: its results become CNTK Constants where a function reads them.
    // Nodes reading a model's trainable tensors are never folded, so every weight stays a Parameter
    // (a constant PyTorch expands into a recurrent layer's zero initial state folds).
    bool fold(const Node &n);

    // ---- values (cntk_writer.cpp) ------------------------------------------------------------

    // A constant the writer knows: a non-float initializer or a folded value.
    const Tensor *known(const std::string &v) const;
    std::optional<std::vector<int64_t>> constInts(const Node &n, size_t input, const char *attribute);
    std::optional<float> constFloat(const std::string &v) const;
    DType typeOf(const std::string &v);
    // The value an Identity chain forwards (PyTorch's exporter shares initializers through Identity).
    std::string source(const std::string &v) const;
    // A float initializer (through Identity), or nullptr.
    const Tensor *initializer(const std::string &v) const;

    // ---- variables and functions (cntk_writer.cpp) -------------------------------------------

    std::string addInput(const std::string &name, const Shape &sampleShape);
    std::string addVariable(const std::string &kind, const std::string &name, const Tensor &t, const std::vector<uint64_t> &cntkShape);
    std::string scalarConstant(const std::string &name, float value);
    Dictionary variable(const std::string &kind, const std::string &name, uint64_t kindValue);
    std::string finishVariable(Dictionary v);
    // Returns the output uid "<uid>_Output_0".
    std::string addFunction(uint64_t op, const std::string &name, const std::vector<std::string> &inputs, Dictionary attributes);
    // Rewrites the stored CNTK shape of an already-added Parameter (the value bytes do not change).
    void rebindAsParameter(const std::string &name, const std::vector<uint64_t> &cntkShape);
    // The spatial attributes of a 2-D window op, CNTK order (W, H[, C]).
    static std::vector<uint64_t> pair(const std::vector<int64_t> &hw, std::optional<uint64_t> channels = {});

    // The CNTK uid of an engine value; a folded value or a non-float initializer becomes a
    // Constant the first time a function reads it ("?" when it cannot, or was not written).
    std::string value(const std::string &v);

    // ---- shapes and the batch axis (cntk_writer.cpp) -----------------------------------------

    const Shape &shape(const std::string &v) const { return m_shapes.at(v); }
    bool batched(const std::string &v) const { return m_batched.count(v) != 0; }
    int64_t sampleRank(const std::string &v) const { return static_cast<int64_t>(shape(v).size()) - (batched(v) ? 1 : 0); }
    // A value's shape as CNTK lists it: the sample's axes (no batch), column-major.
    std::vector<uint64_t> cntkShape(const std::string &v) const;
    // The engine axis of a batched value that carries the batch: 0 but after a recurrent layer's
    // time-major values (and the Transposes and reshapes that move them).
    int64_t batchAxis(const std::string &v) const;
    void setBatchAxis(const std::string &v, int64_t axis);
    // Engine axis `a` of `v` (negative counts from the end) as CNTK's static axis index; nullopt
    // for the batch axis or an axis out of range.
    std::optional<int64_t> cntkAxis(const std::string &v, int64_t a) const;

    // ---- building blocks (cntk_writer.cpp) ---------------------------------------------------

    // An operand of an element-wise op whose output is `out`. CNTK aligns trailing axes as ONNX
    // does, but the batch is none of its axes: two batched operands must have the same rank, and
    // a constant that reaches the batch axis may only be 1 there (its leading 1s are reshaped away).
    std::optional<std::string> elementwise(const Node &n, const std::string &v, const std::string &out);
    // `n`'s first output is `from` (its uid and batch axis).
    bool alias(const Node &n, const std::string &from);

    // ---- per-op mappings ---------------------------------------------------------------------

    // Writes node `n` through the mapping of its group (true when written; false, with the
    // problem recorded, when refused). cntk_writer.cpp
    bool addNode(const Node &n);
    // The mappings of one group each: nullopt when `n`'s op is not one of the group's; else
    // whether `n` was written (its outputs' uids recorded) or refused.
    std::optional<bool> mapElementwise(const Node &n); // cntk_map_elementwise.cpp
    std::optional<bool> mapLayer(const Node &n);       // cntk_map_layers.cpp
    std::optional<bool> mapShapeOp(const Node &n);     // cntk_map_shape.cpp

    // cntk_map_layers.cpp
    bool reduce(const Node &n);
    bool matmul(const Node &n);
    bool convTranspose(const Node &n);
    std::string convBias(const Node &n, const std::string &conv);

    // cntk_map_shape.cpp
    bool reshapeAround(const Node &n);
    bool feedsRecurrentOnly(const std::string &v) const;
    bool transpose(const Node &n);
    std::string sliceAxis(const std::string &name, const std::string &x, const std::string &engineValue, int64_t axis, int64_t begin,
                          int64_t end, int64_t step);
    bool slice(const Node &n);
    bool pad(const Node &n);
    bool gather(const Node &n);

    bool rnn(const Node &n); // cntk_rnn.cpp

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

} // namespace netwright::cntk::v2
