// SPDX-License-Identifier: Apache-2.0
// A BatchNorm folded into the convolution before it, as exporters (torch.onnx.export in eval mode,
// MindSpore's export) write it: the weights a checkpoint's conv + BN pair become in such a model.
// Layer: engine/checkpoint. Pure arithmetic on host float32 tensors; computed in double.
#pragma once

#include "core/tensor.h"

namespace netwright {

// One BatchNorm's parameters and statistics, each [C] (C = the convolution's output channels).
struct BatchNormParams {
    Tensor gamma, beta, mean, var; // PyTorch weight/bias/running_mean/running_var, MindSpore gamma/beta/moving_mean/moving_variance
    double epsilon = 1e-5;         // PyTorch's and MindSpore's default
};

struct FoldedConv {
    Tensor weight; // [C, …] as the convolution's weight
    Tensor bias;   // [C]
};

// w' = w·γ/√(var+ε) per output channel, b' = β + (b − mean)·γ/√(var+ε) (b = 0 without `bias`).
// Throws Error when a shape does not fit ([C,…] weight, [C] bias and statistics).
FoldedConv foldBatchNorm(const Tensor &weight, const Tensor *bias, const BatchNormParams &bn);

} // namespace netwright
