// SPDX-License-Identifier: Apache-2.0
// Slicing and splitting (ONNX), on every element type: Slice (starts, ends, axes, steps as inputs
// since opset 10, as attributes before; negative steps; out-of-range bounds clamped as ONNX
// says) and Split (split sizes as input since 13, as attribute before; equal parts when absent;
// the number of parts is the node's number of outputs). Float32 gradients for both.
#include "core/error.h"
#include "core/parallel.h"
#include "ops/index_util.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

#include <algorithm>
#include <cstring>

namespace netwright {

namespace {

// Which input element each output element of a slice reads: along dim d, start[d] + i·step[d].
struct SliceMap {
    Shape out;
    std::vector<int64_t> start, step;
};

SliceMap sliceMap(const Node &node, const Shape &in, const std::vector<const Tensor *> &constants)
{
    const int rank = static_cast<int>(in.size());
    const auto starts = intOperand(node, constants, 1, "starts", "starts");
    const auto ends = intOperand(node, constants, 2, "ends", "ends");
    check(starts && ends, node.describe() + ": needs starts and ends.");
    check(starts->size() == ends->size(), node.describe() + ": starts and ends have different lengths.");
    std::vector<int64_t> axes(starts->size());
    for (size_t i = 0; i < axes.size(); ++i)
        axes[i] = static_cast<int64_t>(i);
    if (auto a = intOperand(node, constants, 3, "axes", "axes"))
        axes = *a;
    std::vector<int64_t> steps = intOperand(node, constants, 4, "steps", "steps").value_or(std::vector<int64_t>(starts->size(), 1));
    check(axes.size() == starts->size() && steps.size() == starts->size(),
          node.describe() + ": starts, ends, axes and steps must have the same length.");
    axes = normalizeAxes(node, axes, rank);
    SliceMap m{in, std::vector<int64_t>(rank, 0), std::vector<int64_t>(rank, 1)};
    for (size_t k = 0; k < axes.size(); ++k) {
        const int64_t a = axes[k], dim = in[a];
        int64_t step = steps[k];
        check(step != 0, node.describe() + ": a step of 0 on axis " + std::to_string(a) + ".");
        // Steps longer than the dim take one element: bounding them keeps the arithmetic exact.
        step = std::clamp(step, -(dim + 1), dim + 1);
        if (step == 0)
            step = steps[k] > 0 ? 1 : -1;
        int64_t s = (*starts)[k], e = (*ends)[k];
        if (s < 0)
            s += dim;
        if (e < 0)
            e += dim;
        int64_t count = 0;
        if (step > 0) {
            s = std::max<int64_t>(0, std::min(s, dim));
            e = std::max<int64_t>(0, std::min(e, dim));
            count = e > s ? (e - s - 1) / step + 1 : 0;
        } else {
            s = std::max<int64_t>(0, std::min(s, dim - 1));
            e = std::max<int64_t>(-1, std::min(e, dim - 1));
            count = dim > 0 && s > e ? (s - e - 1) / -step + 1 : 0;
        }
        m.out[a] = count;
        m.start[a] = s;
        m.step[a] = step;
    }
    return m;
}

// For each output row (all dims but the last), the input offset of its first element; rows of
// the output are contiguous. Calls fn(row, inputOffset, innerStride) over [r0, r1).
template<typename F> void forEachSliceRow(const Shape &inShape, const SliceMap &m, int64_t r0, int64_t r1, F &&fn)
{
    const int rank = static_cast<int>(inShape.size());
    const std::vector<int64_t> stride = rowMajorStrides(inShape);
    int64_t base = 0;
    for (int d = 0; d < rank; ++d)
        base += m.start[d] * stride[d];
    const int64_t innerStride = rank > 0 ? m.step[rank - 1] * stride[rank - 1] : 1;
    for (int64_t r = r0; r < r1; ++r) {
        int64_t rem = r, off = base;
        for (int d = rank - 2; d >= 0; --d) {
            const int64_t idx = rem % m.out[d];
            rem /= m.out[d];
            off += idx * m.step[d] * stride[d];
        }
        fn(r, off, innerStride);
    }
}

class Slice final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &constants) const override
    {
        check(!in.empty() && in.size() <= 5, node.describe() + ": needs inputs data, starts, ends and optionally axes, steps.");
        return {sliceMap(node, in[0], constants).out};
    }
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override { return {in.at(0)}; }
    bool acceptsType(size_t input, DType t) const override { return input == 0 || t == DType::Int64 || t == DType::Int32; }
    bool differentiable(size_t input) const override { return input == 0; }
    void forward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        Tensor &Y = ctx.out(0);
        const SliceMap m = sliceMap(ctx.node, X.shape(), constantsOf(ctx));
        const int64_t width = m.out.empty() ? 1 : m.out.back();
        if (Y.numel() == 0)
            return;
        byElementSize(X.dtype(), [&](auto tag) {
            using U = typename decltype(tag)::type;
            const U *x = X.dataAs<U>();
            U *y = Y.dataAs<U>();
            parallelFor(Y.numel() / width, [&](int64_t r0, int64_t r1, int) {
                forEachSliceRow(X.shape(), m, r0, r1, [&](int64_t r, int64_t off, int64_t inner) {
                    U *dst = y + r * width;
                    if (inner == 1)
                        std::memcpy(dst, x + off, sizeof(U) * width);
                    else
                        for (int64_t j = 0; j < width; ++j)
                            dst[j] = x[off + j * inner];
                });
            }, std::max<int64_t>(1, 4096 / width));
        });
    }
    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        const Tensor &dY = *ctx.gradOutputs[0];
        Tensor &dX = *ctx.gradInputs[0];
        const SliceMap m = sliceMap(ctx.node, dX.shape(), constantsOf(ctx));
        const bool add = ctx.accumulates(0); // dX holds the other readers' sum: add the window only
        if (!add)
            parallelFill(dX.data(), dX.numel(), 0.0f);
        if (dY.numel() == 0)
            return;
        const int64_t width = m.out.empty() ? 1 : m.out.back();
        const float *dy = dY.data();
        float *dx = dX.data();
        // Every output element reads a distinct input element: the rows scatter independently.
        parallelFor(dY.numel() / width, [&](int64_t r0, int64_t r1, int) {
            forEachSliceRow(dX.shape(), m, r0, r1, [&](int64_t r, int64_t off, int64_t inner) {
                if (add)
                    for (int64_t j = 0; j < width; ++j)
                        dx[off + j * inner] += dy[r * width + j];
                else
                    for (int64_t j = 0; j < width; ++j)
                        dx[off + j * inner] = dy[r * width + j];
            });
        }, std::max<int64_t>(1, 4096 / width));
    }
    bool accumulatesGradient(size_t input) const override { return input == 0; }

private:
    static std::vector<const Tensor *> constantsOf(const KernelContext &ctx)
    {
        return std::vector<const Tensor *>(ctx.inputs.begin(), ctx.inputs.end());
    }
};

// The size of each part along the axis: the split operand, or equal parts (the last one smaller
// when the dim does not divide evenly).
std::vector<int64_t> splitSizes(const Node &node, const Shape &in, const std::vector<const Tensor *> &constants, int64_t &axisOut)
{
    const int rank = static_cast<int>(in.size());
    const int64_t axis = shape_rules::normalizeAxis(node, node.attrInt("axis", 0), rank);
    axisOut = axis;
    const int64_t dim = in[axis];
    const size_t parts = node.outputs.size();
    check(parts >= 1, node.describe() + ": needs at least one output.");
    if (auto split = intOperand(node, constants, 1, "split", "split")) {
        check(split->size() == parts, node.describe() + ": split has " + std::to_string(split->size()) + " entries for "
                                          + std::to_string(parts) + " outputs.");
        int64_t sum = 0;
        for (int64_t s : *split) {
            check(s >= 0 && s <= dim, node.describe() + ": split size " + std::to_string(s) + " is out of range.");
            sum += s;
        }
        check(sum == dim, node.describe() + ": split sizes sum to " + std::to_string(sum) + ", but axis " + std::to_string(axis)
                              + " of " + shapeToString(in) + " has " + std::to_string(dim) + ".");
        return *split;
    }
    const int64_t n = static_cast<int64_t>(parts), chunk = (dim + n - 1) / n;
    std::vector<int64_t> sizes;
    int64_t left = dim;
    for (int64_t k = 0; k < n; ++k) {
        sizes.push_back(std::min(chunk, left));
        left -= sizes.back();
    }
    return sizes;
}

class Split final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &constants) const override
    {
        check(!in.empty() && in.size() <= 2, node.describe() + ": needs input data and optionally split.");
        int64_t axis = 0;
        const auto sizes = splitSizes(node, in[0], constants, axis);
        std::vector<Shape> out;
        for (int64_t s : sizes) {
            out.push_back(in[0]);
            out.back()[axis] = s;
        }
        return out;
    }
    std::vector<DType> outputTypes(const Node &node, const std::vector<DType> &in) const override
    {
        return std::vector<DType>(node.outputs.size(), in.at(0));
    }
    bool acceptsType(size_t input, DType t) const override { return input == 0 || t == DType::Int64 || t == DType::Int32; }
    bool differentiable(size_t input) const override { return input == 0; }
    void forward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        const Layout l = layout(ctx, X.shape());
        const size_t es = dtypeSize(X.dtype());
        const auto *src = static_cast<const char *>(X.raw());
        int64_t offset = 0;
        for (size_t k = 0; k < l.sizes.size(); ++k) {
            const int64_t rowK = l.sizes[k] * l.inner;
            if (k < ctx.outputs.size() && ctx.outputs[k] && rowK > 0) {
                auto *dst = static_cast<char *>(ctx.outputs[k]->raw());
                for (int64_t o = 0; o < l.outer; ++o)
                    std::memcpy(dst + o * rowK * es, src + (o * l.row + offset) * es, es * rowK);
            }
            offset += rowK;
        }
    }
    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        Tensor &dX = *ctx.gradInputs[0];
        const Layout l = layout(ctx, dX.shape());
        float *dst = dX.data();
        int64_t offset = 0;
        for (size_t k = 0; k < l.sizes.size(); ++k) {
            const int64_t rowK = l.sizes[k] * l.inner;
            const Tensor *g = k < ctx.gradOutputs.size() ? ctx.gradOutputs[k] : nullptr;
            for (int64_t o = 0; o < l.outer && rowK > 0; ++o) {
                if (g)
                    std::memcpy(dst + o * l.row + offset, g->data() + o * rowK, sizeof(float) * rowK);
                else
                    std::fill(dst + o * l.row + offset, dst + o * l.row + offset + rowK, 0.0f);
            }
            offset += rowK;
        }
    }

private:
    struct Layout {
        std::vector<int64_t> sizes;
        int64_t outer = 1, inner = 1, row = 0;
    };
    static Layout layout(const KernelContext &ctx, const Shape &in)
    {
        Layout l;
        int64_t axis = 0;
        l.sizes = splitSizes(ctx.node, in, std::vector<const Tensor *>(ctx.inputs.begin(), ctx.inputs.end()), axis);
        for (int64_t d = 0; d < axis; ++d)
            l.outer *= in[d];
        for (size_t d = axis + 1; d < in.size(); ++d)
            l.inner *= in[d];
        l.row = in[axis] * l.inner;
        return l;
    }
};

} // namespace

void registerSliceSplit(KernelTable &t)
{
    t["Slice"] = std::make_unique<Slice>();
    t["Split"] = std::make_unique<Split>();
}

} // namespace netwright
