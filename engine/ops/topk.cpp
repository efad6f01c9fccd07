// SPDX-License-Identifier: Apache-2.0
// TopK (ONNX): the k largest or smallest values along an axis and their indices. k is input 1
// (the attribute k before opset 10); axis (default −1), largest (1), sorted (1). The output is
// always sorted, equal values by smaller index first (ONNX's reference order); NaN counts as the
// largest value. Values' float32 gradient goes back to the chosen positions of X.
#include "core/error.h"
#include "core/parallel.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <type_traits>

namespace netwright {

namespace {

template<typename T> bool isNanValue(T v)
{
    if constexpr (std::is_floating_point_v<T>)
        return std::isnan(v);
    else
        return false;
}

class TopK final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &constants) const override
    {
        check(!in.empty() && in.size() <= 2, node.describe() + ": needs input X and k.");
        const int rank = static_cast<int>(in[0].size());
        const int64_t axis = shape_rules::normalizeAxis(node, node.attrInt("axis", -1), rank);
        const int64_t k = kOf(node, constants);
        check(k >= 0 && k <= in[0][axis], node.describe() + ": k = " + std::to_string(k) + " is out of range for axis "
                                              + std::to_string(axis) + " of " + shapeToString(in[0]) + ".");
        Shape out = in[0];
        out[axis] = k;
        return {out, out};
    }
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override { return {in.at(0), DType::Int64}; }
    bool acceptsType(size_t input, DType type) const override
    {
        return input == 0 ? inTypeSet(type, kNumeric) : type == DType::Int64 || type == DType::Int32;
    }
    bool differentiable(size_t input) const override { return input == 0; }

    void forward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        dispatchType<kNumeric>(X.dtype(), ctx.node, [&](auto tag) {
            using T = typename decltype(tag)::type;
            select<T>(ctx, ctx.outputs[0] ? ctx.out(0).dataAs<T>() : nullptr,
                      ctx.outputs.size() > 1 && ctx.outputs[1] ? ctx.out(1).dataAs<int64_t>() : nullptr, nullptr);
        });
    }

    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        check(ctx.in(0).dtype() == DType::Float32, ctx.node.describe() + ": gradients are float32 only.");
        // The indices are recomputed when the node has no Indices output (the same order).
        select<float>(ctx, nullptr, nullptr, ctx.gradInputs[0]->data());
    }

private:
    static int64_t kOf(const Node &node, const std::vector<const Tensor *> &values)
    {
        if (!(node.inputs.size() > 1 && !node.inputs[1].empty()) && node.hasAttribute("k")) // before opset 10: one int
            return node.attrInt("k", 0);
        const auto k = intOperand(node, values, 1, "k", "k");
        check(k.has_value(), node.describe() + ": needs k (input 1, or the attribute before opset 10).");
        check(k->size() == 1, node.describe() + ": k must hold one value, got " + std::to_string(k->size()) + ".");
        return (*k)[0];
    }

    // Forward (values/indices) or backward (dx from Values' gradient) per slice along the axis.
    template<typename T> static void select(KernelContext &ctx, T *values, int64_t *indices, float *dx)
    {
        const Node &node = ctx.node;
        const Tensor &X = ctx.in(0);
        const int64_t axis = shape_rules::normalizeAxis(node, node.attrInt("axis", -1), X.rank());
        const int64_t k = kOf(node, {ctx.inputs.begin(), ctx.inputs.end()});
        const bool largest = node.attrInt("largest", 1) != 0;
        int64_t outer, n, inner;
        splitAt(X.shape(), axis, outer, n, inner);
        const T *x = X.dataAs<T>();
        const float *dv = dx ? ctx.gradOutputs[0]->data() : nullptr;
        if (dx)
            std::fill(dx, dx + X.numel(), 0.0f);
        parallelFor(outer * inner, [&](int64_t s0, int64_t s1, int) {
            std::vector<int64_t> order(static_cast<size_t>(n));
            for (int64_t s = s0; s < s1; ++s) {
                const int64_t o = s / inner, i = s % inner;
                const T *p = x + o * n * inner + i;
                std::iota(order.begin(), order.end(), int64_t(0));
                // Strict weak order: NaN above everything; ties by smaller index.
                auto before = [&](int64_t a, int64_t b) {
                    const T va = p[a * inner], vb = p[b * inner];
                    const bool na = isNanValue(va), nb = isNanValue(vb);
                    if (na || nb) {
                        if (na && nb)
                            return a < b;
                        return largest ? na : nb;
                    }
                    if (va != vb)
                        return largest ? va > vb : va < vb;
                    return a < b;
                };
                std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
                const int64_t outBase = o * k * inner + i;
                for (int64_t j = 0; j < k; ++j) {
                    const int64_t src = order[static_cast<size_t>(j)];
                    if (values)
                        values[outBase + j * inner] = p[src * inner];
                    if (indices)
                        indices[outBase + j * inner] = src;
                    if (dx)
                        dx[o * n * inner + i + src * inner] = dv[outBase + j * inner];
                }
            }
        }, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, n)));
    }
};

} // namespace

void registerTopK(KernelTable &t)
{
    t["TopK"] = std::make_unique<TopK>();
}

} // namespace netwright
