// SPDX-License-Identifier: Apache-2.0
// Batches of small fp32 matrix products (every dimension at most kSmallGemmMax), for each CPU level
// (core/small_gemm_isa.cpp, compiled for x86-64-v2, -v3 and -v4) and the one core/cpu_level.h
// chose. A transformer's attention multiplies a 16×16 or 32×32 matrix per head and image: oneDNN's
// batched matmul spends 70–150 µs on 512 of 16×16×16 (30–60 GFLOP/s on a 2-core EPYC), and a
// product this small fits in registers. blas::gemmBatched sends such batches here.
#pragma once

#include "core/cpu_level.h"

#include <cstdint>

namespace netwright::blas {

constexpr int64_t kSmallGemmMax = 64;

// C_i = alpha · op(A_i) · op(B_i) + beta · C_i for the matrices i in [i0, i1) (op = transpose where
// asked; matrix i starts at A + i·strideA and so on). Each element sums its K products in k order:
// the same result whichever thread runs a matrix. beta == 0 writes C without reading it.
using SmallGemmBatch = void (*)(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                                int64_t lda, int64_t strideA, const float *B, int64_t ldb, int64_t strideB, float beta,
                                float *C, int64_t ldc, int64_t strideC, int64_t i0, int64_t i1);

#define NW_DECLARE_SMALL_GEMM_LEVEL(ns)                                                                                      \
    namespace ns {                                                                                                           \
    void smallGemmBatch(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda, \
                        int64_t strideA, const float *B, int64_t ldb, int64_t strideB, float beta, float *C, int64_t ldc,    \
                        int64_t strideC, int64_t i0, int64_t i1);                                                            \
    }
NW_DECLARE_SMALL_GEMM_LEVEL(isa_v2)
NW_DECLARE_SMALL_GEMM_LEVEL(isa_v3)
NW_DECLARE_SMALL_GEMM_LEVEL(isa_v4)
#undef NW_DECLARE_SMALL_GEMM_LEVEL

inline SmallGemmBatch smallGemmBatch()
{
    return cpu::byLevel(&isa_v2::smallGemmBatch, &isa_v3::smallGemmBatch, &isa_v4::smallGemmBatch);
}

} // namespace netwright::blas
