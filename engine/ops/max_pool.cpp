// SPDX-License-Identifier: Apache-2.0
// MaxPool (ONNX, 1-D/2-D/3-D): kernel_shape, strides, pads/auto_pad, dilations, ceil_mode; the
// optional Indices output holds flat offsets into X (storage_order 0: row-major within each
// plane, 1: column-major). Padding never wins the max; NaN does. Float32 trains; float64, int8
// and uint8 run forward. GlobalMaxPool: the maximum of each [N,C] plane, any rank.
#include "core/error.h"
#include "core/parallel.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"
#include "ops/pool_isa.h"
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

template<typename T> inline bool isNan(T v)
{
    if constexpr (std::is_floating_point_v<T>)
        return v != v;
    else
        return false;
}

// Index of in-plane offset `a` (row-major d,h,w) in the column-major order of storage_order 1.
inline int64_t columnMajor(int64_t a, const WindowNd &w)
{
    const int64_t ihw = w.plane.ih * w.plane.iw;
    const int64_t z = a / ihw, y = (a % ihw) / w.plane.iw, x = a % w.plane.iw;
    return (x * w.plane.ih + y) * w.id + z;
}

// Any window, any element type: y and the in-plane argmax of each output (-1 when no cell).
template<typename T> void maxPoolPlane(const T *xp, const WindowNd &w, T *yp, int32_t *ap)
{
    T best{};
    int32_t bestAt = -1;
    forEachWindow(
        w,
        [&](int64_t) {
            best = std::numeric_limits<T>::lowest();
            bestAt = -1;
        },
        [&](int64_t, int64_t at) {
            const T v = xp[at];
            if (bestAt < 0 || v > best || (isNan(v) && !isNan(best))) {
                best = v;
                bestAt = static_cast<int32_t>(at);
            }
        },
        [&](int64_t o) {
            yp[o] = best;
            ap[o] = bestAt;
        });
}

// The common 2×2 window without padding or dilation: branch-free, no bounds checks.
void maxPool2x2(const float *xp, const Window2d &w, float *__restrict yp, int32_t *__restrict ap)
{
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
}

class MaxPool final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(!in.empty(), node.describe() + ": needs input X.");
        const auto w = poolWindow(node, in[0]);
        const int64_t order = node.attrInt("storage_order", 0);
        check(order == 0 || order == 1, node.describe() + ": storage_order must be 0 or 1, got " + std::to_string(order) + ".");
        const Shape out = pooledShape(in[0], w);
        return {out, out};
    }

    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override
    {
        return {in.empty() ? DType::Float32 : in[0], DType::Int64};
    }
    bool acceptsType(size_t, DType type) const override
    {
        return type == DType::Float32 || type == DType::Float64 || type == DType::Int8 || type == DType::UInt8;
    }

    void forward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        const auto w = poolWindow(ctx.node, X.shape());
        const int64_t planes = X.dim(0) * X.dim(1), hw = w.inSize(), ohw = w.outSize();
        // argmax within each plane, kept for backward
        ctx.saved.resize(1);
        if (!ctx.saved[0].defined() || ctx.saved[0].numel() != planes * ohw)
            ctx.saved[0] = Tensor({planes * ohw}, DType::Int32);
        int32_t *arg = ctx.saved[0].dataAs<int32_t>();
        int64_t *indices = ctx.outputs.size() > 1 && ctx.outputs[1] ? ctx.outputs[1]->dataAs<int64_t>() : nullptr;
        const bool colMajor = ctx.node.attrInt("storage_order", 0) == 1;
        const Window2d &p = w.plane;
        const bool fast2x2 = X.dtype() == DType::Float32 && w.rank == 2 && p.kh == 2 && p.kw == 2 && p.padTop == 0
                             && p.padLeft == 0 && p.dh == 1 && p.dw == 1 && (p.oh - 1) * p.sh + p.kh <= p.ih
                             && (p.ow - 1) * p.sw + p.kw <= p.iw;
        const bool stride2 = fast2x2 && p.sh == 2 && p.sw == 2; // the vectorized loops of the CPU level
        const pool::MaxForward forward2 = pool::maxForward2x2();
        dispatchType<kFloats | kSignedInts | kUnsignedInts>(X.dtype(), ctx.node, [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T *x = X.dataAs<T>();
            T *y = ctx.out(0).dataAs<T>();
            parallelFor(planes, [&](int64_t p0, int64_t p1, int) {
                for (int64_t q = p0; q < p1; ++q) {
                    if constexpr (std::is_same_v<T, float>) {
                        if (stride2)
                            forward2(x + q * hw, p.ih, p.iw, p.oh, p.ow, y + q * ohw, arg + q * ohw);
                        else if (fast2x2)
                            maxPool2x2(x + q * hw, p, y + q * ohw, arg + q * ohw);
                        else
                            maxPoolPlane(x + q * hw, w, y + q * ohw, arg + q * ohw);
                    } else {
                        maxPoolPlane(x + q * hw, w, y + q * ohw, arg + q * ohw);
                    }
                    if (indices)
                        for (int64_t o = 0; o < ohw; ++o) {
                            const int32_t a = arg[q * ohw + o];
                            indices[q * ohw + o] = a < 0 ? -1 : q * hw + (colMajor ? columnMajor(a, w) : a);
                        }
                }
            });
        });
    }

    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        const Tensor &X = ctx.in(0);
        const auto w = poolWindow(ctx.node, X.shape());
        const int64_t planes = X.dim(0) * X.dim(1), hw = w.inSize(), ohw = w.outSize();
        const int32_t *arg = ctx.saved.at(0).dataAs<int32_t>();
        const float *dy = ctx.gradOutputs[0]->data();
        float *dx = ctx.gradInputs[0]->data();
        const Window2d &pw = w.plane;
        if (w.rank == 2 && pw.kh == 2 && pw.kw == 2 && pw.sh == 2 && pw.sw == 2 && pw.padTop == 0 && pw.padLeft == 0 && pw.dh == 1
            && pw.dw == 1 && 2 * pw.oh <= pw.ih && 2 * pw.ow <= pw.iw) { // windows that do not overlap: every cell written once
            const pool::MaxBackward backward2 = pool::maxBackward2x2();
            parallelFor(planes, [&](int64_t p0, int64_t p1, int) {
                for (int64_t p = p0; p < p1; ++p)
                    backward2(dy + p * ohw, arg + p * ohw, pw.ih, pw.iw, pw.oh, pw.ow, dx + p * hw);
            });
            return;
        }
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

class GlobalMaxPool final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        return {globalPooledShape(node, in)};
    }
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override
    {
        return {in.empty() ? DType::Float32 : in[0]};
    }
    bool acceptsType(size_t, DType type) const override { return type == DType::Float32 || type == DType::Float64; }

    void forward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        const int64_t planes = X.dim(0) * X.dim(1), size = X.numel() / std::max<int64_t>(1, planes);
        check(size > 0, ctx.node.describe() + ": input X " + shapeToString(X.shape()) + " has empty planes.");
        ctx.saved.resize(1);
        ctx.saved[0] = Tensor({planes}, DType::Int64);
        int64_t *arg = ctx.saved[0].dataAs<int64_t>();
        dispatchType<kFloats>(X.dtype(), ctx.node, [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T *x = X.dataAs<T>();
            T *y = ctx.out(0).dataAs<T>();
            parallelFor(planes, [&](int64_t p0, int64_t p1, int) {
                for (int64_t p = p0; p < p1; ++p) {
                    const T *xp = x + p * size;
                    int64_t best = 0;
                    for (int64_t i = 1; i < size; ++i)
                        if (xp[i] > xp[best] || (xp[i] != xp[i] && xp[best] == xp[best]))
                            best = i;
                    y[p] = xp[best];
                    arg[p] = best;
                }
            });
        });
    }

    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        const Tensor &X = ctx.in(0);
        const int64_t planes = X.dim(0) * X.dim(1), size = X.numel() / std::max<int64_t>(1, planes);
        const int64_t *arg = ctx.saved.at(0).dataAs<int64_t>();
        const float *dy = ctx.gradOutputs[0]->data();
        float *dx = ctx.gradInputs[0]->data();
        std::memset(dx, 0, sizeof(float) * X.numel());
        for (int64_t p = 0; p < planes; ++p)
            dx[p * size + arg[p]] = dy[p];
    }
};

} // namespace

void registerMaxPool(KernelTable &t)
{
    t["MaxPool"] = std::make_unique<MaxPool>();
    t["GlobalMaxPool"] = std::make_unique<GlobalMaxPool>();
}

} // namespace netwright
