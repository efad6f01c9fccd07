// SPDX-License-Identifier: Apache-2.0
// The optimizers' per-element loops over host memory, for each CPU level
// (optim/update_isa.cpp, compiled for x86-64-v2, -v3 and -v4) and the one core/cpu_level.h chose.
// Each applies the rule of optim/update_rules.h to elements [i0, i1) of flat arrays. They are
// compiled without FMA contraction and without errno for sqrt, so every level vectorises the same
// operations in the same order: the same bits as one element at a time, at every level and thread
// count. Layer: engine/optim.
#pragma once

#include "core/cpu_level.h"

#include <cstdint>

namespace netwright::optim {

// SGD with momentum buffer buf (null: no momentum); see sgdElement.
using SgdUpdate = void (*)(float *w, const float *g, float *buf, int64_t i0, int64_t i1, float rate, float mu, float wd,
                           bool nesterov);
// Adam / AdamW with moments m and v; see adamElement.
using AdamUpdate = void (*)(float *w, const float *g, float *m, float *v, int64_t i0, int64_t i1, float rate, float b1,
                            float b2, float eps, float wd, float c1, float c2, bool decoupled);

#define NW_DECLARE_OPTIM_LEVEL(ns)                                                                                        \
    namespace ns {                                                                                                        \
    void sgdUpdate(float *w, const float *g, float *buf, int64_t i0, int64_t i1, float rate, float mu, float wd,         \
                   bool nesterov);                                                                                        \
    void adamUpdate(float *w, const float *g, float *m, float *v, int64_t i0, int64_t i1, float rate, float b1, float b2, \
                    float eps, float wd, float c1, float c2, bool decoupled);                                             \
    }
NW_DECLARE_OPTIM_LEVEL(isa_v2)
NW_DECLARE_OPTIM_LEVEL(isa_v3)
NW_DECLARE_OPTIM_LEVEL(isa_v4)
#undef NW_DECLARE_OPTIM_LEVEL

inline SgdUpdate sgdUpdate() { return cpu::byLevel(&isa_v2::sgdUpdate, &isa_v3::sgdUpdate, &isa_v4::sgdUpdate); }
inline AdamUpdate adamUpdate() { return cpu::byLevel(&isa_v2::adamUpdate, &isa_v3::adamUpdate, &isa_v4::adamUpdate); }

} // namespace netwright::optim
