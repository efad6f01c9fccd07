// SPDX-License-Identifier: Apache-2.0
// Internal to engine/ops: the 2-D sliding-window geometry shared by Conv and the pools —
// kernel_shape, strides, dilations, pads / auto_pad and ceil_mode, as ONNX defines them.
#pragma once

#include "graph/graph.h"

namespace netwright {

struct Window2d {
    int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
    int64_t padTop = 0, padLeft = 0, padBottom = 0, padRight = 0;
    int64_t ih = 0, iw = 0, oh = 0, ow = 0;

    // kernel: the [kh, kw] to use when the node has no kernel_shape (Conv takes it from W).
    static Window2d fromNode(const Node &node, int64_t ih, int64_t iw, const std::vector<int64_t> &kernel,
                             bool allowCeilMode);
};

} // namespace netwright
