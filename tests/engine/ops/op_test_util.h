// SPDX-License-Identifier: Apache-2.0
// Test support: small tensor builders and readers shared by the op tests (the inputs the PyTorch
// and numpy reference values were computed from, typed and index tensors, element lists).
#pragma once

#include "core/tensor.h"
#include "graph/graph.h"
#include "ops/op.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace netwright::testing {

// sin(0.37·i + seed) in float32: the inputs the PyTorch reference values were computed from.
inline Tensor wave(const Shape &s, double seed)
{
    Tensor t(s);
    for (int64_t i = 0; i < t.numel(); ++i)
        t.data()[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i) + seed));
    return t;
}

// 0, 1, 2, … (plus offset) in float32, row-major.
inline Tensor arange(const Shape &s, float offset = 0.0f)
{
    Tensor t(s);
    for (int64_t i = 0; i < t.numel(); ++i)
        t.data()[i] = static_cast<float>(i) + offset;
    return t;
}

// A tensor of element type `dtype` holding `v` (T the C++ type of its elements: uint8_t for Bool,
// uint16_t for the bits of Float16/BFloat16).
template<typename T> Tensor typed(const Shape &s, DType dtype, const std::vector<T> &v)
{
    Tensor t(s, dtype);
    std::copy_n(v.begin(), std::min(v.size(), static_cast<size_t>(t.numel())), t.dataAs<T>());
    return t;
}

// The elements of a float32 tensor, or of any tensor read as T.
inline std::vector<float> values(const Tensor &t) { return std::vector<float>(t.data(), t.data() + t.numel()); }
template<typename T> std::vector<T> valuesOf(const Tensor &t) { return std::vector<T>(t.dataAs<T>(), t.dataAs<T>() + t.numel()); }

// int64 index tensors: 1-D holding v, or of shape s.
inline Tensor ints(std::vector<int64_t> v) { return Tensor::fromInt64({static_cast<int64_t>(v.size())}, v); }
inline Tensor ints(const Shape &s, std::vector<int64_t> v) { return Tensor::fromInt64(s, v); }

// The outputs of node n evaluated on `inputs` (an undefined tensor: an omitted optional input),
// its outputs named `outputs` when it names none.
inline std::vector<Tensor> evalNode(const Node &n, const std::vector<Tensor> &inputs, std::vector<std::string> outputs = {"y"})
{
    Node node = n;
    std::vector<const Tensor *> ptrs;
    for (size_t i = 0; i < inputs.size(); ++i) {
        node.inputs.push_back(inputs[i].defined() ? "x" + std::to_string(i) : "");
        ptrs.push_back(inputs[i].defined() ? &inputs[i] : nullptr);
    }
    if (node.outputs.empty())
        node.outputs = std::move(outputs);
    return evaluateNode(node, ptrs);
}

} // namespace netwright::testing
