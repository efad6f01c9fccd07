// SPDX-License-Identifier: Apache-2.0
// Internal to engine/ops: what the shape, slicing, indexing and rearranging kernels share. They
// move elements without looking at them, so they work on every element type by its byte size
// (byElementSize); output shapes computed from data (Expand, Tile, Range, ConstantOfShape …) are
// bounded by checkedNumel so a hostile operand is refused, naming the node, before allocating.
#pragma once

#include "core/error.h"
#include "ops/kernel_util.h"

#include <cstdint>
#include <vector>

namespace netwright {

// The most elements an output computed from operand values may have (2^34): far beyond any
// real model's tensors, well below what would exhaust memory or overflow byte counts.
constexpr int64_t kMaxComputedElements = int64_t(1) << 34;

// The element count of `shape`, an output shape computed from operand values; an Error naming
// the node when a dim is negative or the count exceeds kMaxComputedElements.
inline int64_t checkedNumel(const Node &node, const Shape &shape)
{
    for (int64_t d : shape) {
        check(d >= 0, node.describe() + ": the output shape " + shapeToString(shape) + " has a negative dimension.");
        if (d == 0)
            return 0;
    }
    int64_t n = 1;
    for (int64_t d : shape) {
        check(n <= kMaxComputedElements / d, node.describe() + ": the output shape " + shapeToString(shape)
                                                  + " has more elements than the engine allocates (2^34).");
        n *= d;
    }
    return n;
}

// f(TypeTag<U>{}) with U an unsigned integer of the element's byte size: for kernels that move
// elements without computing with them (any element type, float16 and bool included).
template<typename F> decltype(auto) byElementSize(DType t, F &&f)
{
    switch (dtypeSize(t)) {
    case 1: return f(TypeTag<uint8_t>{});
    case 2: return f(TypeTag<uint16_t>{});
    case 4: return f(TypeTag<uint32_t>{});
    default: return f(TypeTag<uint64_t>{});
    }
}

// Row-major strides of `shape` (in elements).
inline std::vector<int64_t> rowMajorStrides(const Shape &shape)
{
    std::vector<int64_t> s(shape.size(), 1);
    for (int d = static_cast<int>(shape.size()) - 2; d >= 0; --d)
        s[d] = s[d + 1] * shape[d + 1];
    return s;
}

// The value of a one-element tensor of any numeric type, as double (Range's operands, OneHot's
// depth, Trilu's k).
inline double scalarAsDouble(const Node &node, const Tensor &t, const char *what)
{
    check(t.numel() == 1, node.describe() + ": " + what + " must have exactly one element, got shape " + shapeToString(t.shape()) + ".");
    return dispatchType<kNumeric>(t.dtype(), node, [&](auto tag) {
        using T = typename decltype(tag)::type;
        return static_cast<double>(t.dataAs<T>()[0]);
    });
}

} // namespace netwright
