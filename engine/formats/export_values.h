// SPDX-License-Identifier: Apache-2.0
// What the exporters share about values known ahead of a run and the node settings they all read:
// folding a node on known values (every writer), and the OpTableWriter base of the op-table
// writers (MindIR, AIR) — the inference graph they write, the folded values and element types,
// the problems found on the way. Layer: engine/formats.
#pragma once

#include "formats/inference_graph.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace netwright {

inline bool isStatic(const Shape &s)
{
    return std::all_of(s.begin(), s.end(), [](int64_t d) { return d >= 0; });
}

inline int64_t normAxis(int64_t axis, size_t rank)
{
    return axis < 0 ? axis + static_cast<int64_t>(rank) : axis;
}

// ---- folding -----------------------------------------------------------------------------------

// Ops whose outputs differ from run to run are never folded: isRandomOp() in graph/graph.h.

// `n` evaluated on `values` (every input known), unless its outputs hold more than 65,536
// elements in all (then empty); `numel` gives an output's element count, 0 where not known.
std::vector<Tensor> evaluateSmall(const Node &n, const std::vector<const Tensor *> &values,
                                  const std::function<int64_t(const std::string &)> &numel);
// Records `out` as the values of `n`'s outputs in `folded`; false when `out` is empty (not folded).
bool keepFolded(const Node &n, std::vector<Tensor> out, std::map<std::string, Tensor> &folded);

// ---- settings every writer reads the same way --------------------------------------------------

// A Slice as StridedSlice over every axis of `x`: the axes not sliced are taken whole (their
// begin/end mask bits set); ONNX's clamping of starts and ends at fixed dimensions.
struct StridedSliceArgs {
    std::vector<int64_t> begin, end, strides;
    int64_t beginMask = 0, endMask = 0;
};
enum class SliceProblem { None, AxisOutOfRange, FreeDimensionFromEnd };
// `axes` and `steps` complete (as long as `starts`), `x` of rank below 63.
SliceProblem stridedSliceArgs(const Shape &x, const std::vector<int64_t> &starts, const std::vector<int64_t> &ends,
                              const std::vector<int64_t> &axes, const std::vector<int64_t> &steps, StridedSliceArgs &out);

// Why an LSTM/GRU/RNN is not written as its step-by-step composition by the op-table writers
// (layout, clipping, activations, input_forget, sequence_lens, peepholes, a free sequence length);
// empty when it is.
std::string recurrentProblem(const Node &n, const Shape &x);

// What the op-table writers (MindIR, AIR) share: the inference graph they write, the values known
// ahead of a run and the element types, and the problems found on the way, listed all at once by
// m_problems.raise().
class OpTableWriter {
protected:
    explicit OpTableWriter(const InferenceGraph &ig) : m_ig(ig), m_g(*ig.graph) {}

    // Records that `n` does not map (returns false, for `return fail(…)`).
    bool fail(const Node &n, const std::string &why);
    // A 2-D window op's spatial attributes — pads in (top, bottom, left, right) order — or a problem.
    bool window2d(const Node &n, std::vector<int64_t> &kernel, std::vector<int64_t> &strides, std::vector<int64_t> &pads,
                  std::vector<int64_t> &dilations);
    std::optional<float> scalarOf(const std::string &v) const { return m_ig.scalar(v); }
    // Clip's bounds, from inputs 1 and 2 or the older min/max attributes (nullopt where absent);
    // false when a bound input is not a float32 constant.
    bool clipBounds(const Node &n, std::optional<float> &lo, std::optional<float> &hi) const;

    // ---- values (export_values.cpp) ----------------------------------------------------------

    // A value known ahead of a run: an initializer or a folded shape computation.
    const Tensor *known(const std::string &v) const;
    std::optional<std::vector<int64_t>> intsOf(const std::string &v) const;
    // An integer operand from input `i` or, in its older attribute form, attribute `attr`.
    std::optional<std::vector<int64_t>> operand(const Node &n, size_t i, const std::string &attr) const;
    // Slice's starts, ends, axes and steps (axes and steps completed with their defaults); false
    // when one of them is not a constant.
    bool sliceOperands(const Node &n, std::vector<int64_t> &starts, std::vector<int64_t> &ends, std::vector<int64_t> &axes,
                       std::vector<int64_t> &steps) const;
    // The axes a Reduce* node reduces (input 1 or attribute "axes"), normalised — every axis when
    // none are given, but none with noop_with_empty_axes set (then `noop`); false when they are
    // not constants.
    bool reduceAxes(const Node &n, size_t rank, std::vector<int64_t> &axes, bool &noop) const;
    DType typeOf(const std::string &v) const;
    void inferTypes(const Node &n);
    // Shape arithmetic on constants (PyTorch's Shape → Gather → Concat → Reshape at a fixed batch)
    // is computed here (true when `n` was folded). Nodes reading a model's float tensors are never
    // folded, so every weight stays a tensor of its own.
    bool fold(const Node &n);
    const Shape &shapeOf(const std::string &v) const { return m_ig.shape(v); }

    const InferenceGraph &m_ig;
    const Graph &m_g;
    ExportProblems m_problems;
    std::map<std::string, Tensor> m_folded;
    std::map<std::string, DType> m_types;
};

} // namespace netwright
