// SPDX-License-Identifier: Apache-2.0
// Internal to engine/ops: maps a flat index of a broadcast output to the flat index of an input
// (ONNX multidirectional broadcasting: dims aligned on the right, size-1 dims repeat).
#pragma once

#include "core/tensor.h"

#include <vector>

namespace netwright {

class BroadcastIndexer {
public:
    BroadcastIndexer(const Shape &outShape, const Shape &inShape)
        : m_outShape(outShape), m_strides(outShape.size(), 0)
    {
        int64_t stride = 1;
        for (int i = static_cast<int>(inShape.size()) - 1, o = static_cast<int>(outShape.size()) - 1; i >= 0; --i, --o) {
            m_strides[o] = inShape[i] == 1 ? 0 : stride;
            stride *= inShape[i];
        }
        m_identity = (shapeNumel(inShape) == shapeNumel(outShape));
    }
    // True when the input is not broadcast at all (offset == flat index).
    bool identity() const { return m_identity; }
    int64_t offset(int64_t flat) const
    {
        int64_t off = 0;
        for (int d = static_cast<int>(m_outShape.size()) - 1; d >= 0 && flat > 0; --d) {
            const int64_t idx = flat % m_outShape[d];
            flat /= m_outShape[d];
            off += idx * m_strides[d];
        }
        return off;
    }

private:
    Shape m_outShape;
    std::vector<int64_t> m_strides;
    bool m_identity = false;
};

} // namespace netwright
