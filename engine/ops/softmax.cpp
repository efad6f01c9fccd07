// SPDX-License-Identifier: Apache-2.0
// Softmax and LogSoftmax (ONNX opset 13: along one axis, default −1), numerically stable
// (the row maximum is subtracted first).
#include "core/error.h"
#include "core/parallel.h"
#include "ops/kernels.h"

#include <cmath>

namespace netwright {

namespace {

class SoftmaxKernel final : public OpKernel {
public:
    explicit SoftmaxKernel(bool log) : m_log(log) {}

    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 1, node.describe() + ": needs one input.");
        shape_rules::normalizeAxis(node, node.attrInt("axis", -1), static_cast<int>(in[0].size()));
        return {in[0]};
    }

    void forward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        int64_t outer, n, inner;
        split(ctx.node, X.shape(), outer, n, inner);
        if (X.numel() == 0)
            return;
        const float *x = X.data();
        float *y = ctx.out(0).data();
        const bool log = m_log;
        parallelFor(outer * inner, [&](int64_t r0, int64_t r1, int) {
            for (int64_t r = r0; r < r1; ++r) {
                const int64_t base = (r / inner) * n * inner + r % inner;
                float mx = x[base];
                for (int64_t k = 1; k < n; ++k)
                    mx = std::max(mx, x[base + k * inner]);
                float sum = 0.0f;
                for (int64_t k = 0; k < n; ++k)
                    sum += std::exp(x[base + k * inner] - mx);
                const float logSum = std::log(sum);
                for (int64_t k = 0; k < n; ++k) {
                    const float v = x[base + k * inner] - mx;
                    y[base + k * inner] = log ? v - logSum : std::exp(v) / sum;
                }
            }
        }, 16);
    }

    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        const Tensor &Y = ctx.out(0);
        int64_t outer, n, inner;
        split(ctx.node, Y.shape(), outer, n, inner);
        if (Y.numel() == 0)
            return;
        const float *y = Y.data(), *dy = ctx.gradOutputs[0]->data();
        float *dx = ctx.gradInputs[0]->data();
        const bool log = m_log;
        parallelFor(outer * inner, [&](int64_t r0, int64_t r1, int) {
            for (int64_t r = r0; r < r1; ++r) {
                const int64_t base = (r / inner) * n * inner + r % inner;
                float s = 0.0f;
                for (int64_t k = 0; k < n; ++k)
                    s += log ? dy[base + k * inner] : dy[base + k * inner] * y[base + k * inner];
                for (int64_t k = 0; k < n; ++k) {
                    const int64_t i = base + k * inner;
                    dx[i] = log ? dy[i] - std::exp(y[i]) * s : y[i] * (dy[i] - s);
                }
            }
        }, 16);
    }

private:
    static void split(const Node &node, const Shape &s, int64_t &outer, int64_t &n, int64_t &inner)
    {
        const int64_t axis = shape_rules::normalizeAxis(node, node.attrInt("axis", -1), static_cast<int>(s.size()));
        outer = 1;
        inner = 1;
        for (int64_t d = 0; d < axis; ++d)
            outer *= s[d];
        n = s[axis];
        for (size_t d = axis + 1; d < s.size(); ++d)
            inner *= s[d];
    }
    bool m_log;
};

} // namespace

void registerSoftmaxOps(KernelTable &t)
{
    t["Softmax"] = std::make_unique<SoftmaxKernel>(false);
    t["LogSoftmax"] = std::make_unique<SoftmaxKernel>(true);
}

} // namespace netwright
