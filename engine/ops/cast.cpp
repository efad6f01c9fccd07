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

// f(TypeTag<T>{}) for every element type, float16/bfloat16 as Half/BHalf.
template<typename F>
void dispatchAny(DType t, F &&f)
{
    switch (t) {
    case DType::Float32: return f(TypeTag<float>{});
    case DType::Float64: return f(TypeTag<double>{});
    case DType::Float16: return f(TypeTag<Half>{});
    case DType::BFloat16: return f(TypeTag<BHalf>{});
    case DType::Int64: return f(TypeTag<int64_t>{});
    case DType::Int32: return f(TypeTag<int32_t>{});
    case DType::Int16: return f(TypeTag<int16_t>{});
    case DType::Int8: return f(TypeTag<int8_t>{});
    case DType::UInt64: return f(TypeTag<uint64_t>{});
    case DType::UInt32: return f(TypeTag<uint32_t>{});
    case DType::UInt16: return f(TypeTag<uint16_t>{});
    case DType::UInt8: return f(TypeTag<uint8_t>{});
    case DType::Bool: return f(TypeTag<bool>{});
    }
}

// Round half to even, for x ≥ 0.
double roundHalfEven(double x)
{
    double r = std::floor(x);
    const double d = x - r;
    if (d > 0.5 || (d == 0.5 && std::fmod(r, 2.0) != 0.0))
        r += 1.0;
    return r;
}

// A binary floating-point format of 16 bits: 1 sign bit, E exponent bits, M mantissa bits (IEEE
// half: E 5, M 10; bfloat16: E 8, M 7). v rounded to nearest even, with subnormals and ±inf.
template<int E, int M>
uint16_t encodeSmallFloat(double v)
{
    constexpr int bias = (1 << (E - 1)) - 1;
    constexpr uint16_t expMask = uint16_t(((1 << E) - 1) << M);
    constexpr double one = double(1 << M); // the implicit leading 1, in mantissa units
    const uint16_t sign = std::signbit(v) ? 0x8000 : 0;
    if (std::isnan(v))
        return uint16_t(sign | expMask | (1 << (M - 1)));
    const double a = std::fabs(v);
    if (std::isinf(a))
        return uint16_t(sign | expMask);
    if (a == 0.0)
        return sign;
    int k = 0;
    std::frexp(a, &k);
    int e = k - 1; // a ∈ [2^e, 2^(e+1))
    if (e < 1 - bias) { // subnormal: in units of 2^(1 − bias − M); rounding up to 2^M gives the smallest normal
        const double m = roundHalfEven(std::ldexp(a, M - (1 - bias)));
        return uint16_t(sign | uint16_t(m));
    }
    double m = roundHalfEven(std::ldexp(a, M - e)); // ∈ [2^M, 2^(M+1)]
    if (m == 2 * one) {
        m = one;
        ++e;
    }
    if (e > bias)
        return uint16_t(sign | expMask);
    return uint16_t(sign | uint16_t((e + bias) << M) | uint16_t(m - one));
}

float halfToFloat(uint16_t h)
{
    const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    float v;
    if (e == 0)
        v = std::ldexp(static_cast<float>(m), -24);
    else if (e == 31)
        v = m != 0 ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
    else
        v = std::ldexp(static_cast<float>(m | 0x400), e - 25);
    return (h & 0x8000) ? -v : v;
}

float bfloat16ToFloat(uint16_t h)
{
    const uint32_t bits = static_cast<uint32_t>(h) << 16;
    float v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
}

template<typename T>
constexpr bool isHalfLike = std::is_same_v<T, Half> || std::is_same_v<T, BHalf>;

template<typename D, typename S>
D convert(S v)
{
    if constexpr (std::is_same_v<S, Half>)
        return convert<D>(halfToFloat(v.bits));
    else if constexpr (std::is_same_v<S, BHalf>)
        return convert<D>(bfloat16ToFloat(v.bits));
    else if constexpr (std::is_same_v<D, Half>)
        return Half{encodeSmallFloat<5, 10>(static_cast<double>(v))};
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
