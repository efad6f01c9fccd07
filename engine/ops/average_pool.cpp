// SPDX-License-Identifier: Apache-2.0
// AveragePool (ONNX, 2-D; count_include_pad, ceil_mode) and GlobalAveragePool ([N,C,H,W] →
// [N,C,1,1]). Windows that run past the padded input never count those cells.
#include "core/error.h"
#include "core/parallel.h"
#include "ops/kernels.h"
#include "ops/window_2d.h"

#include <algorithm>
#include <cstring>

namespace netwright {

namespace {

// Number of cells averaged by window (oy, ox).
int64_t windowCount(const Window2d &w, int64_t oy, int64_t ox, bool includePad)
{
    int64_t cy = 0, cx = 0;
    for (int64_t i = 0; i < w.kh; ++i) {
        const int64_t iy = oy * w.sh - w.padTop + i * w.dh;
        cy += includePad ? (iy >= -w.padTop && iy < w.ih + w.padBottom) : (iy >= 0 && iy < w.ih);
    }
    for (int64_t j = 0; j < w.kw; ++j) {
        const int64_t ix = ox * w.sw - w.padLeft + j * w.dw;
        cx += includePad ? (ix >= -w.padLeft && ix < w.iw + w.padRight) : (ix >= 0 && ix < w.iw);
    }
    return cy * cx;
}

class AveragePool final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(!in.empty(), node.describe() + ": needs input X.");
        shape_rules::expectRank(node, "input X", in[0], 4);
        check(node.hasAttribute("kernel_shape"), node.describe() + ": attribute kernel_shape is required.");
        const auto w = Window2d::fromNode(node, in[0][2], in[0][3], {}, true);
        return {{in[0][0], in[0][1], w.oh, w.ow}};
    }

    void forward(KernelContext &ctx) const override { run(ctx, false); }
    void backward(KernelContext &ctx) const override
    {
        if (ctx.wantsGrad(0))
            run(ctx, true);
    }

private:
    static void run(KernelContext &ctx, bool backward)
    {
        const Tensor &X = ctx.in(0);
        const auto w = Window2d::fromNode(ctx.node, X.dim(2), X.dim(3), {}, true);
        const bool includePad = ctx.node.attrInt("count_include_pad", 0) != 0;
        const int64_t planes = X.dim(0) * X.dim(1), hw = w.ih * w.iw, ohw = w.oh * w.ow;
        const float *x = X.data();
        float *y = backward ? nullptr : ctx.out(0).data();
        const float *dy = backward ? ctx.gradOutputs[0]->data() : nullptr;
        float *dx = backward ? ctx.gradInputs[0]->data() : nullptr;
        parallelFor(planes, [&](int64_t p0, int64_t p1, int) {
            if (backward)
                std::memset(dx + p0 * hw, 0, sizeof(float) * (p1 - p0) * hw);
            for (int64_t p = p0; p < p1; ++p)
                for (int64_t oy = 0; oy < w.oh; ++oy)
                    for (int64_t ox = 0; ox < w.ow; ++ox) {
                        const int64_t count = std::max<int64_t>(1, windowCount(w, oy, ox, includePad));
                        const int64_t o = p * ohw + oy * w.ow + ox;
                        float sum = 0.0f;
                        const float g = backward ? dy[o] / static_cast<float>(count) : 0.0f;
                        for (int64_t i = 0; i < w.kh; ++i) {
                            const int64_t iy = oy * w.sh - w.padTop + i * w.dh;
                            if (iy < 0 || iy >= w.ih)
                                continue;
                            for (int64_t j = 0; j < w.kw; ++j) {
                                const int64_t ix = ox * w.sw - w.padLeft + j * w.dw;
                                if (ix < 0 || ix >= w.iw)
                                    continue;
                                if (backward)
                                    dx[p * hw + iy * w.iw + ix] += g;
                                else
                                    sum += x[p * hw + iy * w.iw + ix];
                            }
                        }
                        if (!backward)
                            y[o] = sum / static_cast<float>(count);
                    }
        });
    }
};

class GlobalAveragePool final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(!in.empty() && in[0].size() >= 3, node.describe() + ": input X must be [N,C,spatial…].");
        Shape out = in[0];
        std::fill(out.begin() + 2, out.end(), 1);
        return {out};
    }

    void forward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        const int64_t planes = X.dim(0) * X.dim(1), size = X.numel() / std::max<int64_t>(1, planes);
        const float *x = X.data();
        float *y = ctx.out(0).data();
        parallelFor(planes, [&](int64_t p0, int64_t p1, int) {
            for (int64_t p = p0; p < p1; ++p) {
                float s = 0.0f;
                for (int64_t i = 0; i < size; ++i)
                    s += x[p * size + i];
                y[p] = s / static_cast<float>(size);
            }
        });
    }

    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        const Tensor &X = ctx.in(0);
        const int64_t planes = X.dim(0) * X.dim(1), size = X.numel() / std::max<int64_t>(1, planes);
        const float *dy = ctx.gradOutputs[0]->data();
        float *dx = ctx.gradInputs[0]->data();
        parallelFor(planes, [&](int64_t p0, int64_t p1, int) {
            for (int64_t p = p0; p < p1; ++p)
                std::fill(dx + p * size, dx + (p + 1) * size, dy[p] / static_cast<float>(size));
        });
    }
};

} // namespace

void registerAveragePools(KernelTable &t)
{
    t["AveragePool"] = std::make_unique<AveragePool>();
    t["GlobalAveragePool"] = std::make_unique<GlobalAveragePool>();
}

} // namespace netwright
