// SPDX-License-Identifier: Apache-2.0
// Softmax, LogSoftmax and Hardmax (ONNX opset 13: along one axis, default −1; the importer
// rewrites the older flatten-to-2-D forms). Softmax is numerically stable (the maximum along the
// axis is subtracted first). Along the last axis (attention) each row is contiguous; along
// another axis a block of `inner` columns is processed together so the loops stay contiguous.
// Float32 forward and backward, float64 forward; Hardmax (first maximum → 1) has no gradient.
#include "core/error.h"
#include "core/parallel.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"
#include "ops/rowwise_isa.h"
#include "ops/vector_math.h"

#include <cmath>
#include <type_traits>
#include <vector>

namespace netwright {

namespace {

enum class SoftmaxKind { Softmax, LogSoftmax, Hardmax };

void splitAt(const Node &node, const Shape &s, int64_t &outer, int64_t &n, int64_t &inner)
{
    netwright::splitAt(s, shape_rules::normalizeAxis(node, node.attrInt("axis", -1), static_cast<int>(s.size())), outer, n, inner);
}

// One contiguous row of n values.
template<typename T> void rowForward(SoftmaxKind kind, const T *__restrict x, T *__restrict y, int64_t n)
{
    if (kind == SoftmaxKind::Hardmax) {
        int64_t best = 0;
        for (int64_t k = 1; k < n; ++k)
            if (x[k] > x[best])
                best = k;
        for (int64_t k = 0; k < n; ++k)
            y[k] = k == best ? T(1) : T(0);
        return;
    }
    T mx = x[0];
    for (int64_t k = 1; k < n; ++k)
        mx = std::max(mx, x[k]);
    T sum = 0;
    if (kind == SoftmaxKind::Softmax) {
        for (int64_t k = 0; k < n; ++k) // vectorised; the sum apart, in order
            y[k] = vm::expOf(x[k] - mx);
        for (int64_t k = 0; k < n; ++k)
            sum += y[k];
        const T inv = T(1) / sum;
        for (int64_t k = 0; k < n; ++k)
            y[k] *= inv;
    } else {
        for (int64_t k = 0; k < n; ++k)
            sum += vm::expOf(x[k] - mx);
        const T shift = mx + std::log(sum);
        for (int64_t k = 0; k < n; ++k)
            y[k] = x[k] - shift;
    }
}

// One [n, inner] block (the axis has stride `inner`), all columns at once; `acc` holds 2·inner.
template<typename T> void blockForward(SoftmaxKind kind, const T *__restrict x, T *__restrict y, int64_t n, int64_t inner, T *__restrict acc)
{
    T *__restrict mx = acc, *__restrict sum = acc + inner;
    for (int64_t j = 0; j < inner; ++j)
        mx[j] = x[j];
    if (kind == SoftmaxKind::Hardmax) {
        T *__restrict best = sum; // the index of the first maximum, per column
        for (int64_t j = 0; j < inner; ++j)
            best[j] = 0;
        for (int64_t k = 1; k < n; ++k)
            for (int64_t j = 0; j < inner; ++j)
                if (x[k * inner + j] > mx[j]) {
                    mx[j] = x[k * inner + j];
                    best[j] = static_cast<T>(k);
                }
        for (int64_t k = 0; k < n; ++k)
            for (int64_t j = 0; j < inner; ++j)
                y[k * inner + j] = best[j] == static_cast<T>(k) ? T(1) : T(0);
        return;
    }
    for (int64_t k = 1; k < n; ++k)
        for (int64_t j = 0; j < inner; ++j)
            mx[j] = std::max(mx[j], x[k * inner + j]);
    for (int64_t j = 0; j < inner; ++j)
        sum[j] = 0;
    for (int64_t k = 0; k < n; ++k)
        for (int64_t j = 0; j < inner; ++j) {
            const T e = vm::expOf(x[k * inner + j] - mx[j]);
            sum[j] += e;
            if (kind == SoftmaxKind::Softmax)
                y[k * inner + j] = e;
        }
    if (kind == SoftmaxKind::Softmax) {
        for (int64_t j = 0; j < inner; ++j)
            sum[j] = T(1) / sum[j];
        for (int64_t k = 0; k < n; ++k)
            for (int64_t j = 0; j < inner; ++j)
                y[k * inner + j] *= sum[j];
    } else {
        for (int64_t j = 0; j < inner; ++j)
            mx[j] += std::log(sum[j]);
        for (int64_t k = 0; k < n; ++k)
            for (int64_t j = 0; j < inner; ++j)
                y[k * inner + j] = x[k * inner + j] - mx[j];
    }
}

class SoftmaxKernel final : public OpKernel {
public:
    explicit SoftmaxKernel(SoftmaxKind kind) : m_kind(kind) {}

    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 1, node.describe() + ": needs one input.");
        shape_rules::normalizeAxis(node, node.attrInt("axis", -1), static_cast<int>(in[0].size()));
        return {in[0]};
    }
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override
    {
        return {in.empty() ? DType::Float32 : in[0]};
    }
    bool acceptsType(size_t, DType type) const override { return inTypeSet(type, kFloats); }
    bool differentiable(size_t) const override { return m_kind != SoftmaxKind::Hardmax; }

    void forward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        int64_t outer, n, inner;
        splitAt(ctx.node, X.shape(), outer, n, inner);
        if (X.numel() == 0)
            return;
        const SoftmaxKind kind = m_kind;
        dispatchType<kFloats>(X.dtype(), ctx.node, [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T *x = X.dataAs<T>();
            T *y = ctx.out(0).dataAs<T>();
            if constexpr (std::is_same_v<T, float>) {
                if (inner == 1 && kind != SoftmaxKind::Hardmax) { // the CPU level's row loops
                    const auto rowsForward = rows::softmaxForward();
                    const bool log = kind == SoftmaxKind::LogSoftmax;
                    parallelFor(outer, [&](int64_t r0, int64_t r1, int) { rowsForward(log, x, y, n, r0, r1); },
                                std::max<int64_t>(1, 4096 / n));
                    return;
                }
            }
            if (inner == 1) {
                parallelFor(outer, [&](int64_t r0, int64_t r1, int) {
                    for (int64_t r = r0; r < r1; ++r)
                        rowForward<T>(kind, x + r * n, y + r * n, n);
                }, std::max<int64_t>(1, 4096 / n));
                return;
            }
            parallelFor(outer, [&](int64_t r0, int64_t r1, int) {
                std::vector<T> acc(static_cast<size_t>(2 * inner));
                for (int64_t r = r0; r < r1; ++r)
                    blockForward<T>(kind, x + r * n * inner, y + r * n * inner, n, inner, acc.data());
            }, std::max<int64_t>(1, 4096 / (n * inner)));
        });
    }

    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0) || m_kind == SoftmaxKind::Hardmax)
            return;
        const Tensor &Y = ctx.out(0);
        check(Y.dtype() == DType::Float32, ctx.node.describe() + ": gradients are computed for float32 only.");
        int64_t outer, n, inner;
        splitAt(ctx.node, Y.shape(), outer, n, inner);
        if (Y.numel() == 0)
            return;
        const float *y = Y.data(), *dy = ctx.gradOutputs[0]->data();
        float *dx = ctx.gradInputs[0]->data();
        const bool log = m_kind == SoftmaxKind::LogSoftmax;
        if (inner == 1) {
            const auto rowsBackward = rows::softmaxBackward();
            parallelFor(outer, [&](int64_t r0, int64_t r1, int) { rowsBackward(log, y, dy, dx, n, r0, r1); },
                        std::max<int64_t>(1, 4096 / n));
            return;
        }
        parallelFor(outer, [&](int64_t r0, int64_t r1, int) {
            std::vector<float> acc(static_cast<size_t>(inner));
            for (int64_t r = r0; r < r1; ++r) {
                const float *__restrict yr = y + r * n * inner, *__restrict g = dy + r * n * inner;
                float *__restrict d = dx + r * n * inner;
                float *__restrict s = acc.data();
                for (int64_t j = 0; j < inner; ++j)
                    s[j] = 0.0f;
                for (int64_t k = 0; k < n; ++k)
                    for (int64_t j = 0; j < inner; ++j)
                        s[j] += log ? g[k * inner + j] : g[k * inner + j] * yr[k * inner + j];
                for (int64_t k = 0; k < n; ++k)
                    for (int64_t j = 0; j < inner; ++j) {
                        const int64_t i = k * inner + j;
                        d[i] = log ? g[i] - vm::expOf(yr[i]) * s[j] : yr[i] * (g[i] - s[j]);
                    }
            }
        }, std::max<int64_t>(1, 4096 / (n * inner)));
    }

private:
    SoftmaxKind m_kind;
};

} // namespace

void registerSoftmaxOps(KernelTable &t)
{
    t["Softmax"] = std::make_unique<SoftmaxKernel>(SoftmaxKind::Softmax);
    t["LogSoftmax"] = std::make_unique<SoftmaxKernel>(SoftmaxKind::LogSoftmax);
    t["Hardmax"] = std::make_unique<SoftmaxKernel>(SoftmaxKind::Hardmax);
}

} // namespace netwright
