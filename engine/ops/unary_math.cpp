// SPDX-License-Identifier: Apache-2.0
// Element-wise math on one input (ONNX): Neg, Abs, Sign, Exp, Log, Sqrt, Reciprocal, Erf, the
// trigonometric and hyperbolic functions, Floor, Ceil, Round, Not, IsNaN, IsInf.
// Types as ONNX defines them: the math functions on float32/float64 (Erf on every numeric type,
// computed in double for integers and truncated), Neg on floats and signed integers, Abs and Sign
// on every numeric type, Not on bool, IsNaN/IsInf on floats with a bool output. Round rounds half
// to even. Gradients (float32) for every differentiable op: Sign, Floor, Ceil and Round have a
// zero gradient; Not, IsNaN and IsInf are not differentiable.
#include "core/error.h"
#include "core/parallel.h"
#include "ops/activation_isa.h"
#include "ops/elementwise.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"
#include "ops/vector_math.h"

#include <cmath>
#include <optional>
#include <type_traits>

namespace netwright {

namespace {

enum class UnaryKind {
    Neg, Abs, Sign, Exp, Log, Sqrt, Reciprocal, Erf, Sin, Cos, Tan, Asin, Acos, Atan, Sinh, Cosh, Asinh, Acosh, Atanh,
    Floor, Ceil, Round, Not, IsNaN, IsInf
};

// The element types each op computes with (ONNX's type constraints, less float16/bfloat16).
unsigned typesOf(UnaryKind k)
{
    switch (k) {
    case UnaryKind::Neg: return kFloats | kSignedInts;
    case UnaryKind::Abs:
    case UnaryKind::Sign:
    case UnaryKind::Erf: return kNumeric;
    case UnaryKind::Not: return kBool;
    default: return kFloats;
    }
}

bool boolOutput(UnaryKind k) { return k == UnaryKind::IsNaN || k == UnaryKind::IsInf; }

// Half to even: ties go to the even neighbour (std::round takes them away from zero).
template<typename T>
T roundHalfEven(T x)
{
    T r = std::floor(x);
    const T d = x - r;
    if (d > T(0.5) || (d == T(0.5) && std::fmod(r, T(2)) != T(0)))
        r += T(1);
    return r;
}

template<typename TX, typename TY, typename F>
void mapElements(const Tensor &X, Tensor &Y, F f)
{
    const TX *xIn = X.dataAs<TX>();
    TY *yOut = Y.dataAs<TY>();
    parallelFor(X.numel(), [&](int64_t i0, int64_t i1, int) {
        const TX *__restrict x = xIn;
        TY *__restrict y = yOut;
        for (int64_t i = i0; i < i1; ++i)
            y[i] = f(x[i]);
    }, 8192);
}

// The float ops, for T = float or double.
template<typename T>
void floatForward(UnaryKind k, const Node &node, const Tensor &X, Tensor &Y)
{
    switch (k) {
    case UnaryKind::Exp: mapElements<T, T>(X, Y, [](T v) { return vm::expOf(v); }); break;
    case UnaryKind::Log: mapElements<T, T>(X, Y, [](T v) { return std::log(v); }); break;
    case UnaryKind::Sqrt: mapElements<T, T>(X, Y, [](T v) { return std::sqrt(v); }); break;
    case UnaryKind::Reciprocal: mapElements<T, T>(X, Y, [](T v) { return T(1) / v; }); break;
    case UnaryKind::Sin: mapElements<T, T>(X, Y, [](T v) { return std::sin(v); }); break;
    case UnaryKind::Cos: mapElements<T, T>(X, Y, [](T v) { return std::cos(v); }); break;
    case UnaryKind::Tan: mapElements<T, T>(X, Y, [](T v) { return std::tan(v); }); break;
    case UnaryKind::Asin: mapElements<T, T>(X, Y, [](T v) { return std::asin(v); }); break;
    case UnaryKind::Acos: mapElements<T, T>(X, Y, [](T v) { return std::acos(v); }); break;
    case UnaryKind::Atan: mapElements<T, T>(X, Y, [](T v) { return std::atan(v); }); break;
    case UnaryKind::Sinh: mapElements<T, T>(X, Y, [](T v) { return std::sinh(v); }); break;
    case UnaryKind::Cosh: mapElements<T, T>(X, Y, [](T v) { return std::cosh(v); }); break;
    case UnaryKind::Asinh: mapElements<T, T>(X, Y, [](T v) { return std::asinh(v); }); break;
    case UnaryKind::Acosh: mapElements<T, T>(X, Y, [](T v) { return std::acosh(v); }); break;
    case UnaryKind::Atanh: mapElements<T, T>(X, Y, [](T v) { return std::atanh(v); }); break;
    case UnaryKind::Floor: mapElements<T, T>(X, Y, [](T v) { return std::floor(v); }); break;
    case UnaryKind::Ceil: mapElements<T, T>(X, Y, [](T v) { return std::ceil(v); }); break;
    case UnaryKind::Round: mapElements<T, T>(X, Y, [](T v) { return roundHalfEven(v); }); break;
    case UnaryKind::IsNaN: mapElements<T, bool>(X, Y, [](T v) { return std::isnan(v); }); break;
    case UnaryKind::IsInf: {
        const bool negative = node.attrInt("detect_negative", 1) != 0, positive = node.attrInt("detect_positive", 1) != 0;
        mapElements<T, bool>(X, Y, [=](T v) { return std::isinf(v) && (v > T(0) ? positive : negative); });
        break;
    }
    default: break;
    }
}

class UnaryMath final : public OpKernel {
public:
    explicit UnaryMath(UnaryKind kind) : m_kind(kind) {}

    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 1, node.describe() + ": needs one input.");
        return {in[0]};
    }

    std::vector<DType> outputTypes(const Node &node, const std::vector<DType> &in) const override
    {
        check(in.size() == 1, node.describe() + ": needs one input.");
        return {boolOutput(m_kind) ? DType::Bool : in[0]};
    }

    bool acceptsType(size_t, DType type) const override { return inTypeSet(type, typesOf(m_kind)); }
    // Erf and Exp on float32 run the per-CPU-level loops of ops/activation_isa.h.
    std::optional<act::ActKind> activationKind() const
    {
        if (m_kind == UnaryKind::Erf)
            return act::ActKind::Erf;
        if (m_kind == UnaryKind::Exp)
            return act::ActKind::Exp;
        return std::nullopt;
    }
    bool differentiable(size_t) const override
    {
        return m_kind != UnaryKind::Not && m_kind != UnaryKind::IsNaN && m_kind != UnaryKind::IsInf;
    }

    void forward(KernelContext &ctx) const override
    {
        const Node &node = ctx.node;
        const Tensor &X = ctx.in(0);
        Tensor &Y = ctx.out(0);
        if (const auto act = activationKind(); act && X.dtype() == DType::Float32) { // the CPU level's vector loops
            const float *x = X.data();
            float *y = Y.data();
            const auto loop = activationForwardF32();
            parallelFor(X.numel(), [=](int64_t i0, int64_t i1, int) { loop(*act, act::ActParams{}, x, y, i0, i1); }, 8192);
            return;
        }
        switch (m_kind) {
        case UnaryKind::Neg:
            dispatchType<kFloats | kSignedInts>(X.dtype(), node, [&](auto tag) {
                using T = typename decltype(tag)::type;
                if constexpr (std::is_floating_point_v<T>)
                    mapElements<T, T>(X, Y, [](T v) { return -v; });
                else
                    mapElements<T, T>(X, Y, [](T v) { return T(WrapType<T>(0) - WrapType<T>(v)); });
            });
            break;
        case UnaryKind::Abs:
            dispatchType<kNumeric>(X.dtype(), node, [&](auto tag) {
                using T = typename decltype(tag)::type;
                if constexpr (std::is_floating_point_v<T>)
                    mapElements<T, T>(X, Y, [](T v) { return std::fabs(v); });
                else if constexpr (std::is_signed_v<T>)
                    mapElements<T, T>(X, Y, [](T v) { return v < 0 ? T(WrapType<T>(0) - WrapType<T>(v)) : v; });
                else
                    mapElements<T, T>(X, Y, [](T v) { return v; });
            });
            break;
        case UnaryKind::Sign:
            dispatchType<kNumeric>(X.dtype(), node, [&](auto tag) {
                using T = typename decltype(tag)::type;
                mapElements<T, T>(X, Y, [](T v) {
                    if constexpr (std::is_floating_point_v<T>)
                        if (std::isnan(v))
                            return v;
                    return v > T(0) ? T(1) : v < T(0) ? T(-1) : T(0);
                });
            });
            break;
        case UnaryKind::Erf:
            dispatchType<kNumeric>(X.dtype(), node, [&](auto tag) {
                using T = typename decltype(tag)::type;
                if constexpr (std::is_floating_point_v<T>)
                    mapElements<T, T>(X, Y, [](T v) { return vm::erfOf(v); });
                else
                    mapElements<T, T>(X, Y, [](T v) { return saturatingCast<T>(std::erf(static_cast<double>(v))); });
            });
            break;
        case UnaryKind::Not:
            dispatchType<kBool>(X.dtype(), node, [&](auto) {
                mapElements<uint8_t, uint8_t>(X, Y, [](uint8_t v) { return uint8_t(v == 0 ? 1 : 0); });
            });
            break;
        default:
            if (X.dtype() == DType::Float32)
                floatForward<float>(m_kind, node, X, Y);
            else
                dispatchType<kFloats>(X.dtype(), node, [&](auto tag) { floatForward<typename decltype(tag)::type>(m_kind, node, X, Y); });
        }
    }

    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        Tensor &G = *ctx.gradInputs[0];
        const Tensor &X = ctx.in(0), &Y = ctx.out(0), &dY = *ctx.gradOutputs[0];
        if (X.dtype() != DType::Float32 || Y.dtype() != DType::Float32) {
            G.fill(0.0f);
            return;
        }
        const float *xIn = X.data(), *yIn = Y.data(), *dyIn = dY.data();
        float *gOut = G.data();
        if (const auto act = activationKind()) {
            const auto loop = activationBackwardF32();
            parallelFor(X.numel(), [=](int64_t i0, int64_t i1, int) { loop(*act, act::ActParams{}, xIn, yIn, dyIn, gOut, i0, i1); }, 8192);
            return;
        }
        // g = dY · f'(x), with f' written from x and y = f(x).
        auto grad = [&](auto derivative) {
            parallelFor(X.numel(), [&](int64_t i0, int64_t i1, int) {
                const float *__restrict x = xIn, *__restrict y = yIn, *__restrict dy = dyIn;
                float *__restrict g = gOut;
                for (int64_t i = i0; i < i1; ++i)
                    g[i] = dy[i] * derivative(x[i], y[i]);
            }, 8192);
        };
        switch (m_kind) {
        case UnaryKind::Neg: grad([](float, float) { return -1.0f; }); break;
        case UnaryKind::Abs: grad([](float x, float) { return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : 0.0f; }); break;
        case UnaryKind::Sign:
        case UnaryKind::Floor:
        case UnaryKind::Ceil:
        case UnaryKind::Round: G.fill(0.0f); break;
        case UnaryKind::Exp: grad([](float, float y) { return y; }); break;
        case UnaryKind::Log: grad([](float x, float) { return 1.0f / x; }); break;
        case UnaryKind::Sqrt: grad([](float, float y) { return 0.5f / y; }); break;
        case UnaryKind::Reciprocal: grad([](float, float y) { return -y * y; }); break;
        case UnaryKind::Erf: grad([](float x, float) { return 1.1283791670955126f * vm::exp(-x * x); }); break; // 2/√π
        case UnaryKind::Sin: grad([](float x, float) { return std::cos(x); }); break;
        case UnaryKind::Cos: grad([](float x, float) { return -std::sin(x); }); break;
        case UnaryKind::Tan: grad([](float, float y) { return 1.0f + y * y; }); break;
        case UnaryKind::Asin: grad([](float x, float) { return 1.0f / std::sqrt(1.0f - x * x); }); break;
        case UnaryKind::Acos: grad([](float x, float) { return -1.0f / std::sqrt(1.0f - x * x); }); break;
        case UnaryKind::Atan: grad([](float x, float) { return 1.0f / (1.0f + x * x); }); break;
        case UnaryKind::Sinh: grad([](float x, float) { return std::cosh(x); }); break;
        case UnaryKind::Cosh: grad([](float x, float) { return std::sinh(x); }); break;
        case UnaryKind::Asinh: grad([](float x, float) { return 1.0f / std::sqrt(x * x + 1.0f); }); break;
        case UnaryKind::Acosh: grad([](float x, float) { return 1.0f / std::sqrt(x * x - 1.0f); }); break;
        case UnaryKind::Atanh: grad([](float x, float) { return 1.0f / (1.0f - x * x); }); break;
        case UnaryKind::Not:
        case UnaryKind::IsNaN:
        case UnaryKind::IsInf: G.fill(0.0f); break;
        }
    }

private:
    UnaryKind m_kind;
};

} // namespace

void registerUnaryMath(KernelTable &t)
{
    const std::pair<const char *, UnaryKind> ops[] = {
        {"Neg", UnaryKind::Neg},     {"Abs", UnaryKind::Abs},     {"Sign", UnaryKind::Sign},   {"Exp", UnaryKind::Exp},
        {"Log", UnaryKind::Log},     {"Sqrt", UnaryKind::Sqrt},   {"Reciprocal", UnaryKind::Reciprocal},
        {"Erf", UnaryKind::Erf},     {"Sin", UnaryKind::Sin},     {"Cos", UnaryKind::Cos},     {"Tan", UnaryKind::Tan},
        {"Asin", UnaryKind::Asin},   {"Acos", UnaryKind::Acos},   {"Atan", UnaryKind::Atan},   {"Sinh", UnaryKind::Sinh},
        {"Cosh", UnaryKind::Cosh},   {"Asinh", UnaryKind::Asinh}, {"Acosh", UnaryKind::Acosh}, {"Atanh", UnaryKind::Atanh},
        {"Floor", UnaryKind::Floor}, {"Ceil", UnaryKind::Ceil},   {"Round", UnaryKind::Round}, {"Not", UnaryKind::Not},
        {"IsNaN", UnaryKind::IsNaN}, {"IsInf", UnaryKind::IsInf},
    };
    for (const auto &[name, kind] : ops)
        t[name] = std::make_unique<UnaryMath>(kind);
}

} // namespace netwright
