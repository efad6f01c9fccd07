// SPDX-License-Identifier: Apache-2.0
// Compiled once per CPU level (engine/CMakeLists.txt: -march=x86-64-v2/-v3/-v4 with NW_ISA_NS =
// isa_v2/isa_v3/isa_v4): MaxPool's 2×2 stride-2 loops of ops/pool_isa.h, written without branches
// so the compiler vectorizes them for the level (the pairs of columns become lane permutes).
#include "ops/pool_isa.h"

#include <bit>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#ifndef NW_ISA_NS
#error "ops/pool_isa.cpp is compiled once per CPU level with NW_ISA_NS set (engine/CMakeLists.txt)"
#endif

namespace netwright::pool::NW_ISA_NS {

namespace {

// b when take is 1, a when 0, without a branch (integer bit-select: compilers turn float ?: into
// unpredictable branches in scalar code).
inline float select(float a, float b, int32_t take)
{
    const uint32_t ab = std::bit_cast<uint32_t>(a), bb = std::bit_cast<uint32_t>(b);
    return std::bit_cast<float>(ab ^ ((ab ^ bb) & (0u - static_cast<uint32_t>(take))));
}

#if !defined(__AVX512F__)
// x86-64-v2 and -v3: scalar or auto-vectorized, without branches.
void forwardGeneric(const float *x, int64_t iw, int64_t oh, int64_t ow, float *y, int32_t *arg)
{
    for (int64_t oy = 0; oy < oh; ++oy) {
        const float *__restrict top = x + 2 * oy * iw;
        const float *__restrict bottom = top + iw;
        float *__restrict yr = y + oy * ow;
        int32_t *__restrict ar = arg + oy * ow;
        const int32_t r0 = static_cast<int32_t>(2 * oy * iw), r1 = r0 + static_cast<int32_t>(iw);
        for (int64_t ox = 0; ox < ow; ++ox) {
            const float a = top[2 * ox], b = top[2 * ox + 1], d = bottom[2 * ox], e = bottom[2 * ox + 1];
            const int32_t right0 = (b > a) | (b != b), right1 = (e > d) | (e != e); // NaN wins
            const float m0 = select(a, b, right0), m1 = select(d, e, right1);
            const int32_t lower = ((m1 > m0) | (m1 != m1)) & (m0 == m0);
            yr[ox] = select(m0, m1, lower);
            const int32_t c = static_cast<int32_t>(2 * ox);
            const int32_t i0 = r0 + c + right0, i1 = r1 + c + right1;
            ar[ox] = i0 ^ ((i0 ^ i1) & -lower);
        }
    }
}

void backwardGeneric(const float *dy, const int32_t *arg, int64_t iw, int64_t oh, int64_t ow, float *dx)
{
    for (int64_t oy = 0; oy < oh; ++oy) {
        float *__restrict top = dx + 2 * oy * iw;
        float *__restrict bottom = top + iw;
        const float *__restrict g = dy + oy * ow;
        const int32_t *__restrict ar = arg + oy * ow;
        const int32_t r0 = static_cast<int32_t>(2 * oy * iw), r1 = r0 + static_cast<int32_t>(iw);
        for (int64_t ox = 0; ox < ow; ++ox) {
            const int32_t c = static_cast<int32_t>(2 * ox), a = ar[ox];
            const float v = g[ox];
            top[2 * ox] = select(0.0f, v, a == r0 + c);
            top[2 * ox + 1] = select(0.0f, v, a == r0 + c + 1);
            bottom[2 * ox] = select(0.0f, v, a == r1 + c);
            bottom[2 * ox + 1] = select(0.0f, v, a == r1 + c + 1);
        }
    }
}
#else
// AVX-512: sixteen outputs of a row at a time, the last (or only: rows of 7 or 14) under a mask,
// the column pairs split and joined by lane permutes.
// Lane tables as plain arrays: a vector constant at namespace scope would be built by a static
// initializer, running AVX-512 instructions at startup on every CPU.
alignas(64) constexpr int32_t kEvenLanes[16] = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};
alignas(64) constexpr int32_t kOddLanes[16] = {1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31};
alignas(64) constexpr int32_t kLowLanes[16] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23};
alignas(64) constexpr int32_t kHighLanes[16] = {8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};

inline __m512i lanes(const int32_t (&table)[16]) { return _mm512_load_si512(table); }

inline __mmask16 firstLanes(int64_t n) { return n >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << n) - 1u); }

// The first (mask lo) and second (mask hi) sixteen of 2n floats.
inline void pairMasks(int64_t n, __mmask16 &lo, __mmask16 &hi)
{
    lo = firstLanes(2 * n);
    hi = firstLanes(2 * n > 16 ? 2 * n - 16 : 0);
}

// b > a or b is NaN: the right (or lower) cell wins.
inline __mmask16 wins(__m512 a, __m512 b)
{
    return _mm512_cmp_ps_mask(b, a, _CMP_GT_OQ) | _mm512_cmp_ps_mask(b, b, _CMP_UNORD_Q);
}

void forwardAvx512(const float *x, int64_t iw, int64_t oh, int64_t ow, float *y, int32_t *arg)
{
    const __m512i kEven = lanes(kEvenLanes), kOdd = lanes(kOddLanes);
    const __m512i kTwice = kEven;
    for (int64_t oy = 0; oy < oh; ++oy) {
        const float *top = x + 2 * oy * iw, *bottom = top + iw;
        const int32_t r0 = static_cast<int32_t>(2 * oy * iw), r1 = r0 + static_cast<int32_t>(iw);
        for (int64_t ox = 0; ox < ow; ox += 16) {
            const int64_t n = ow - ox < 16 ? ow - ox : 16;
            __mmask16 lo, hi;
            pairMasks(n, lo, hi);
            const __m512 t0 = _mm512_maskz_loadu_ps(lo, top + 2 * ox), t1 = _mm512_maskz_loadu_ps(hi, top + 2 * ox + 16);
            const __m512 b0 = _mm512_maskz_loadu_ps(lo, bottom + 2 * ox), b1 = _mm512_maskz_loadu_ps(hi, bottom + 2 * ox + 16);
            const __m512 a = _mm512_permutex2var_ps(t0, kEven, t1), b = _mm512_permutex2var_ps(t0, kOdd, t1);
            const __m512 d = _mm512_permutex2var_ps(b0, kEven, b1), e = _mm512_permutex2var_ps(b0, kOdd, b1);
            const __mmask16 right0 = wins(a, b), right1 = wins(d, e);
            const __m512 m0 = _mm512_mask_blend_ps(right0, a, b), m1 = _mm512_mask_blend_ps(right1, d, e);
            const __mmask16 lower = wins(m0, m1) & _mm512_cmp_ps_mask(m0, m0, _CMP_ORD_Q);
            const __mmask16 keep = firstLanes(n);
            _mm512_mask_storeu_ps(y + oy * ow + ox, keep, _mm512_mask_blend_ps(lower, m0, m1));
            const __m512i c = _mm512_add_epi32(kTwice, _mm512_set1_epi32(static_cast<int32_t>(2 * ox)));
            const __m512i one = _mm512_set1_epi32(1);
            const __m512i i0 = _mm512_mask_add_epi32(_mm512_add_epi32(c, _mm512_set1_epi32(r0)), right0,
                                                     _mm512_add_epi32(c, _mm512_set1_epi32(r0)), one);
            const __m512i i1 = _mm512_mask_add_epi32(_mm512_add_epi32(c, _mm512_set1_epi32(r1)), right1,
                                                     _mm512_add_epi32(c, _mm512_set1_epi32(r1)), one);
            _mm512_mask_storeu_epi32(arg + oy * ow + ox, keep, _mm512_mask_blend_epi32(lower, i0, i1));
        }
    }
}

void backwardAvx512(const float *dy, const int32_t *arg, int64_t iw, int64_t oh, int64_t ow, float *dx)
{
    const __m512 zero = _mm512_setzero_ps();
    const __m512i one = _mm512_set1_epi32(1);
    const __m512i kTwice = lanes(kEvenLanes), kLow = lanes(kLowLanes), kHigh = lanes(kHighLanes);
    for (int64_t oy = 0; oy < oh; ++oy) {
        float *top = dx + 2 * oy * iw, *bottom = top + iw;
        const int32_t r0 = static_cast<int32_t>(2 * oy * iw), r1 = r0 + static_cast<int32_t>(iw);
        for (int64_t ox = 0; ox < ow; ox += 16) {
            const int64_t n = ow - ox < 16 ? ow - ox : 16;
            const __mmask16 keep = firstLanes(n);
            __mmask16 lo, hi;
            pairMasks(n, lo, hi);
            const __m512 g = _mm512_maskz_loadu_ps(keep, dy + oy * ow + ox);
            const __m512i a = _mm512_maskz_loadu_epi32(keep, arg + oy * ow + ox);
            const __m512i c = _mm512_add_epi32(kTwice, _mm512_set1_epi32(static_cast<int32_t>(2 * ox)));
            const __m512i tl = _mm512_add_epi32(c, _mm512_set1_epi32(r0)), bl = _mm512_add_epi32(c, _mm512_set1_epi32(r1));
            const __m512 vtl = _mm512_mask_mov_ps(zero, _mm512_cmpeq_epi32_mask(a, tl), g);
            const __m512 vtr = _mm512_mask_mov_ps(zero, _mm512_cmpeq_epi32_mask(a, _mm512_add_epi32(tl, one)), g);
            const __m512 vbl = _mm512_mask_mov_ps(zero, _mm512_cmpeq_epi32_mask(a, bl), g);
            const __m512 vbr = _mm512_mask_mov_ps(zero, _mm512_cmpeq_epi32_mask(a, _mm512_add_epi32(bl, one)), g);
            _mm512_mask_storeu_ps(top + 2 * ox, lo, _mm512_permutex2var_ps(vtl, kLow, vtr));
            _mm512_mask_storeu_ps(top + 2 * ox + 16, hi, _mm512_permutex2var_ps(vtl, kHigh, vtr));
            _mm512_mask_storeu_ps(bottom + 2 * ox, lo, _mm512_permutex2var_ps(vbl, kLow, vbr));
            _mm512_mask_storeu_ps(bottom + 2 * ox + 16, hi, _mm512_permutex2var_ps(vbl, kHigh, vbr));
        }
    }
}
#endif

} // namespace

void maxForward2x2(const float *x, int64_t ih, int64_t iw, int64_t oh, int64_t ow, float *y, int32_t *arg)
{
    (void)ih;
#if defined(__AVX512F__)
    forwardAvx512(x, iw, oh, ow, y, arg);
#else
    forwardGeneric(x, iw, oh, ow, y, arg);
#endif
}

void maxBackward2x2(const float *dy, const int32_t *arg, int64_t ih, int64_t iw, int64_t oh, int64_t ow, float *dx)
{
#if defined(__AVX512F__)
    backwardAvx512(dy, arg, iw, oh, ow, dx);
#else
    backwardGeneric(dy, arg, iw, oh, ow, dx);
#endif
    for (int64_t row = 0; row < 2 * oh; ++row) // a column no window covers
        for (int64_t col = 2 * ow; col < iw; ++col)
            dx[row * iw + col] = 0.0f;
    for (int64_t row = 2 * oh; row < ih; ++row) // a row no window covers
        for (int64_t col = 0; col < iw; ++col)
            dx[row * iw + col] = 0.0f;
}

} // namespace netwright::pool::NW_ISA_NS
