// SPDX-License-Identifier: Apache-2.0
// Internal to engine/ops: loops shared by the element-wise kernels (binary.cpp, compare.cpp,
// variadic.cpp). broadcastMap applies a function over a broadcast output with fast paths for
// same-shape and scalar operands; reduceBroadcastGrad writes the gradient of a broadcast operand
// (each element summed over its repeated dims in index order, so the sums are deterministic and the
// same at any thread count).
#pragma once

#include "core/parallel.h"
#include "core/tensor.h"
#include "ops/broadcast.h"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <type_traits>

namespace netwright {

// The trailing dims of `out` over which each input of `ins` is either wholly repeated or wholly
// present: their element count (a row), and per input its step along a row (0 or 1). Broadcast
// loops then handle a row at a time with one offset computation.
inline int64_t broadcastRow(const Shape &out, std::initializer_list<const Shape *> ins, int *steps)
{
    const int r = static_cast<int>(out.size());
    int64_t row = 1;
    for (size_t k = 0; k < ins.size(); ++k)
        steps[k] = -1;
    for (int d = r - 1; d >= 0; --d) {
        if (out[static_cast<size_t>(d)] == 1)
            continue;
        bool fits = true;
        size_t k = 0;
        for (const Shape *in : ins) {
            const int id = d - (r - static_cast<int>(in->size()));
            const int step = id >= 0 && (*in)[static_cast<size_t>(id)] != 1 ? 1 : 0;
            fits = fits && (steps[k] < 0 || steps[k] == step);
            ++k;
        }
        if (!fits)
            break;
        k = 0;
        for (const Shape *in : ins) {
            const int id = d - (r - static_cast<int>(in->size()));
            steps[k++] = id >= 0 && (*in)[static_cast<size_t>(id)] != 1 ? 1 : 0;
        }
        row *= out[static_cast<size_t>(d)];
    }
    for (size_t k = 0; k < ins.size(); ++k)
        if (steps[k] < 0)
            steps[k] = 0;
    return row;
}

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
    } else { // a row at a time: one offset computation per row, then a contiguous inner loop
        int steps[2];
        const int64_t row = broadcastRow(Y.shape(), {&A.shape(), &B.shape()}, steps);
        const bool stepA = steps[0] != 0, stepB = steps[1] != 0;
        parallelFor(n, [&](int64_t i0, int64_t i1, int) {
            for (int64_t i = i0; i < i1;) {
                const int64_t len = std::min(row - i % row, i1 - i);
                const TA *__restrict a = aIn + ia.offset(i);
                const TB *__restrict b = bIn + ib.offset(i);
                TY *__restrict y = yOut + i;
                if (stepA && stepB) {
                    for (int64_t j = 0; j < len; ++j)
                        y[j] = f(a[j], b[j]);
                } else if (stepA) {
                    const TB z = b[0];
                    for (int64_t j = 0; j < len; ++j)
                        y[j] = f(a[j], z);
                } else if (stepB) {
                    const TA x = a[0];
                    for (int64_t j = 0; j < len; ++j)
                        y[j] = f(x, b[j]);
                } else {
                    const TY v = f(a[0], b[0]);
                    for (int64_t j = 0; j < len; ++j)
                        y[j] = v;
                }
                i += len;
            }
        }, minPerThread);
    }
}

// g (the gradient of an operand broadcast by `self` to outShape) = Σ partial(i) over the output
// elements i that read each of its elements. Parallel, and deterministic at any thread count: each
// thread owns a set of g's elements (a range of a row's columns, or a range of g) and walks the
// output rows in index order, adding into its own elements only, so every element's sum is formed
// in the one serial order.
template<typename F>
void reduceBroadcastGrad(const BroadcastIndexer &self, const Shape &outShape, Tensor &gradInput, F partial)
{
    float *g = gradInput.data();
    const int64_t n = shapeNumel(outShape);
    if (self.identity()) {
        parallelFor(n, [&](int64_t i0, int64_t i1, int) {
            for (int64_t i = i0; i < i1; ++i)
                g[i] = partial(i);
        }, 4096);
        return;
    }
    gradInput.fill(0.0f);
    if (n == 0)
        return;
    int step = 0;
    const int64_t row = broadcastRow(outShape, {&gradInput.shape()}, &step);
    const int64_t rows = n / row;
    if (step) { // a row adds into `row` consecutive elements of g: the threads split the columns
        const int64_t minColumns = std::max<int64_t>(16, 16384 / rows);
        parallelFor(row, [&](int64_t j0, int64_t j1, int) {
            for (int64_t r = 0; r < rows; ++r) {
                const int64_t i = r * row;
                float *__restrict gr = g + self.offset(i);
                for (int64_t j = j0; j < j1; ++j)
                    gr[j] += partial(i + j);
            }
        }, minColumns);
    } else { // a row sums into one element of g: the threads split g's elements
        const int64_t gn = gradInput.numel();
        const int64_t minElements = std::max<int64_t>(1, gn * 16384 / n);
        parallelFor(gn, [&](int64_t e0, int64_t e1, int) {
            for (int64_t r = 0; r < rows; ++r) {
                const int64_t i = r * row;
                const int64_t at = self.offset(i);
                if (at < e0 || at >= e1)
                    continue;
                float sum = 0.0f;
                for (int64_t j = 0; j < row; ++j)
                    sum += partial(i + j);
                g[at] += sum;
            }
        }, minElements);
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
