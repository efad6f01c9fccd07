// SPDX-License-Identifier: Apache-2.0
// Internal to the AIR writer (air_export.h says what it writes): the Writer over one inference
// graph, its op tables, and the files that hold its parts (the values known ahead of a run,
// folding and their element types are OpTableWriter's, formats/export_values.h) —
//   air_writer.cpp           the ModelDef, GE ops with their
//                            descriptors, Const ops and the building blocks; run() and emit()
//   air_map_elementwise.cpp  unary/binary ops, Log, Mean, Clip, softmaxes, activations, Cast, Where
//   air_map_layers.cpp       Gemm/MatMul, Conv/ConvTranspose, pools, reductions, normalizations
//   air_map_shape.cpp        reshaping, joining, slicing, indexing and padding ops
//   air_rnn.cpp              LSTM, GRU and RNN, step by step
//   air_export.cpp           the op tables and exportAir (pre-flight, then the Writer)
#pragma once

#include "formats/export_values.h"
#include "ge_ir.pb.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace netwright::air::exporter {

// Engine op → GE operator of the same meaning on one input "x" (MindSpore's GE adapters).
const std::map<std::string, std::string> &unaryOps();
// Engine op → GE operator of the same meaning on "x1", "x2" with ONNX (NumPy) broadcasting;
// the variadic Sum/Max/Min chain it.
const std::map<std::string, std::string> &binaryOps();
// Every op type the writer has a mapping for (some settings of them may still be refused).
bool mappable(const std::string &op);

// A tensor descriptor: the proto DataType, the dims, NCHW for 4-D values and ND otherwise.
void fillDesc(ge::proto::TensorDescriptor &d, DType dtype, const Shape &shape);
// A 1-D INT64 tensor of `v`.
Tensor int64s(const std::vector<int64_t> &v);

class Writer : public OpTableWriter {
public:
    explicit Writer(const InferenceGraph &ig);
    // The serialized ModelDef; throws, naming every node that does not map, when some do not.
    std::string run();

private:
    struct Port {
        std::string ref; // "<op>:<index>"
        Shape shape;
        DType dtype = DType::Float32;
    };

    // fail() in a per-op mapping: `n` is handled (returns true).
    bool refused(const Node &n, const std::string &why)
    {
        fail(n, why);
        return true;
    }

    // ---- ops (air_writer.cpp) ----------------------------------------------------------------

    ge::proto::OpDef &op(const std::string &type, const std::string &name);
    // The producer port of an engine value; weights and folded values become Const ops on first use.
    Port port(const std::string &engineName);
    // A Const op "<name>_const" holding `t`; its port is remembered under `name`.
    Port constant(const std::string &name, const Tensor &t);
    // An operand this writer makes up (a shape, an axis, a composition's scalar): "<node>.<what>".
    Port operandConst(const Node &n, const std::string &what, const Tensor &t) { return constant(n.name + "." + what, t); }
    Port scalar(const Node &n, const std::string &what, float v) { return operandConst(n, what, Tensor::full({}, v)); }

    // A computing op on `inputs`, with descriptors on every port.
    ge::proto::OpDef &compute(const std::string &type, const std::string &name, const std::vector<Port> &inputs,
                              const std::vector<Shape> &outputs, const std::vector<DType> &types = {});
    static Port out0(const ge::proto::OpDef &o, const Shape &s, DType t = DType::Float32) { return {o.name() + ":0", s, t}; }

    static void ints(ge::proto::OpDef &o, const std::string &k, const std::vector<int64_t> &v);
    static void integer(ge::proto::OpDef &o, const std::string &k, int64_t v) { (*o.mutable_attr())[k].set_i(v); }
    static void boolean(ge::proto::OpDef &o, const std::string &k, bool v) { (*o.mutable_attr())[k].set_b(v); }
    static void real(ge::proto::OpDef &o, const std::string &k, float v) { (*o.mutable_attr())[k].set_f(v); }
    static void text(ge::proto::OpDef &o, const std::string &k, const std::string &v) { (*o.mutable_attr())[k].set_s(v); }

    Port binary(const std::string &type, const std::string &name, const Port &a, const Port &b, const Shape &y, DType t = DType::Float32)
    {
        return out0(compute(type, name, {a, b}, {y}, {t}), y, t);
    }
    Port unary(const std::string &type, const std::string &name, const Port &a, const Shape &y)
    {
        return out0(compute(type, name, {a}, {y}), y);
    }

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
    // Names the first output: `result`'s port 0, or else `alias` (another op's port).
    void setOutput(const Site &site, const ge::proto::OpDef *result, const Port &alias);
    // The mappings of one group each: false when `n`'s op is not one of the group's; else true,
    // with `n`'s outputs named, or `n` refused.
    bool mapElementwise(const Node &n, const Site &site); // air_map_elementwise.cpp
    bool mapLayer(const Node &n, const Site &site);       // air_map_layers.cpp
    bool mapShapeOp(const Node &n, const Site &site);     // air_map_shape.cpp
    void rnn(const Node &n);                               // air_rnn.cpp

    // The shape of a variadic chain's intermediate (inputs 0..i broadcast), for its descriptor.
    Shape broadcastShape(size_t i, const Node &n) const;
    // True when `v` is zeros computed, not held as a weight (air_rnn.cpp).
    bool zeroFilled(const std::string &v, bool weightIsZeros = false) const;

    ge::proto::ModelDef m_model;
    ge::proto::GraphDef *m_graph = nullptr;
    std::map<std::string, Port> m_ports;
    std::set<std::string> m_used;
    std::set<std::string> m_opNames;
    int64_t m_nextId = 0;
};

} // namespace netwright::air::exporter
