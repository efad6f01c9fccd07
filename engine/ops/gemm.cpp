// SPDX-License-Identifier: Apache-2.0
// Gemm (ONNX): Y[M,N] = alpha·op(A)·op(B) + beta·C, C unidirectionally broadcast to [M,N].
#include "core/blas.h"
#include "core/error.h"
#include "core/parallel.h"
#include "ops/kernels.h"

namespace netwright {

namespace {

class Gemm final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() >= 2, node.describe() + ": needs inputs A and B.");
        shape_rules::expectRank(node, "input A", in[0], 2);
        shape_rules::expectRank(node, "input B", in[1], 2);
        const bool ta = node.attrInt("transA", 0), tb = node.attrInt("transB", 0);
        const int64_t M = ta ? in[0][1] : in[0][0], K = ta ? in[0][0] : in[0][1];
        const int64_t K2 = tb ? in[1][1] : in[1][0], N = tb ? in[1][0] : in[1][1];
        check(K == K2, node.describe() + ": A " + shapeToString(in[0]) + (ta ? "ᵀ" : "") + " and B " + shapeToString(in[1])
                           + (tb ? "ᵀ" : "") + " have different inner dimensions (" + std::to_string(K) + " vs "
                           + std::to_string(K2) + ").");
        if (in.size() > 2 && !in[2].empty()) {
            const Shape &c = in[2];
            check(c.size() <= 2, node.describe() + ": C must have rank ≤ 2, got " + shapeToString(c) + ".");
            const int64_t cm = c.size() == 2 ? c[0] : 1, cn = c.empty() ? 1 : c.back();
            check((cm == 1 || cm == M) && (cn == 1 || cn == N), node.describe() + ": C " + shapeToString(c)
                                                                  + " cannot be broadcast to [" + std::to_string(M) + ","
                                                                  + std::to_string(N) + "].");
        }
        return {{M, N}};
    }

    void forward(KernelContext &ctx) const override
    {
        const Node &n = ctx.node;
        const bool ta = n.attrInt("transA", 0), tb = n.attrInt("transB", 0);
        const float alpha = n.attrFloat("alpha", 1.0f), beta = n.attrFloat("beta", 1.0f);
        const Tensor &A = ctx.in(0), &B = ctx.in(1);
        Tensor &Y = ctx.out(0);
        const int64_t M = Y.dim(0), N = Y.dim(1), K = ta ? A.dim(0) : A.dim(1);
        float cBeta = 0.0f;
        if (ctx.hasInput(2) && beta != 0.0f) {
            const Tensor &C = ctx.in(2);
            const Shape &c = C.shape();
            const int64_t cm = c.size() == 2 ? c[0] : 1, cn = c.empty() ? 1 : c.back();
            const float *cp = C.data();
            float *y = Y.data();
            parallelFor(M, [&](int64_t m0, int64_t m1, int) {
                for (int64_t m = m0; m < m1; ++m)
                    for (int64_t j = 0; j < N; ++j)
                        y[m * N + j] = beta * cp[(cm == 1 ? 0 : m) * cn + (cn == 1 ? 0 : j)];
            }, 16);
            cBeta = 1.0f;
        }
        blas::gemm(ta, tb, M, N, K, alpha, A.data(), A.dim(1), B.data(), B.dim(1), cBeta, Y.data(), N);
    }

    void backward(KernelContext &ctx) const override
    {
        const Node &n = ctx.node;
        const bool ta = n.attrInt("transA", 0), tb = n.attrInt("transB", 0);
        const float alpha = n.attrFloat("alpha", 1.0f), beta = n.attrFloat("beta", 1.0f);
        const Tensor &A = ctx.in(0), &B = ctx.in(1), &dY = *ctx.gradOutputs[0];
        const int64_t M = dY.dim(0), N = dY.dim(1), K = ta ? A.dim(0) : A.dim(1);
        const int64_t lda = A.dim(1), ldb = B.dim(1);
        if (ctx.wantsGrad(0)) {
            Tensor &dA = *ctx.gradInputs[0];
            if (!ta) // dA[M,K] = alpha dY op(B)ᵀ
                blas::gemm(false, !tb, M, K, N, alpha, dY.data(), N, B.data(), ldb, 0.0f, dA.data(), K);
            else // dA[K,M] = alpha op(B) dYᵀ
                blas::gemm(tb, true, K, M, N, alpha, B.data(), ldb, dY.data(), N, 0.0f, dA.data(), M);
        }
        if (ctx.wantsGrad(1)) {
            Tensor &dB = *ctx.gradInputs[1];
            if (!tb) // dB[K,N] = alpha op(A)ᵀ dY
                blas::gemm(!ta, false, K, N, M, alpha, A.data(), lda, dY.data(), N, 0.0f, dB.data(), N);
            else // dB[N,K] = alpha dYᵀ op(A)
                blas::gemm(true, ta, N, K, M, alpha, dY.data(), N, A.data(), lda, 0.0f, dB.data(), K);
        }
        if (ctx.wantsGrad(2)) {
            Tensor &dC = *ctx.gradInputs[2];
            const Shape &c = dC.shape();
            const int64_t cm = c.size() == 2 ? c[0] : 1, cn = c.empty() ? 1 : c.back();
            dC.fill(0.0f);
            float *dc = dC.data();
            const float *dy = dY.data();
            if (cm == M) {
                for (int64_t m = 0; m < M; ++m)
                    for (int64_t j = 0; j < N; ++j)
                        dc[m * cn + (cn == 1 ? 0 : j)] += beta * dy[m * N + j];
            } else {
                // Reduce over rows per column block: each thread owns whole columns (deterministic).
                parallelFor(cn, [&](int64_t j0, int64_t j1, int) {
                    for (int64_t m = 0; m < M; ++m)
                        for (int64_t j = j0; j < j1; ++j)
                            dc[j] += beta * (cn == 1 ? [&] { float s = 0; for (int64_t q = 0; q < N; ++q) s += dy[m * N + q]; return s; }()
                                                     : dy[m * N + j]);
                }, 32);
            }
        }
    }
};

} // namespace

void registerGemm(KernelTable &t)
{
    t["Gemm"] = std::make_unique<Gemm>();
}

} // namespace netwright
