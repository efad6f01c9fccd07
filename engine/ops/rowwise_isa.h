// SPDX-License-Identifier: Apache-2.0
// The float32 row loops of Softmax/LogSoftmax along the last axis and of LayerNormalization, for
// each CPU level (ops/rowwise_isa.cpp, compiled for x86-64-v2, -v3 and -v4) and the one
// core/cpu_level.h chose. A transformer spends a good part of its step in them (an attention
// softmax per head and layer, two or three layer norms per block), and the engine's own code is
// compiled for x86-64-v2: these run at the CPU's vector width instead.
#pragma once

#include "core/cpu_level.h"

#include <cstdint>

namespace netwright::rows {

// Rows [r0, r1) of n contiguous values each: y = softmax(x) (log: log-softmax), numerically stable
// (the row's maximum subtracted first).
using SoftmaxForward = void (*)(bool log, const float *x, float *y, int64_t n, int64_t r0, int64_t r1);
// dx from y and dy: softmax y·(dy − Σ dy·y); log-softmax dy − e^y·Σ dy.
using SoftmaxBackward = void (*)(bool log, const float *y, const float *dy, float *dx, int64_t n, int64_t r0, int64_t r1);
// Rows [r0, r1) of D values: mean and 1/√(var + eps) of each row into mean[r], invStd[r], and
// y = (x − mean)·invStd·scale (+ bias, where bias is not null).
using LayerNormForward = void (*)(const float *x, const float *scale, const float *bias, float eps, float *y, float *mean,
                                  float *invStd, int64_t D, int64_t r0, int64_t r1);
// dx of rows [r0, r1) from x, dy, scale and the saved statistics.
using LayerNormBackward = void (*)(const float *x, const float *dy, const float *scale, const float *mean, const float *invStd,
                                   float *dx, int64_t D, int64_t r0, int64_t r1);

// The Scale and B gradients of columns [d0, d1) over all rows: dScale[d] = Σ_r dy·(x − mean)·invStd,
// dBias[d] = Σ_r dy, each summed in row order in double (the same sums at any thread count);
// either output may be null.
using LayerNormParamGrads = void (*)(const float *x, const float *dy, const float *mean, const float *invStd, int64_t rows,
                                     int64_t D, int64_t d0, int64_t d1, float *dScale, float *dBias);

// Column sums of a rows × [c0, c1) block of a row-major matrix with row stride ld:
// sums[c − c0] = Σ_r x[r·ld + c], in row order from 0 in float (the sums a plain loop over the rows
// makes, bit for bit, at every level). The gradient of a bias broadcast over the rows.
using ColumnSums = void (*)(const float *x, int64_t rows, int64_t ld, int64_t c0, int64_t c1, float *sums);

#define NW_DECLARE_ROWS_LEVEL(ns)                                                                                         \
    namespace ns {                                                                                                        \
    void softmaxForward(bool log, const float *x, float *y, int64_t n, int64_t r0, int64_t r1);                          \
    void softmaxBackward(bool log, const float *y, const float *dy, float *dx, int64_t n, int64_t r0, int64_t r1);       \
    void layerNormForward(const float *x, const float *scale, const float *bias, float eps, float *y, float *mean,       \
                          float *invStd, int64_t D, int64_t r0, int64_t r1);                                             \
    void layerNormBackward(const float *x, const float *dy, const float *scale, const float *mean, const float *invStd,  \
                           float *dx, int64_t D, int64_t r0, int64_t r1);                                                \
    void layerNormParamGrads(const float *x, const float *dy, const float *mean, const float *invStd, int64_t rows,       \
                             int64_t D, int64_t d0, int64_t d1, float *dScale, float *dBias);                            \
    void columnSums(const float *x, int64_t rows, int64_t ld, int64_t c0, int64_t c1, float *sums);                     \
    }
NW_DECLARE_ROWS_LEVEL(isa_v2)
NW_DECLARE_ROWS_LEVEL(isa_v3)
NW_DECLARE_ROWS_LEVEL(isa_v4)
#undef NW_DECLARE_ROWS_LEVEL

inline SoftmaxForward softmaxForward()
{
    return cpu::byLevel(&isa_v2::softmaxForward, &isa_v3::softmaxForward, &isa_v4::softmaxForward);
}
inline SoftmaxBackward softmaxBackward()
{
    return cpu::byLevel(&isa_v2::softmaxBackward, &isa_v3::softmaxBackward, &isa_v4::softmaxBackward);
}
inline LayerNormForward layerNormForward()
{
    return cpu::byLevel(&isa_v2::layerNormForward, &isa_v3::layerNormForward, &isa_v4::layerNormForward);
}
inline LayerNormBackward layerNormBackward()
{
    return cpu::byLevel(&isa_v2::layerNormBackward, &isa_v3::layerNormBackward, &isa_v4::layerNormBackward);
}

inline LayerNormParamGrads layerNormParamGrads()
{
    return cpu::byLevel(&isa_v2::layerNormParamGrads, &isa_v3::layerNormParamGrads, &isa_v4::layerNormParamGrads);
}

inline ColumnSums columnSums()
{
    return cpu::byLevel(&isa_v2::columnSums, &isa_v3::columnSums, &isa_v4::columnSums);
}

} // namespace netwright::rows
