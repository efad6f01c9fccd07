// SPDX-License-Identifier: Apache-2.0
// Internal to engine/ops: loops shared by the element-wise kernels (binary.cpp, compare.cpp,
// variadic.cpp). broadcastMap applies a function over a broadcast output with fast paths for
// same-shape and scalar operands; reduceBroadcastGrad writes the gradient of a broadcast operand
// (summed over its repeated dims serially in index order, so the sums are deterministic).
#pragma once

#include "core/parallel.h"
#include "core/tensor.h"
#include "ops/broadcast.h"

#include <cstdint>
#include <limits>
#include <type_traits>

namespace netwright {

// y[i] = f(a[·], b[·]) over Y's shape, with A and B broadcast to it.
template<typename TA, typename TB, typename TY, typename F>
void broadcastMap(const Tensor &A, const Tensor &B, Tensor &Y, F f, int64_t minPerThread = 4096)
{
    const TA *aIn = A.dataAs<TA>();
    const TB *bIn = B.dataAs<TB>();
    TY *yOut = Y.dataAs<TY>();
    const int64_t n = Y.numel();
    const BroadcastIndexer ia(Y.shape(), A.shape()), ib(Y.shape(), B.shape());
    if (ia.identity() && ib.identity()) {
        parallelFor(n, [&](int64_t i0, int64_t i1, int) {
            const TA *__restrict a = aIn;
            const TB *__restrict b = bIn;
            TY *__restrict y = yOut;
            for (int64_t i = i0; i < i1; ++i)
                y[i] = f(a[i], b[i]);
        }, minPerThread);
    } else if (ia.identity() && B.numel() == 1) {
        const TB z = bIn[0];
        parallelFor(n, [&](int64_t i0, int64_t i1, int) {
            const TA *__restrict a = aIn;
            TY *__restrict y = yOut;
            for (int64_t i = i0; i < i1; ++i)
                y[i] = f(a[i], z);
        }, minPerThread);
    } else if (ib.identity() && A.numel() == 1) {
        const TA x = aIn[0];
        parallelFor(n, [&](int64_t i0, int64_t i1, int) {
            const TB *__restrict b = bIn;
            TY *__restrict y = yOut;
            for (int64_t i = i0; i < i1; ++i)
                y[i] = f(x, b[i]);
        }, minPerThread);
    } else {
        parallelFor(n, [&](int64_t i0, int64_t i1, int) {
            for (int64_t i = i0; i < i1; ++i)
                yOut[i] = f(aIn[ia.identity() ? i : ia.offset(i)], bIn[ib.identity() ? i : ib.offset(i)]);
        }, minPerThread);
    }
}

// g (the gradient of an operand broadcast by `self` to n output elements) = Σ partial(i) over
// the output elements i that read each of its elements. Parallel when not broadcast, else serial.
template<typename F>
void reduceBroadcastGrad(const BroadcastIndexer &self, Tensor &gradInput, int64_t n, F partial)
{
    float *g = gradInput.data();
    if (self.identity()) {
        parallelFor(n, [&](int64_t i0, int64_t i1, int) {
            for (int64_t i = i0; i < i1; ++i)
                g[i] = partial(i);
        }, 4096);
    } else {
        gradInput.fill(0.0f);
        for (int64_t i = 0; i < n; ++i)
            g[self.offset(i)] += partial(i);
    }
}

// Integer arithmetic that wraps (two's complement) instead of overflowing into undefined
// behaviour: computed in an unsigned type at least as wide as int.
template<typename T>
using WrapType = std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, std::make_unsigned_t<T>>;

// A float converted to an integer type: truncated toward zero, saturated at the type's range,
// NaN → 0 (C++ leaves out-of-range conversions undefined; ONNX leaves them unspecified).
template<typename I, typename F>
I saturatingCast(F v)
{
    if constexpr (std::is_same_v<I, bool>) {
        return v != F(0);
    } else {
        if (!(v == v))
            return I(0);
        constexpr long double lo = static_cast<long double>(std::numeric_limits<I>::min());
        constexpr long double hi = static_cast<long double>(std::numeric_limits<I>::max());
        const long double t = static_cast<long double>(v);
        if (t <= lo)
            return std::numeric_limits<I>::min();
        if (t >= hi)
            return std::numeric_limits<I>::max();
        return static_cast<I>(t);
    }
}

} // namespace netwright
