// SPDX-License-Identifier: Apache-2.0
#include "formats/raw_tensor.h"

#include "core/error.h"

#include <cstring>

namespace netwright {

int64_t checkedNumel(const std::vector<int64_t> &shape, const std::string &what)
{
    int64_t n = 1;
    for (int64_t d : shape) {
        if (d < 0)
            throw Error(what + ": the shape " + shapeToString(shape) + " has a negative dimension.");
        if (d != 0 && n > INT64_MAX / d)
            throw Error(what + ": the shape " + shapeToString(shape) + " is too large.");
        n *= d;
    }
    return n;
}

Tensor tensorFromRaw(DType type, const std::vector<int64_t> &shape, std::string_view raw, const std::string &what)
{
    const int64_t n = checkedNumel(shape, what);
    const auto size = static_cast<uint64_t>(dtypeSize(type));
    if (static_cast<uint64_t>(n) > raw.size() / size || static_cast<uint64_t>(n) * size != raw.size())
        throw Error(what + ": " + std::to_string(raw.size()) + " bytes for " + dtypeName(type) + " " + shapeToString(shape) + " ("
                    + std::to_string(static_cast<uint64_t>(n) * size) + " expected).");
    Tensor t(Shape(shape.begin(), shape.end()), type);
    if (!raw.empty())
        std::memcpy(t.raw(), raw.data(), raw.size());
    return t;
}

} // namespace netwright
