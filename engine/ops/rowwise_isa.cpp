// SPDX-License-Identifier: Apache-2.0
// Compiled once per CPU level (engine/CMakeLists.txt: -march=x86-64-v2/-v3/-v4 with NW_ISA_NS =
// isa_v2/isa_v3/isa_v4): the Softmax and LayerNormalization row loops of ops/rowwise_isa.h.
// Every sum over a row runs in 16 lanes (lane j takes the values j, j + 16, …) folded pairwise in
// a fixed order: plain lane-wise adds the compiler vectorises at any width, and the same sums, bit
// for bit, at every level (FMA contraction aside, which x86-64-v3 and -v4 have).
#include "ops/rowwise_isa.h"
#include "ops/vector_math.h"

#include <algorithm>
#include <cmath>

#ifndef NW_ISA_NS
#error "ops/rowwise_isa.cpp is compiled once per CPU level with NW_ISA_NS set (engine/CMakeLists.txt)"
#endif

namespace netwright::rows::NW_ISA_NS {

namespace {

constexpr int kLanes = 16;

inline float fold(float *acc)
{
    for (int w = kLanes / 2; w > 0; w /= 2)
        for (int j = 0; j < w; ++j)
            acc[j] += acc[j + w];
    return acc[0];
}

// Σ f(k) for k in [0, n).
template<typename F> inline float laneSum(int64_t n, F f)
{
    float acc[kLanes] = {};
    int64_t k = 0;
    for (; k + kLanes <= n; k += kLanes)
        for (int j = 0; j < kLanes; ++j)
            acc[j] += f(k + j);
    for (int j = 0; k + j < n; ++j)
        acc[j] += f(k + j);
    return fold(acc);
}

// The row's maximum (a NaN may or may not win: the row's exps turn NaN either way).
inline float rowMax(const float *__restrict x, int64_t n)
{
    float acc[kLanes];
    for (int j = 0; j < kLanes; ++j)
        acc[j] = x[0];
    int64_t k = 0;
    for (; k + kLanes <= n; k += kLanes)
        for (int j = 0; j < kLanes; ++j)
            acc[j] = x[k + j] > acc[j] ? x[k + j] : acc[j];
    for (int j = 0; k + j < n; ++j)
        acc[j] = x[k + j] > acc[j] ? x[k + j] : acc[j];
    for (int w = kLanes / 2; w > 0; w /= 2)
        for (int j = 0; j < w; ++j)
            acc[j] = acc[j + w] > acc[j] ? acc[j + w] : acc[j];
    return acc[0];
}

} // namespace

void softmaxForward(bool log, const float *x, float *y, int64_t n, int64_t r0, int64_t r1)
{
    for (int64_t r = r0; r < r1; ++r) {
        const float *__restrict xr = x + r * n;
        float *__restrict yr = y + r * n;
        const float mx = rowMax(xr, n);
        if (!log) {
            for (int64_t k = 0; k < n; ++k)
                yr[k] = vm::exp(xr[k] - mx);
            const float inv = 1.0f / laneSum(n, [&](int64_t k) { return yr[k]; });
            for (int64_t k = 0; k < n; ++k)
                yr[k] *= inv;
        } else {
            for (int64_t k = 0; k < n; ++k)
                yr[k] = vm::exp(xr[k] - mx);
            // (x − max) − log Σ: x − max is exact near the maximum, where x − (max + log Σ) would
            // round max + log Σ to x's magnitude (off by 6e-5 for logits near 1000)
            const float lse = std::log(laneSum(n, [&](int64_t k) { return yr[k]; }));
            for (int64_t k = 0; k < n; ++k)
                yr[k] = (xr[k] - mx) - lse;
        }
    }
}

void softmaxBackward(bool log, const float *y, const float *dy, float *dx, int64_t n, int64_t r0, int64_t r1)
{
    for (int64_t r = r0; r < r1; ++r) {
        const float *__restrict yr = y + r * n, *__restrict g = dy + r * n;
        float *__restrict d = dx + r * n;
        if (log) {
            const float s = laneSum(n, [&](int64_t k) { return g[k]; });
            for (int64_t k = 0; k < n; ++k)
                d[k] = g[k] - vm::exp(yr[k]) * s;
        } else {
            const float s = laneSum(n, [&](int64_t k) { return g[k] * yr[k]; });
            for (int64_t k = 0; k < n; ++k)
                d[k] = yr[k] * (g[k] - s);
        }
    }
}

void layerNormForward(const float *x, const float *scale, const float *bias, float eps, float *y, float *mean, float *invStd,
                      int64_t D, int64_t r0, int64_t r1)
{
    const float invD = 1.0f / static_cast<float>(D);
    const float *__restrict s = scale;
    for (int64_t r = r0; r < r1; ++r) {
        const float *__restrict xr = x + r * D;
        float *__restrict yr = y + r * D;
        const float m = laneSum(D, [&](int64_t k) { return xr[k]; }) * invD;
        const float var = laneSum(D, [&](int64_t k) { return (xr[k] - m) * (xr[k] - m); }) * invD;
        const float inv = 1.0f / std::sqrt(var + eps);
        mean[r] = m;
        invStd[r] = inv;
        if (bias) {
            const float *__restrict b = bias;
            for (int64_t k = 0; k < D; ++k)
                yr[k] = (xr[k] - m) * inv * s[k] + b[k];
        } else {
            for (int64_t k = 0; k < D; ++k)
                yr[k] = (xr[k] - m) * inv * s[k];
        }
    }
}

void layerNormBackward(const float *x, const float *dy, const float *scale, const float *mean, const float *invStd, float *dx,
                       int64_t D, int64_t r0, int64_t r1)
{
    const float invD = 1.0f / static_cast<float>(D);
    const float *__restrict s = scale;
    for (int64_t r = r0; r < r1; ++r) {
        const float *__restrict xr = x + r * D, *__restrict g = dy + r * D;
        float *__restrict d = dx + r * D;
        const float m = mean[r], inv = invStd[r];
        const float sg = laneSum(D, [&](int64_t k) { return g[k] * s[k]; });
        const float sgx = laneSum(D, [&](int64_t k) { return g[k] * s[k] * (xr[k] - m); });
        const float mg = sg * invD, mgx = sgx * inv * invD;
        for (int64_t k = 0; k < D; ++k)
            d[k] = inv * (g[k] * s[k] - mg - (xr[k] - m) * inv * mgx);
    }
}

void layerNormParamGrads(const float *x, const float *dy, const float *mean, const float *invStd, int64_t rows, int64_t D,
                         int64_t d0, int64_t d1, float *dScale, float *dBias)
{
    // Bands of 64 columns, so the double accumulators stay in registers at the wider levels.
    constexpr int64_t kBand = 64;
    for (int64_t b0 = d0; b0 < d1; b0 += kBand) {
        const int64_t w = std::min(kBand, d1 - b0);
        double as[kBand] = {}, ab[kBand] = {};
        for (int64_t r = 0; r < rows; ++r) {
            const float *__restrict xr = x + r * D + b0, *__restrict g = dy + r * D + b0;
            const float m = mean[r], inv = invStd[r];
            if (dScale)
                for (int64_t k = 0; k < w; ++k)
                    as[k] += static_cast<double>(g[k] * ((xr[k] - m) * inv));
            if (dBias)
                for (int64_t k = 0; k < w; ++k)
                    ab[k] += static_cast<double>(g[k]);
        }
        for (int64_t k = 0; k < w; ++k) {
            if (dScale)
                dScale[b0 + k] = static_cast<float>(as[k]);
            if (dBias)
                dBias[b0 + k] = static_cast<float>(ab[k]);
        }
    }
}

void columnSums(const float *x, int64_t rows, int64_t ld, int64_t c0, int64_t c1, float *sums)
{
    // Bands of 64 columns: the accumulators stay in registers (4 vectors at -v4, 16 at -v2) while
    // the rows stream past; a narrower last band takes the same loop with its width.
    constexpr int64_t kBand = 64;
    for (int64_t b0 = c0; b0 < c1; b0 += kBand) {
        const int64_t w = std::min(kBand, c1 - b0);
        float acc[kBand] = {};
        if (w == kBand) {
            for (int64_t r = 0; r < rows; ++r) {
                const float *__restrict xr = x + r * ld + b0;
                for (int64_t k = 0; k < kBand; ++k)
                    acc[k] += xr[k];
            }
        } else {
            for (int64_t r = 0; r < rows; ++r) {
                const float *__restrict xr = x + r * ld + b0;
                for (int64_t k = 0; k < w; ++k)
                    acc[k] += xr[k];
            }
        }
        std::copy(acc, acc + w, sums + (b0 - c0));
    }
}

} // namespace netwright::rows::NW_ISA_NS
