// SPDX-License-Identifier: Apache-2.0
// Internal to the MindIR writer (mindir_export.h says what it writes): the Writer over one
// inference graph, its op tables, and the files that hold its parts (the values known ahead of a
// run, folding on constants and their element types are OpTableWriter's, formats/export_values.h) —
//   mindir_writer.cpp           the protos, values, primitives, CNodes and building blocks; emit()
//   mindir_fold.cpp             shape arithmetic folded into constants, or followed at a free batch
//   mindir_map_elementwise.cpp  unary/binary ops, Clip, softmaxes, activations, Where
//   mindir_map_layers.cpp       Gemm/MatMul, Conv/ConvTranspose, pools, reductions, normalizations
//   mindir_map_shape.cpp        reshaping, joining, slicing and indexing ops
//   mindir_rnn.cpp              LSTM, GRU and RNN, step by step
//   mindir_export.cpp           the op tables and exportMindir (pre-flight, then the Writer)
#pragma once

#include "formats/export_values.h"
#include "formats/mindspore/mindir_export.h"
#include "formats/mindspore/mindir_proto.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace netwright::mindspore::mindir {

// Engine op → MindSpore primitive of the same meaning, one input.
const std::map<std::string, std::string> &unaryOps();
// Engine op → MindSpore primitive of the same meaning, two inputs with ONNX broadcasting.
const std::map<std::string, std::string> &binaryOps();
// Every op type the writer has a mapping for (some settings of them may still be refused).
bool mappable(const std::string &op);

class Writer : public OpTableWriter {
public:
    Writer(const InferenceGraph &ig, const MindirExportOptions &options);
    std::string run();

private:
    std::string prefixed(const std::string &name) const { return m_graphName + ":" + name; }
    ExternalDataPlan *m_external = nullptr; // the split layout's data file, when asked for

    // Records that `n` does not map; the problems are listed once per op type and reason.
    void refuse(const Node &n, const std::string &why) { m_problems.add(n, why); }
    // refuse() in a per-op mapping: `n` is handled (returns true).
    bool refused(const Node &n, const std::string &why)
    {
        refuse(n, why);
        return true;
    }

    void throwGrouped() { m_problems.raise(m_g, "MindIR"); }

    // ---- values (mindir_writer.cpp) ----------------------------------------------------------

    // The MindIR name of an engine value; initializers become graph parameters on first use,
    // folded values Constant tensors.
    std::string value(const std::string &engineName);

    // ---- shape arithmetic (mindir_fold.cpp) --------------------------------------------------

    struct Partial { // an integer vector computed from the free batch, entry by entry
        std::vector<std::optional<int64_t>> v;
        bool scalar = false;
        std::string root; // the Shape node it comes from
    };
    struct Filled { // ConstantOfShape of a partial shape
        Tensor value; // the one fill element
        std::string root;
    };

    const Partial *partialOf(const std::string &v) const;
    const Filled *filledOf(const std::string &v) const;
    // A known integer value (an initializer, a folded value) as a partial one; nullopt otherwise.
    std::optional<Partial> asPartial(const std::string &v) const;
    // Records `p` as the value of `out`: folded into a constant when every entry is known.
    void setPartial(const std::string &out, Partial p);
    // The Shape node a value computed from the free batch comes from.
    std::string dynamicRoot(const std::string &v) const;
    void refuseDynamic(const Node &n, const std::string &input);
    void refuseDynamic(const std::string &what, const std::string &v, const std::string &where);
    // True when `n` was handled here: its outputs partial, filled, folded, or refused.
    bool symbolic(const Node &n);
    static bool isZero(const Tensor &t);

    // ---- nodes (mindir_writer.cpp) -----------------------------------------------------------

    Prim &primitive(const std::string &opType, const std::vector<std::string> &inputNames);
    // A CNode calling `prim` on `inputs`, with the output abstract; returns its name.
    std::string cnode(const Prim &prim, const std::vector<std::string> &inputs, const std::vector<Shape> &outputShapes,
                      const std::vector<DType> &types = {});
    // A Constant node (value node); returns its name and fills `value` through `set`.
    template<typename Fill>
    std::string constant(Fill set);
    std::string constantTuple(const std::vector<int64_t> &values);
    std::string constantInt(int64_t v);
    std::string constantTensor(const Tensor &t);
    std::string scalarConst(float v) { return constantTensor(Tensor::full({}, v)); }
    std::string indexConst(int64_t v) { return constantTensor(Tensor::fromInt64({}, {v})); }

    // One-output primitive with input names `names` on `inputs`.
    std::string call(const std::string &op, const std::vector<std::string> &names, const std::vector<std::string> &inputs,
                     const Shape &shape, DType type = DType::Float32);
    std::string unary(const std::string &op, const std::string &x, const Shape &s) { return call(op, {"x"}, {x}, s); }
    std::string binary(const std::string &op, const std::string &x, const std::string &y, const Shape &s);
    // x · yᵀ (2-D), optionally + bias along axis 1: what nn.Dense compiles to.
    std::string dense(const std::string &x, const std::string &w, const std::string &bias, const Shape &s);
    std::string biasAdd(const std::string &x, const std::string &b, const Shape &s);
    // x[..., begin:end:stride] per axis; axes whose entry in `full` is true are taken whole
    // (begin_mask / end_mask bits), so a dynamic batch needs no bound.
    std::string stridedSlice(const std::string &x, std::vector<int64_t> begin, std::vector<int64_t> end, std::vector<int64_t> strides,
                             int64_t beginMask, int64_t endMask, const Shape &s, DType type = DType::Float32);
    std::string gather(const std::string &x, const std::string &indices, int64_t axis, const Shape &s, DType type = DType::Float32);
    std::string expandDims(const std::string &x, int64_t axis, const Shape &s, DType type = DType::Float32);
    std::string concat(const std::vector<std::string> &parts, const std::vector<Shape> &shapes, int64_t axis, const Shape &s,
                       DType type = DType::Float32);
    std::string reshape(const std::string &x, const std::vector<int64_t> &shape, const Shape &s, DType type = DType::Float32);
    std::string reduce(const std::string &op, const std::string &x, const std::vector<int64_t> &axes, bool keep, const Shape &s,
                       DType type = DType::Float32);

    // A Reshape target written as a tuple: at most one free (-1) dimension.
    static bool reshapeable(const Shape &s) { return std::count(s.begin(), s.end(), int64_t(-1)) <= 1; }

    // ---- per-op mappings ---------------------------------------------------------------------

    // Writes node `n`: a refused input skips it, LSTM/GRU/RNN go to rnn(), the others to the
    // mapping of their group; what none maps is refused.
    void emit(const Node &n);

    // What every per-op mapping reads of the node it writes.
    struct Site {
        const std::string &out; // the first output
        const Shape &y;         // its shape
        DType yt;               // its element type
        size_t rank;            // the first input's rank (0 without one)
    };
    // The mappings of one group each: false when `n`'s op is not one of the group's; else true,
    // with `result` the MindIR name of the first output, or empty when `n` was refused or named
    // its outputs itself.
    bool mapElementwise(const Node &n, const Site &site, std::string &result); // mindir_map_elementwise.cpp
    bool mapLayer(const Node &n, const Site &site, std::string &result);       // mindir_map_layers.cpp
    bool mapShapeOp(const Node &n, const Site &site, std::string &result);     // mindir_map_shape.cpp
    void rnn(const Node &n);                                                    // mindir_rnn.cpp

    ::mind_ir::ModelProto m_model;
    ::mind_ir::GraphProto *m_graph = nullptr;
    std::string m_graphName, m_scope, m_debug;
    std::map<std::string, std::string> m_names;
    std::map<std::string, Partial> m_partial; // shape arithmetic on the free batch
    std::map<std::string, Filled> m_filled;   // ConstantOfShape of such a shape
    std::set<std::string> m_used;
    int m_id = 0, m_opIndex = 0;
};

} // namespace netwright::mindspore::mindir
