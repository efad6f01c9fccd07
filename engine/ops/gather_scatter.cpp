// SPDX-License-Identifier: Apache-2.0
// Indexing (ONNX), on every element type: Gather, GatherElements, GatherND (batch_dims),
// ScatterElements and ScatterND (reduction none, add, mul; max and min too), Compress, NonZero,
// OneHot. Every index read from data is range-checked (negative counts from the end) and an
// out-of-range one is refused naming the node and the index. Float32 gradients: the gathers to
// their data (scatter-adds, serial or over disjoint slabs: deterministic), the scatters to data
// and updates.
#include "core/error.h"
#include "core/parallel.h"
#include "ops/index_util.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

#include <algorithm>
#include <cstring>

namespace netwright {

namespace {

bool isIndexType(DType t) { return t == DType::Int64 || t == DType::Int32; }

// Index `v` along a dim of size `dim`, negative counting from the end; an Error naming the node,
// the index and where it was read otherwise.
inline int64_t checkedIndex(const Node &node, int64_t v, int64_t dim, int64_t at)
{
    if (v < 0)
        v += dim;
    if (v < 0 || v >= dim)
        throw Error(node.describe() + ": index " + std::to_string(v < 0 ? v - dim : v) + " (element " + std::to_string(at)
                    + " of the indices) is out of range for a dimension of size " + std::to_string(dim) + ".");
    return v;
}

Shape sliceShape(const Shape &s, size_t from, size_t to) { return Shape(s.begin() + from, s.begin() + to); }

int64_t product(const Shape &s, size_t from, size_t to)
{
    int64_t n = 1;
    for (size_t d = from; d < to; ++d)
        n *= s[d];
    return n;
}

// The base for the gathers: data at input 0 (any type, float32 gradient), int32/int64 indices at 1.
class GatherBase : public OpKernel {
public:
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override { return {in.at(0)}; }
    bool acceptsType(size_t input, DType t) const override { return input == 0 || isIndexType(t); }
    bool differentiable(size_t input) const override { return input == 0; }
};

// Gather: out[o, n…, i] = data[o, indices[n…], i] along `axis`.
class Gather final : public GatherBase {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 2, node.describe() + ": needs inputs data and indices.");
        const int64_t axis = shape_rules::normalizeAxis(node, node.attrInt("axis", 0), static_cast<int>(in[0].size()));
        Shape out = sliceShape(in[0], 0, axis);
        out.insert(out.end(), in[1].begin(), in[1].end());
        out.insert(out.end(), in[0].begin() + axis + 1, in[0].end());
        return {out};
    }
    void forward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        const Geometry g = geometry(ctx);
        const size_t bytes = dtypeSize(X.dtype()) * g.inner;
        const auto *src = static_cast<const char *>(X.raw());
        auto *dst = static_cast<char *>(ctx.out(0).raw());
        const int64_t n = static_cast<int64_t>(g.index.size());
        parallelFor(g.outer * n, [&](int64_t r0, int64_t r1, int) {
            for (int64_t r = r0; r < r1; ++r) {
                const int64_t o = r / n, k = r % n;
                std::memcpy(dst + r * bytes, src + (o * g.dim + g.index[k]) * bytes, bytes);
            }
        }, std::max<int64_t>(1, 16384 / static_cast<int64_t>(bytes + 1)));
    }
    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        const Geometry g = geometry(ctx);
        Tensor &dX = *ctx.gradInputs[0];
        dX.fill(0.0f);
        const float *dy = ctx.gradOutputs[0]->data();
        float *dx = dX.data();
        const int64_t n = static_cast<int64_t>(g.index.size()), inner = g.inner;
        // Each thread owns whole outer slabs of dX, or (one slab: an embedding lookup) a range of
        // columns; it adds the indices in order, so the sums do not depend on the thread count.
        const bool byColumns = g.outer == 1;
        parallelFor(byColumns ? inner : g.outer, [&](int64_t a0, int64_t a1, int) {
            const int64_t o0 = byColumns ? 0 : a0, o1 = byColumns ? 1 : a1;
            const int64_t i0 = byColumns ? a0 : 0, i1 = byColumns ? a1 : inner;
            for (int64_t o = o0; o < o1; ++o)
                for (int64_t k = 0; k < n; ++k) {
                    float *d = dx + (o * g.dim + g.index[k]) * inner;
                    const float *s = dy + (o * n + k) * inner;
                    for (int64_t i = i0; i < i1; ++i)
                        d[i] += s[i];
                }
        }, byColumns ? 16 : 1);
    }

private:
    struct Geometry {
        int64_t outer = 1, dim = 0, inner = 1;
        std::vector<int64_t> index; // normalised
    };
    static Geometry geometry(const KernelContext &ctx)
    {
        const Tensor &X = ctx.in(0);
        const int64_t axis = shape_rules::normalizeAxis(ctx.node, ctx.node.attrInt("axis", 0), X.rank());
        Geometry g;
        g.outer = product(X.shape(), 0, axis);
        g.dim = X.dim(static_cast<int>(axis));
        g.inner = product(X.shape(), axis + 1, X.shape().size());
        g.index = intValues(ctx.node, ctx.in(1), "indices");
        for (size_t k = 0; k < g.index.size(); ++k)
            g.index[k] = checkedIndex(ctx.node, g.index[k], g.dim, static_cast<int64_t>(k));
        return g;
    }
};

// The data offset each element of an index tensor shaped like `idxShape` reads (GatherElements)
// or writes (ScatterElements): its own position with the index substituted along `axis`.
std::vector<int64_t> elementOffsets(const Node &node, const Shape &dataShape, const Tensor &indices, int64_t axis)
{
    const Shape &is = indices.shape();
    check(is.size() == dataShape.size(), node.describe() + ": indices " + shapeToString(is) + " must have the rank of data "
                                             + shapeToString(dataShape) + ".");
    for (size_t d = 0; d < is.size(); ++d)
        check(static_cast<int64_t>(d) == axis || is[d] <= dataShape[d],
              node.describe() + ": indices " + shapeToString(is) + " do not fit in data " + shapeToString(dataShape) + ".");
    const std::vector<int64_t> idx = intValues(node, indices, "indices");
    const std::vector<int64_t> stride = rowMajorStrides(dataShape);
    std::vector<int64_t> off(idx.size());
    const int rank = static_cast<int>(is.size());
    for (int64_t e = 0, n = static_cast<int64_t>(idx.size()); e < n; ++e) {
        int64_t rem = e, o = 0;
        for (int d = rank - 1; d >= 0; --d) {
            const int64_t i = rem % is[d];
            rem /= is[d];
            o += (d == axis ? checkedIndex(node, idx[e], dataShape[d], e) : i) * stride[d];
        }
        off[e] = o;
    }
    return off;
}

class GatherElements final : public GatherBase {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 2, node.describe() + ": needs inputs data and indices.");
        shape_rules::normalizeAxis(node, node.attrInt("axis", 0), static_cast<int>(in[0].size()));
        check(in[1].size() == in[0].size(), node.describe() + ": indices " + shapeToString(in[1]) + " must have the rank of data "
                                                + shapeToString(in[0]) + ".");
        return {in[1]};
    }
    void forward(KernelContext &ctx) const override
    {
        const auto off = offsets(ctx);
        byElementSize(ctx.in(0).dtype(), [&](auto tag) {
            using U = typename decltype(tag)::type;
            const U *x = ctx.in(0).dataAs<U>();
            U *y = ctx.out(0).dataAs<U>();
            for (size_t e = 0; e < off.size(); ++e)
                y[e] = x[off[e]];
        });
    }
    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        const auto off = offsets(ctx);
        ctx.gradInputs[0]->fill(0.0f);
        float *dx = ctx.gradInputs[0]->data();
        const float *dy = ctx.gradOutputs[0]->data();
        for (size_t e = 0; e < off.size(); ++e)
            dx[off[e]] += dy[e];
    }

private:
    static std::vector<int64_t> offsets(const KernelContext &ctx)
    {
        const int64_t axis = shape_rules::normalizeAxis(ctx.node, ctx.node.attrInt("axis", 0), ctx.in(0).rank());
        return elementOffsets(ctx.node, ctx.in(0).shape(), ctx.in(1), axis);
    }
};

// GatherND/ScatterND: the index tuples (the last dim of indices, m long) address slices of data
// after `batch` leading dims shared with indices; each tuple selects a block of `block` elements.
struct NdGeometry {
    std::vector<int64_t> offsets; // per tuple, the data offset of its block
    int64_t block = 1;
};

NdGeometry ndGeometry(const Node &node, const Shape &data, const Tensor &indices, int64_t batch)
{
    const Shape &is = indices.shape();
    const int64_t r = static_cast<int64_t>(data.size()), q = static_cast<int64_t>(is.size());
    check(q >= 1 && r >= 1, node.describe() + ": data and indices must have rank 1 or more.");
    check(batch >= 0 && batch < std::min(r, q), node.describe() + ": batch_dims " + std::to_string(batch) + " must be below the ranks of data and indices.");
    for (int64_t d = 0; d < batch; ++d)
        check(is[d] == data[d], node.describe() + ": the batch dims of indices " + shapeToString(is) + " and data " + shapeToString(data) + " differ.");
    const int64_t m = is.back();
    check(m >= 1 && m <= r - batch, node.describe() + ": index tuples of length " + std::to_string(m) + " do not fit data "
                                        + shapeToString(data) + " after " + std::to_string(batch) + " batch dims.");
    NdGeometry g;
    g.block = product(data, static_cast<size_t>(batch + m), data.size());
    const std::vector<int64_t> stride = rowMajorStrides(data);
    const int64_t batches = product(data, 0, static_cast<size_t>(batch));
    const int64_t batchStride = batch > 0 ? stride[batch - 1] : 0;
    const std::vector<int64_t> idx = intValues(node, indices, "indices");
    const int64_t tuples = static_cast<int64_t>(idx.size()) / m, perBatch = batches > 0 ? tuples / batches : 0;
    g.offsets.resize(static_cast<size_t>(tuples));
    for (int64_t t = 0; t < tuples; ++t) {
        int64_t off = perBatch > 0 ? (t / perBatch) * batchStride : 0;
        for (int64_t j = 0; j < m; ++j)
            off += checkedIndex(node, idx[t * m + j], data[batch + j], t * m + j) * stride[batch + j];
        g.offsets[t] = off;
    }
    return g;
}

class GatherND final : public GatherBase {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 2 && !in[1].empty(), node.describe() + ": needs inputs data and indices (rank 1 or more).");
        const int64_t batch = node.attrInt("batch_dims", 0), m = in[1].back();
        check(batch >= 0 && m >= 1 && batch + m <= static_cast<int64_t>(in[0].size()),
              node.describe() + ": indices " + shapeToString(in[1]) + " do not fit data " + shapeToString(in[0]) + ".");
        Shape out = sliceShape(in[1], 0, in[1].size() - 1);
        out.insert(out.end(), in[0].begin() + batch + m, in[0].end());
        return {out};
    }
    void forward(KernelContext &ctx) const override
    {
        const NdGeometry g = ndGeometry(ctx.node, ctx.in(0).shape(), ctx.in(1), ctx.node.attrInt("batch_dims", 0));
        const size_t bytes = dtypeSize(ctx.in(0).dtype()) * g.block;
        const auto *src = static_cast<const char *>(ctx.in(0).raw());
        auto *dst = static_cast<char *>(ctx.out(0).raw());
        for (size_t t = 0; t < g.offsets.size(); ++t)
            std::memcpy(dst + t * bytes, src + g.offsets[t] * dtypeSize(ctx.in(0).dtype()), bytes);
    }
    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        const NdGeometry g = ndGeometry(ctx.node, ctx.in(0).shape(), ctx.in(1), ctx.node.attrInt("batch_dims", 0));
        ctx.gradInputs[0]->fill(0.0f);
        float *dx = ctx.gradInputs[0]->data();
        const float *dy = ctx.gradOutputs[0]->data();
        for (size_t t = 0; t < g.offsets.size(); ++t)
            for (int64_t i = 0; i < g.block; ++i)
                dx[g.offsets[t] + i] += dy[t * g.block + i];
    }
};

enum class Reduction { None, Add, Mul, Max, Min };

Reduction reductionOf(const Node &node)
{
    const std::string r = node.attrString("reduction", "none");
    if (r == "none")
        return Reduction::None;
    if (r == "add")
        return Reduction::Add;
    if (r == "mul")
        return Reduction::Mul;
    if (r == "max")
        return Reduction::Max;
    if (r == "min")
        return Reduction::Min;
    throw Error(node.describe() + ": unknown reduction \"" + r + "\".");
}

// ScatterElements and ScatterND: output = data with updates written (or combined) at positions;
// positions(ctx) gives the data offset of every update element, in update order.
class ScatterBase : public OpKernel {
public:
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override { return {in.at(0)}; }
    bool acceptsType(size_t input, DType t) const override { return input != 1 || isIndexType(t); }
    bool differentiable(size_t input) const override { return input != 1; }
    void forward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0), &U = ctx.in(2);
        check(U.dtype() == X.dtype(), ctx.node.describe() + ": updates are " + dtypeName(U.dtype()) + ", data is "
                                          + dtypeName(X.dtype()) + ".");
        const std::vector<int64_t> pos = positions(ctx);
        Tensor &Y = ctx.out(0);
        Y.copyFrom(X);
        const Reduction red = reductionOf(ctx.node);
        if (red == Reduction::None) {
            byElementSize(X.dtype(), [&](auto tag) {
                using E = typename decltype(tag)::type;
                const E *u = U.dataAs<E>();
                E *y = Y.dataAs<E>();
                for (size_t k = 0; k < pos.size(); ++k)
                    y[pos[k]] = u[k];
            });
            return;
        }
        dispatchType<kNumeric | kBool>(X.dtype(), ctx.node, [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T *u = U.dataAs<T>();
            T *y = Y.dataAs<T>();
            for (size_t k = 0; k < pos.size(); ++k) {
                T &d = y[pos[k]];
                switch (red) {
                case Reduction::Add:
                    if constexpr (std::is_same_v<T, bool>)
                        d = d || u[k];
                    else
                        d = static_cast<T>(d + u[k]);
                    break;
                case Reduction::Mul:
                    if constexpr (std::is_same_v<T, bool>)
                        d = d && u[k];
                    else
                        d = static_cast<T>(d * u[k]);
                    break;
                case Reduction::Max: d = std::max(d, u[k]); break;
                case Reduction::Min: d = std::min(d, u[k]); break;
                case Reduction::None: break;
                }
            }
        });
    }
    void backward(KernelContext &ctx) const override
    {
        const Reduction red = reductionOf(ctx.node);
        check(red == Reduction::None || red == Reduction::Add || red == Reduction::Mul,
              ctx.node.describe() + ": no gradient for reduction max or min.");
        const std::vector<int64_t> pos = positions(ctx);
        const float *dy = ctx.gradOutputs[0]->data(), *x = ctx.in(0).data(), *u = ctx.in(2).data();
        const int64_t n = ctx.in(0).numel();
        const size_t updates = pos.size();
        // The updates landing at each position, in order (a stable counting sort by position).
        std::vector<int64_t> first(static_cast<size_t>(n) + 1, 0), order(updates);
        for (int64_t p : pos)
            ++first[p + 1];
        for (int64_t i = 0; i < n; ++i)
            first[i + 1] += first[i];
        {
            std::vector<int64_t> fill(first.begin(), first.end() - 1);
            for (size_t k = 0; k < updates; ++k)
                order[fill[pos[k]]++] = static_cast<int64_t>(k);
        }
        float *dx = ctx.wantsGrad(0) ? ctx.gradInputs[0]->data() : nullptr;
        float *du = ctx.wantsGrad(2) ? ctx.gradInputs[2]->data() : nullptr;
        for (int64_t p = 0; p < n; ++p) {
            const int64_t b = first[p], e = first[p + 1];
            if (b == e) { // no update here: the output is data
                if (dx)
                    dx[p] = dy[p];
                continue;
            }
            switch (red) {
            case Reduction::None: // the last update written wins
                if (dx)
                    dx[p] = 0.0f;
                if (du)
                    for (int64_t j = b; j < e; ++j)
                        du[order[j]] = j + 1 == e ? dy[p] : 0.0f;
                break;
            case Reduction::Add:
                if (dx)
                    dx[p] = dy[p];
                if (du)
                    for (int64_t j = b; j < e; ++j)
                        du[order[j]] = dy[p];
                break;
            default: { // Mul: y = x·Πu
                float all = 1.0f;
                for (int64_t j = b; j < e; ++j)
                    all *= u[order[j]];
                if (dx)
                    dx[p] = dy[p] * all;
                if (du) {
                    float prefix = x[p];
                    for (int64_t j = b; j < e; ++j) {
                        float suffix = 1.0f;
                        for (int64_t i = j + 1; i < e; ++i)
                            suffix *= u[order[i]];
                        du[order[j]] = dy[p] * prefix * suffix;
                        prefix *= u[order[j]];
                    }
                }
                break;
            }
            }
        }
    }

protected:
    virtual std::vector<int64_t> positions(const KernelContext &ctx) const = 0;
};

class ScatterElements final : public ScatterBase {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 3, node.describe() + ": needs inputs data, indices and updates.");
        shape_rules::normalizeAxis(node, node.attrInt("axis", 0), static_cast<int>(in[0].size()));
        check(in[1] == in[2], node.describe() + ": indices " + shapeToString(in[1]) + " and updates " + shapeToString(in[2])
                                  + " must have the same shape.");
        check(in[1].size() == in[0].size(), node.describe() + ": indices " + shapeToString(in[1]) + " must have the rank of data "
                                                + shapeToString(in[0]) + ".");
        return {in[0]};
    }

protected:
    std::vector<int64_t> positions(const KernelContext &ctx) const override
    {
        const int64_t axis = shape_rules::normalizeAxis(ctx.node, ctx.node.attrInt("axis", 0), ctx.in(0).rank());
        return elementOffsets(ctx.node, ctx.in(0).shape(), ctx.in(1), axis);
    }
};

class ScatterND final : public ScatterBase {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 3 && !in[1].empty(), node.describe() + ": needs inputs data, indices (rank 1 or more) and updates.");
        const int64_t m = in[1].back();
        check(m >= 1 && m <= static_cast<int64_t>(in[0].size()),
              node.describe() + ": indices " + shapeToString(in[1]) + " do not fit data " + shapeToString(in[0]) + ".");
        Shape want = sliceShape(in[1], 0, in[1].size() - 1);
        want.insert(want.end(), in[0].begin() + m, in[0].end());
        check(in[2] == want, node.describe() + ": updates have shape " + shapeToString(in[2]) + ", expected " + shapeToString(want) + ".");
        return {in[0]};
    }

protected:
    std::vector<int64_t> positions(const KernelContext &ctx) const override
    {
        const NdGeometry g = ndGeometry(ctx.node, ctx.in(0).shape(), ctx.in(1), 0);
        std::vector<int64_t> pos;
        pos.reserve(g.offsets.size() * static_cast<size_t>(g.block));
        for (int64_t off : g.offsets)
            for (int64_t i = 0; i < g.block; ++i)
                pos.push_back(off + i);
        return pos;
    }
};

// Compress: the slices along `axis` (the flattened input when absent) where condition is true.
class Compress final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &constants) const override
    {
        check(in.size() == 2, node.describe() + ": needs inputs input and condition.");
        check(constants.size() == 2 && constants[1] && constants[1]->defined(),
              node.describe() + ": its output shape depends on condition's values, known only when the op runs.");
        int64_t axis = 0;
        Shape shape = layout(node, in[0], axis);
        shape[axis] = static_cast<int64_t>(selected(node, *constants[1], shape[axis]).size());
        if (!node.hasAttribute("axis"))
            return {{shape[axis]}};
        return {shape};
    }
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override { return {in.at(0)}; }
    bool acceptsType(size_t input, DType t) const override { return input == 0 || t == DType::Bool; }
    bool differentiable(size_t) const override { return false; }
    void forward(KernelContext &ctx) const override
    {
        int64_t axis = 0;
        const Shape shape = layout(ctx.node, ctx.in(0).shape(), axis);
        const std::vector<int64_t> keep = selected(ctx.node, ctx.in(1), shape[axis]);
        const size_t bytes = dtypeSize(ctx.in(0).dtype()) * product(shape, axis + 1, shape.size());
        const int64_t outer = product(shape, 0, axis), dim = shape[axis], n = static_cast<int64_t>(keep.size());
        const auto *src = static_cast<const char *>(ctx.in(0).raw());
        auto *dst = static_cast<char *>(ctx.out(0).raw());
        for (int64_t o = 0; o < outer; ++o)
            for (int64_t k = 0; k < n; ++k)
                std::memcpy(dst + (o * n + k) * bytes, src + (o * dim + keep[k]) * bytes, bytes);
    }
    void backward(KernelContext &) const override {}

private:
    static Shape layout(const Node &node, const Shape &in, int64_t &axis)
    {
        if (!node.hasAttribute("axis")) {
            axis = 0;
            return {shapeNumel(in)};
        }
        axis = shape_rules::normalizeAxis(node, node.attrInt("axis", 0), static_cast<int>(in.size()));
        return in;
    }
    static std::vector<int64_t> selected(const Node &node, const Tensor &cond, int64_t dim)
    {
        check(cond.dtype() == DType::Bool && cond.rank() == 1, node.describe() + ": condition must be a 1-D bool tensor.");
        const auto *c = cond.dataAs<uint8_t>();
        std::vector<int64_t> keep;
        for (int64_t i = 0; i < cond.numel(); ++i)
            if (c[i]) {
                check(i < dim, node.describe() + ": condition selects index " + std::to_string(i) + ", beyond the axis of size "
                                   + std::to_string(dim) + ".");
                keep.push_back(i);
            }
        return keep;
    }
};

// NonZero: the coordinates (one row per input dim) of the non-zero elements, in row-major order.
class NonZero final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &constants) const override
    {
        check(in.size() == 1, node.describe() + ": needs one input.");
        check(constants.size() == 1 && constants[0] && constants[0]->defined(),
              node.describe() + ": its output shape depends on the input's values, known only when the op runs.");
        return {{std::max<int64_t>(1, static_cast<int64_t>(in[0].size())), static_cast<int64_t>(nonZero(node, *constants[0]).size())}};
    }
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &) const override { return {DType::Int64}; }
    bool acceptsType(size_t, DType t) const override { return inTypeSet(t, kAllTypes); }
    bool differentiable(size_t) const override { return false; }
    void forward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        const std::vector<int64_t> flat = nonZero(ctx.node, X);
        const Shape shape = X.rank() == 0 ? Shape{1} : X.shape();
        const int64_t n = static_cast<int64_t>(flat.size());
        int64_t *y = ctx.out(0).dataAs<int64_t>();
        for (int64_t k = 0; k < n; ++k) {
            int64_t rem = flat[k];
            for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
                y[d * n + k] = rem % shape[d];
                rem /= shape[d];
            }
        }
    }
    void backward(KernelContext &) const override {}

private:
    static std::vector<int64_t> nonZero(const Node &node, const Tensor &x)
    {
        std::vector<int64_t> flat;
        dispatchType<kAllTypes>(x.dtype(), node, [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T *v = x.dataAs<T>();
            for (int64_t i = 0; i < x.numel(); ++i)
                if (v[i] != T(0))
                    flat.push_back(i);
        });
        return flat;
    }
};

// OneHot: indices (any numeric type; negative count from the end) → values[1] at the index along
// the new `axis`, values[0] elsewhere. Indices outside [−depth, depth) give a row of values[0]
// (ONNX's rule): they are never used to address memory.
class OneHot final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &constants) const override
    {
        check(in.size() == 3, node.describe() + ": needs inputs indices, depth and values.");
        check(constants.size() == 3 && constants[1] && constants[1]->defined(), node.describe() + ": depth must be known before the op runs.");
        const int64_t d = depth(node, *constants[1]);
        const int rank = static_cast<int>(in[0].size());
        Shape out = in[0];
        out.insert(out.begin() + axisOf(node, rank), d);
        checkedNumel(node, out);
        return {out};
    }
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override { return {in.at(2)}; }
    bool acceptsType(size_t input, DType t) const override { return input == 2 || inTypeSet(t, kNumeric); }
    bool differentiable(size_t) const override { return false; }
    void forward(KernelContext &ctx) const override
    {
        const Tensor &I = ctx.in(0), &V = ctx.in(2);
        check(V.numel() == 2, ctx.node.describe() + ": values must have two elements (off, on), got shape " + shapeToString(V.shape()) + ".");
        const int64_t d = depth(ctx.node, ctx.in(1)), axis = axisOf(ctx.node, I.rank());
        const int64_t outer = product(I.shape(), 0, axis), inner = product(I.shape(), axis, I.shape().size());
        std::vector<int64_t> idx(static_cast<size_t>(I.numel()));
        dispatchType<kNumeric>(I.dtype(), ctx.node, [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T *v = I.dataAs<T>();
            for (int64_t i = 0; i < I.numel(); ++i)
                idx[i] = static_cast<int64_t>(v[i]);
        });
        byElementSize(V.dtype(), [&](auto tag) {
            using E = typename decltype(tag)::type;
            const E off = V.dataAs<E>()[0], on = V.dataAs<E>()[1];
            E *y = ctx.out(0).dataAs<E>();
            std::fill(y, y + ctx.out(0).numel(), off);
            for (int64_t o = 0; o < outer; ++o)
                for (int64_t i = 0; i < inner; ++i) {
                    int64_t k = idx[o * inner + i];
                    if (k < 0)
                        k += d;
                    if (k >= 0 && k < d)
                        y[(o * d + k) * inner + i] = on;
                }
        });
    }
    void backward(KernelContext &) const override {}

private:
    static int64_t depth(const Node &node, const Tensor &t)
    {
        const double v = scalarAsDouble(node, t, "depth");
        check(v >= 1 && v < static_cast<double>(kMaxComputedElements), node.describe() + ": depth " + std::to_string(v) + " is out of range.");
        return static_cast<int64_t>(v);
    }
    static int64_t axisOf(const Node &node, int rank)
    {
        int64_t axis = node.attrInt("axis", -1);
        check(axis >= -(rank + 1) && axis <= rank, node.describe() + ": axis " + std::to_string(axis) + " is out of range for rank "
                                                       + std::to_string(rank + 1) + ".");
        return axis < 0 ? axis + rank + 1 : axis;
    }
};

} // namespace

void registerGatherScatter(KernelTable &t)
{
    t["Gather"] = std::make_unique<Gather>();
    t["GatherElements"] = std::make_unique<GatherElements>();
    t["GatherND"] = std::make_unique<GatherND>();
    t["ScatterElements"] = std::make_unique<ScatterElements>();
    // Scatter (deprecated in 11) is ScatterElements without reduction; the importer renames it,
    // but checks for a kernel under the old name first.
    t["ScatterND"] = std::make_unique<ScatterND>();
    t["Compress"] = std::make_unique<Compress>();
    t["NonZero"] = std::make_unique<NonZero>();
    t["OneHot"] = std::make_unique<OneHot>();
}

} // namespace netwright
