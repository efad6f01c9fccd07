// SPDX-License-Identifier: Apache-2.0
// BatchNormalization's per-channel statistics in training, shared by the CPU kernel
// (ops/batch_normalization.cpp) and the CUDA kernel (cuda/elementwise.cu), so both devices keep
// the running statistics with the same arithmetic. Layer: engine/ops. Plain C++17, also compiled by nvcc.
#pragma once

#include "ops/dropout_mask.h" // NETWRIGHT_HOST_DEVICE

#include <cstdint>

namespace netwright {

// One channel of a training step, from its batch mean and the sum `sq` of squared deviations over
// `count` values: returns the biased variance (what the step normalises with); writes ONNX's
// optional outputs (running statistics moved by the population variance) where given; and, when
// updateRunning, moves the running statistics in place with the unbiased variance, as PyTorch and
// MindSpore keep it: running = momentum·running + (1 − momentum)·batch.
inline NETWRIGHT_HOST_DEVICE float batchNormTrainingStatistics(float mean, double sq, int64_t count, float momentum, float *runMean,
                                                               float *runVar, float *runningMeanOut, float *runningVarOut,
                                                               bool updateRunning)
{
    const float var = static_cast<float>(sq / static_cast<double>(count));
    const float unbiased = count > 1 ? static_cast<float>(sq / static_cast<double>(count - 1)) : var;
    if (runningMeanOut)
        *runningMeanOut = momentum * *runMean + (1.0f - momentum) * mean;
    if (runningVarOut)
        *runningVarOut = momentum * *runVar + (1.0f - momentum) * var;
    if (updateRunning) {
        *runMean = momentum * *runMean + (1.0f - momentum) * mean;
        *runVar = momentum * *runVar + (1.0f - momentum) * unbiased;
    }
    return var;
}

} // namespace netwright
