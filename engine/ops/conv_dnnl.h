// SPDX-License-Identifier: Apache-2.0
// Internal to engine/ops: Conv's forward, data gradient and weight gradient as oneDNN convolution
// primitives over the whole batch — direct kernels in oneDNN's blocked layouts, generated for the
// CPU level in use, instead of one im2col and one product per image. Tensors stay NCHW (ONNX's
// layout) outside; each call reorders into the layout the primitive chose and back, which in the
// bf16 precision (blas::precision()) also rounds the inputs to bfloat16 (fp32 accumulation, fp32
// outputs, as PyTorch's CPU autocast). Primitives are made once per geometry, precision and
// thread count on each thread, and run deterministically for those.
#pragma once

#include "core/tensor.h"

#include <cstdint>
#include <vector>

namespace netwright {
struct Node;
}

namespace netwright::convdnnl {

struct Geometry {
    int64_t N = 0, C = 0, M = 0, group = 1;
    // One entry per spatial dim (1 to 3), outermost first; dilations 1 = none (ONNX's convention).
    std::vector<int64_t> in, out, kernel, strides, dilations, padBegin, padEnd;
};

// The geometry of an ONNX Conv node for these input shapes, validated (errors name the node);
// defined with the Conv kernel (ops/conv.cpp).
Geometry geometryOf(const Node &node, const Shape &x, const Shape &w);

// Each returns false, having written nothing, where oneDNN has no implementation for the geometry
// at the CPU level and precision in use; the caller then takes its own path.
// y[N,M,out…] = conv(x[N,C,in…], w[M,C/group,kernel…]) + b[M] (b may be null).
bool forward(const Geometry &g, bool training, const float *x, const float *w, const float *b, float *y);
// dx[N,C,in…] from dy[N,M,out…] and w (overwrites dx).
bool backwardData(const Geometry &g, const float *w, const float *dy, float *dx);
// dw[M,C/group,kernel…] from x and dy (overwrites dw), and db[M] = the sum of dy over N and the
// spatial dims where db is not null.
bool backwardWeights(const Geometry &g, const float *x, const float *dy, float *dw, float *db);

} // namespace netwright::convdnnl
