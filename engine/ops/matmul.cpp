// SPDX-License-Identifier: Apache-2.0
// MatMul (ONNX = numpy.matmul): batched over leading dims with broadcasting; 1-D operands are
// promoted (A to a row, B to a column) and the promoted dim is dropped from the result.
#include "core/blas.h"
#include "core/error.h"
#include "ops/broadcast.h"
#include "ops/kernels.h"

namespace netwright {

namespace {

struct MatMulGeometry {
    Shape a, b;            // operands after 1-D promotion, rank ≥ 2
    Shape batch;           // broadcast batch shape
    int64_t M = 0, K = 0, N = 0;
    Shape out;             // the ONNX output shape (promoted dims removed)
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

class MatMul final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 2, node.describe() + ": needs two inputs.");
        return {geometry(node, in[0], in[1]).out};
    }

    void forward(KernelContext &ctx) const override
    {
        const auto g = geometry(ctx.node, ctx.in(0).shape(), ctx.in(1).shape());
        const int64_t batches = shapeNumel(g.batch);
        const BroadcastIndexer ia(g.batch, Shape(g.a.begin(), g.a.end() - 2));
        const BroadcastIndexer ib(g.batch, Shape(g.b.begin(), g.b.end() - 2));
        const float *a = ctx.in(0).data(), *b = ctx.in(1).data();
        float *y = ctx.out(0).data();
        for (int64_t i = 0; i < batches; ++i)
            blas::gemm(false, false, g.M, g.N, g.K, 1.0f, a + ia.offset(i) * g.M * g.K, g.K, b + ib.offset(i) * g.K * g.N,
                       g.N, 0.0f, y + i * g.M * g.N, g.N);
    }

    void backward(KernelContext &ctx) const override
    {
        const auto g = geometry(ctx.node, ctx.in(0).shape(), ctx.in(1).shape());
        const int64_t batches = shapeNumel(g.batch);
        const BroadcastIndexer ia(g.batch, Shape(g.a.begin(), g.a.end() - 2));
        const BroadcastIndexer ib(g.batch, Shape(g.b.begin(), g.b.end() - 2));
        const float *a = ctx.in(0).data(), *b = ctx.in(1).data(), *dy = ctx.gradOutputs[0]->data();
        if (ctx.wantsGrad(0))
            ctx.gradInputs[0]->fill(0.0f);
        if (ctx.wantsGrad(1))
            ctx.gradInputs[1]->fill(0.0f);
        // Serial over batches, accumulating (beta = 1) into broadcast sources: deterministic.
        for (int64_t i = 0; i < batches; ++i) {
            const float *dyi = dy + i * g.M * g.N;
            if (ctx.wantsGrad(0)) // dA = dY Bᵀ
                blas::gemm(false, true, g.M, g.K, g.N, 1.0f, dyi, g.N, b + ib.offset(i) * g.K * g.N, g.N, 1.0f,
                           ctx.gradInputs[0]->data() + ia.offset(i) * g.M * g.K, g.K);
            if (ctx.wantsGrad(1)) // dB = Aᵀ dY
                blas::gemm(true, false, g.K, g.N, g.M, 1.0f, a + ia.offset(i) * g.M * g.K, g.K, dyi, g.N, 1.0f,
                           ctx.gradInputs[1]->data() + ib.offset(i) * g.K * g.N, g.N);
        }
    }
};

} // namespace

void registerMatMul(KernelTable &t)
{
    t["MatMul"] = std::make_unique<MatMul>();
}

} // namespace netwright
