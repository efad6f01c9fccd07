// SPDX-License-Identifier: Apache-2.0
// Ops that move values around (ONNX), on every element type: Tile, Pad (pads, constant_value
// and axes as inputs since opset 11, attributes pads/paddings and value before; modes constant,
// reflect, edge, wrap; negative pads crop), DepthToSpace (DCR, CRD), SpaceToDepth, Trilu (k as
// input), ReverseSequence. Float32 gradients for Tile, Pad, DepthToSpace, SpaceToDepth, Trilu.
#include "core/error.h"
#include "core/parallel.h"
#include "ops/index_util.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

#include <algorithm>
#include <cstring>

namespace netwright {

namespace {

std::vector<const Tensor *> inputValues(const KernelContext &ctx)
{
    return std::vector<const Tensor *>(ctx.inputs.begin(), ctx.inputs.end());
}

// Ops whose every output element copies one input element chosen by a per-axis table: src[d][i]
// is the input coordinate along dim d that output coordinate i reads, or −1 for "the constant"
// (Tile, Pad). Visits output rows (all dims but the last) over [r0, r1) as
// fn(row, inputRowOffset or −1, lastAxisTable).
struct AxisTables {
    Shape out;
    std::vector<std::vector<int64_t>> src;
};

template<typename F> void forEachTableRow(const AxisTables &t, const Shape &inShape, int64_t r0, int64_t r1, F &&fn)
{
    const int rank = static_cast<int>(inShape.size());
    const std::vector<int64_t> stride = rowMajorStrides(inShape);
    for (int64_t r = r0; r < r1; ++r) {
        int64_t rem = r, off = 0;
        for (int d = rank - 2; d >= 0 && off >= 0; --d) {
            const int64_t i = rem % t.out[d];
            rem /= t.out[d];
            const int64_t s = t.src[d][i];
            off = s < 0 ? -1 : off + s * stride[d];
        }
        fn(r, off);
    }
}

// Copies by the tables; `constant` holds the fill element's bytes (Pad's constant mode).
void copyByTables(const AxisTables &t, const Tensor &X, Tensor &Y, const uint64_t constant)
{
    if (Y.numel() == 0)
        return;
    const int64_t width = t.out.empty() ? 1 : t.out.back();
    const std::vector<int64_t> empty{0};
    const std::vector<int64_t> &last = t.src.empty() ? empty : t.src.back();
    byElementSize(X.dtype(), [&](auto tag) {
        using U = typename decltype(tag)::type;
        U fill;
        std::memcpy(&fill, &constant, sizeof(U));
        const U *x = X.dataAs<U>();
        U *y = Y.dataAs<U>();
        parallelFor(Y.numel() / width, [&](int64_t r0, int64_t r1, int) {
            forEachTableRow(t, X.shape(), r0, r1, [&](int64_t r, int64_t off) {
                U *dst = y + r * width;
                if (off < 0) {
                    std::fill(dst, dst + width, fill);
                    return;
                }
                for (int64_t j = 0; j < width; ++j)
                    dst[j] = last[j] < 0 ? fill : x[off + last[j]];
            });
        }, std::max<int64_t>(1, 4096 / width));
    });
}

// dX[src] += dY[out] over the tables; serial in output order (deterministic), or in parallel
// over rows when every input element is read at most once (`injective`).
void accumulateByTables(const AxisTables &t, const Tensor &dY, Tensor &dX, bool injective)
{
    dX.fill(0.0f);
    if (dY.numel() == 0)
        return;
    const int64_t width = t.out.empty() ? 1 : t.out.back();
    const std::vector<int64_t> empty{0};
    const std::vector<int64_t> &last = t.src.empty() ? empty : t.src.back();
    const float *dy = dY.data();
    float *dx = dX.data();
    auto rows = [&](int64_t r0, int64_t r1, int) {
        forEachTableRow(t, dX.shape(), r0, r1, [&](int64_t r, int64_t off) {
            if (off < 0)
                return;
            for (int64_t j = 0; j < width; ++j)
                if (last[j] >= 0)
                    dx[off + last[j]] += dy[r * width + j];
        });
    };
    if (injective)
        parallelFor(dY.numel() / width, rows, std::max<int64_t>(1, 4096 / width));
    else
        rows(0, dY.numel() / width, 0);
}

// ---- Tile ----

AxisTables tileTables(const Node &node, const Shape &in, const std::vector<const Tensor *> &constants)
{
    check(constants.size() >= 2 && constants[1] && constants[1]->defined(), node.describe() + ": repeats (input 1) must be known before the op runs.");
    const std::vector<int64_t> reps = intValues(node, *constants[1], "repeats");
    check(reps.size() == in.size(), node.describe() + ": repeats has " + std::to_string(reps.size()) + " entries for rank "
                                        + std::to_string(in.size()) + ".");
    AxisTables t;
    for (size_t d = 0; d < in.size(); ++d) {
        check(reps[d] >= 0, node.describe() + ": repeats must not be negative.");
        check(in[d] == 0 || reps[d] <= kMaxComputedElements / in[d],
              node.describe() + ": tiling " + shapeToString(in) + " gives more elements than the engine allocates (2^34).");
        t.out.push_back(in[d] * reps[d]);
    }
    checkedNumel(node, t.out);
    for (size_t d = 0; d < in.size(); ++d) {
        std::vector<int64_t> s(static_cast<size_t>(t.out[d]));
        for (int64_t i = 0; i < t.out[d]; ++i)
            s[i] = i % in[d];
        t.src.push_back(std::move(s));
    }
    return t;
}

class Tile final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &constants) const override
    {
        check(in.size() == 2, node.describe() + ": needs inputs input and repeats.");
        return {tileTables(node, in[0], constants).out};
    }
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override { return {in.at(0)}; }
    bool acceptsType(size_t input, DType t) const override { return input == 0 || t == DType::Int64 || t == DType::Int32; }
    bool differentiable(size_t input) const override { return input == 0; }
    void forward(KernelContext &ctx) const override
    {
        copyByTables(tileTables(ctx.node, ctx.in(0).shape(), inputValues(ctx)), ctx.in(0), ctx.out(0), 0);
    }
    void backward(KernelContext &ctx) const override
    {
        if (ctx.wantsGrad(0))
            accumulateByTables(tileTables(ctx.node, ctx.in(0).shape(), inputValues(ctx)), *ctx.gradOutputs[0], *ctx.gradInputs[0], false);
    }
};

// ---- Pad ----

enum class PadMode { Constant, Reflect, Edge, Wrap };

PadMode padMode(const Node &node)
{
    const std::string m = node.attrString("mode", "constant");
    if (m == "constant")
        return PadMode::Constant;
    if (m == "reflect")
        return PadMode::Reflect;
    if (m == "edge")
        return PadMode::Edge;
    if (m == "wrap")
        return PadMode::Wrap;
    throw Error(node.describe() + ": unknown mode \"" + m + "\".");
}

AxisTables padTables(const Node &node, const Shape &in, const std::vector<const Tensor *> &constants)
{
    const int rank = static_cast<int>(in.size());
    auto pads = intOperand(node, constants, 1, "pads", "pads");
    if (!pads && node.hasAttribute("paddings")) // opset 1
        pads = node.attrInts("paddings", {});
    check(pads.has_value(), node.describe() + ": needs pads.");
    std::vector<int64_t> axes(static_cast<size_t>(rank));
    for (int d = 0; d < rank; ++d)
        axes[d] = d;
    if (auto a = intOperand(node, constants, 3, "axes", "axes"))
        axes = normalizeAxes(node, *a, rank);
    const size_t n = axes.size();
    check(pads->size() == 2 * n, node.describe() + ": pads has " + std::to_string(pads->size()) + " entries for "
                                     + std::to_string(n) + " axes (needs begins then ends).");
    std::vector<int64_t> begin(static_cast<size_t>(rank), 0), end(static_cast<size_t>(rank), 0);
    for (size_t k = 0; k < n; ++k) {
        begin[axes[k]] = (*pads)[k];
        end[axes[k]] = (*pads)[k + n];
    }
    const PadMode mode = padMode(node);
    AxisTables t;
    for (int d = 0; d < rank; ++d) {
        const int64_t dim = in[d], b = begin[d], e = end[d];
        check(b >= -kMaxComputedElements && b <= kMaxComputedElements && e >= -kMaxComputedElements && e <= kMaxComputedElements,
              node.describe() + ": pads are out of range.");
        const int64_t o = dim + b + e;
        check(o >= 0, node.describe() + ": pads crop axis " + std::to_string(d) + " of " + shapeToString(in) + " below zero.");
        t.out.push_back(o);
    }
    checkedNumel(node, t.out);
    for (int d = 0; d < rank; ++d) {
        const int64_t dim = in[d], b = begin[d];
        std::vector<int64_t> s(static_cast<size_t>(t.out[d]));
        for (int64_t i = 0; i < t.out[d]; ++i) {
            int64_t x = i - b;
            if (x < 0 || x >= dim) {
                check(mode == PadMode::Constant || dim > 0, node.describe() + ": cannot pad an empty axis in this mode.");
                switch (mode) {
                case PadMode::Constant: x = -1; break;
                case PadMode::Edge: x = x < 0 ? 0 : dim - 1; break;
                case PadMode::Wrap: x = ((x % dim) + dim) % dim; break;
                case PadMode::Reflect:
                    if (dim == 1) {
                        x = 0;
                    } else {
                        const int64_t period = 2 * (dim - 1);
                        x = ((x % period) + period) % period;
                        if (x >= dim)
                            x = period - x;
                    }
                    break;
                }
            }
            s[i] = x;
        }
        t.src.push_back(std::move(s));
    }
    return t;
}

class Pad final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &constants) const override
    {
        check(!in.empty() && in.size() <= 4, node.describe() + ": needs input data, pads and optionally constant_value, axes.");
        return {padTables(node, in[0], constants).out};
    }
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override { return {in.at(0)}; }
    bool acceptsType(size_t input, DType t) const override { return input == 0 || input == 2 || t == DType::Int64 || t == DType::Int32; }
    bool differentiable(size_t input) const override { return input == 0; }
    void forward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        uint64_t fill = 0;
        if (ctx.hasInput(2) && ctx.in(2).numel() > 0) {
            check(ctx.in(2).dtype() == X.dtype(), ctx.node.describe() + ": constant_value is " + dtypeName(ctx.in(2).dtype())
                                                       + ", data is " + dtypeName(X.dtype()) + ".");
            std::memcpy(&fill, ctx.in(2).raw(), dtypeSize(X.dtype()));
        } else if (const float v = ctx.node.attrFloat("value", 0.0f); v != 0.0f) { // before opset 11
            dispatchType<kAllTypes>(X.dtype(), ctx.node, [&](auto tag) {
                using T = typename decltype(tag)::type;
                const T c = static_cast<T>(v);
                std::memcpy(&fill, &c, sizeof(T));
            });
        }
        copyByTables(padTables(ctx.node, X.shape(), inputValues(ctx)), X, ctx.out(0), fill);
    }
    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        const bool injective = padMode(ctx.node) == PadMode::Constant;
        accumulateByTables(padTables(ctx.node, ctx.in(0).shape(), inputValues(ctx)), *ctx.gradOutputs[0], *ctx.gradInputs[0], injective);
    }
};

// ---- DepthToSpace / SpaceToDepth ----

// The input offset each output element of DepthToSpace (or SpaceToDepth) reads, visited in output
// order over [o0, o1): fn(outIndex, inIndex). A bijection.
struct BlockGeometry {
    int64_t n, c, h, w, b; // the input's N, C, H, W and the block size
    bool toSpace, crd;
};

template<typename F> void forEachBlockElement(const BlockGeometry &g, int64_t o0, int64_t o1, F &&fn)
{
    const int64_t b = g.b;
    if (g.toSpace) { // out: N, C/b², H·b, W·b
        const int64_t oc = g.c / (b * b), oh = g.h * b, ow = g.w * b;
        for (int64_t o = o0; o < o1; ++o) {
            const int64_t x = o % ow, y = (o / ow) % oh, ch = (o / (ow * oh)) % oc, n = o / (ow * oh * oc);
            const int64_t i = y % b, j = x % b;
            const int64_t ic = g.crd ? ch * b * b + i * b + j : (i * b + j) * oc + ch;
            fn(o, ((n * g.c + ic) * g.h + y / b) * g.w + x / b);
        }
    } else { // out: N, C·b², H/b, W/b (DCR order)
        const int64_t oc = g.c * b * b, oh = g.h / b, ow = g.w / b;
        for (int64_t o = o0; o < o1; ++o) {
            const int64_t x = o % ow, y = (o / ow) % oh, ch = (o / (ow * oh)) % oc, n = o / (ow * oh * oc);
            const int64_t c = ch % g.c, ij = ch / g.c, i = ij / b, j = ij % b;
            fn(o, ((n * g.c + c) * g.h + y * b + i) * g.w + x * b + j);
        }
    }
}

class BlockRearrange final : public OpKernel {
public:
    explicit BlockRearrange(bool toSpace) : m_toSpace(toSpace) {}
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 1, node.describe() + ": needs one input.");
        const BlockGeometry g = geometry(node, in[0]);
        if (m_toSpace)
            return {{g.n, g.c / (g.b * g.b), g.h * g.b, g.w * g.b}};
        return {{g.n, g.c * g.b * g.b, g.h / g.b, g.w / g.b}};
    }
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override { return {in.at(0)}; }
    bool acceptsType(size_t, DType) const override { return true; }
    void forward(KernelContext &ctx) const override
    {
        const BlockGeometry g = geometry(ctx.node, ctx.in(0).shape());
        byElementSize(ctx.in(0).dtype(), [&](auto tag) {
            using U = typename decltype(tag)::type;
            const U *x = ctx.in(0).dataAs<U>();
            U *y = ctx.out(0).dataAs<U>();
            parallelFor(ctx.out(0).numel(), [&](int64_t o0, int64_t o1, int) {
                forEachBlockElement(g, o0, o1, [&](int64_t o, int64_t i) { y[o] = x[i]; });
            }, 4096);
        });
    }
    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        const BlockGeometry g = geometry(ctx.node, ctx.in(0).shape());
        const float *dy = ctx.gradOutputs[0]->data();
        float *dx = ctx.gradInputs[0]->data();
        parallelFor(ctx.gradOutputs[0]->numel(), [&](int64_t o0, int64_t o1, int) {
            forEachBlockElement(g, o0, o1, [&](int64_t o, int64_t i) { dx[i] = dy[o]; });
        }, 4096);
    }

private:
    BlockGeometry geometry(const Node &node, const Shape &in) const
    {
        shape_rules::expectRank(node, "the input", in, 4);
        const int64_t b = node.attrInt("blocksize", 0);
        check(b >= 1, node.describe() + ": blocksize must be 1 or more.");
        const std::string mode = node.attrString("mode", "DCR");
        check(mode == "DCR" || mode == "CRD", node.describe() + ": unknown mode \"" + mode + "\".");
        if (m_toSpace)
            check(in[1] % (b * b) == 0, node.describe() + ": channels " + std::to_string(in[1]) + " are not a multiple of blocksize² ("
                                            + std::to_string(b * b) + ").");
        else
            check(in[2] % b == 0 && in[3] % b == 0, node.describe() + ": height and width of " + shapeToString(in)
                                                        + " must be multiples of blocksize " + std::to_string(b) + ".");
        return {in[0], in[1], in[2], in[3], b, m_toSpace, mode == "CRD"};
    }
    bool m_toSpace;
};

// ---- Trilu ----

class Trilu final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(!in.empty() && in.size() <= 2, node.describe() + ": needs input input and optionally k.");
        check(in[0].size() >= 2, node.describe() + ": the input must have rank 2 or more, got " + shapeToString(in[0]) + ".");
        return {in[0]};
    }
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override { return {in.at(0)}; }
    bool acceptsType(size_t input, DType t) const override { return input == 0 || t == DType::Int64 || t == DType::Int32; }
    bool differentiable(size_t input) const override { return input == 0; }
    void forward(KernelContext &ctx) const override
    {
        byElementSize(ctx.in(0).dtype(), [&](auto tag) {
            using U = typename decltype(tag)::type;
            apply(ctx, ctx.in(0).dataAs<U>(), ctx.out(0).dataAs<U>(), ctx.in(0).shape());
        });
    }
    void backward(KernelContext &ctx) const override
    {
        if (ctx.wantsGrad(0))
            apply(ctx, ctx.gradOutputs[0]->data(), ctx.gradInputs[0]->data(), ctx.in(0).shape());
    }

private:
    template<typename U> static void apply(const KernelContext &ctx, const U *x, U *y, const Shape &shape)
    {
        int64_t k = 0;
        if (ctx.hasInput(1)) {
            const auto v = intValues(ctx.node, ctx.in(1), "k");
            check(v.size() == 1, ctx.node.describe() + ": k must be a scalar.");
            k = v[0];
        }
        const bool upper = ctx.node.attrInt("upper", 1) != 0;
        const int64_t rows = shape[shape.size() - 2], cols = shape.back();
        const int64_t mats = rows * cols == 0 ? 0 : shapeNumel(shape) / (rows * cols);
        parallelFor(mats * rows, [&](int64_t r0, int64_t r1, int) {
            for (int64_t r = r0; r < r1; ++r) {
                const int64_t i = r % rows;
                const U *src = x + r * cols;
                U *dst = y + r * cols;
                for (int64_t j = 0; j < cols; ++j) {
                    const bool keep = upper ? j - i >= k : j - i <= k;
                    dst[j] = keep ? src[j] : U(0);
                }
            }
        }, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, cols)));
    }
};

// ---- ReverseSequence ----

class ReverseSequence final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 2, node.describe() + ": needs inputs input and sequence_lens.");
        check(in[0].size() >= 2, node.describe() + ": the input must have rank 2 or more.");
        const auto [batchAxis, timeAxis] = axes(node);
        check(in[1].size() == 1 && in[1][0] == in[0][batchAxis], node.describe() + ": sequence_lens " + shapeToString(in[1])
                                                                     + " must have one entry per batch element of " + shapeToString(in[0]) + ".");
        (void)timeAxis;
        return {in[0]};
    }
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override { return {in.at(0)}; }
    bool acceptsType(size_t input, DType t) const override { return input == 0 || t == DType::Int64 || t == DType::Int32; }
    bool differentiable(size_t) const override { return false; }
    void forward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        const auto [batchAxis, timeAxis] = axes(ctx.node);
        const std::vector<int64_t> lens = intValues(ctx.node, ctx.in(1), "sequence_lens");
        const int64_t T = X.dim(timeAxis), B = X.dim(batchAxis);
        const std::vector<int64_t> stride = rowMajorStrides(X.shape());
        const int64_t inner = X.rank() > 2 ? stride[1] : 1, ts = stride[timeAxis], bs = stride[batchAxis];
        for (int64_t b = 0; b < B; ++b)
            check(lens[b] >= 0 && lens[b] <= T, ctx.node.describe() + ": sequence length " + std::to_string(lens[b]) + " (batch element "
                                                    + std::to_string(b) + ") is out of range for " + std::to_string(T) + " steps.");
        const size_t es = dtypeSize(X.dtype());
        const auto *src = static_cast<const char *>(X.raw());
        auto *dst = static_cast<char *>(ctx.out(0).raw());
        for (int64_t b = 0; b < B; ++b)
            for (int64_t t = 0; t < T; ++t) {
                const int64_t from = t < lens[b] ? lens[b] - 1 - t : t;
                std::memcpy(dst + (t * ts + b * bs) * es, src + (from * ts + b * bs) * es, inner * es);
            }
    }
    void backward(KernelContext &) const override {}

private:
    static std::pair<int, int> axes(const Node &node)
    {
        const int64_t b = node.attrInt("batch_axis", 1), t = node.attrInt("time_axis", 0);
        check((b == 0 && t == 1) || (b == 1 && t == 0), node.describe() + ": batch_axis and time_axis must be 0 and 1 (either way round).");
        return {static_cast<int>(b), static_cast<int>(t)};
    }
};

} // namespace

void registerRearrangeOps(KernelTable &t)
{
    t["Tile"] = std::make_unique<Tile>();
    t["Pad"] = std::make_unique<Pad>();
    t["DepthToSpace"] = std::make_unique<BlockRearrange>(true);
    t["SpaceToDepth"] = std::make_unique<BlockRearrange>(false);
    t["Trilu"] = std::make_unique<Trilu>();
    t["ReverseSequence"] = std::make_unique<ReverseSequence>();
}

} // namespace netwright
