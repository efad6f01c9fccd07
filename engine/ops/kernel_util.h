// SPDX-License-Identifier: Apache-2.0
// Internal to engine/ops: what many kernels share. dispatchType calls a generic lambda with the
// C++ type of a tensor's element type, for the ops ONNX defines over many types (arithmetic,
// comparisons, indexing, Cast): training stays float32; these serve inference and the integer
// shape arithmetic of imported graphs. intValues and the axes helpers read integer operands.
#pragma once

#include "core/error.h"
#include "core/tensor.h"
#include "graph/graph.h"
#include "ops/op.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace netwright {

template<typename T> struct TypeTag {
    using type = T;
};

enum TypeSet : unsigned { kFloats = 1, kSignedInts = 2, kUnsignedInts = 4, kBool = 8, kNumeric = 7, kAllTypes = 15 };

inline bool inTypeSet(DType t, unsigned set)
{
    switch (t) {
    case DType::Float32:
    case DType::Float64: return set & kFloats;
    case DType::Int64:
    case DType::Int32:
    case DType::Int16:
    case DType::Int8: return set & kSignedInts;
    case DType::UInt64:
    case DType::UInt32:
    case DType::UInt16:
    case DType::UInt8: return set & kUnsignedInts;
    case DType::Bool: return set & kBool;
    case DType::Float16:
    case DType::BFloat16: return false;
    }
    return false;
}

// f(TypeTag<T>{}) for the element type `t`, when `t` is in `set`; otherwise an Error naming the
// node and the type. float16/bfloat16 are storage types only (Cast converts them).
template<unsigned Set, typename F> decltype(auto) dispatchType(DType t, const Node &node, F &&f)
{
    if (!inTypeSet(t, Set))
        throw Error(node.describe() + ": the engine has no " + dtypeName(t) + " kernel for " + node.opType + ".");
    switch (t) {
    case DType::Float64:
        if constexpr ((Set & kFloats) != 0)
            return f(TypeTag<double>{});
        break;
    case DType::Int64:
        if constexpr ((Set & kSignedInts) != 0)
            return f(TypeTag<int64_t>{});
        break;
    case DType::Int32:
        if constexpr ((Set & kSignedInts) != 0)
            return f(TypeTag<int32_t>{});
        break;
    case DType::Int16:
        if constexpr ((Set & kSignedInts) != 0)
            return f(TypeTag<int16_t>{});
        break;
    case DType::Int8:
        if constexpr ((Set & kSignedInts) != 0)
            return f(TypeTag<int8_t>{});
        break;
    case DType::UInt64:
        if constexpr ((Set & kUnsignedInts) != 0)
            return f(TypeTag<uint64_t>{});
        break;
    case DType::UInt32:
        if constexpr ((Set & kUnsignedInts) != 0)
            return f(TypeTag<uint32_t>{});
        break;
    case DType::UInt16:
        if constexpr ((Set & kUnsignedInts) != 0)
            return f(TypeTag<uint16_t>{});
        break;
    case DType::UInt8:
        if constexpr ((Set & kUnsignedInts) != 0)
            return f(TypeTag<uint8_t>{});
        break;
    case DType::Bool:
        if constexpr ((Set & kBool) != 0)
            return f(TypeTag<bool>{});
        break;
    default: break;
    }
    if constexpr ((Set & kFloats) != 0)
        return f(TypeTag<float>{}); // Float32 (inTypeSet let nothing else through)
    throw Error(node.describe() + ": the engine has no " + dtypeName(t) + " kernel for " + node.opType + ".");
}

// The values of an integer tensor (int64 or int32: shape operands, indices, axes) as int64.
inline std::vector<int64_t> intValues(const Node &node, const Tensor &t, const char *what)
{
    if (t.dtype() == DType::Int64)
        return std::vector<int64_t>(t.dataAs<int64_t>(), t.dataAs<int64_t>() + t.numel());
    if (t.dtype() == DType::Int32)
        return std::vector<int64_t>(t.dataAs<int32_t>(), t.dataAs<int32_t>() + t.numel());
    throw Error(node.describe() + ": " + what + " must be int64 or int32, got " + dtypeName(t.dtype()) + ".");
}

// ONNX's TensorProto.DataType numbering (onnx.proto) for the types the engine stores (Cast's
// `to`, EyeLike's `dtype`); nullopt for strings, complex numbers and float8.
inline std::optional<DType> dtypeOfOnnxNumber(int64_t n)
{
    switch (n) {
    case 1: return DType::Float32;
    case 2: return DType::UInt8;
    case 3: return DType::Int8;
    case 4: return DType::UInt16;
    case 5: return DType::Int16;
    case 6: return DType::Int32;
    case 7: return DType::Int64;
    case 9: return DType::Bool;
    case 10: return DType::Float16;
    case 11: return DType::Float64;
    case 12: return DType::UInt32;
    case 13: return DType::UInt64;
    case 16: return DType::BFloat16;
    default: return std::nullopt;
    }
}

// `axes` normalised into [0, rank) (negative counts from the end), each at most once; an Error
// naming the node otherwise.
inline std::vector<int64_t> normalizeAxes(const Node &node, std::vector<int64_t> axes, int rank)
{
    std::vector<char> seen(static_cast<size_t>(rank > 0 ? rank : 0), 0);
    for (int64_t &a : axes) {
        check(a >= -rank && a < rank, node.describe() + ": axis " + std::to_string(a) + " is out of range for rank "
                                          + std::to_string(rank) + ".");
        if (a < 0)
            a += rank;
        check(!seen[static_cast<size_t>(a)], node.describe() + ": axis " + std::to_string(a) + " is given twice.");
        seen[static_cast<size_t>(a)] = 1;
    }
    return axes;
}

// An integer list that ONNX moved from an attribute to an input along the opsets (axes, pads,
// split, TopK's k): the input `index` when given (it must then be a known value — a constant
// ahead of a run, any value during one), else the attribute `attr`; nullopt when neither is.
inline std::optional<std::vector<int64_t>> intOperand(const Node &node, const std::vector<const Tensor *> &values, size_t index,
                                                      const char *attr, const char *what)
{
    if (index < node.inputs.size() && !node.inputs[index].empty()) {
        check(index < values.size() && values[index] && values[index]->defined(),
              node.describe() + ": " + what + " (input " + std::to_string(index) + ") must be known before the op runs.");
        return intValues(node, *values[index], what);
    }
    if (node.hasAttribute(attr))
        return node.attrInts(attr, {});
    return std::nullopt;
}

inline std::optional<std::vector<int64_t>> intOperand(const KernelContext &ctx, size_t index, const char *attr, const char *what)
{
    return intOperand(ctx.node, std::vector<const Tensor *>(ctx.inputs.begin(), ctx.inputs.end()), index, attr, what);
}

// [outer, n, inner] around one axis of s: the product of the dims before it, its own, and the
// product of the dims after it.
inline void splitAt(const Shape &s, int64_t axis, int64_t &outer, int64_t &n, int64_t &inner)
{
    outer = inner = 1;
    for (int64_t d = 0; d < axis; ++d)
        outer *= s[d];
    n = s[axis];
    for (size_t d = axis + 1; d < s.size(); ++d)
        inner *= s[d];
}

} // namespace netwright
