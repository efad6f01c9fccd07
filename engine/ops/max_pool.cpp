// SPDX-License-Identifier: Apache-2.0
// MaxPool (ONNX, 2-D): kernel_shape, strides, pads/auto_pad, dilations, ceil_mode; the optional
// Indices output holds flat NCHW offsets (storage_order 0). Padding never wins the max.
#include "core/error.h"
#include "core/parallel.h"
#include "ops/kernels.h"
#include "ops/window_2d.h"

#include <bit>
#include <cstring>
#include <limits>

namespace netwright {

namespace {

// y when take is 1, x when it is 0, without a branch.
inline float select(float x, float y, int32_t take)
{
    const uint32_t xb = std::bit_cast<uint32_t>(x), yb = std::bit_cast<uint32_t>(y);
    return std::bit_cast<float>(xb ^ ((xb ^ yb) & (0u - static_cast<uint32_t>(take))));
}

class MaxPool final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(!in.empty(), node.describe() + ": needs input X.");
        shape_rules::expectRank(node, "input X", in[0], 4);
        check(node.hasAttribute("kernel_shape"), node.describe() + ": attribute kernel_shape is required.");
        check(node.attrInt("storage_order", 0) == 0, node.describe() + ": storage_order 1 is not supported.");
        const auto w = Window2d::fromNode(node, in[0][2], in[0][3], {}, true);
        Shape out{in[0][0], in[0][1], w.oh, w.ow};
        return {out, out};
    }

    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &) const override { return {DType::Float32, DType::Int64}; }

    void forward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        const auto w = Window2d::fromNode(ctx.node, X.dim(2), X.dim(3), {}, true);
        const int64_t planes = X.dim(0) * X.dim(1), hw = w.ih * w.iw, ohw = w.oh * w.ow;
        // argmax within each plane, kept for backward
        ctx.saved.resize(1);
        if (!ctx.saved[0].defined() || ctx.saved[0].numel() != planes * ohw)
            ctx.saved[0] = Tensor({planes * ohw}, DType::Int32);
        int32_t *arg = ctx.saved[0].dataAs<int32_t>();
        const float *x = X.data();
        float *y = ctx.out(0).data();
        int64_t *indices = ctx.outputs.size() > 1 && ctx.outputs[1] ? ctx.outputs[1]->dataAs<int64_t>() : nullptr;
        const bool simple = w.padTop == 0 && w.padLeft == 0 && w.dh == 1 && w.dw == 1
                            && (w.oh - 1) * w.sh + w.kh <= w.ih && (w.ow - 1) * w.sw + w.kw <= w.iw;
        parallelFor(planes, [&](int64_t p0, int64_t p1, int) {
            for (int64_t p = p0; p < p1; ++p) {
                const float *xp = x + p * hw;
                if (simple && w.kh == 2 && w.kw == 2) { // the common 2×2 window: branch-free, no bounds checks
                    float *__restrict yp = y + p * ohw;
                    int32_t *__restrict ap = arg + p * ohw;
                    for (int64_t oy = 0; oy < w.oh; ++oy) {
                        const int32_t r0 = static_cast<int32_t>(oy * w.sh * w.iw), r1 = r0 + static_cast<int32_t>(w.iw);
                        for (int64_t ox = 0; ox < w.ow; ++ox) {
                            const int32_t c = static_cast<int32_t>(ox * w.sw);
                            const float a = xp[r0 + c], b = xp[r0 + c + 1], d = xp[r1 + c], e = xp[r1 + c + 1];
                            // Integer bit-selects: compilers turn float ?: into unpredictable branches here.
                            const int32_t top = (b > a) | (b != b), bottom = (e > d) | (e != e); // NaN wins, as below
                            const float m0 = select(a, b, top), m1 = select(d, e, bottom);
                            const int32_t lower = ((m1 > m0) | (m1 != m1)) & (m0 == m0);
                            yp[oy * w.ow + ox] = select(m0, m1, lower);
                            const int32_t i0 = r0 + c + top, i1 = r1 + c + bottom;
                            ap[oy * w.ow + ox] = i0 ^ ((i0 ^ i1) & -lower);
                        }
                    }
                    if (indices)
                        for (int64_t o = 0; o < ohw; ++o)
                            indices[p * ohw + o] = p * hw + ap[o];
                    continue;
                }
                for (int64_t oy = 0; oy < w.oh; ++oy)
                    for (int64_t ox = 0; ox < w.ow; ++ox) {
                        float best = -std::numeric_limits<float>::infinity();
                        int32_t bestAt = -1;
                        for (int64_t i = 0; i < w.kh; ++i) {
                            const int64_t iy = oy * w.sh - w.padTop + i * w.dh;
                            if (iy < 0 || iy >= w.ih)
                                continue;
                            for (int64_t j = 0; j < w.kw; ++j) {
                                const int64_t ix = ox * w.sw - w.padLeft + j * w.dw;
                                if (ix < 0 || ix >= w.iw)
                                    continue;
                                const float v = xp[iy * w.iw + ix];
                                if (bestAt < 0 || v > best || v != v) {
                                    best = v;
                                    bestAt = static_cast<int32_t>(iy * w.iw + ix);
                                }
                            }
                        }
                        const int64_t o = p * ohw + oy * w.ow + ox;
                        y[o] = best;
                        arg[o] = bestAt;
                        if (indices)
                            indices[o] = bestAt < 0 ? -1 : p * hw + bestAt;
                    }
            }
        });
    }

    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        const Tensor &X = ctx.in(0);
        const auto w = Window2d::fromNode(ctx.node, X.dim(2), X.dim(3), {}, true);
        const int64_t planes = X.dim(0) * X.dim(1), hw = w.ih * w.iw, ohw = w.oh * w.ow;
        const int32_t *arg = ctx.saved.at(0).dataAs<int32_t>();
        const float *dy = ctx.gradOutputs[0]->data();
        float *dx = ctx.gradInputs[0]->data();
        parallelFor(planes, [&](int64_t p0, int64_t p1, int) {
            std::memset(dx + p0 * hw, 0, sizeof(float) * (p1 - p0) * hw);
            for (int64_t p = p0; p < p1; ++p)
                for (int64_t o = 0; o < ohw; ++o) {
                    const int32_t a = arg[p * ohw + o];
                    if (a >= 0)
                        dx[p * hw + a] += dy[p * ohw + o];
                }
        });
    }
};

} // namespace

void registerMaxPool(KernelTable &t)
{
    t["MaxPool"] = std::make_unique<MaxPool>();
}

} // namespace netwright
