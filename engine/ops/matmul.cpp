// SPDX-License-Identifier: Apache-2.0
// MatMul (ONNX = numpy.matmul): batched over leading dims with broadcasting; 1-D operands are
// promoted (A to a row, B to a column) and the promoted dim is dropped from the result.
// Float32 runs one GEMM per batch matrix: a single GEMM over all rows when B has no batch dims
// ([B,S,D]×[D,E]), parallel over batches when they are many and small (attention's
// [B,H,S,D]×[B,H,D,T]), otherwise the GEMM threads itself. Gradients of broadcast batch dims are
// summed per target matrix in batch order (deterministic). Other numeric types run forward in a
// plain loop; MatMulInteger (int8/uint8 with zero points → int32) shares the geometry.
#include "core/blas.h"
#include "core/error.h"
#include "core/parallel.h"
#include "ops/broadcast.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <type_traits>

namespace netwright {

namespace {

struct MatMulGeometry {
    Shape a, b;  // operands after 1-D promotion, rank ≥ 2
    Shape batch; // broadcast batch shape
    int64_t M = 0, K = 0, N = 0;
    Shape out; // the ONNX output shape (promoted dims removed)
};

MatMulGeometry geometry(const Node &node, Shape a, Shape b)
{
    check(!a.empty() && !b.empty(), node.describe() + ": MatMul operands must have rank ≥ 1.");
    MatMulGeometry g;
    const bool aVec = a.size() == 1, bVec = b.size() == 1;
    if (aVec)
        a.insert(a.begin(), 1);
    if (bVec)
        b.push_back(1);
    g.a = a;
    g.b = b;
    g.M = a[a.size() - 2];
    g.K = a.back();
    g.N = b.back();
    check(g.K == b[b.size() - 2], node.describe() + ": inner dimensions differ: A " + shapeToString(a) + ", B "
                                      + shapeToString(b) + ".");
    g.batch = shape_rules::broadcast(node, Shape(a.begin(), a.end() - 2), Shape(b.begin(), b.end() - 2));
    g.out = g.batch;
    if (!aVec)
        g.out.push_back(g.M);
    if (!bVec)
        g.out.push_back(g.N);
    return g;
}

// The flat batch index of operand `x` for each output batch.
std::vector<int64_t> batchSources(const MatMulGeometry &g, const Shape &x)
{
    const BroadcastIndexer ix(g.batch, Shape(x.begin(), x.end() - 2));
    std::vector<int64_t> src(static_cast<size_t>(shapeNumel(g.batch)));
    for (size_t i = 0; i < src.size(); ++i)
        src[i] = ix.offset(static_cast<int64_t>(i));
    return src;
}

// y[i] = Σ_k (a[i,k] − za)(b[k,j] − zb) per batch, in a plain loop (non-float32 types).
template<typename T, typename Acc, typename Out>
void loopMatMul(const MatMulGeometry &g, const T *a, const T *b, Out *y, const std::vector<Acc> &za, const std::vector<Acc> &zb)
{
    const auto sa = batchSources(g, g.a), sb = batchSources(g, g.b);
    const int64_t M = g.M, N = g.N, K = g.K;
    parallelFor(static_cast<int64_t>(sa.size()) * M, [&](int64_t r0, int64_t r1, int) {
        for (int64_t r = r0; r < r1; ++r) {
            const int64_t bi = r / M, m = r % M;
            const T *ap = a + sa[static_cast<size_t>(bi)] * M * K + m * K;
            const T *bp = b + sb[static_cast<size_t>(bi)] * K * N;
            const Acc zA = za.size() == 1 ? za[0] : za.empty() ? Acc(0) : za[static_cast<size_t>(m)];
            for (int64_t n = 0; n < N; ++n) {
                const Acc zB = zb.size() == 1 ? zb[0] : zb.empty() ? Acc(0) : zb[static_cast<size_t>(n)];
                Acc s = 0;
                for (int64_t k = 0; k < K; ++k)
                    s += (static_cast<Acc>(ap[k]) - zA) * (static_cast<Acc>(bp[k * N + n]) - zB);
                y[r * N + n] = static_cast<Out>(s);
            }
        }
    }, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, N * K)));
}

class MatMul final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 2 || in.size() == 3, node.describe() + ": needs two inputs and an optional scale.");
        return {geometry(node, in[0], in[1]).out};
    }
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override { return {in.at(0)}; }
    bool acceptsType(size_t, DType type) const override { return inTypeSet(type, kNumeric); }

    void forward(KernelContext &ctx) const override
    {
        const auto g = geometry(ctx.node, ctx.in(0).shape(), ctx.in(1).shape());
        const DType t = ctx.in(0).dtype();
        check(ctx.in(1).dtype() == t, ctx.node.describe() + ": A is " + dtypeName(t) + " but B is "
                                          + dtypeName(ctx.in(1).dtype()) + ".");
        if (t != DType::Float32) {
            dispatchType<kNumeric>(t, ctx.node, [&](auto tag) {
                using T = typename decltype(tag)::type;
                using Acc = std::conditional_t<std::is_floating_point_v<T>, double, std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>;
                loopMatMul<T, Acc, T>(g, ctx.in(0).dataAs<T>(), ctx.in(1).dataAs<T>(), ctx.out(0).dataAs<T>(), {}, {});
            });
            return;
        }
        const int64_t batches = shapeNumel(g.batch), M = g.M, N = g.N, K = g.K;
        const float *a = ctx.in(0).data(), *b = ctx.in(1).data();
        float *y = ctx.out(0).data();
        if (batches * M * N == 0)
            return;
        if (K == 0) {
            ctx.out(0).fill(0.0f);
            return;
        }
        const int64_t aBatches = shapeNumel(Shape(g.a.begin(), g.a.end() - 2));
        const int64_t bBatches = shapeNumel(Shape(g.b.begin(), g.b.end() - 2));
        if (bBatches == 1 && aBatches == batches) { // every A row against the one B: one GEMM
            blas::gemm(false, false, batches * M, N, K, 1.0f, a, K, b, N, 0.0f, y, N);
            return;
        }
        if (aBatches == batches && bBatches == batches) { // attention's per-head products: one batched call
            blas::gemmBatched(false, false, batches, M, N, K, 1.0f, a, K, M * K, b, N, K * N, 0.0f, y, N, M * N);
            return;
        }
        const auto sa = batchSources(g, g.a), sb = batchSources(g, g.b);
        auto one = [&](int64_t i) {
            blas::gemm(false, false, M, N, K, 1.0f, a + sa[static_cast<size_t>(i)] * M * K, K,
                       b + sb[static_cast<size_t>(i)] * K * N, N, 0.0f, y + i * M * N, N);
        };
        if (blas::parallelOverBatches(batches, M, N, K))
            parallelFor(batches, [&](int64_t i0, int64_t i1, int) {
                for (int64_t i = i0; i < i1; ++i)
                    one(i);
            });
        else
            for (int64_t i = 0; i < batches; ++i)
                one(i);
    }

    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0) && !ctx.wantsGrad(1))
            return;
        check(ctx.in(0).dtype() == DType::Float32, ctx.node.describe() + ": gradients are float32 only.");
        const auto g = geometry(ctx.node, ctx.in(0).shape(), ctx.in(1).shape());
        const int64_t batches = shapeNumel(g.batch), M = g.M, N = g.N, K = g.K;
        const float *a = ctx.in(0).data(), *b = ctx.in(1).data(), *dy = ctx.gradOutputs[0]->data();
        const int64_t aBatches = shapeNumel(Shape(g.a.begin(), g.a.end() - 2));
        const int64_t bBatches = shapeNumel(Shape(g.b.begin(), g.b.end() - 2));
        if (batches * M * N == 0 || K == 0) {
            for (int w = 0; w < 2; ++w)
                if (ctx.wantsGrad(w))
                    ctx.gradInputs[w]->fill(0.0f);
            return;
        }
        if (bBatches == 1 && aBatches == batches) {
            if (ctx.wantsGrad(0)) // dA = dY Bᵀ over all rows
                blas::gemm(false, true, batches * M, K, N, 1.0f, dy, N, b, N, 0.0f, ctx.gradInputs[0]->data(), K);
            if (ctx.wantsGrad(1)) // dB = Aᵀ dY, the batches summed inside the GEMM
                blas::gemm(true, false, K, N, batches * M, 1.0f, a, K, dy, N, 0.0f, ctx.gradInputs[1]->data(), N);
            return;
        }
        if (aBatches == batches && bBatches == batches) { // one source per target: batched, no sums
            if (ctx.wantsGrad(0)) // dA_i = dY_i B_iᵀ
                blas::gemmBatched(false, true, batches, M, K, N, 1.0f, dy, N, M * N, b, N, K * N, 0.0f,
                                  ctx.gradInputs[0]->data(), K, M * K);
            if (ctx.wantsGrad(1)) // dB_i = A_iᵀ dY_i
                blas::gemmBatched(true, false, batches, K, N, M, 1.0f, a, K, M * K, dy, N, M * N, 0.0f,
                                  ctx.gradInputs[1]->data(), N, K * N);
            return;
        }
        const auto sa = batchSources(g, g.a), sb = batchSources(g, g.b);
        for (int w = 0; w < 2; ++w) {
            if (!ctx.wantsGrad(w))
                continue;
            float *dx = ctx.gradInputs[w]->data();
            const std::vector<int64_t> &self = w == 0 ? sa : sb;
            const int64_t targets = w == 0 ? aBatches : bBatches;
            // The contribution of output batch i to its source matrix (beta 0: first, 1: add).
            auto contribute = [&](int64_t i, float beta) {
                const float *dyi = dy + i * M * N;
                if (w == 0) // dA = dY Bᵀ
                    blas::gemm(false, true, M, K, N, 1.0f, dyi, N, b + sb[static_cast<size_t>(i)] * K * N, N, beta,
                               dx + sa[static_cast<size_t>(i)] * M * K, K);
                else // dB = Aᵀ dY
                    blas::gemm(true, false, K, N, M, 1.0f, a + sa[static_cast<size_t>(i)] * M * K, K, dyi, N, beta,
                               dx + sb[static_cast<size_t>(i)] * K * N, N);
            };
            // Output batches per target matrix, in batch order: each target is written by one
            // thread, accumulating its sources in the same order every run.
            std::vector<std::vector<int64_t>> sources(static_cast<size_t>(targets));
            for (int64_t i = 0; i < batches; ++i)
                sources[static_cast<size_t>(self[static_cast<size_t>(i)])].push_back(i);
            auto target = [&](int64_t t) {
                const auto &list = sources[static_cast<size_t>(t)];
                if (list.empty()) {
                    const int64_t size = w == 0 ? M * K : K * N;
                    std::fill(dx + t * size, dx + (t + 1) * size, 0.0f);
                    return;
                }
                for (size_t j = 0; j < list.size(); ++j)
                    contribute(list[j], j == 0 ? 0.0f : 1.0f);
            };
            if (blas::parallelOverBatches(targets, M, N, K))
                parallelFor(targets, [&](int64_t t0, int64_t t1, int) {
                    for (int64_t t = t0; t < t1; ++t)
                        target(t);
                });
            else
                for (int64_t t = 0; t < targets; ++t)
                    target(t);
        }
    }
};

// The batched product of Executor::fuseHeadTransposes: Y = permY(alpha · permA(A) · permB(B)) for
// rank-3 operands, where each perm (attributes perm_a, perm_b, perm_y; absent: none) is a
// Transpose the executor folded away and alpha the scalar input 2 (optional) that divided
// (attribute scale "div") or multiplied A, read at every run. Each transposed operand is
// read, and the result and both gradients written, through strides in place: attention's head
// split and merge ([S,B·H,D] ↔ [B·H,S,D]) cost no copies. Where a perm moves the last dim to the
// front, the two operands' batches differ (broadcast), or 1/c is not a normal float, it runs the
// transposes, the scale and the MatMul one by one, as the unfused nodes would.
class TransposedMatMul final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 2 || in.size() == 3, node.describe() + ": needs two inputs and an optional scale.");
        const Shape a = permuted(node, in[0], "perm_a"), b = permuted(node, in[1], "perm_b");
        return {permuted(node, geometry(node, a, b).out, "perm_y")};
    }
    bool acceptsType(size_t, DType type) const override { return type == DType::Float32; }
    bool differentiable(size_t input) const override { return input < 2; }

    void forward(KernelContext &ctx) const override
    {
        const Node &node = ctx.node;
        const float alpha = alphaOf(ctx);
        const Shape &sa = ctx.in(0).shape(), &sb = ctx.in(1).shape();
        const auto pa = node.attrInts("perm_a", {}), pb = node.attrInts("perm_b", {}), py = node.attrInts("perm_y", {});
        View a, b, c;
        if (!strided(sa, pa, a) || !strided(sb, pb, b) || !strided(ctx.out(0).shape(), inverse(py), c) || c.trans
            || a.batch != b.batch || a.cols != b.rows || !std::isnormal(alpha)) {
            s_fallbacks.fetch_add(1, std::memory_order_relaxed);
            unfusedForward(ctx, pa, pb, py);
            return;
        }
        float *y = ctx.out(0).data();
        if (a.batch * a.rows * b.cols == 0)
            return;
        if (a.cols == 0) {
            ctx.out(0).fill(0.0f);
            return;
        }
        blas::gemmBatched(a.trans, b.trans, a.batch, a.rows, b.cols, a.cols, alpha, ctx.in(0).data(), a.ld, a.stride,
                          ctx.in(1).data(), b.ld, b.stride, 0.0f, y, c.ld, c.stride);
    }

    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0) && !ctx.wantsGrad(1))
            return;
        const Node &node = ctx.node;
        const float alpha = alphaOf(ctx);
        const Shape &sa = ctx.in(0).shape(), &sb = ctx.in(1).shape();
        const auto pa = node.attrInts("perm_a", {}), pb = node.attrInts("perm_b", {}), py = node.attrInts("perm_y", {});
        const Tensor &dyT = *ctx.gradOutputs[0];
        View a, b, c;
        if (!strided(sa, pa, a) || !strided(sb, pb, b) || !strided(dyT.shape(), inverse(py), c) || c.trans
            || a.batch != b.batch || a.cols != b.rows || !std::isnormal(alpha)) {
            unfusedBackward(ctx, pa, pb, py);
            return;
        }
        const int64_t batch = a.batch, M = a.rows, K = a.cols, N = b.cols;
        if (batch * M * N == 0 || K == 0) {
            for (int w = 0; w < 2; ++w)
                if (ctx.wantsGrad(w))
                    ctx.gradInputs[w]->fill(0.0f);
            return;
        }
        const float *pa0 = ctx.in(0).data(), *pb0 = ctx.in(1).data(), *dy = dyT.data();
        if (ctx.wantsGrad(0)) { // dA = alpha·dC·Bᵀ, written where A was read
            float *da = ctx.gradInputs[0]->data();
            if (!a.trans)
                blas::gemmBatched(false, !b.trans, batch, M, K, N, alpha, dy, c.ld, c.stride, pb0, b.ld, b.stride, 0.0f, da,
                                  a.ld, a.stride);
            else // A stored column-wise: dAᵀ = alpha·B·dCᵀ
                blas::gemmBatched(b.trans, true, batch, K, M, N, alpha, pb0, b.ld, b.stride, dy, c.ld, c.stride, 0.0f, da,
                                  a.ld, a.stride);
        }
        if (ctx.wantsGrad(1)) { // dB = alpha·Aᵀ·dC
            float *db = ctx.gradInputs[1]->data();
            if (!b.trans)
                blas::gemmBatched(!a.trans, false, batch, K, N, M, alpha, pa0, a.ld, a.stride, dy, c.ld, c.stride, 0.0f, db,
                                  b.ld, b.stride);
            else // dBᵀ = alpha·dCᵀ·A
                blas::gemmBatched(true, a.trans, batch, N, K, M, alpha, dy, c.ld, c.stride, pa0, a.ld, a.stride, 0.0f, db,
                                  b.ld, b.stride);
        }
    }

    static std::atomic<int64_t> s_fallbacks;

private:
    static bool divides(const KernelContext &ctx) { return ctx.node.attrString("scale", "mul") == "div"; }
    // alpha: 1 without a scale input; 1/c for a Div (inf or 0 where 1/c is not a normal float).
    static float alphaOf(const KernelContext &ctx)
    {
        if (!ctx.hasInput(2))
            return 1.0f;
        const float c = ctx.in(2).data()[0];
        return divides(ctx) ? 1.0f / c : c;
    }
    // A logical [batch, rows, cols] matrix stack inside a contiguous rank-3 tensor: element
    // (i, r, c) at i·stride + (trans ? c·ld + r : r·ld + c).
    struct View {
        int64_t batch = 0, rows = 0, cols = 0, stride = 0, ld = 0;
        bool trans = false;
    };
    static std::vector<int64_t> inverse(const std::vector<int64_t> &p)
    {
        std::vector<int64_t> inv(p.size());
        for (size_t i = 0; i < p.size(); ++i)
            inv[static_cast<size_t>(p[i])] = static_cast<int64_t>(i);
        return inv;
    }
    // The view of Transpose(stored, perm) (perm empty: stored itself); false where it has no such
    // view: not rank 3, or the stored tensor's contiguous dim becomes the batch.
    static bool strided(const Shape &s, const std::vector<int64_t> &perm, View &v)
    {
        if (s.size() != 3)
            return false;
        const std::vector<int64_t> p = perm.empty() ? std::vector<int64_t>{0, 1, 2} : perm;
        const int64_t st[3] = {s[1] * s[2], s[2], 1};
        v.batch = s[p[0]];
        v.rows = s[p[1]];
        v.cols = s[p[2]];
        v.stride = st[p[0]];
        if (p[2] == 2) {
            v.trans = false;
            v.ld = std::max<int64_t>(1, st[p[1]]);
        } else if (p[1] == 2) {
            v.trans = true;
            v.ld = std::max<int64_t>(1, st[p[2]]);
        } else {
            return false;
        }
        return true;
    }
    static Node transposeNode(const Node &of, const std::vector<int64_t> &perm)
    {
        Node t;
        t.name = of.name;
        t.opType = "Transpose";
        t.inputs = {"x"};
        t.outputs = {"y"};
        t.attributes["perm"] = perm;
        return t;
    }
    // s through the perm attribute `key` (a permutation of 0..2, checked when the executor folded it).
    static Shape permuted(const Node &node, const Shape &s, const char *key)
    {
        const auto perm = node.attrInts(key, {});
        if (perm.empty())
            return s;
        check(s.size() == perm.size(), node.describe() + ": a " + std::to_string(perm.size()) + "-dim transpose of a "
                                           + std::to_string(s.size()) + "-dim value " + shapeToString(s) + ".");
        Shape out(s.size());
        for (size_t i = 0; i < perm.size(); ++i)
            out[i] = s[static_cast<size_t>(perm[i])];
        return out;
    }
    static Tensor transposed(const Node &node, const Tensor &x, const std::vector<int64_t> &perm)
    {
        if (perm.empty())
            return x;
        return evaluateNode(transposeNode(node, perm), {&x})[0];
    }
    static const OpKernel &cpuKernel(const char *op)
    {
        Node n;
        n.opType = op;
        return kernelFor(op, DeviceType::Cpu, n);
    }
    static Node matMulNode(const Node &of)
    {
        Node m;
        m.name = of.name;
        m.opType = "MatMul";
        m.inputs = {"a", "b"};
        m.outputs = {"y"};
        return m;
    }
    // t divided or multiplied by the scale input, as the folded Div or Mul did.
    static void scale(const KernelContext &ctx, Tensor &t)
    {
        if (!ctx.hasInput(2))
            return;
        const float c = ctx.in(2).data()[0];
        const bool div = divides(ctx);
        float *p = t.data();
        for (int64_t i = 0; i < t.numel(); ++i)
            p[i] = div ? p[i] / c : p[i] * c;
    }
    // The folded nodes one by one.
    static void unfusedForward(KernelContext &ctx, const std::vector<int64_t> &pa, const std::vector<int64_t> &pb,
                               const std::vector<int64_t> &py)
    {
        Tensor a = transposed(ctx.node, ctx.in(0), pa).clone(), b = transposed(ctx.node, ctx.in(1), pb);
        scale(ctx, a);
        const Node m = matMulNode(ctx.node);
        const Tensor c = evaluateNode(m, {&a, &b})[0];
        ctx.out(0).copyFrom(transposed(ctx.node, c, py));
    }
    static void unfusedBackward(KernelContext &ctx, const std::vector<int64_t> &pa, const std::vector<int64_t> &pb,
                                const std::vector<int64_t> &py)
    {
        Tensor a = transposed(ctx.node, ctx.in(0), pa).clone(), b = transposed(ctx.node, ctx.in(1), pb);
        scale(ctx, a);
        const Tensor dc = transposed(ctx.node, *ctx.gradOutputs[0], py.empty() ? py : inverse(py));
        const Node m = matMulNode(ctx.node);
        const OpKernel &mm = cpuKernel("MatMul");
        Tensor c(mm.inferShapes(m, {a.shape(), b.shape()}, {nullptr, nullptr})[0]);
        Tensor da(a.shape()), db(b.shape());
        std::vector<Tensor> saved;
        KernelContext inner{m, {&a, &b}, {&c}, saved, true, nullptr, {&dc}, {ctx.wantsGrad(0) ? &da : nullptr, ctx.wantsGrad(1) ? &db : nullptr}, 0};
        mm.backward(inner);
        if (ctx.wantsGrad(0)) {
            scale(ctx, da);
            ctx.gradInputs[0]->copyFrom(transposed(ctx.node, da, pa.empty() ? pa : inverse(pa)));
        }
        if (ctx.wantsGrad(1))
            ctx.gradInputs[1]->copyFrom(transposed(ctx.node, db, pb.empty() ? pb : inverse(pb)));
    }
};

// MatMulInteger (ONNX): int8/uint8 A and B, optional zero points (per tensor, or per row of a
// 2-D A / per column of a 2-D B), int32 result. Not differentiable.
class MatMulInteger final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() >= 2 && in.size() <= 4, node.describe() + ": needs inputs A, B and optional zero points.");
        return {geometry(node, in[0], in[1]).out};
    }
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &) const override { return {DType::Int32}; }
    bool acceptsType(size_t, DType type) const override { return type == DType::Int8 || type == DType::UInt8; }
    bool differentiable(size_t) const override { return false; }

    void forward(KernelContext &ctx) const override
    {
        const auto g = geometry(ctx.node, ctx.in(0).shape(), ctx.in(1).shape());
        const auto za = zeroPoint(ctx, 2, g.M), zb = zeroPoint(ctx, 3, g.N);
        auto run = [&](auto aTag) {
            using TA = typename decltype(aTag)::type;
            const TA *a = ctx.in(0).dataAs<TA>();
            if (ctx.in(1).dtype() == DType::Int8)
                loopMixed(g, a, ctx.in(1).dataAs<int8_t>(), ctx.out(0).dataAs<int32_t>(), za, zb);
            else
                loopMixed(g, a, ctx.in(1).dataAs<uint8_t>(), ctx.out(0).dataAs<int32_t>(), za, zb);
        };
        if (ctx.in(0).dtype() == DType::Int8)
            run(TypeTag<int8_t>{});
        else
            run(TypeTag<uint8_t>{});
    }
    void backward(KernelContext &) const override {}

private:
    static std::vector<int64_t> zeroPoint(const KernelContext &ctx, size_t input, int64_t perAxis)
    {
        if (!ctx.hasInput(input))
            return {};
        const Tensor &z = ctx.in(input);
        check(z.numel() == 1 || z.numel() == perAxis, ctx.node.describe() + ": zero point " + shapeToString(z.shape())
                                                          + " must hold one value or one per "
                                                          + (input == 2 ? "row of A." : "column of B."));
        std::vector<int64_t> v(static_cast<size_t>(z.numel()));
        for (size_t i = 0; i < v.size(); ++i)
            v[i] = z.dtype() == DType::Int8 ? z.dataAs<int8_t>()[i] : z.dataAs<uint8_t>()[i];
        return v;
    }

    template<typename TA, typename TB>
    static void loopMixed(const MatMulGeometry &g, const TA *a, const TB *b, int32_t *y, const std::vector<int64_t> &za,
                          const std::vector<int64_t> &zb)
    {
        const auto sa = batchSources(g, g.a), sb = batchSources(g, g.b);
        const int64_t M = g.M, N = g.N, K = g.K;
        for (size_t bi = 0; bi < sa.size(); ++bi)
            for (int64_t m = 0; m < M; ++m) {
                const TA *ap = a + sa[bi] * M * K + m * K;
                const TB *bp = b + sb[bi] * K * N;
                const int64_t zA = za.empty() ? 0 : za.size() == 1 ? za[0] : za[static_cast<size_t>(m)];
                for (int64_t n = 0; n < N; ++n) {
                    const int64_t zB = zb.empty() ? 0 : zb.size() == 1 ? zb[0] : zb[static_cast<size_t>(n)];
                    int64_t s = 0;
                    for (int64_t k = 0; k < K; ++k)
                        s += (ap[k] - zA) * (bp[k * N + n] - zB);
                    y[(static_cast<int64_t>(bi) * M + m) * N + n] = static_cast<int32_t>(s);
                }
            }
    }
};

} // namespace

std::atomic<int64_t> TransposedMatMul::s_fallbacks{0};

int64_t transposedMatMulFallbacks()
{
    return TransposedMatMul::s_fallbacks.load();
}

const OpKernel &transposedMatMulKernel()
{
    static const TransposedMatMul kernel;
    return kernel;
}

void registerMatMul(KernelTable &t)
{
    t["MatMul"] = std::make_unique<MatMul>();
    t["MatMulInteger"] = std::make_unique<MatMulInteger>();
}

} // namespace netwright
