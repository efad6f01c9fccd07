// SPDX-License-Identifier: Apache-2.0
// Add, Sub, Mul, Div, Pow, Mod (ONNX) with multidirectional broadcasting, for every numeric
// element type (float16 and bfloat16 are storage types here: refused). float32 is the training
// path: contiguous loops, with fast paths for same-shape and scalar operands.
// Integers: Add, Sub, Mul wrap around (two's complement); Div truncates toward zero like C; Mod
// takes the sign of the divisor (Python's %) when fmod = 0 and of the dividend (C's %, fmod)
// when fmod = 1; a zero integer divisor is an error naming the node. Floats: Mod with fmod = 0
// is numpy's mod (sign of the divisor), as ONNX's reference computes it.
// Pow: the base is float32, float64 or a signed integer, the exponent any numeric type; the
// output has the base's type (an integer base to a float exponent truncates toward zero; an
// integer to a negative integer power is 1/x^n truncated: 0 unless x is ±1).
// Gradients (float32): Add, Sub, Mul, Div; Pow to both inputs (the exponent's is y·ln(a) where
// the base a > 0 and 0 elsewhere, where the real power is defined only for integer exponents);
// Mod (dA = dY, dB = −dY·q with q the rounded quotient). The gradient of a broadcast operand is
// summed over the repeated dims, serially in index order (deterministic).
#include "core/error.h"
#include "core/parallel.h"
#include "ops/broadcast.h"
#include "ops/elementwise.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"
#include "ops/rowwise_isa.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace netwright {

namespace {

enum class BinaryKind { Add, Sub, Mul, Div, Pow, Mod };

template<typename T>
void requireNonZero(const Node &node, const Tensor &B)
{
    const T *b = B.dataAs<T>();
    check(std::find(b, b + B.numel(), T(0)) == b + B.numel(), node.describe() + ": an integer divisor is 0.");
}

template<typename T>
void arithmetic(BinaryKind kind, const Node &node, const Tensor &A, const Tensor &B, Tensor &Y)
{
    if constexpr (std::is_floating_point_v<T>) {
        switch (kind) {
        case BinaryKind::Add: broadcastMap<T, T, T>(A, B, Y, [](T x, T z) { return x + z; }); break;
        case BinaryKind::Sub: broadcastMap<T, T, T>(A, B, Y, [](T x, T z) { return x - z; }); break;
        case BinaryKind::Mul: broadcastMap<T, T, T>(A, B, Y, [](T x, T z) { return x * z; }); break;
        case BinaryKind::Div: broadcastMap<T, T, T>(A, B, Y, [](T x, T z) { return x / z; }); break;
        default: break;
        }
    } else {
        using W = WrapType<T>;
        switch (kind) {
        case BinaryKind::Add: broadcastMap<T, T, T>(A, B, Y, [](T x, T z) { return T(W(x) + W(z)); }); break;
        case BinaryKind::Sub: broadcastMap<T, T, T>(A, B, Y, [](T x, T z) { return T(W(x) - W(z)); }); break;
        case BinaryKind::Mul: broadcastMap<T, T, T>(A, B, Y, [](T x, T z) { return T(W(x) * W(z)); }); break;
        case BinaryKind::Div:
            requireNonZero<T>(node, B);
            broadcastMap<T, T, T>(A, B, Y, [](T x, T z) {
                if constexpr (std::is_signed_v<T>)
                    if (z == T(-1)) // the one quotient that overflows: INT_MIN / -1
                        return T(W(0) - W(x));
                return T(x / z);
            });
            break;
        default: break;
        }
    }
}

template<typename T>
void modulo(const Node &node, bool fmod, const Tensor &A, const Tensor &B, Tensor &Y)
{
    if constexpr (std::is_floating_point_v<T>) {
        if (fmod)
            broadcastMap<T, T, T>(A, B, Y, [](T x, T z) { return std::fmod(x, z); });
        else
            broadcastMap<T, T, T>(A, B, Y, [](T x, T z) {
                T r = std::fmod(x, z);
                if (r != T(0) && ((r < T(0)) != (z < T(0))))
                    r += z;
                return r;
            });
    } else {
        requireNonZero<T>(node, B);
        if constexpr (std::is_signed_v<T>) {
            if (fmod)
                broadcastMap<T, T, T>(A, B, Y, [](T x, T z) { return z == T(-1) ? T(0) : T(x % z); });
            else
                broadcastMap<T, T, T>(A, B, Y, [](T x, T z) {
                    if (z == T(-1))
                        return T(0);
                    T r = T(x % z);
                    if (r != T(0) && ((r < T(0)) != (z < T(0))))
                        r = T(r + z);
                    return r;
                });
        } else {
            broadcastMap<T, T, T>(A, B, Y, [](T x, T z) { return T(x % z); });
        }
    }
}

// x^z for an integer base and exponent, wrapping like the other integer arithmetic.
template<typename TA, typename TB>
TA integerPower(TA x, TB z)
{
    using W = WrapType<TA>;
    if constexpr (std::is_signed_v<TB>)
        if (z < 0)
            return x == TA(1) ? TA(1) : x == TA(-1) ? ((z % 2) != 0 ? TA(-1) : TA(1)) : TA(0);
    W result = 1, base = W(x);
    auto e = static_cast<uint64_t>(z);
    while (e != 0) {
        if (e & 1)
            result = W(result * base);
        base = W(base * base);
        e >>= 1;
    }
    return TA(result);
}

template<typename TA, typename TB>
TA power(TA x, TB z)
{
    if constexpr (std::is_same_v<TA, float> && std::is_same_v<TB, float>)
        return std::pow(x, z);
    else if constexpr (std::is_floating_point_v<TA>)
        return static_cast<TA>(std::pow(static_cast<double>(x), static_cast<double>(z)));
    else if constexpr (std::is_integral_v<TB>)
        return integerPower(x, z);
    else
        return saturatingCast<TA>(std::pow(static_cast<double>(x), static_cast<double>(z)));
}

// A float32 copy of a numeric tensor (Pow's exponent when the base trains and the exponent is not
// float32).
Tensor asFloat32(const Node &node, const Tensor &t)
{
    if (t.dtype() == DType::Float32)
        return t;
    Tensor f(t.shape());
    dispatchType<kNumeric>(t.dtype(), node, [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T *src = t.dataAs<T>();
        float *dst = f.data();
        for (int64_t i = 0; i < t.numel(); ++i)
            dst[i] = static_cast<float>(src[i]);
    });
    return f;
}

// The gradient of Add's or Sub's operand that is a bias: an operand whose elements are dY's
// trailing dims and is repeated over all the leading ones gets dY's column sums (negated for Sub's
// second operand), at the CPU's vector width; the sums of reduceBroadcastGrad, bit for bit. False
// (nothing written) for any other broadcast.
bool sumsRows(const Tensor &dY, Tensor &grad, bool negate)
{
    int step = 0;
    const int64_t row = broadcastRow(dY.shape(), {&grad.shape()}, &step), n = dY.numel();
    if (step != 1 || row != grad.numel() || row == 0 || row == n)
        return false;
    const int64_t rows = n / row;
    const float *dy = dY.data();
    float *g = grad.data();
    const auto sums = rows::columnSums();
    parallelFor(row, [&](int64_t c0, int64_t c1, int) {
        sums(dy, rows, row, c0, c1, g + c0);
        if (negate)
            for (int64_t c = c0; c < c1; ++c)
                g[c] = -g[c];
    }, std::max<int64_t>(16, 16384 / rows));
    return true;
}

class Binary final : public OpKernel {
public:
    explicit Binary(BinaryKind kind) : m_kind(kind) {}
    // Add's operands and Sub's first, where not broadcast: their gradient is dY.
    bool passesGradient(size_t input, const Shape &inShape, const Shape &outShape, const std::vector<Tensor> &) const override
    {
        return inShape == outShape && (m_kind == BinaryKind::Add || (m_kind == BinaryKind::Sub && input == 0));
    }

    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 2, node.describe() + ": needs two inputs.");
        return {shape_rules::broadcast(node, in[0], in[1])};
    }

    std::vector<DType> outputTypes(const Node &node, const std::vector<DType> &in) const override
    {
        check(in.size() == 2, node.describe() + ": needs two inputs.");
        check(m_kind == BinaryKind::Pow || in[0] == in[1], node.describe() + ": its inputs are " + dtypeName(in[0]) + " and "
                                                              + dtypeName(in[1]) + "; " + node.opType + " needs one element type.");
        return {in[0]};
    }

    bool acceptsType(size_t input, DType type) const override
    {
        if (m_kind == BinaryKind::Pow && input == 0)
            return inTypeSet(type, kFloats | kSignedInts);
        return inTypeSet(type, kNumeric);
    }

    void forward(KernelContext &ctx) const override
    {
        const Node &node = ctx.node;
        const Tensor &A = ctx.in(0), &B = ctx.in(1);
        Tensor &Y = ctx.out(0);
        if (m_kind == BinaryKind::Pow) {
            dispatchType<kFloats | kSignedInts>(A.dtype(), node, [&](auto ta) {
                using TA = typename decltype(ta)::type;
                dispatchType<kNumeric>(B.dtype(), node, [&](auto tb) {
                    using TB = typename decltype(tb)::type;
                    broadcastMap<TA, TB, TA>(A, B, Y, [](TA x, TB z) { return power<TA, TB>(x, z); });
                });
            });
            return;
        }
        check(A.dtype() == B.dtype(), node.describe() + ": its inputs are " + dtypeName(A.dtype()) + " and " + dtypeName(B.dtype())
                                          + "; " + node.opType + " needs one element type.");
        if (m_kind == BinaryKind::Mod) {
            const bool fmod = node.attrInt("fmod", 0) != 0;
            dispatchType<kNumeric>(A.dtype(), node, [&](auto tag) { modulo<typename decltype(tag)::type>(node, fmod, A, B, Y); });
            return;
        }
        if (A.dtype() == DType::Float32) // the training path, without the dispatch
            return arithmetic<float>(m_kind, node, A, B, Y);
        dispatchType<kNumeric>(A.dtype(), node, [&](auto tag) { arithmetic<typename decltype(tag)::type>(m_kind, node, A, B, Y); });
    }

    void backward(KernelContext &ctx) const override
    {
        const Tensor &A = ctx.in(0), &dY = *ctx.gradOutputs[0];
        // Only float32 trains: a gradient asked of a non-float32 computation is zero.
        if (A.dtype() != DType::Float32 || ctx.out(0).dtype() != DType::Float32 || (m_kind != BinaryKind::Pow && ctx.in(1).dtype() != DType::Float32)) {
            for (int which = 0; which < 2; ++which)
                if (ctx.wantsGrad(which))
                    ctx.gradInputs[which]->fill(0.0f);
            return;
        }
        const Tensor B = m_kind == BinaryKind::Pow ? asFloat32(ctx.node, ctx.in(1)) : ctx.in(1);
        const BroadcastIndexer ia(dY.shape(), A.shape()), ib(dY.shape(), B.shape());
        // The partials of Mul, Div, Pow, Mod read both operands: a broadcast one is expanded to
        // dY's shape first (one fast pass) instead of locating each element by division.
        const bool readsOperands = m_kind != BinaryKind::Add && m_kind != BinaryKind::Sub;
        auto expanded = [&](const Tensor &t, const BroadcastIndexer &ix) {
            if (!readsOperands || ix.identity())
                return t;
            Tensor e(dY.shape());
            broadcastMap<float, float, float>(t, t, e, [](float v, float) { return v; });
            return e;
        };
        const Tensor Ae = expanded(A, ia), Be = expanded(B, ib);
        const float *a = Ae.data(), *b = Be.data(), *dy = dY.data(), *y = ctx.out(0).data();
        const bool fmod = ctx.node.attrInt("fmod", 0) != 0;
        for (int which = 0; which < 2; ++which) {
            if (!ctx.wantsGrad(which))
                continue;
            if (which == 1 && ctx.in(1).dtype() != DType::Float32) { // Pow's non-float exponent
                ctx.gradInputs[1]->fill(0.0f);
                continue;
            }
            // The partial derivative times dY at output element i.
            // Add and Sub read neither operand (a broadcast one is not expanded: a[i] would be out
            // of its bounds); their loop reads dY alone, without a per-element test, so it vectorises.
            auto grad = [&](auto partial) {
                const BroadcastIndexer &self = which == 0 ? ia : ib;
                if (readsOperands)
                    reduceBroadcastGrad(self, dY.shape(), *ctx.gradInputs[which],
                                        [&](int64_t i) { return partial(a[i], b[i], dy[i], y[i]); });
                else
                    reduceBroadcastGrad(self, dY.shape(), *ctx.gradInputs[which],
                                        [&](int64_t i) { return partial(0.0f, 0.0f, dy[i], 0.0f); });
            };
            const bool first = which == 0;
            if (!readsOperands && sumsRows(dY, *ctx.gradInputs[which], !first && m_kind == BinaryKind::Sub))
                continue;
            switch (m_kind) {
            case BinaryKind::Add: grad([](float, float, float g, float) { return g; }); break;
            case BinaryKind::Sub: grad([first](float, float, float g, float) { return first ? g : -g; }); break;
            case BinaryKind::Mul: grad([first](float x, float z, float g, float) { return first ? g * z : g * x; }); break;
            case BinaryKind::Div: grad([first](float x, float z, float g, float) { return first ? g / z : -g * x / (z * z); }); break;
            case BinaryKind::Pow:
                if (first)
                    grad([](float x, float z, float g, float) { return z == 0.0f ? 0.0f : g * z * std::pow(x, z - 1.0f); });
                else
                    grad([](float x, float, float g, float v) { return x > 0.0f ? g * v * std::log(x) : 0.0f; });
                break;
            case BinaryKind::Mod:
                if (first)
                    grad([](float, float, float g, float) { return g; });
                else
                    grad([fmod](float x, float z, float g, float) { return -g * (fmod ? std::trunc(x / z) : std::floor(x / z)); });
                break;
            }
        }
    }

private:
    BinaryKind m_kind;
};

} // namespace

void registerBinaryOps(KernelTable &t)
{
    t["Add"] = std::make_unique<Binary>(BinaryKind::Add);
    t["Sub"] = std::make_unique<Binary>(BinaryKind::Sub);
    t["Mul"] = std::make_unique<Binary>(BinaryKind::Mul);
    t["Div"] = std::make_unique<Binary>(BinaryKind::Div);
    t["Pow"] = std::make_unique<Binary>(BinaryKind::Pow);
    t["Mod"] = std::make_unique<Binary>(BinaryKind::Mod);
}

} // namespace netwright
