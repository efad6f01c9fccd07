// SPDX-License-Identifier: Apache-2.0
// AveragePool and LpPool (ONNX, 1-D/2-D/3-D; count_include_pad, ceil_mode, dilations) and
// GlobalAveragePool / GlobalLpPool ([N,C,spatial…] → [N,C,1,…]). Windows that run past the padded
// input never count those cells; LpPool's padding adds nothing to its sum.
#include "core/error.h"
#include "core/parallel.h"
#include "ops/kernels.h"
#include "ops/window_2d.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace netwright {

namespace {

// Cells of window o along one dim that count: inside the input, or (includePad) inside the pads.
inline int64_t countDim(int64_t o, int64_t k, int64_t s, int64_t d, int64_t padB, int64_t padE, int64_t in, bool includePad)
{
    int64_t c = 0;
    for (int64_t i = 0; i < k; ++i) {
        const int64_t at = o * s - padB + i * d;
        c += includePad ? (at >= -padB && at < in + padE) : (at >= 0 && at < in);
    }
    return c;
}

class AveragePool final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(!in.empty(), node.describe() + ": needs input X.");
        return {pooledShape(in[0], poolWindow(node, in[0]))};
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
        const auto w = poolWindow(ctx.node, X.shape());
        const Window2d &pl = w.plane;
        const bool includePad = ctx.node.attrInt("count_include_pad", 0) != 0;
        const int64_t planes = X.dim(0) * X.dim(1), hw = w.inSize(), ohw = w.outSize();
        // The divisor of each output, shared by every plane.
        std::vector<float> divisor(static_cast<size_t>(ohw));
        for (int64_t oz = 0; oz < w.od; ++oz) {
            const int64_t cz = countDim(oz, w.kd, w.sd, w.dd, w.padFront, w.padBack, w.id, includePad);
            for (int64_t oy = 0; oy < pl.oh; ++oy) {
                const int64_t cy = countDim(oy, pl.kh, pl.sh, pl.dh, pl.padTop, pl.padBottom, pl.ih, includePad);
                for (int64_t ox = 0; ox < pl.ow; ++ox) {
                    const int64_t cx = countDim(ox, pl.kw, pl.sw, pl.dw, pl.padLeft, pl.padRight, pl.iw, includePad);
                    divisor[static_cast<size_t>((oz * pl.oh + oy) * pl.ow + ox)] = static_cast<float>(std::max<int64_t>(1, cz * cy * cx));
                }
            }
        }
        const float *x = X.data();
        float *y = backward ? nullptr : ctx.out(0).data();
        const float *dy = backward ? ctx.gradOutputs[0]->data() : nullptr;
        float *dx = backward ? ctx.gradInputs[0]->data() : nullptr;
        parallelFor(planes, [&](int64_t p0, int64_t p1, int) {
            if (backward)
                std::memset(dx + p0 * hw, 0, sizeof(float) * (p1 - p0) * hw);
            for (int64_t p = p0; p < p1; ++p) {
                const float *xp = x + p * hw;
                if (backward) {
                    float *dxp = dx + p * hw;
                    const float *dyp = dy + p * ohw;
                    float g = 0.0f;
                    forEachWindow(
                        w, [&](int64_t o) { g = dyp[o] / divisor[static_cast<size_t>(o)]; },
                        [&](int64_t, int64_t at) { dxp[at] += g; }, [](int64_t) {});
                } else {
                    float *yp = y + p * ohw;
                    float sum = 0.0f;
                    forEachWindow(
                        w, [&](int64_t) { sum = 0.0f; }, [&](int64_t, int64_t at) { sum += xp[at]; },
                        [&](int64_t o) { yp[o] = sum / divisor[static_cast<size_t>(o)]; });
                }
            }
        });
    }
};

// y = (Σ |x|^p)^(1/p) over each window (or each whole plane: global).
class LpPool final : public OpKernel {
public:
    explicit LpPool(bool global) : m_global(global) {}

    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        const Shape global = globalPooledShape(node, in); // validates X for both forms
        if (m_global)
            return {global};
        return {pooledShape(in[0], poolWindow(node, in[0]))};
    }

    void forward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        const float p = power(ctx.node);
        const int64_t planes = X.dim(0) * X.dim(1);
        const float *x = X.data();
        float *y = ctx.out(0).data();
        if (m_global) {
            const int64_t size = X.numel() / std::max<int64_t>(1, planes);
            parallelFor(planes, [&](int64_t p0, int64_t p1, int) {
                for (int64_t q = p0; q < p1; ++q) {
                    double s = 0.0;
                    for (int64_t i = 0; i < size; ++i)
                        s += std::pow(std::fabs(static_cast<double>(x[q * size + i])), p);
                    y[q] = static_cast<float>(std::pow(s, 1.0 / p));
                }
            });
            return;
        }
        const auto w = poolWindow(ctx.node, X.shape());
        const int64_t hw = w.inSize(), ohw = w.outSize();
        parallelFor(planes, [&](int64_t p0, int64_t p1, int) {
            for (int64_t q = p0; q < p1; ++q) {
                const float *xp = x + q * hw;
                float *yp = y + q * ohw;
                double s = 0.0;
                forEachWindow(
                    w, [&](int64_t) { s = 0.0; },
                    [&](int64_t, int64_t at) { s += std::pow(std::fabs(static_cast<double>(xp[at])), p); },
                    [&](int64_t o) { yp[o] = static_cast<float>(std::pow(s, 1.0 / p)); });
            }
        });
    }

    // dx += dy · sign(x)·|x|^(p−1) / y^(p−1) (0 where y is 0).
    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        const Tensor &X = ctx.in(0);
        const float p = power(ctx.node);
        const int64_t planes = X.dim(0) * X.dim(1);
        const float *x = X.data(), *y = ctx.outputs.empty() || !ctx.outputs[0] ? nullptr : ctx.out(0).data();
        check(y != nullptr, ctx.node.describe() + ": backward needs the forward output.");
        const float *dy = ctx.gradOutputs[0]->data();
        float *dx = ctx.gradInputs[0]->data();
        auto grad = [p](float xv, float yv, float g) {
            if (yv == 0.0f || xv == 0.0f)
                return 0.0f;
            const double r = std::pow(std::fabs(static_cast<double>(xv)) / yv, p - 1.0);
            return static_cast<float>(g * r * (xv < 0 ? -1.0 : 1.0));
        };
        if (m_global) {
            const int64_t size = X.numel() / std::max<int64_t>(1, planes);
            parallelFor(planes, [&](int64_t p0, int64_t p1, int) {
                for (int64_t q = p0; q < p1; ++q)
                    for (int64_t i = 0; i < size; ++i)
                        dx[q * size + i] = grad(x[q * size + i], y[q], dy[q]);
            });
            return;
        }
        const auto w = poolWindow(ctx.node, X.shape());
        const int64_t hw = w.inSize(), ohw = w.outSize();
        parallelFor(planes, [&](int64_t p0, int64_t p1, int) {
            std::memset(dx + p0 * hw, 0, sizeof(float) * (p1 - p0) * hw);
            for (int64_t q = p0; q < p1; ++q) {
                const float *xp = x + q * hw, *yp = y + q * ohw, *dyp = dy + q * ohw;
                float *dxp = dx + q * hw;
                forEachWindow(
                    w, [](int64_t) {},
                    [&](int64_t o, int64_t at) { dxp[at] += grad(xp[at], yp[o], dyp[o]); }, [](int64_t) {});
            }
        });
    }

private:
    static float power(const Node &node)
    {
        const float p = node.attrFloat("p", 2.0f);
        check(p >= 1.0f, node.describe() + ": p must be at least 1, got " + std::to_string(p) + ".");
        return p;
    }
    bool m_global;
};

class GlobalAveragePool final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        return {globalPooledShape(node, in)};
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
    t["LpPool"] = std::make_unique<LpPool>(false);
    t["GlobalLpPool"] = std::make_unique<LpPool>(true);
}

} // namespace netwright
