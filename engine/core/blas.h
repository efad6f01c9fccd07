// SPDX-License-Identifier: Apache-2.0
// Row-major GEMM, the one matrix multiply every kernel uses. In fp32 (the default) it is oneDNN's
// sgemm, whose kernels are generated at run time for the CPU level in use (core/cpu_level.h), or
// oneDNN's matmul primitive for the products where that measures faster (fp32ByMatmulPrimitive). Inside
// a PrecisionScope(Precision::Bf16) it converts A and B to bfloat16 (round to nearest even) and runs
// oneDNN's matmul primitive with fp32 accumulation and fp32 C, as PyTorch's CPU autocast does —
// for the products that gain from it on this CPU (runsInBf16); the rest stay fp32.
// It threads over threadCount() threads (deterministic per level, precision and thread count);
// inside a parallel region it runs on the calling thread only.
#pragma once

#include <cstdint>

namespace netwright::blas {

enum class Precision { Fp32, Bf16 };

// C[M,N] = alpha * op(A) * op(B) + beta * C, op(X) = X or Xᵀ; lda/ldb/ldc are row strides of
// the matrices as stored. beta == 0 ignores C's old contents (NaN-safe). A, B and C stay fp32 in
// memory in either precision; in Bf16 only the products' inputs are rounded to bfloat16.
void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
          const float *B, int64_t ldb, float beta, float *C, int64_t ldc);

// `batch` independent products of one shape, C_i = alpha * op(A_i) * op(B_i) + beta * C_i, with
// A_i = A + i * strideA (likewise B_i, C_i): attention's per-head products. Batches of small
// matrices (usesSmallGemm) run our register-tiled fp32 kernel (core/small_gemm_isa.h), in both
// precisions, threaded over the batch; other fp32 batches one oneDNN matmul primitive (threaded over
// the batch; each C_i one thread's work), several times faster for small matrices than a GEMM call
// per matrix. Products that runsInBf16 sends to bf16 run as one gemm per matrix. Deterministic per
// level, precision and thread count.
void gemmBatched(bool transA, bool transB, int64_t batch, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                 int64_t lda, int64_t strideA, const float *B, int64_t ldb, int64_t strideB, float beta, float *C,
                 int64_t ldc, int64_t strideC);

// Whether gemmBatched multiplies a batch of M×K by K×N products with its own small-matrix kernel:
// every dimension at most 64 (an attention head's scores and values).
bool usesSmallGemm(int64_t M, int64_t N, int64_t K);

// Whether a batch of per-matrix GEMMs goes parallel over the batch (each GEMM on one thread):
// enough matrices, each small enough that a GEMM's own threading would not pay.
bool parallelOverBatches(int64_t batches, int64_t M, int64_t N, int64_t K);

// Whether gemm multiplies this fp32 product with oneDNN's matmul primitive (made once per shape and
// thread, operands read in place) instead of its sgemm: A·Bᵀ with an inner dimension of at least 512,
// at least 8 rows and 16 columns — a Linear layer's forward over a wide input, 1.1–2.8× faster.
bool fp32ByMatmulPrimitive(bool transA, bool transB, int64_t M, int64_t N, int64_t K);

// The precision gemm uses on the calling thread. parallelFor (core/parallel.h) hands it to its
// worker threads, so a scope around a forward or backward pass covers every kernel in it.
Precision precision();

// Whether gemm, inside a Bf16 scope, multiplies an [M,K]·[K,N] product (A transposed or not) in
// bf16 on this CPU: always with AMX; with AVX512-BF16 only where that is faster than fp32 —
// products with at least 128 multiply-adds per element of A and B converted (M·N/(M+N) ≥ 128),
// over at least 1024 rows with N and K at least 64 (a transformer's projections), or with an inner
// dimension of at least 1024 along A's rows and M·N/(M+N) ≥ 32 (a convolutional network's first
// fully connected layer; per-image weight gradients of ConvTranspose and of im2col convolutions,
// A being their input). The others (weight gradients that read A transposed, attention's small
// per-head products, narrow outputs) run in fp32: as fast or faster, and exact.
bool runsInBf16(int64_t M, int64_t N, int64_t K, bool transA);

// Sets the calling thread's gemm precision for the scope's lifetime and restores the previous one
// after, so nothing leaks past a training step. Bf16 throws netwright::Error where the active CPU
// level has no bf16 instructions (cpu::hasBf16()).
class PrecisionScope {
public:
    explicit PrecisionScope(Precision precision);
    ~PrecisionScope();
    PrecisionScope(const PrecisionScope &) = delete;
    PrecisionScope &operator=(const PrecisionScope &) = delete;

private:
    Precision m_previous;
};

// "fp32" or "bf16".
const char *precisionName(Precision precision);

// Rounds n floats to bfloat16 (round to nearest even; NaN stays NaN), as the Bf16 gemm does with
// its inputs; the 16-bit results are the high halves of the rounded floats. For tests.
void toBf16(const float *src, uint16_t *dst, int64_t n);

} // namespace netwright::blas
