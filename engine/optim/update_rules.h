// SPDX-License-Identifier: Apache-2.0
// The per-element update rules of the optimizers, shared by the CPU loops (optim/optimizer.cpp)
// and the CUDA kernels (cuda/elementwise.cu), so both devices apply the same arithmetic in the
// same order. Layer: engine/optim. Plain C++17, also compiled by nvcc.
#pragma once

#include "ops/dropout_mask.h" // NETWRIGHT_HOST_DEVICE

#include <cmath>

namespace netwright {

// SGD with L2 weight decay wd; with momentum mu (buf non-null): buf = mu·buf + d, and the step is
// d + mu·buf (Nesterov) or buf.
inline NETWRIGHT_HOST_DEVICE void sgdElement(float &w, float g, float *buf, float rate, float mu, float wd, bool nesterov)
{
    float d = g + wd * w;
    if (buf) {
        *buf = mu * *buf + d;
        d = nesterov ? d + mu * *buf : *buf;
    }
    w -= rate * d;
}

// Adam (L2 decay added to the gradient) or AdamW (decoupled: w shrinks by rate·wd first);
// c1 = 1 − β1ᵗ, c2 = √(1 − β2ᵗ).
inline NETWRIGHT_HOST_DEVICE void adamElement(float &w, float g, float &m, float &v, float rate, float b1, float b2, float eps, float wd,
                                              float c1, float c2, bool decoupled)
{
    float d = g;
    if (decoupled)
        w -= rate * wd * w;
    else
        d += wd * w;
    m = b1 * m + (1.0f - b1) * d;
    v = b2 * v + (1.0f - b2) * d * d;
    w -= rate * (m / c1) / (sqrtf(v) / c2 + eps);
}

} // namespace netwright
