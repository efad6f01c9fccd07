// SPDX-License-Identifier: Apache-2.0
// Compiled once per CPU level (engine/CMakeLists.txt: -march=x86-64-v2/-v3/-v4 with NW_ISA_NS =
// isa_v2/isa_v3/isa_v4, and -ffp-contract=off -fno-math-errno for this file): the optimizers'
// loops of optim/update_isa.h. The rules are those of optim/update_rules.h, element by element;
// each element is read into registers first (w, m and v are distinct arrays, so the compiler
// may keep them there), and the options' choices are hoisted out of the loop, so it vectorises.
#include "optim/update_isa.h"
#include "optim/update_rules.h"

#ifndef NW_ISA_NS
#error "optim/update_isa.cpp is compiled once per CPU level with NW_ISA_NS set (engine/CMakeLists.txt)"
#endif

namespace netwright::optim::NW_ISA_NS {

namespace {

template<bool Momentum, bool Nesterov>
void sgdLoop(float *__restrict w, const float *__restrict g, float *__restrict buf, int64_t i0, int64_t i1, float rate, float mu,
             float wd)
{
    for (int64_t i = i0; i < i1; ++i) {
        float wi = w[i];
        if constexpr (Momentum) {
            float b = buf[i];
            sgdElement(wi, g[i], &b, rate, mu, wd, Nesterov);
            buf[i] = b;
        } else {
            sgdElement(wi, g[i], nullptr, rate, mu, wd, false);
        }
        w[i] = wi;
    }
}

template<bool Decoupled>
void adamLoop(float *__restrict w, const float *__restrict g, float *__restrict m, float *__restrict v, int64_t i0, int64_t i1,
              float rate, float b1, float b2, float eps, float wd, float c1, float c2)
{
    for (int64_t i = i0; i < i1; ++i) {
        float wi = w[i], mi = m[i], vi = v[i];
        adamElement(wi, g[i], mi, vi, rate, b1, b2, eps, wd, c1, c2, Decoupled);
        w[i] = wi;
        m[i] = mi;
        v[i] = vi;
    }
}

} // namespace

void sgdUpdate(float *w, const float *g, float *buf, int64_t i0, int64_t i1, float rate, float mu, float wd, bool nesterov)
{
    if (!buf)
        sgdLoop<false, false>(w, g, buf, i0, i1, rate, mu, wd);
    else if (nesterov)
        sgdLoop<true, true>(w, g, buf, i0, i1, rate, mu, wd);
    else
        sgdLoop<true, false>(w, g, buf, i0, i1, rate, mu, wd);
}

void adamUpdate(float *w, const float *g, float *m, float *v, int64_t i0, int64_t i1, float rate, float b1, float b2, float eps,
                float wd, float c1, float c2, bool decoupled)
{
    if (decoupled)
        adamLoop<true>(w, g, m, v, i0, i1, rate, b1, b2, eps, wd, c1, c2);
    else
        adamLoop<false>(w, g, m, v, i0, i1, rate, b1, b2, eps, wd, c1, c2);
}

} // namespace netwright::optim::NW_ISA_NS
