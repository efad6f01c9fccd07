// SPDX-License-Identifier: Apache-2.0
#include "core/blas.h"

#include "core/parallel.h"

#include <Eigen/Core>

namespace netwright::blas {

namespace {
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Stride = Eigen::OuterStride<>;
using ConstMap = Eigen::Map<const RowMat, Eigen::Unaligned, Stride>;
using Map = Eigen::Map<RowMat, Eigen::Unaligned, Stride>;

// Single-threaded block: C[m0:m1, :] (or columns) computed by Eigen.
void gemmSerial(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                const float *B, int64_t ldb, float beta, float *C, int64_t ldc)
{
    Map c(C, M, N, Stride(ldc));
    if (beta == 0.0f)
        c.setZero();
    else if (beta != 1.0f)
        c *= beta;
    // op(A) is M×K: stored as M×K (lda) or K×M (lda) transposed.
    if (!transA && !transB)
        c.noalias() += alpha * (ConstMap(A, M, K, Stride(lda)) * ConstMap(B, K, N, Stride(ldb)));
    else if (!transA && transB)
        c.noalias() += alpha * (ConstMap(A, M, K, Stride(lda)) * ConstMap(B, N, K, Stride(ldb)).transpose());
    else if (transA && !transB)
        c.noalias() += alpha * (ConstMap(A, K, M, Stride(lda)).transpose() * ConstMap(B, K, N, Stride(ldb)));
    else
        c.noalias() += alpha * (ConstMap(A, K, M, Stride(lda)).transpose() * ConstMap(B, N, K, Stride(ldb)).transpose());
}
} // namespace

void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
          const float *B, int64_t ldb, float beta, float *C, int64_t ldc)
{
    if (M <= 0 || N <= 0)
        return;
    const double work = static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
    const int threads = threadCount();
    if (threads <= 1 || work < 64.0 * 64.0 * 64.0 || inParallelRegion()) {
        gemmSerial(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    // Split the longer output side in blocks aligned to 16 so each thread has whole SIMD panels.
    if (N >= M) {
        const int64_t blocks = (N + 15) / 16;
        parallelFor(blocks, [&](int64_t b0, int64_t b1, int) {
            const int64_t n0 = b0 * 16, n1 = std::min(N, b1 * 16);
            const float *Bp = transB ? B + n0 * ldb : B + n0;
            gemmSerial(transA, transB, M, n1 - n0, K, alpha, A, lda, Bp, ldb, beta, C + n0, ldc);
        });
    } else {
        const int64_t blocks = (M + 15) / 16;
        parallelFor(blocks, [&](int64_t b0, int64_t b1, int) {
            const int64_t m0 = b0 * 16, m1 = std::min(M, b1 * 16);
            const float *Ap = transA ? A + m0 : A + m0 * lda;
            gemmSerial(transA, transB, m1 - m0, N, K, alpha, Ap, lda, B, ldb, beta, C + m0 * ldc, ldc);
        });
    }
}

} // namespace netwright::blas
