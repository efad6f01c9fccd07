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
#include "core/cpu_level.h"
#include "ops/activation_loops.h"
#include "ops/activation_isa.h"

#include <cmath>

namespace netwright {

namespace {

using namespace act;
using act::isa_engine::activate;

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
            const auto loop = activationForwardF32();
            parallelFor(X.numel(), [=, &p](int64_t i0, int64_t i1, int) { loop(kind, p, x, y, i0, i1); }, 8192);
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
        const auto loop = activationBackwardF32();
        parallelFor(ctx.in(0).numel(), [=, &p](int64_t i0, int64_t i1, int) { loop(kind, p, x, y, dy, dx, i0, i1); }, 8192);
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
