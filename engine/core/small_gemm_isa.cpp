// SPDX-License-Identifier: Apache-2.0
// Compiled once per CPU level (engine/CMakeLists.txt: -march=x86-64-v2/-v3/-v4 with NW_ISA_NS =
// isa_v2/isa_v3/isa_v4): the small batched products of core/small_gemm_isa.h.
// Per matrix, op(B) is packed into a K × 16-column-panel copy (zero-padded), then C is made in tiles
// of 4 rows × 16 columns whose accumulators stay in registers: per k, one row of a panel and four
// elements of op(A) (broadcast), four multiply-adds of 16 lanes. Plain loops of fixed width that
// the compiler vectorises for the level (one zmm per tile row at -v4, two ymm at -v3, four xmm
// at -v2).
#include "core/small_gemm_isa.h"

#include <algorithm>
#include <cstring>

#ifndef NW_ISA_NS
#error "core/small_gemm_isa.cpp is compiled once per CPU level with NW_ISA_NS set (engine/CMakeLists.txt)"
#endif

namespace netwright::blas::NW_ISA_NS {

namespace {

constexpr int64_t kW = 16; // columns in a panel
constexpr int64_t kR = 8;  // rows in a tile: 8 independent multiply-add chains
constexpr int64_t kMax = kSmallGemmMax;

// 16 floats as one value: GCC's vector extension lowers it to one zmm at -v4, two ymm at -v3, four
// xmm at -v2 (plain loops over a tile got vectorised along the wrong axis, with shuffles).
typedef float V16 __attribute__((vector_size(64)));

inline V16 load16(const float *p)
{
    V16 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// Rows [0, Rows) × 16 columns of C: acc[r] = Σ_k a(r, k) · b(k), k in order, b(k) = panel + k·ldp.
template<int Rows>
inline void tile(const float *__restrict a, int64_t aRow, int64_t aCol, const float *__restrict panel, int64_t ldp,
                 int64_t K, V16 (&acc)[kR])
{
    V16 s[Rows];
    for (int r = 0; r < Rows; ++r)
        s[r] = V16{};
    for (int64_t k = 0; k < K; ++k) {
        const V16 b = load16(panel + k * ldp);
        for (int r = 0; r < Rows; ++r)
            s[r] += a[r * aRow + k * aCol] * b;
    }
    for (int r = 0; r < Rows; ++r)
        acc[r] = s[r];
}

template<int Rows>
inline void tileOf(int rows, const float *a, int64_t aRow, int64_t aCol, const float *panel, int64_t ldp, int64_t K,
                   V16 (&acc)[kR])
{
    if constexpr (Rows > 1)
        if (rows < Rows)
            return tileOf<Rows - 1>(rows, a, aRow, aCol, panel, ldp, K, acc);
    tile<Rows>(a, aRow, aCol, panel, ldp, K, acc);
}

} // namespace

void smallGemmBatch(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                    int64_t strideA, const float *B, int64_t ldb, int64_t strideB, float beta, float *C, int64_t ldc,
                    int64_t strideC, int64_t i0, int64_t i1)
{
    const int64_t panels = (N + kW - 1) / kW;
    alignas(64) float packed[kMax / kW * kMax * kW]; // panels × K × kW
    // a(i, k) = a[i·aRow + k·aCol]
    const int64_t aRow = transA ? 1 : lda, aCol = transA ? lda : 1;
    for (int64_t i = i0; i < i1; ++i) {
        const float *a = A + i * strideA, *b = B + i * strideB;
        float *c = C + i * strideC;
        // op(B) as panels of 16 columns: read in place where B is not transposed and a panel is
        // whole, else packed (zero-padded).
        const bool inPlace = !transB && N % kW == 0;
        if (!inPlace)
            for (int64_t p = 0; p < panels; ++p) {
                float *panel = packed + p * K * kW;
                const int64_t j0 = p * kW, w = std::min(kW, N - j0);
                for (int64_t k = 0; k < K; ++k) {
                    float *row = panel + k * kW;
                    for (int64_t j = 0; j < w; ++j)
                        row[j] = transB ? b[(j0 + j) * ldb + k] : b[k * ldb + j0 + j];
                    for (int64_t j = w; j < kW; ++j)
                        row[j] = 0.0f;
                }
            }
        for (int64_t r0 = 0; r0 < M; r0 += kR) {
            const int64_t rows = std::min(kR, M - r0);
            const float *ar = a + r0 * aRow;
            for (int64_t p = 0; p < panels; ++p) {
                V16 acc[kR];
                const float *panel = inPlace ? b + p * kW : packed + p * K * kW;
                tileOf<kR>(static_cast<int>(rows), ar, aRow, aCol, panel, inPlace ? ldb : kW, K, acc);
                const int64_t j0 = p * kW, w = std::min(kW, N - j0);
                for (int64_t r = 0; r < rows; ++r) {
                    float *cr = c + (r0 + r) * ldc + j0;
                    if (beta == 0.0f)
                        for (int64_t j = 0; j < w; ++j)
                            cr[j] = alpha * acc[r][j];
                    else
                        for (int64_t j = 0; j < w; ++j)
                            cr[j] = alpha * acc[r][j] + beta * cr[j];
                }
            }
        }
    }
}

} // namespace netwright::blas::NW_ISA_NS
