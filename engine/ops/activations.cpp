// SPDX-License-Identifier: Apache-2.0
// Element-wise activations (ONNX): Relu, LeakyRelu (alpha = 0.01), Sigmoid, Tanh. Sigmoid and
// Tanh differentiate through their output, Relu and LeakyRelu through the sign of the input.
#include "core/error.h"
#include "core/parallel.h"
#include "ops/kernels.h"

#include <cmath>

namespace netwright {

namespace {

enum class ActKind { Relu, LeakyRelu, Sigmoid, Tanh };

class Activation final : public OpKernel {
public:
    explicit Activation(ActKind kind) : m_kind(kind) {}

    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 1, node.describe() + ": needs one input.");
        return {in[0]};
    }

    void forward(KernelContext &ctx) const override
    {
        const float *xIn = ctx.in(0).data();
        float *yOut = ctx.out(0).data();
        const float alpha = ctx.node.attrFloat("alpha", 0.01f);
        const ActKind kind = m_kind;
        parallelFor(ctx.in(0).numel(), [=](int64_t i0, int64_t i1, int) {
            // Local restrict copies: the captures would otherwise be reloaded every iteration.
            const float *__restrict x = xIn;
            float *__restrict y = yOut;
            switch (kind) {
            case ActKind::Relu:
                for (int64_t i = i0; i < i1; ++i)
                    y[i] = x[i] > 0.0f ? x[i] : 0.0f;
                break;
            case ActKind::LeakyRelu:
                for (int64_t i = i0; i < i1; ++i)
                    y[i] = x[i] >= 0.0f ? x[i] : alpha * x[i];
                break;
            case ActKind::Sigmoid:
                for (int64_t i = i0; i < i1; ++i)
                    y[i] = x[i] >= 0.0f ? 1.0f / (1.0f + std::exp(-x[i])) : std::exp(x[i]) / (1.0f + std::exp(x[i]));
                break;
            case ActKind::Tanh:
                for (int64_t i = i0; i < i1; ++i)
                    y[i] = std::tanh(x[i]);
                break;
            }
        }, 8192);
    }

    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        const float *xIn = ctx.in(0).data(), *yIn = ctx.out(0).data(), *dyIn = ctx.gradOutputs[0]->data();
        float *dxOut = ctx.gradInputs[0]->data();
        const float alpha = ctx.node.attrFloat("alpha", 0.01f);
        const ActKind kind = m_kind;
        parallelFor(ctx.in(0).numel(), [=](int64_t i0, int64_t i1, int) {
            const float *__restrict x = xIn, *__restrict y = yIn, *__restrict dy = dyIn;
            float *__restrict dx = dxOut;
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
            }
        }, 8192);
    }

private:
    ActKind m_kind;
};

} // namespace

void registerActivations(KernelTable &t)
{
    t["Relu"] = std::make_unique<Activation>(ActKind::Relu);
    t["LeakyRelu"] = std::make_unique<Activation>(ActKind::LeakyRelu);
    t["Sigmoid"] = std::make_unique<Activation>(ActKind::Sigmoid);
    t["Tanh"] = std::make_unique<Activation>(ActKind::Tanh);
}

} // namespace netwright
