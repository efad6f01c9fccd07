// SPDX-License-Identifier: Apache-2.0
// The activations' element loops (ops/activations.cpp), in a header so that they are compiled once
// per CPU level: ops/activation_isa.cpp includes it three times over (x86-64-v2, -v3, -v4; see
// engine/CMakeLists.txt), each in its own namespace (NW_ISA_NS), and the kernel calls the level
// core/cpu_level.h chose. The loops call nothing that is shared between the levels but libm:
// ops/vector_math.h is namespaced by level too.
#pragma once

#include "ops/vector_math.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#ifndef NW_ISA_NS
#define NW_ISA_NS isa_engine
#endif

namespace netwright::act {

enum class ActKind {
    Relu,
    LeakyRelu,
    Sigmoid,
    Tanh,
    Elu,
    Selu,
    Celu,
    Gelu,
    GeluTanh,
    HardSigmoid,
    HardSwish,
    Softplus,
    Softsign,
    Mish,
    ThresholdedRelu,
    Shrink,
    // Not activation ops, but the float32 loops of UnaryMath's Erf and Exp (a transformer's
    // exported GELU is Div → Erf → Add → Mul → Mul) run here for the CPU's vector width.
    Erf,
    Exp
};

// The attributes of one node, read once per call (ONNX defaults).
struct ActParams {
    double alpha = 0.0, beta = 0.0, gamma = 0.0, lambd = 0.0, bias = 0.0;
};

inline constexpr double kSeluAlpha = 1.67326319217681884765625, kSeluGamma = 1.05070102214813232421875;
inline constexpr double kSqrt2OverPi = 0.7978845608028654, kInvSqrt2 = 0.7071067811865476, kInvSqrt2Pi = 0.3989422804014327;

} // namespace netwright::act

namespace netwright::act::NW_ISA_NS {

// y[i0, i1) = f(x) in T (float or double). The switch sits outside the loops so that each loop
// is a plain vectorisable one.
template<typename T> inline void activate(ActKind kind, const ActParams &p, const T *__restrict x, T *__restrict y, int64_t i0, int64_t i1)
{
    const T alpha = static_cast<T>(p.alpha), beta = static_cast<T>(p.beta), gamma = static_cast<T>(p.gamma);
    const T lambd = static_cast<T>(p.lambd), bias = static_cast<T>(p.bias);
    const T one = 1, zero = 0, half = static_cast<T>(0.5);
    switch (kind) {
    case ActKind::Relu:
        for (int64_t i = i0; i < i1; ++i)
            y[i] = x[i] > zero ? x[i] : zero;
        break;
    case ActKind::LeakyRelu:
        for (int64_t i = i0; i < i1; ++i)
            y[i] = x[i] >= zero ? x[i] : alpha * x[i];
        break;
    case ActKind::Sigmoid:
        for (int64_t i = i0; i < i1; ++i)
            y[i] = vm::sigmoidOf(x[i]);
        break;
    case ActKind::Tanh:
        for (int64_t i = i0; i < i1; ++i)
            y[i] = vm::tanhOf(x[i]);
        break;
    case ActKind::Elu:
        for (int64_t i = i0; i < i1; ++i)
            y[i] = x[i] >= zero ? x[i] : alpha * std::expm1(x[i]);
        break;
    case ActKind::Selu:
        for (int64_t i = i0; i < i1; ++i)
            y[i] = x[i] > zero ? gamma * x[i] : gamma * (alpha * std::exp(x[i]) - alpha);
        break;
    case ActKind::Celu:
        for (int64_t i = i0; i < i1; ++i)
            y[i] = x[i] > zero ? x[i] : alpha * std::expm1(x[i] / alpha);
        break;
    case ActKind::Gelu:
        for (int64_t i = i0; i < i1; ++i)
            y[i] = half * x[i] * (one + vm::erfOf(x[i] * static_cast<T>(kInvSqrt2)));
        break;
    case ActKind::GeluTanh:
        for (int64_t i = i0; i < i1; ++i)
            y[i] = half * x[i] * (one + vm::tanhOf(static_cast<T>(kSqrt2OverPi) * (x[i] + static_cast<T>(0.044715) * x[i] * x[i] * x[i])));
        break;
    case ActKind::HardSigmoid:
        for (int64_t i = i0; i < i1; ++i)
            y[i] = std::max(zero, std::min(one, alpha * x[i] + beta));
        break;
    case ActKind::HardSwish:
        for (int64_t i = i0; i < i1; ++i)
            y[i] = x[i] * std::max(zero, std::min(one, x[i] / static_cast<T>(6) + half));
        break;
    case ActKind::Softplus:
        // log(1 + e^x) without overflow: max(x, 0) + log1p(e^−|x|).
        for (int64_t i = i0; i < i1; ++i)
            y[i] = std::max(x[i], zero) + std::log1p(std::exp(-std::abs(x[i])));
        break;
    case ActKind::Softsign:
        for (int64_t i = i0; i < i1; ++i)
            y[i] = x[i] / (one + std::abs(x[i]));
        break;
    case ActKind::Mish:
        for (int64_t i = i0; i < i1; ++i)
            y[i] = x[i] * std::tanh(std::max(x[i], zero) + std::log1p(std::exp(-std::abs(x[i]))));
        break;
    case ActKind::ThresholdedRelu:
        for (int64_t i = i0; i < i1; ++i)
            y[i] = x[i] > alpha ? x[i] : zero;
        break;
    case ActKind::Shrink:
        for (int64_t i = i0; i < i1; ++i)
            y[i] = x[i] < -lambd ? x[i] + bias : x[i] > lambd ? x[i] - bias : zero;
        break;
    case ActKind::Erf:
        for (int64_t i = i0; i < i1; ++i)
            y[i] = vm::erfOf(x[i]);
        break;
    case ActKind::Exp:
        for (int64_t i = i0; i < i1; ++i)
            y[i] = vm::expOf(x[i]);
        break;
    }
}

// dx[i0, i1) from x, y and dy (float32, the training type).
inline void activateBackward(ActKind kind, const ActParams &p, const float *__restrict x, const float *__restrict y, const float *__restrict dy,
                      float *__restrict dx, int64_t i0, int64_t i1)
{
    const float alpha = static_cast<float>(p.alpha), beta = static_cast<float>(p.beta), gamma = static_cast<float>(p.gamma);
    const float lambd = static_cast<float>(p.lambd);
    switch (kind) {
    // The selects below read dy[i] on both paths: a load on one side only cannot be if-converted,
    // and GCC then compiles a branch per element that mispredicts on random signs.
    case ActKind::Relu:
        for (int64_t i = i0; i < i1; ++i) {
            const float g = dy[i];
            dx[i] = x[i] > 0.0f ? g : 0.0f;
        }
        break;
    case ActKind::LeakyRelu:
        for (int64_t i = i0; i < i1; ++i)
            dx[i] = x[i] >= 0.0f ? dy[i] : alpha * dy[i];
        break;
    case ActKind::Sigmoid:
        for (int64_t i = i0; i < i1; ++i)
            dx[i] = dy[i] * y[i] * (1.0f - y[i]);
        break;
    case ActKind::Tanh:
        for (int64_t i = i0; i < i1; ++i)
            dx[i] = dy[i] * (1.0f - y[i] * y[i]);
        break;
    case ActKind::Elu:
        for (int64_t i = i0; i < i1; ++i)
            dx[i] = x[i] >= 0.0f ? dy[i] : dy[i] * alpha * std::exp(x[i]);
        break;
    case ActKind::Selu:
        for (int64_t i = i0; i < i1; ++i)
            dx[i] = x[i] > 0.0f ? dy[i] * gamma : dy[i] * gamma * alpha * std::exp(x[i]);
        break;
    case ActKind::Celu:
        for (int64_t i = i0; i < i1; ++i)
            dx[i] = x[i] > 0.0f ? dy[i] : dy[i] * std::exp(x[i] / alpha);
        break;
    case ActKind::Gelu:
        // Φ(x) + x·φ(x); φ's e^(−x²/2) is the e^−u² that erf(u = x/√2) computes: one exp, not two
        for (int64_t i = i0; i < i1; ++i) {
            const float v = x[i];
            float e;
            const float cdf = 0.5f * (1.0f + vm::erfWithExp(v * static_cast<float>(kInvSqrt2), e));
            const float pdf = static_cast<float>(kInvSqrt2Pi) * e;
            dx[i] = dy[i] * (cdf + v * pdf);
        }
        break;
    case ActKind::GeluTanh:
        for (int64_t i = i0; i < i1; ++i) {
            const float v = x[i];
            const float k = static_cast<float>(kSqrt2OverPi);
            const float t = vm::tanh(k * (v + 0.044715f * v * v * v));
            dx[i] = dy[i] * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * k * (1.0f + 3.0f * 0.044715f * v * v));
        }
        break;
    case ActKind::HardSigmoid:
        for (int64_t i = i0; i < i1; ++i) {
            const float a = alpha * x[i] + beta;
            dx[i] = a > 0.0f && a < 1.0f ? dy[i] * alpha : 0.0f;
        }
        break;
    case ActKind::HardSwish:
        // As PyTorch: 0 below −3, x/3 + 1/2 on [−3, 3], 1 above.
        for (int64_t i = i0; i < i1; ++i)
            dx[i] = x[i] < -3.0f ? 0.0f : x[i] <= 3.0f ? dy[i] * (x[i] / 3.0f + 0.5f) : dy[i];
        break;
    case ActKind::Softplus:
        for (int64_t i = i0; i < i1; ++i) {
            const float s = x[i] >= 0.0f ? 1.0f / (1.0f + std::exp(-x[i])) : std::exp(x[i]) / (1.0f + std::exp(x[i]));
            dx[i] = dy[i] * s;
        }
        break;
    case ActKind::Softsign:
        for (int64_t i = i0; i < i1; ++i) {
            const float d = 1.0f + std::abs(x[i]);
            dx[i] = dy[i] / (d * d);
        }
        break;
    case ActKind::Mish:
        // tanh(sp) + x·σ(x)·(1 − tanh²(sp)), sp = softplus(x)
        for (int64_t i = i0; i < i1; ++i) {
            const float v = x[i];
            const float t = std::tanh(std::max(v, 0.0f) + std::log1p(std::exp(-std::abs(v))));
            const float s = v >= 0.0f ? 1.0f / (1.0f + std::exp(-v)) : std::exp(v) / (1.0f + std::exp(v));
            dx[i] = dy[i] * (t + v * s * (1.0f - t * t));
        }
        break;
    case ActKind::ThresholdedRelu:
        for (int64_t i = i0; i < i1; ++i) {
            const float g = dy[i];
            dx[i] = x[i] > alpha ? g : 0.0f;
        }
        break;
    case ActKind::Shrink:
        for (int64_t i = i0; i < i1; ++i) {
            const float g = dy[i];
            dx[i] = x[i] < -lambd || x[i] > lambd ? g : 0.0f;
        }
        break;
    case ActKind::Erf: // 2/√π · e^−x²
        for (int64_t i = i0; i < i1; ++i)
            dx[i] = dy[i] * (1.1283791670955126f * vm::exp(-x[i] * x[i]));
        break;
    case ActKind::Exp:
        for (int64_t i = i0; i < i1; ++i)
            dx[i] = dy[i] * y[i];
        break;
    }
}

} // namespace netwright::act::NW_ISA_NS
