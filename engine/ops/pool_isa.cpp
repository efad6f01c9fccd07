// SPDX-License-Identifier: Apache-2.0
// Compiled once per CPU level (engine/CMakeLists.txt: -march=x86-64-v2/-v3/-v4 with NW_ISA_NS =
// isa_v2/isa_v3/isa_v4): MaxPool's 2×2 stride-2 loops of ops/pool_isa.h, written without branches
// so the compiler vectorizes them for the level (the pairs of columns become lane permutes), and,
// in the x86-64-v4 build only, the same window over sixteen interleaved channels.
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

#if defined(__AVX512F__)
// The sixteen-lane loops (ops/pool_isa.h): a cell's sixteen channels are one vector, the winners'
// places one 16-byte store; a bfloat16 is compared as the float its bits widen to.
inline __m512 loadLanes(const float *p) { return _mm512_loadu_ps(p); }
inline __m512 loadLanes(const uint16_t *p)
{
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(p))), 16));
}
inline void storeLanes(float *p, __m512 v) { _mm512_storeu_ps(p, v); }
inline void storeLanes(uint16_t *p, __m512 v) // exact: v is one of the widened inputs
{
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(p), _mm512_cvtepi32_epi16(_mm512_srli_epi32(_mm512_castps_si512(v), 16)));
}

template<typename T>
void forwardLanesAvx512(const T *x, int64_t iw, int64_t oh, int64_t ow, T *y, uint8_t *arg)
{
    const __m128i one = _mm_set1_epi8(1), two = _mm_set1_epi8(2);
    for (int64_t oy = 0; oy < oh; ++oy) {
        for (int64_t ox = 0; ox < ow; ++ox) {
            const T *tl = x + (2 * oy * iw + 2 * ox) * 16, *bl = tl + iw * 16;
            const __m512 a = loadLanes(tl), b = loadLanes(tl + 16), d = loadLanes(bl), e = loadLanes(bl + 16);
            const __mmask16 right0 = wins(a, b), right1 = wins(d, e);
            const __m512 m0 = _mm512_mask_blend_ps(right0, a, b), m1 = _mm512_mask_blend_ps(right1, d, e);
            const __mmask16 lower = wins(m0, m1) & _mm512_cmp_ps_mask(m0, m0, _CMP_ORD_Q);
            const __mmask16 right = (lower & right1) | (~lower & right0);
            storeLanes(y + (oy * ow + ox) * 16, _mm512_mask_blend_ps(lower, m0, m1));
            _mm_storeu_si128(reinterpret_cast<__m128i *>(arg + (oy * ow + ox) * 16),
                             _mm_add_epi8(_mm_maskz_mov_epi8(lower, two), _mm_maskz_mov_epi8(right, one)));
        }
    }
}

// Sixteen float32 or bfloat16 lanes, the ones of `keep` from v and zero elsewhere, stored.
inline void storeWhere(float *p, __mmask16 keep, const float *v) { _mm512_storeu_ps(p, _mm512_maskz_loadu_ps(keep, v)); }
inline void storeWhere(uint16_t *p, __mmask16 keep, const uint16_t *v)
{
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(p), _mm256_maskz_loadu_epi16(keep, v));
}

template<typename T>
void backwardLanesAvx512(const T *dy, const uint8_t *arg, int64_t iw, int64_t oh, int64_t ow, T *dx)
{
    const __m128i one = _mm_set1_epi8(1), two = _mm_set1_epi8(2), three = _mm_set1_epi8(3);
    for (int64_t oy = 0; oy < oh; ++oy) {
        for (int64_t ox = 0; ox < ow; ++ox) {
            T *tl = dx + (2 * oy * iw + 2 * ox) * 16, *bl = tl + iw * 16;
            const T *g = dy + (oy * ow + ox) * 16;
            const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i *>(arg + (oy * ow + ox) * 16));
            storeWhere(tl, _mm_cmpeq_epi8_mask(a, _mm_setzero_si128()), g);
            storeWhere(tl + 16, _mm_cmpeq_epi8_mask(a, one), g);
            storeWhere(bl, _mm_cmpeq_epi8_mask(a, two), g);
            storeWhere(bl + 16, _mm_cmpeq_epi8_mask(a, three), g);
        }
    }
}

// The cells no window covers (a last odd row or column) get a zero gradient.
template<typename T>
void zeroUncovered(int64_t ih, int64_t iw, int64_t oh, int64_t ow, T *dx)
{
    for (int64_t row = 0; row < 2 * oh; ++row)
        for (int64_t i = 2 * ow * 16; i < iw * 16; ++i)
            dx[row * iw * 16 + i] = T(0);
    for (int64_t i = 2 * oh * iw * 16; i < ih * iw * 16; ++i)
        dx[i] = T(0);
}
#endif

} // namespace

#if defined(__AVX512F__)
void maxForward2x2Lanes(const float *x, int64_t iw, int64_t oh, int64_t ow, float *y, uint8_t *arg)
{
    forwardLanesAvx512(x, iw, oh, ow, y, arg);
}

void maxForward2x2Lanes(const uint16_t *x, int64_t iw, int64_t oh, int64_t ow, uint16_t *y, uint8_t *arg)
{
    forwardLanesAvx512(x, iw, oh, ow, y, arg);
}

void maxBackward2x2Lanes(const float *dy, const uint8_t *arg, int64_t ih, int64_t iw, int64_t oh, int64_t ow, float *dx)
{
    backwardLanesAvx512(dy, arg, iw, oh, ow, dx);
    zeroUncovered(ih, iw, oh, ow, dx);
}

void maxBackward2x2Lanes(const uint16_t *dy, const uint8_t *arg, int64_t ih, int64_t iw, int64_t oh, int64_t ow, uint16_t *dx)
{
    backwardLanesAvx512(dy, arg, iw, oh, ow, dx);
    zeroUncovered(ih, iw, oh, ow, dx);
}
#endif

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
