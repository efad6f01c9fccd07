// SPDX-License-Identifier: Apache-2.0
#pragma once

// Branch-free float32 exp, sigmoid, tanh and erf that the compiler vectorises when they are called
// in a plain loop (libm's expf/tanhf/erff are scalar calls: an LSTM's gates and a transformer's
// GELU spent 20–40 % of their training time in them). Every function selects instead of branching
// (both sides are computed; the ternaries become blends) and keeps NaN a NaN.
//
// Accuracy against double precision (tests/engine/ops/vector_math_test.cpp sweeps a million values
// over the whole float range): exp and sigmoid relative ≤ 1.3e-7, tanh ≤ 4e-7, erf absolute ≤ 3e-7
// (relative ≤ 6e-7).

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

// Namespaced by CPU level (NW_ISA_NS: the default build, or isa_v2/v3/v4 in the per-level kernel
// files, see ops/activation_loops.h), so each level's inlined copies stay its own.
#ifndef NW_ISA_NS
#define NW_ISA_NS isa_engine
#endif

namespace netwright::vm {
inline namespace NW_ISA_NS {

// e^x: x = n·ln2 + r with |r| ≤ ln2/2, e^r by a degree-7 polynomial, 2^n put into the exponent.
// Below −87.3365 (where e^x leaves the normal floats) the result is 0; above 88.72283 it is +inf.
inline float exp(float x)
{
    constexpr float kLog2e = 1.44269504088896341f, kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
    constexpr float kShifter = 12582912.0f; // 1.5·2^23: adding it rounds to an integer in the low bits
    const float lo = x < -87.33654f ? -87.33654f : x; // comparisons, not fmin/fmax: those are calls
    const float xc = lo > 88.72283f ? 88.72283f : lo;
    const float t = xc * kLog2e + kShifter;
    const float n = t - kShifter;
    const float r = (xc - n * kLn2Hi) - n * kLn2Lo;
    // Taylor coefficients 1/k!: on |r| ≤ 0.347 the first omitted term is below 2e-9 relative.
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    // n is an integer in [−126, 128]: the shifter's low mantissa bits hold it. 2^n goes into the
    // exponent field as n + 127 ∈ [1, 254], except n = 128 (x near 88.72): 2^127 · 2.
    const uint32_t n32 = std::bit_cast<uint32_t>(t) - std::bit_cast<uint32_t>(kShifter);
    const uint32_t top = n32 == 128u ? 1u : 0u;
    const float scale = std::bit_cast<float>((n32 + 127u - top) << 23);
    const float y = p * scale * (top != 0u ? 2.0f : 1.0f);
    const float out = x < -87.33654f ? 0.0f : y;
    return x > 88.72283f ? std::numeric_limits<float>::infinity() : (x != x ? x : out);
}

// 1 / (1 + e^−x): 0 below −88.7 (e^−x is +inf), 1 above 17 (rounds to 1 in float32 anyway).
inline float sigmoid(float x)
{
    return 1.0f / (1.0f + vm::exp(-x));
}

// tanh(x) = sign(x)·(1 − e^−2|x|)/(1 + e^−2|x|); below |x| = 0.0625, where 1 − e^−2|x| cancels, the odd
// Taylor series (its first omitted term is below 1e-9 relative there).
inline float tanh(float x)
{
    const float a = std::fabs(x);
    const float e = vm::exp(-2.0f * a);
    const float big = (1.0f - e) / (1.0f + e);
    const float x2 = x * x;
    const float small = a * (1.0f + x2 * (-1.0f / 3.0f + x2 * (2.0f / 15.0f + x2 * (-17.0f / 315.0f))));
    const float m = a < 0.0625f ? small : big;
    return std::copysign(m, x);
}

// erf(x): the Maclaurin series up to x^15 below |x| = 0.5; above, Abramowitz & Stegun 7.1.26
// (1 − t·P(t)·e^−x², t = 1/(1 + 0.3275911|x|), absolute error ≤ 1.5e-7); ±1 beyond |x| = 4.
// erfWithExp also leaves e^−x², computed on the way, in expNegSquare (GELU's gradient needs both).
inline float erfWithExp(float x, float &expNegSquare)
{
    const float a = std::fabs(x);
    const float x2 = x * x;
    // 2/√π · (a − a³/3 + a⁵/10 − a⁷/42 + a⁹/216 − a¹¹/1320 + a¹³/9360 − a¹⁵/75600)
    float s = -1.0f / 75600.0f;
    s = s * x2 + 1.0f / 9360.0f;
    s = s * x2 - 1.0f / 1320.0f;
    s = s * x2 + 1.0f / 216.0f;
    s = s * x2 - 1.0f / 42.0f;
    s = s * x2 + 1.0f / 10.0f;
    s = s * x2 - 1.0f / 3.0f;
    s = s * x2 + 1.0f;
    const float small = 1.12837916709551257f * a * s;
    const float t = 1.0f / (1.0f + 0.3275911f * a);
    float p = 1.061405429f;
    p = p * t - 1.453152027f;
    p = p * t + 1.421413741f;
    p = p * t - 0.284496736f;
    p = p * t + 0.254829592f;
    expNegSquare = vm::exp(-x2);
    const float big = 1.0f - p * t * expNegSquare;
    const float m = a < 0.5f ? small : (a > 4.0f ? 1.0f : big);
    return std::copysign(m, x);
}

inline float erf(float x)
{
    float unused;
    return erfWithExp(x, unused);
}

// The same for a kernel templated on its float type: float32 through the functions above, other
// types (float64) through libm.
template<typename T> inline T expOf(T x)
{
    if constexpr (std::is_same_v<T, float>)
        return vm::exp(x);
    else
        return std::exp(x);
}
template<typename T> inline T tanhOf(T x)
{
    if constexpr (std::is_same_v<T, float>)
        return vm::tanh(x);
    else
        return std::tanh(x);
}
template<typename T> inline T erfOf(T x)
{
    if constexpr (std::is_same_v<T, float>)
        return vm::erf(x);
    else
        return std::erf(x);
}
template<typename T> inline T sigmoidOf(T x)
{
    if constexpr (std::is_same_v<T, float>)
        return vm::sigmoid(x);
    else
        return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x));
}

// In place over n contiguous floats (the loops the compiler vectorises).
inline void expInPlace(float *v, int64_t n)
{
    for (int64_t i = 0; i < n; ++i)
        v[i] = vm::exp(v[i]);
}
inline void sigmoidInPlace(float *v, int64_t n)
{
    for (int64_t i = 0; i < n; ++i)
        v[i] = vm::sigmoid(v[i]);
}
inline void tanhInPlace(float *v, int64_t n)
{
    for (int64_t i = 0; i < n; ++i)
        v[i] = vm::tanh(v[i]);
}

} // inline namespace NW_ISA_NS
} // namespace netwright::vm
