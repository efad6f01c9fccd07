// SPDX-License-Identifier: Apache-2.0
// Element type conversion (ONNX): Cast (attribute `to`, an ONNX element type number) and CastLike
// (the type of input 1), between every element type the engine stores: the floats, float16,
// bfloat16, the signed and unsigned integers and bool (strings and complex numbers are not
// tensors here). Conversions: to float16/bfloat16 round to nearest even (overflow → ±inf, NaN
// stays NaN); from them exact; float → integer truncates toward zero and saturates at the type's
// range (NaN → 0; ONNX leaves out-of-range values unspecified); integer → integer wraps around;
// anything → bool is `≠ 0`; bool → anything is 0 or 1. `saturate` (opset 19, float8) is ignored.
// Gradient: float32 → float32 passes dY through; any other pair has a zero gradient.
#include "core/error.h"
#include "core/parallel.h"
#include "ops/elementwise.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

#include <cmath>
#include <cstring>
#include <optional>
#include <type_traits>

namespace netwright {

namespace {

// The storage of a float16 / bfloat16 element: its bit pattern.
struct Half {
    uint16_t bits;
};
struct BHalf {
    uint16_t bits;
};

    else if constexpr (std::is_same_v<D, BHalf>)
        return BHalf{encodeSmallFloat<8, 7>(static_cast<double>(v))};
    else if constexpr (std::is_same_v<D, bool>)
        return v != S(0);
    else if constexpr (std::is_floating_point_v<D>)
        return static_cast<D>(v);
    else if constexpr (std::is_floating_point_v<S>)
        return saturatingCast<D>(v);
    else
        return static_cast<D>(v); // integer → integer wraps around; bool → 0/1
}

class Cast final : public OpKernel {
public:
    explicit Cast(bool like) : m_like(like) {}

    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == (m_like ? 2u : 1u), node.describe() + (m_like ? ": needs two inputs." : ": needs one input."));
        return {in[0]};
    }

    std::vector<DType> outputTypes(const Node &node, const std::vector<DType> &in) const override
    {
        if (m_like) {
            check(in.size() == 2, node.describe() + ": needs two inputs.");
            return {in[1]};
        }
        check(node.hasAttribute("to"), node.describe() + ": has no attribute \"to\".");
        const int64_t to = node.attrInt("to", 0);
        const std::optional<DType> type = dtypeOfOnnxNumber(to);
        check(type.has_value(), node.describe() + ": cannot cast to ONNX element type " + std::to_string(to)
                                    + (to == 8 ? " (string)" : to == 14 || to == 15 ? " (complex)" : "") + ": the engine has no such tensors.");
        return {*type};
    }

    bool acceptsType(size_t, DType) const override { return true; }
    bool differentiable(size_t input) const override { return input == 0; }

    void forward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        Tensor &Y = ctx.out(0);
        if (X.dtype() == Y.dtype()) {
            std::memcpy(Y.raw(), X.raw(), X.byteSize());
            return;
        }
        dispatchAny(X.dtype(), [&](auto st) {
            using S = typename decltype(st)::type;
            dispatchAny(Y.dtype(), [&](auto dt) {
                using D = typename decltype(dt)::type;
                const S *x = X.dataAs<S>();
                D *y = Y.dataAs<D>();
                parallelFor(X.numel(), [&](int64_t i0, int64_t i1, int) {
                    for (int64_t i = i0; i < i1; ++i)
                        y[i] = convert<D>(x[i]);
                }, 8192);
            });
        });
    }

    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        Tensor &G = *ctx.gradInputs[0];
        if (ctx.in(0).dtype() == DType::Float32 && ctx.out(0).dtype() == DType::Float32)
            G.copyFrom(*ctx.gradOutputs[0]);
        else
            G.fill(0.0f);
    }

private:
    bool m_like;
};

} // namespace

void registerCastOps(KernelTable &t)
{
    t["Cast"] = std::make_unique<Cast>(false);
    t["CastLike"] = std::make_unique<Cast>(true);
}

} // namespace netwright
