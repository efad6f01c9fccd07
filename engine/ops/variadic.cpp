// SPDX-License-Identifier: Apache-2.0
// Element-wise ops over any number (≥ 1) of broadcast inputs (ONNX): Min, Max (every numeric
// type; a NaN wins, as numpy's minimum/maximum), Mean, Sum (float32, float64). All inputs share
// one element type. Gradients (float32): Sum passes dY to every input and Mean dY/n, each summed
// over that input's broadcast dims serially in index order. Min and Max send dY to ONE input
// per output element: the first input (in node order) holding the extreme value, so ties are
// broken deterministically and the gradients sum to dY.
#include "core/error.h"
#include "core/parallel.h"
#include "ops/broadcast.h"
#include "ops/elementwise.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

#include <cmath>
#include <type_traits>

namespace netwright {

namespace {

enum class VariadicKind { Min, Max, Mean, Sum };

template<typename T>
bool isNan(T v)
{
    if constexpr (std::is_floating_point_v<T>)
        return std::isnan(v);
    else
        return false;
}

class Variadic final : public OpKernel {
public:
    explicit Variadic(VariadicKind kind) : m_kind(kind) {}

    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(!in.empty(), node.describe() + ": needs at least one input.");
        Shape out = in[0];
        for (size_t k = 1; k < in.size(); ++k)
            out = shape_rules::broadcast(node, out, in[k]);
        return {out};
    }

    std::vector<DType> outputTypes(const Node &node, const std::vector<DType> &in) const override
    {
        check(!in.empty(), node.describe() + ": needs at least one input.");
        for (size_t k = 1; k < in.size(); ++k)
            check(in[k] == in[0], node.describe() + ": input " + std::to_string(k) + " is " + dtypeName(in[k]) + " and input 0 is "
                                      + dtypeName(in[0]) + "; " + node.opType + " needs one element type.");
        return {in[0]};
    }

    bool acceptsType(size_t, DType type) const override { return inTypeSet(type, types()); }

    void forward(KernelContext &ctx) const override
    {
        const Node &node = ctx.node;
        Tensor &Y = ctx.out(0);
        for (size_t k = 0; k < ctx.inputs.size(); ++k)
            check(ctx.hasInput(k) && ctx.in(k).dtype() == Y.dtype(), node.describe() + ": every input must be given, of one element type.");
        dispatchType<kNumeric>(Y.dtype(), node, [&](auto tag) {
            using T = typename decltype(tag)::type;
            switch (m_kind) {
            case VariadicKind::Min: fold<T>(ctx, [](T acc, T v) { return (isNan(acc) || (!(v < acc) && !isNan(v))) ? acc : v; }); break;
            case VariadicKind::Max: fold<T>(ctx, [](T acc, T v) { return (isNan(acc) || (!(v > acc) && !isNan(v))) ? acc : v; }); break;
            case VariadicKind::Sum:
            case VariadicKind::Mean: fold<T>(ctx, [](T acc, T v) { return T(acc + v); }); break;
            }
            if constexpr (std::is_floating_point_v<T>) {
                if (m_kind == VariadicKind::Mean && ctx.inputs.size() > 1) {
                    const T count = T(ctx.inputs.size());
                    T *y = Y.dataAs<T>();
                    parallelFor(Y.numel(), [&](int64_t i0, int64_t i1, int) {
                        for (int64_t i = i0; i < i1; ++i)
                            y[i] /= count;
                    }, 8192);
                }
            }
        });
    }

    void backward(KernelContext &ctx) const override
    {
        const Tensor &dY = *ctx.gradOutputs[0], &Y = ctx.out(0);
        const int64_t n = dY.numel();
        const size_t count = ctx.inputs.size();
        if (Y.dtype() != DType::Float32) {
            for (size_t k = 0; k < count; ++k)
                if (ctx.wantsGrad(k))
                    ctx.gradInputs[k]->fill(0.0f);
            return;
        }
        const float *dy = dY.data();
        std::vector<BroadcastIndexer> index;
        for (size_t k = 0; k < count; ++k)
            index.emplace_back(dY.shape(), ctx.in(k).shape());
        if (m_kind == VariadicKind::Sum || m_kind == VariadicKind::Mean) {
            const float scale = m_kind == VariadicKind::Mean ? 1.0f / static_cast<float>(count) : 1.0f;
            for (size_t k = 0; k < count; ++k)
                if (ctx.wantsGrad(k))
                    reduceBroadcastGrad(index[k], dY.shape(), *ctx.gradInputs[k], [&](int64_t i) { return dy[i] * scale; });
            return;
        }
        // Min/Max: the first input equal to the output value (NaN matching NaN) takes dY.
        std::vector<uint32_t> winner(static_cast<size_t>(n));
        const float *y = Y.data();
        parallelFor(n, [&](int64_t i0, int64_t i1, int) {
            for (int64_t i = i0; i < i1; ++i) {
                uint32_t w = 0;
                for (size_t k = 0; k < count; ++k) {
                    const float v = ctx.in(k).data()[index[k].identity() ? i : index[k].offset(i)];
                    if (v == y[i] || (std::isnan(v) && std::isnan(y[i]))) {
                        w = static_cast<uint32_t>(k);
                        break;
                    }
                }
                winner[static_cast<size_t>(i)] = w;
            }
        }, 4096);
        for (size_t k = 0; k < count; ++k)
            if (ctx.wantsGrad(k))
                reduceBroadcastGrad(index[k], dY.shape(), *ctx.gradInputs[k],
                                    [&](int64_t i) { return winner[static_cast<size_t>(i)] == k ? dy[i] : 0.0f; });
    }

private:
    unsigned types() const { return m_kind == VariadicKind::Min || m_kind == VariadicKind::Max ? kNumeric : kFloats; }

    // Y = input 0 broadcast, then Y = f(Y, input k) for each further input.
    template<typename T, typename F>
    static void fold(KernelContext &ctx, F f)
    {
        Tensor &Y = ctx.out(0);
        T *yOut = Y.dataAs<T>();
        const int64_t n = Y.numel();
        for (size_t k = 0; k < ctx.inputs.size(); ++k) {
            const Tensor &X = ctx.in(k);
            const T *x = X.dataAs<T>();
            const BroadcastIndexer ix(Y.shape(), X.shape());
            parallelFor(n, [&](int64_t i0, int64_t i1, int) {
                T *__restrict y = yOut;
                if (ix.identity()) {
                    if (k == 0)
                        for (int64_t i = i0; i < i1; ++i)
                            y[i] = x[i];
                    else
                        for (int64_t i = i0; i < i1; ++i)
                            y[i] = f(y[i], x[i]);
                } else {
                    for (int64_t i = i0; i < i1; ++i)
                        y[i] = k == 0 ? x[ix.offset(i)] : f(y[i], x[ix.offset(i)]);
                }
            }, 8192);
        }
    }

    VariadicKind m_kind;
};

} // namespace

void registerVariadicOps(KernelTable &t)
{
    t["Min"] = std::make_unique<Variadic>(VariadicKind::Min);
    t["Max"] = std::make_unique<Variadic>(VariadicKind::Max);
    t["Mean"] = std::make_unique<Variadic>(VariadicKind::Mean);
    t["Sum"] = std::make_unique<Variadic>(VariadicKind::Sum);
}

} // namespace netwright
