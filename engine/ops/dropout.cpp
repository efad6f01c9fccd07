// SPDX-License-Identifier: Apache-2.0
// Dropout (ONNX): in training, zeroes each value with probability `ratio` and scales the rest by
// 1/(1 − ratio); otherwise the identity. ratio comes from the optional input (opset ≥ 12), else
// the attribute (opset < 12), else 0.5. Each call takes one number from the seeded dropout stream
// as its key; element i of the global batch keeps its value when a hash of (key, i) clears the
// ratio. The mask is thus the same for a given seed whatever the thread count — and whatever the
// number of data-parallel ranks, each of which draws only its rows.
#include "core/error.h"
#include "core/parallel.h"
#include "ops/dropout_mask.h"
#include "ops/kernels.h"
#include <cstring>


namespace netwright {

namespace {

class Dropout final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(!in.empty(), node.describe() + ": needs input data.");
        return {in[0], in[0]};
    }
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &) const override { return {DType::Float32, DType::Bool}; }
    bool differentiable(size_t input) const override { return input == 0; }
    bool passesGradient(size_t input, const Shape &, const Shape &, const std::vector<Tensor> &saved) const override
    {
        return input == 0 && (saved.empty() || !saved[0].defined()); // ran as the identity
    }

    bool forwardsInput(const Node &node, const std::vector<const Tensor *> &inputs, bool training) const override
    {
        const auto [ratio, trains] = settings(node, inputs, training);
        return (!trains || ratio == 0.0f) && inputs.at(0) && inputs[0]->dtype() == DType::Float32;
    }

    void forward(KernelContext &ctx) const override
    {
        std::vector<const Tensor *> in;
        for (size_t k = 0; k < ctx.inputs.size(); ++k)
            in.push_back(ctx.hasInput(k) ? &ctx.in(k) : nullptr);
        const auto [ratio, training] = settings(ctx.node, in, ctx.training);
        check(!training || ratio == 0.0f || ctx.rng, ctx.node.describe() + ": training needs a dropout random stream.");
        const Tensor &X = ctx.in(0);
        const int64_t n = X.numel();
        ctx.saved.resize(1);
        if (!training || ratio == 0.0f) { // the identity (PyTorch's dropout=0.0 exports as ratio 0): no scale kept
            ctx.saved[0] = Tensor();
            parallelCopy(ctx.out(0).data(), X.data(), static_cast<size_t>(n) * sizeof(float));
            if (ctx.outputs.size() > 1 && ctx.outputs[1])
                std::memset(ctx.outputs[1]->dataAs<uint8_t>(), 1, static_cast<size_t>(n));
            return;
        }
        if (!ctx.saved[0].defined() || ctx.saved[0].numel() != n)
            ctx.saved[0] = Tensor(X.shape());
        float *scale = ctx.saved[0].data();
        const float keep = 1.0f / (1.0f - ratio);
        const uint64_t key = ctx.rng->nextU64();
        const int64_t rows = X.rank() > 0 ? X.dim(0) : 1;
        const uint64_t first = static_cast<uint64_t>(ctx.rowOffset * (rows > 0 ? n / rows : 0));
        const float *x = X.data();
        float *y = ctx.out(0).data();
        uint8_t *mask = ctx.outputs.size() > 1 && ctx.outputs[1] ? ctx.outputs[1]->dataAs<uint8_t>() : nullptr;
        const float drop = ratio; // a copy: clang 14 cannot capture a structured binding
        // Each element's draw depends on its index alone: any split over the threads gives the
        // same mask.
        parallelFor(n, [=](int64_t i0, int64_t i1, int) {
            for (int64_t i = i0; i < i1; ++i) {
                scale[i] = dropoutUniform(key, first + static_cast<uint64_t>(i)) >= drop ? keep : 0.0f;
                y[i] = x[i] * scale[i];
            }
            if (mask)
                for (int64_t i = i0; i < i1; ++i)
                    mask[i] = scale[i] != 0.0f;
        }, 16384);
    }

    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        const float *dy = ctx.gradOutputs[0]->data();
        float *dx = ctx.gradInputs[0]->data();
        const int64_t n = ctx.gradInputs[0]->numel();
        if (ctx.saved.empty() || !ctx.saved[0].defined()) { // ran as the identity
            parallelCopy(dx, dy, static_cast<size_t>(n) * sizeof(float));
            return;
        }
        const float *scale = ctx.saved[0].data();
        parallelFor(n, [=](int64_t i0, int64_t i1, int) {
            for (int64_t i = i0; i < i1; ++i)
                dx[i] = dy[i] * scale[i];
        }, 16384);
    }

private:
    // The ratio (input 1, else the attribute, else 0.5) and whether this run trains (input 2,
    // else the executor's mode).
    static std::pair<float, bool> settings(const Node &node, const std::vector<const Tensor *> &in, bool training)
    {
        // On a device executor (this kernel behind host copies) the scalars may live on the device.
        auto host = [](const Tensor &t) { return t.device().type == DeviceType::Cpu ? t : t.to(Device::cpu()); };
        float ratio = node.attrFloat("ratio", 0.5f);
        if (in.size() > 1 && in[1]) {
            check(in[1]->dtype() == DType::Float32 && in[1]->numel() == 1, node.describe() + ": the ratio input must be a float32 scalar.");
            ratio = host(*in[1]).data()[0];
        }
        check(ratio >= 0.0f && ratio < 1.0f, node.describe() + ": ratio must be in [0, 1), got " + std::to_string(ratio) + ".");
        if (in.size() > 2 && in[2])
            training = host(*in[2]).dataAs<uint8_t>()[0] != 0;
        return {ratio, training};
    }
};

} // namespace

void registerDropout(KernelTable &t)
{
    t["Dropout"] = std::make_unique<Dropout>();
}

} // namespace netwright
