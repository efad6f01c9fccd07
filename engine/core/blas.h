// SPDX-License-Identifier: Apache-2.0
// Row-major single-precision GEMM, the one matrix multiply every kernel uses: oneDNN's sgemm, whose
// kernels are generated at run time for the CPU level in use (core/cpu_level.h). It threads over
// threadCount() threads (deterministic per level and thread count); inside a parallel region it
// runs on the calling thread only.
#pragma once

#include <cstdint>

namespace netwright::blas {

// C[M,N] = alpha * op(A) * op(B) + beta * C, op(X) = X or Xᵀ; lda/ldb/ldc are row strides of
// the matrices as stored. beta == 0 ignores C's old contents (NaN-safe).
void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
          const float *B, int64_t ldb, float beta, float *C, int64_t ldc);

} // namespace netwright::blas
