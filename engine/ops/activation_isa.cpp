// SPDX-License-Identifier: Apache-2.0
// Compiled once per CPU level (engine/CMakeLists.txt: -march=x86-64-v2/-v3/-v4 with NW_ISA_NS =
// isa_v2/isa_v3/isa_v4): the float32 activation loops of ops/activation_loops.h for that level.
#include "ops/activation_loops.h"

#ifndef NW_ISA_NS
#error "ops/activation_isa.cpp is compiled once per CPU level with NW_ISA_NS set (engine/CMakeLists.txt)"
#endif

namespace netwright::act::NW_ISA_NS {

void forwardF32(ActKind kind, const ActParams &p, const float *x, float *y, int64_t i0, int64_t i1)
{
    activate<float>(kind, p, x, y, i0, i1);
}

void backwardF32(ActKind kind, const ActParams &p, const float *x, const float *y, const float *dy, float *dx, int64_t i0, int64_t i1)
{
    activateBackward(kind, p, x, y, dy, dx, i0, i1);
}

} // namespace netwright::act::NW_ISA_NS
