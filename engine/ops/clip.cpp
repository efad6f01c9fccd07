// SPDX-License-Identifier: Apache-2.0
// Clip (ONNX): y = min(max(x, min), max). min and max are optional scalar inputs 1 and 2 (opset
// 11+; PyTorch's ReLU6 exports as Clip(x, 0, 6)) or, from older exporters, the attributes min and
// max. The gradient passes where min < x < max, as PyTorch's hardtanh does. Float32 has the fast,
// differentiable path; the other numeric types (opset 12+) clip forward only.
#include "core/error.h"
#include "core/parallel.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

#include <limits>

namespace netwright {

namespace {

class Clip final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(!in.empty() && in.size() <= 3, node.describe() + ": needs the input and at most min and max.");
        for (size_t k = 1; k < in.size(); ++k)
            check(in[k].empty() || shapeNumel(in[k]) == 1, node.describe() + ": min and max must be scalars.");
        return {in[0]};
    }

    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override { return {in.at(0)}; }
    bool acceptsType(size_t, DType type) const override { return inTypeSet(type, kNumeric); }

    void forward(KernelContext &ctx) const override
    {
        if (ctx.in(0).dtype() != DType::Float32) {
            dispatchType<kNumeric>(ctx.in(0).dtype(), ctx.node, [&](auto tag) {
                using T = typename decltype(tag)::type;
                T lo = std::numeric_limits<T>::lowest(), hi = std::numeric_limits<T>::max();
                for (size_t k = 1; k <= 2; ++k)
                    if (ctx.hasInput(k)) {
                        check(ctx.in(k).dtype() == ctx.in(0).dtype(), ctx.node.describe() + ": min and max must have the input's type.");
                        (k == 1 ? lo : hi) = ctx.in(k).template dataAs<T>()[0];
                    }
                const T *x = ctx.in(0).template dataAs<T>();
                T *y = ctx.out(0).template dataAs<T>();
                for (int64_t i = 0; i < ctx.in(0).numel(); ++i)
                    y[i] = x[i] < lo ? lo : x[i] > hi ? hi : x[i];
            });
            return;
        }
        // plain locals: clang 14 cannot capture structured bindings in the lambda below
        const auto range = bounds(ctx);
        const float lo = range.first, hi = range.second;
        const float *xIn = ctx.in(0).data();
        float *yOut = ctx.out(0).data();
        parallelFor(ctx.in(0).numel(), [=](int64_t i0, int64_t i1, int) {
            const float *__restrict x = xIn;
            float *__restrict y = yOut;
            for (int64_t i = i0; i < i1; ++i)
                y[i] = x[i] < lo ? lo : x[i] > hi ? hi : x[i];
        }, 8192);
    }

    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        // plain locals: clang 14 cannot capture structured bindings in the lambda below
        const auto range = bounds(ctx);
        const float lo = range.first, hi = range.second;
        const float *xIn = ctx.in(0).data(), *dyIn = ctx.gradOutputs[0]->data();
        float *dxOut = ctx.gradInputs[0]->data();
        parallelFor(ctx.in(0).numel(), [=](int64_t i0, int64_t i1, int) {
            const float *__restrict x = xIn, *__restrict dy = dyIn;
            float *__restrict dx = dxOut;
            for (int64_t i = i0; i < i1; ++i) {
                const float g = dy[i]; // read on both paths: a select, not a branch per element
                dx[i] = x[i] > lo && x[i] < hi ? g : 0.0f;
            }
        }, 8192);
    }

    bool differentiable(size_t input) const override { return input == 0; }

private:
    static std::pair<float, float> bounds(const KernelContext &ctx)
    {
        float lo = ctx.node.attrFloat("min", -std::numeric_limits<float>::infinity());
        float hi = ctx.node.attrFloat("max", std::numeric_limits<float>::infinity());
        if (ctx.hasInput(1))
            lo = ctx.in(1).data()[0];
        if (ctx.hasInput(2))
            hi = ctx.in(2).data()[0];
        return {lo, hi};
    }
};

} // namespace

void registerClip(KernelTable &t)
{
    t["Clip"] = std::make_unique<Clip>();
}

} // namespace netwright
