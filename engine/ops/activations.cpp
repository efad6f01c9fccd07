// SPDX-License-Identifier: Apache-2.0
// Element-wise activations (ONNX): Relu, LeakyRelu (alpha = 0.01), Sigmoid, Tanh, Elu, Selu, Celu,
// Gelu (approximate "none" | "tanh"), HardSigmoid, HardSwish, Softplus, Softsign, Mish,
// ThresholdedRelu, Shrink, and PRelu (slope broadcast unidirectionally to X). Float32 forward and
// backward; float64 forward (and Relu on signed integers) for inference. Sigmoid and Tanh
// differentiate through their output, the rest through their input.
#include "core/error.h"
#include "core/parallel.h"
#include "ops/broadcast.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"
#include "ops/vector_math.h"

#include <cmath>

namespace netwright {

namespace {

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
    Shrink
};

// The attributes of one node, read once per call (ONNX defaults).
struct ActParams {
    double alpha = 0.0, beta = 0.0, gamma = 0.0, lambd = 0.0, bias = 0.0;
};

constexpr double kSeluAlpha = 1.67326319217681884765625, kSeluGamma = 1.05070102214813232421875;
constexpr double kSqrt2OverPi = 0.7978845608028654, kInvSqrt2 = 0.7071067811865476, kInvSqrt2Pi = 0.3989422804014327;

ActKind kindOf(const Node &node, ActKind kind)
{
    if (kind != ActKind::Gelu)
        return kind;
    const std::string approximate = node.attrString("approximate", "none");
    check(approximate == "none" || approximate == "tanh",
          node.describe() + ": approximate must be \"none\" or \"tanh\", got \"" + approximate + "\".");
    return approximate == "tanh" ? ActKind::GeluTanh : ActKind::Gelu;
}

ActParams paramsOf(const Node &node, ActKind kind)
{
    ActParams p;
    switch (kind) {
    case ActKind::LeakyRelu: p.alpha = node.attrFloat("alpha", 0.01f); break;
    case ActKind::Elu:
    case ActKind::Celu:
    case ActKind::ThresholdedRelu: p.alpha = node.attrFloat("alpha", 1.0f); break;
    case ActKind::Selu:
        p.alpha = node.hasAttribute("alpha") ? node.attrFloat("alpha", 0.0f) : kSeluAlpha;
        p.gamma = node.hasAttribute("gamma") ? node.attrFloat("gamma", 0.0f) : kSeluGamma;
        break;
    case ActKind::HardSigmoid:
        p.alpha = node.attrFloat("alpha", 0.2f);
        p.beta = node.attrFloat("beta", 0.5f);
        break;
    case ActKind::Shrink:
        p.lambd = node.attrFloat("lambd", 0.5f);
        p.bias = node.attrFloat("bias", 0.0f);
        break;
    default: break;
    }
    if (kind == ActKind::Celu)
        check(p.alpha != 0.0, node.describe() + ": alpha must not be 0.");
    return p;
}

// y[i0, i1) = f(x) in T (float or double). The switch sits outside the loops so that each loop
// is a plain vectorisable one.
template<typename T> void activate(ActKind kind, const ActParams &p, const T *__restrict x, T *__restrict y, int64_t i0, int64_t i1)
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
    }
}

// dx[i0, i1) from x, y and dy (float32, the training type).
void activateBackward(ActKind kind, const ActParams &p, const float *__restrict x, const float *__restrict y, const float *__restrict dy,
                      float *__restrict dx, int64_t i0, int64_t i1)
{
    const float alpha = static_cast<float>(p.alpha), beta = static_cast<float>(p.beta), gamma = static_cast<float>(p.gamma);
    const float lambd = static_cast<float>(p.lambd);
    switch (kind) {
    case ActKind::Relu:
        for (int64_t i = i0; i < i1; ++i)
            dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
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
        // Φ(x) + x·φ(x)
        for (int64_t i = i0; i < i1; ++i) {
            const float v = x[i];
            const float cdf = 0.5f * (1.0f + vm::erf(v * static_cast<float>(kInvSqrt2)));
            const float pdf = static_cast<float>(kInvSqrt2Pi) * vm::exp(-0.5f * v * v);
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
        for (int64_t i = i0; i < i1; ++i)
            dx[i] = x[i] > alpha ? dy[i] : 0.0f;
        break;
    case ActKind::Shrink:
        for (int64_t i = i0; i < i1; ++i)
            dx[i] = x[i] < -lambd || x[i] > lambd ? dy[i] : 0.0f;
        break;
    }
}

class Activation final : public OpKernel {
public:
    explicit Activation(ActKind kind) : m_kind(kind) {}

    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 1, node.describe() + ": needs one input.");
        kindOf(node, m_kind); // checks Gelu's approximate
        paramsOf(node, m_kind);
        return {in[0]};
    }
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override
    {
        return {in.empty() ? DType::Float32 : in[0]};
    }
    bool acceptsType(size_t, DType type) const override
    {
        return inTypeSet(type, kFloats) || (m_kind == ActKind::Relu && inTypeSet(type, kSignedInts));
    }

    void forward(KernelContext &ctx) const override
    {
        const ActKind kind = kindOf(ctx.node, m_kind);
        const ActParams p = paramsOf(ctx.node, m_kind);
        const Tensor &X = ctx.in(0);
        if (X.dtype() == DType::Float32) {
            const float *x = X.data();
            float *y = ctx.out(0).data();
            parallelFor(X.numel(), [=, &p](int64_t i0, int64_t i1, int) { activate<float>(kind, p, x, y, i0, i1); }, 8192);
            return;
        }
        if (kind == ActKind::Relu && inTypeSet(X.dtype(), kSignedInts)) {
            dispatchType<kSignedInts>(X.dtype(), ctx.node, [&](auto tag) {
                using T = typename decltype(tag)::type;
                const T *x = X.dataAs<T>();
                T *y = ctx.out(0).dataAs<T>();
                for (int64_t i = 0; i < X.numel(); ++i)
                    y[i] = x[i] > T(0) ? x[i] : T(0);
            });
            return;
        }
        dispatchType<kFloats>(X.dtype(), ctx.node, [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T *x = X.dataAs<T>();
            T *y = ctx.out(0).dataAs<T>();
            parallelFor(X.numel(), [=, &p](int64_t i0, int64_t i1, int) { activate<T>(kind, p, x, y, i0, i1); }, 8192);
        });
    }

    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        check(ctx.in(0).dtype() == DType::Float32, ctx.node.describe() + ": gradients are computed for float32 only.");
        const ActKind kind = kindOf(ctx.node, m_kind);
        const ActParams p = paramsOf(ctx.node, m_kind);
        const float *x = ctx.in(0).data(), *y = ctx.out(0).data(), *dy = ctx.gradOutputs[0]->data();
        float *dx = ctx.gradInputs[0]->data();
        parallelFor(ctx.in(0).numel(), [=, &p](int64_t i0, int64_t i1, int) { activateBackward(kind, p, x, y, dy, dx, i0, i1); }, 8192);
    }

private:
    ActKind m_kind;
};

// PRelu: y = x < 0 ? slope·x : x, slope broadcast unidirectionally to X. The slope gradient is
// summed over the broadcast dims serially in index order (deterministic).
class PRelu final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 2, node.describe() + ": needs inputs X and slope.");
        check(in[1].size() <= in[0].size() && shape_rules::broadcast(node, in[0], in[1]) == in[0],
              node.describe() + ": slope " + shapeToString(in[1]) + " does not broadcast to X " + shapeToString(in[0]) + ".");
        return {in[0]};
    }
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override
    {
        return {in.empty() ? DType::Float32 : in[0]};
    }
    bool acceptsType(size_t, DType type) const override { return inTypeSet(type, kFloats); }

    void forward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0), &Sl = ctx.in(1);
        check(X.dtype() == Sl.dtype(), ctx.node.describe() + ": X and slope must have one element type, got " + dtypeName(X.dtype())
                                           + " and " + dtypeName(Sl.dtype()) + ".");
        dispatchType<kFloats>(X.dtype(), ctx.node, [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T *x = X.dataAs<T>(), *s = Sl.dataAs<T>();
            T *y = ctx.out(0).dataAs<T>();
            const BroadcastIndexer is(X.shape(), Sl.shape());
            const bool scalar = Sl.numel() == 1, same = is.identity();
            parallelFor(X.numel(), [&](int64_t i0, int64_t i1, int) {
                if (scalar) {
                    const T a = s[0];
                    for (int64_t i = i0; i < i1; ++i)
                        y[i] = x[i] < T(0) ? a * x[i] : x[i];
                } else if (same) {
                    for (int64_t i = i0; i < i1; ++i)
                        y[i] = x[i] < T(0) ? s[i] * x[i] : x[i];
                } else {
                    for (int64_t i = i0; i < i1; ++i)
                        y[i] = x[i] < T(0) ? s[is.offset(i)] * x[i] : x[i];
                }
            }, 4096);
        });
    }

    void backward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0), &Sl = ctx.in(1);
        check(X.dtype() == DType::Float32, ctx.node.describe() + ": gradients are computed for float32 only.");
        const float *x = X.data(), *s = Sl.data(), *dy = ctx.gradOutputs[0]->data();
        const BroadcastIndexer is(X.shape(), Sl.shape());
        const bool same = is.identity();
        const int64_t n = X.numel();
        if (ctx.wantsGrad(0)) {
            float *dx = ctx.gradInputs[0]->data();
            parallelFor(n, [&](int64_t i0, int64_t i1, int) {
                for (int64_t i = i0; i < i1; ++i)
                    dx[i] = x[i] < 0.0f ? s[same ? i : is.offset(i)] * dy[i] : dy[i];
            }, 4096);
        }
        if (ctx.wantsGrad(1)) {
            float *ds = ctx.gradInputs[1]->data();
            if (same) {
                parallelFor(n, [&](int64_t i0, int64_t i1, int) {
                    for (int64_t i = i0; i < i1; ++i)
                        ds[i] = x[i] < 0.0f ? x[i] * dy[i] : 0.0f;
                }, 4096);
            } else {
                std::vector<double> acc(static_cast<size_t>(Sl.numel()), 0.0);
                for (int64_t i = 0; i < n; ++i)
                    if (x[i] < 0.0f)
                        acc[static_cast<size_t>(is.offset(i))] += static_cast<double>(x[i]) * dy[i];
                for (int64_t k = 0; k < Sl.numel(); ++k)
                    ds[k] = static_cast<float>(acc[static_cast<size_t>(k)]);
            }
        }
    }
};

} // namespace

void registerActivations(KernelTable &t)
{
    t["Relu"] = std::make_unique<Activation>(ActKind::Relu);
    t["LeakyRelu"] = std::make_unique<Activation>(ActKind::LeakyRelu);
    t["Sigmoid"] = std::make_unique<Activation>(ActKind::Sigmoid);
    t["Tanh"] = std::make_unique<Activation>(ActKind::Tanh);
    t["Elu"] = std::make_unique<Activation>(ActKind::Elu);
    t["Selu"] = std::make_unique<Activation>(ActKind::Selu);
    t["Celu"] = std::make_unique<Activation>(ActKind::Celu);
    t["Gelu"] = std::make_unique<Activation>(ActKind::Gelu);
    t["HardSigmoid"] = std::make_unique<Activation>(ActKind::HardSigmoid);
    t["HardSwish"] = std::make_unique<Activation>(ActKind::HardSwish);
    t["Softplus"] = std::make_unique<Activation>(ActKind::Softplus);
    t["Softsign"] = std::make_unique<Activation>(ActKind::Softsign);
    t["Mish"] = std::make_unique<Activation>(ActKind::Mish);
    t["ThresholdedRelu"] = std::make_unique<Activation>(ActKind::ThresholdedRelu);
    t["Shrink"] = std::make_unique<Activation>(ActKind::Shrink);
    t["PRelu"] = std::make_unique<PRelu>();
}

} // namespace netwright
