// SPDX-License-Identifier: Apache-2.0
// The float32 activation loops of each CPU level (ops/activation_isa.cpp, compiled for x86-64-v2,
// -v3 and -v4) and the one core/cpu_level.h chose.
#pragma once

#include "core/cpu_level.h"
#include "ops/activation_loops.h"

namespace netwright::act {

using ForwardF32 = void (*)(ActKind, const ActParams &, const float *, float *, int64_t, int64_t);
using BackwardF32 = void (*)(ActKind, const ActParams &, const float *, const float *, const float *, float *, int64_t, int64_t);

#define NW_DECLARE_ACTIVATION_LEVEL(ns)                                                                                  \
    namespace ns {                                                                                                       \
    void forwardF32(ActKind kind, const ActParams &p, const float *x, float *y, int64_t i0, int64_t i1);                 \
    void backwardF32(ActKind kind, const ActParams &p, const float *x, const float *y, const float *dy, float *dx,       \
                     int64_t i0, int64_t i1);                                                                            \
    }
NW_DECLARE_ACTIVATION_LEVEL(isa_v2)
NW_DECLARE_ACTIVATION_LEVEL(isa_v3)
NW_DECLARE_ACTIVATION_LEVEL(isa_v4)
#undef NW_DECLARE_ACTIVATION_LEVEL

} // namespace netwright::act

namespace netwright {

// The loops of the active CPU level: x86-64-v4 for the AVX-512 levels, v3 for AVX2, else v2.
inline act::ForwardF32 activationForwardF32()
{
    return cpu::byLevel(&act::isa_v2::forwardF32, &act::isa_v3::forwardF32, &act::isa_v4::forwardF32);
}
inline act::BackwardF32 activationBackwardF32()
{
    return cpu::byLevel(&act::isa_v2::backwardF32, &act::isa_v3::backwardF32, &act::isa_v4::backwardF32);
}

} // namespace netwright
