// SPDX-License-Identifier: Apache-2.0
// MaxPool's common window — 2×2, stride 2, no padding or dilation — for each CPU level
// (ops/pool_isa.cpp, compiled for x86-64-v2, -v3 and -v4) and the one core/cpu_level.h chose.
#pragma once

#include "core/cpu_level.h"

#include <cstdint>

namespace netwright::pool {

// One plane: y[oh,ow] = the maximum of each window of x[ih,iw] (NaN wins; ties keep the earlier
// cell in row-major order) and arg = its in-plane offset. Needs 2·oh ≤ ih and 2·ow ≤ iw.
using MaxForward = void (*)(const float *x, int64_t ih, int64_t iw, int64_t oh, int64_t ow, float *y, int32_t *arg);
// One plane: dx[ih,iw] = dy at each window's argmax, 0 elsewhere (every cell written).
using MaxBackward = void (*)(const float *dy, const int32_t *arg, int64_t ih, int64_t iw, int64_t oh, int64_t ow, float *dx);

#define NW_DECLARE_POOL_LEVEL(ns)                                                                                       \
    namespace ns {                                                                                                      \
    void maxForward2x2(const float *x, int64_t ih, int64_t iw, int64_t oh, int64_t ow, float *y, int32_t *arg);         \
    void maxBackward2x2(const float *dy, const int32_t *arg, int64_t ih, int64_t iw, int64_t oh, int64_t ow, float *dx); \
    }
NW_DECLARE_POOL_LEVEL(isa_v2)
NW_DECLARE_POOL_LEVEL(isa_v3)
NW_DECLARE_POOL_LEVEL(isa_v4)
#undef NW_DECLARE_POOL_LEVEL

inline MaxForward maxForward2x2()
{
    return cpu::byLevel(&isa_v2::maxForward2x2, &isa_v3::maxForward2x2, &isa_v4::maxForward2x2);
}
inline MaxBackward maxBackward2x2()
{
    return cpu::byLevel(&isa_v2::maxBackward2x2, &isa_v3::maxBackward2x2, &isa_v4::maxBackward2x2);
}

// The same window over one plane of sixteen interleaved channels, x[ih][iw][16]: the layout oneDNN
// gives a convolution's output with AVX-512 (aBcd16b), so only the x86-64-v4 build has these.
// Float32, or bfloat16 as its bits. y[oh][ow][16] = each window's maximum (a NaN wins, which of two
// is not specified; ties keep the earlier cell in row-major order), arg[oh][ow][16] = the winner's place in its window, 0–3 in
// row-major order. Needs 2·oh ≤ ih and 2·ow ≤ iw.
namespace isa_v4 {
void maxForward2x2Lanes(const float *x, int64_t iw, int64_t oh, int64_t ow, float *y, uint8_t *arg);
void maxForward2x2Lanes(const uint16_t *x, int64_t iw, int64_t oh, int64_t ow, uint16_t *y, uint8_t *arg);
// dx[ih][iw][16] = dy at each window's winner, 0 elsewhere (every cell written).
void maxBackward2x2Lanes(const float *dy, const uint8_t *arg, int64_t ih, int64_t iw, int64_t oh, int64_t ow, float *dx);
void maxBackward2x2Lanes(const uint16_t *dy, const uint8_t *arg, int64_t ih, int64_t iw, int64_t oh, int64_t ow, uint16_t *dx);
} // namespace isa_v4

// Whether the active level runs the sixteen-lane loops (AVX-512).
inline bool hasLanes16() { return cpu::activeLevel() >= cpu::Level::Avx512; }

} // namespace netwright::pool
