// SPDX-License-Identifier: Apache-2.0
#include "formats/export_values.h"

#include "core/error.h"
#include "ops/op.h"

#include <climits>

namespace netwright {

std::vector<Tensor> evaluateSmall(const Node &n, const std::vector<const Tensor *> &values,
                                  const std::function<int64_t(const std::string &)> &numel)
{
    int64_t total = 0;
    for (const auto &o : n.outputs)
        if (!o.empty())
            total += numel(o);
    if (total > (1 << 16))
        return {};
    return evaluateNode(n, values);
}

bool keepFolded(const Node &n, std::vector<Tensor> out, std::map<std::string, Tensor> &folded)
{
    if (out.empty())
        return false;
    for (size_t i = 0; i < out.size() && i < n.outputs.size(); ++i)
        if (!n.outputs[i].empty() && out[i].defined())
            folded[n.outputs[i]] = std::move(out[i]);
    return true;
}

SliceProblem stridedSliceArgs(const Shape &x, const std::vector<int64_t> &starts, const std::vector<int64_t> &ends,
                              const std::vector<int64_t> &axes, const std::vector<int64_t> &steps, StridedSliceArgs &out)
{
    const size_t rank = x.size();
    out.begin.assign(rank, 0);
    out.end.assign(rank, 0);
    out.strides.assign(rank, 1);
    out.beginMask = (int64_t(1) << rank) - 1;
    out.endMask = out.beginMask;
    for (size_t i = 0; i < axes.size(); ++i) {
        const auto a = static_cast<size_t>(normAxis(axes[i], rank));
        if (a >= rank)
            return SliceProblem::AxisOutOfRange;
        const int64_t dim = x[a], step = steps[i];
        int64_t s = starts[i], e = ends[i];
        if (dim < 0 && (step < 0 || s < 0 || (e < 0 && e > INT_MIN)))
            return SliceProblem::FreeDimensionFromEnd;
        out.strides[a] = step;
        if (dim >= 0) {
            // ONNX's clamping; Python's (and StridedSlice's) agree except for the end "before
            // index 0" of a negative step, which is the end mask.
            if (s < 0)
                s += dim;
            if (e < 0)
                e += dim;
            s = step > 0 ? std::clamp<int64_t>(s, 0, dim) : std::clamp<int64_t>(s, 0, dim - 1);
            e = step > 0 ? std::clamp<int64_t>(e, 0, dim) : std::clamp<int64_t>(e, -1, dim - 1);
        }
        out.begin[a] = s;
        out.beginMask &= ~(int64_t(1) << a);
        if ((step < 0 && e < 0) || (dim < 0 && e >= INT_MAX)) {
            out.end[a] = 0;
        } else {
            out.end[a] = e;
            out.endMask &= ~(int64_t(1) << a);
        }
    }
    return SliceProblem::None;
}

std::string recurrentProblem(const Node &n, const Shape &x)
{
    auto has = [&](size_t i) { return n.inputs.size() > i && !n.inputs[i].empty(); };
    if (n.attrInt("layout", 0) != 0)
        return "layout 1 (batch first) is not exported";
    if (n.hasAttribute("clip"))
        return "cell clipping is not exported";
    if (n.hasAttribute("activations") || n.hasAttribute("activation_alpha"))
        return "activations other than the defaults are not exported";
    if (n.attrInt("input_forget", 0) != 0)
        return "input_forget is not exported";
    if (has(4))
        return "sequence_lens is not exported";
    if (n.opType == "LSTM" && has(7))
        return "peepholes are not exported";
    if (x.size() != 3 || x[0] <= 0 || n.attrInt("hidden_size", 0) <= 0)
        return "the sequence length must be fixed";
    return {};
}

// ---- OpTableWriter -----------------------------------------------------------------------------

bool OpTableWriter::fail(const Node &n, const std::string &why)
{
    m_problems.add(n, why);
    return false;
}

bool OpTableWriter::window2d(const Node &n, std::vector<int64_t> &kernel, std::vector<int64_t> &strides, std::vector<int64_t> &pads,
                             std::vector<int64_t> &dilations)
{
    Window2d w;
    if (const std::string problem = netwright::window2d(n, m_ig, w); !problem.empty())
        return fail(n, problem);
    kernel = w.kernel;
    strides = w.strides;
    pads = w.pads;
    dilations = w.dilations;
    return true;
}

bool OpTableWriter::clipBounds(const Node &n, std::optional<float> &lo, std::optional<float> &hi) const
{
    auto has = [&](size_t i) { return n.inputs.size() > i && !n.inputs[i].empty(); };
    lo = has(1) ? scalarOf(n.inputs[1]) : n.hasAttribute("min") ? std::optional<float>(n.attrFloat("min", 0)) : std::nullopt;
    hi = has(2) ? scalarOf(n.inputs[2]) : n.hasAttribute("max") ? std::optional<float>(n.attrFloat("max", 0)) : std::nullopt;
    return !((has(1) && !lo) || (has(2) && !hi));
}

const Tensor *OpTableWriter::known(const std::string &v) const
{
    if (v.empty())
        return nullptr;
    const std::string &s = m_ig.source(v);
    if (const auto it = m_folded.find(s); it != m_folded.end())
        return &it->second;
    return m_ig.initializer(s);
}

std::optional<std::vector<int64_t>> OpTableWriter::intsOf(const std::string &v) const
{
    const Tensor *t = known(v);
    if (!t)
        return std::nullopt;
    if (t->dtype() == DType::Int64)
        return std::vector<int64_t>(t->dataAs<int64_t>(), t->dataAs<int64_t>() + t->numel());
    if (t->dtype() == DType::Int32)
        return std::vector<int64_t>(t->dataAs<int32_t>(), t->dataAs<int32_t>() + t->numel());
    return std::nullopt;
}

std::optional<std::vector<int64_t>> OpTableWriter::operand(const Node &n, size_t i, const std::string &attr) const
{
    if (n.inputs.size() > i && !n.inputs[i].empty())
        return intsOf(n.inputs[i]);
    if (n.hasAttribute(attr))
        return n.attrInts(attr, {});
    return std::vector<int64_t>{};
}

bool OpTableWriter::sliceOperands(const Node &n, std::vector<int64_t> &starts, std::vector<int64_t> &ends, std::vector<int64_t> &axes,
                                  std::vector<int64_t> &steps) const
{
    const auto s = operand(n, 1, "starts"), e = operand(n, 2, "ends"), a = operand(n, 3, "axes"), k = operand(n, 4, "steps");
    if (!s || !e || !a || !k)
        return false;
    starts = *s;
    ends = *e;
    axes = *a;
    steps = *k;
    if (axes.empty())
        for (size_t i = 0; i < starts.size(); ++i)
            axes.push_back(static_cast<int64_t>(i));
    if (steps.empty())
        steps.assign(starts.size(), 1);
    return true;
}

bool OpTableWriter::reduceAxes(const Node &n, size_t rank, std::vector<int64_t> &axes, bool &noop) const
{
    const auto given = operand(n, 1, "axes");
    if (!given)
        return false;
    axes.clear();
    for (int64_t x : *given)
        axes.push_back(normAxis(x, rank));
    noop = axes.empty() && n.attrInt("noop_with_empty_axes", 0) != 0;
    if (axes.empty() && !noop)
        for (size_t i = 0; i < rank; ++i)
            axes.push_back(static_cast<int64_t>(i));
    return true;
}

DType OpTableWriter::typeOf(const std::string &v) const
{
    const std::string &s = m_ig.source(v);
    if (const auto it = m_types.find(s); it != m_types.end())
        return it->second;
    if (const Tensor *t = known(s))
        return t->dtype();
    return DType::Float32;
}

void OpTableWriter::inferTypes(const Node &n)
{
    std::vector<DType> in;
    for (const auto &i : n.inputs)
        in.push_back(i.empty() ? DType::Float32 : typeOf(i));
    try {
        const auto out = kernelFor(n.opType, DeviceType::Cpu, n).outputTypes(n, in);
        for (size_t k = 0; k < out.size() && k < n.outputs.size(); ++k)
            m_types[n.outputs[k]] = out[k];
    } catch (const Error &) {
    }
}

bool OpTableWriter::fold(const Node &n)
{
    if (isRandomOp(n.opType))
        return false;
    const OpKernel &k = kernelFor(n.opType, DeviceType::Cpu, n);
    std::vector<Shape> shapes;
    std::vector<const Tensor *> values;
    bool all = true, staticShapes = true, weights = false;
    for (const auto &i : n.inputs) {
        if (i.empty()) {
            shapes.emplace_back();
            values.push_back(nullptr);
            continue;
        }
        shapes.push_back(shapeOf(i));
        staticShapes = staticShapes && isStatic(shapes.back());
        const Tensor *t = known(i);
        values.push_back(t);
        all = all && t;
        const Tensor *w = m_ig.initializer(i);
        weights = weights || (w && w->dtype() == DType::Float32);
    }
    std::vector<Tensor> out;
    if (staticShapes)
        if (auto v = k.valueFromShapes(n, shapes))
            out.push_back(std::move(*v));
    if (out.empty() && all && !weights)
        out = evaluateSmall(n, values, [&](const std::string &o) -> int64_t {
            const auto it = m_ig.shapes.find(o);
            return it != m_ig.shapes.end() && isStatic(it->second) ? shapeNumel(it->second) : 0;
        });
    return keepFolded(n, std::move(out), m_folded);
}

} // namespace netwright
