// SPDX-License-Identifier: Apache-2.0
// Convolution and pooling on the GPU through cuDNN (its legacy descriptor API), NCHW float32 as
// the engine's Conv, MaxPool and AveragePool. Layer: engine/cuda. cuDNN pads symmetrically, so
// the shapes here take one pad per axis; asymmetric ONNX pads must be split off by the caller.
// Every pointer is device memory; calls are asynchronous (cuda::synchronize() reports errors).
#pragma once

#include <cstdint>

namespace netwright::cuda {

struct Conv2dShape {
    int64_t n = 1, c = 1, h = 1, w = 1; // input [n,c,h,w]
    int64_t k = 1, r = 1, s = 1;        // weight [k, c/groups, r, s]
    int padH = 0, padW = 0, strideH = 1, strideW = 1, dilationH = 1, dilationW = 1, groups = 1;
    int64_t outH() const { return (h + 2 * padH - dilationH * (r - 1) - 1) / strideH + 1; }
    int64_t outW() const { return (w + 2 * padW - dilationW * (s - 1) - 1) / strideW + 1; }
};

// y [n,k,outH,outW] = conv(x, w) (no bias: addBias… adds it, as the CPU Conv's last step).
void conv2dForward(const Conv2dShape &shape, const float *x, const float *w, float *y);
// dx = ∂(Σ dy·y)/∂x and dw = ∂(Σ dy·y)/∂w, each overwritten.
void conv2dBackwardData(const Conv2dShape &shape, const float *w, const float *dy, float *dx);
void conv2dBackwardFilter(const Conv2dShape &shape, const float *x, const float *dy, float *dw);
// out[n,k,·,·] += bias[k] over an NCHW tensor of `plane` = outH·outW values per channel.
void addBiasChannels(float *y, const float *bias, int64_t n, int64_t k, int64_t plane);
// db[k] = Σ over n and the plane of dy (overwrites db).
void biasGradientChannels(const float *dy, float *db, int64_t n, int64_t k, int64_t plane);

struct Pool2dShape {
    int64_t n = 1, c = 1, h = 1, w = 1;
    int kernelH = 1, kernelW = 1, padH = 0, padW = 0, strideH = 1, strideW = 1;
    bool max = true;              // else average
    bool countIncludePad = false; // average: ONNX count_include_pad
    int64_t outH() const { return (h + 2 * padH - kernelH) / strideH + 1; }
    int64_t outW() const { return (w + 2 * padW - kernelW) / strideW + 1; }
};

void pool2dForward(const Pool2dShape &shape, const float *x, float *y);
// dx from dy, given the forward's x and y (cuDNN finds the max positions again from them).
void pool2dBackward(const Pool2dShape &shape, const float *x, const float *y, const float *dy, float *dx);

} // namespace netwright::cuda
