// SPDX-License-Identifier: Apache-2.0
// Summary statistics of a tensor of any dtype (read as double; float16/bfloat16 decoded), for
// `netwright inspect` and the tensor inspector. NaN and infinities are counted, not averaged.
// Layer: engine/core.
#pragma once

#include "core/file_view.h"
#include "core/tensor.h"

namespace netwright {

struct TensorStats {
    int64_t count = 0;      // elements
    int64_t finite = 0;     // elements that entered min/max/mean/std
    int64_t nans = 0, infinities = 0;
    double min = 0, max = 0, mean = 0, std = 0; // population std; 0s when nothing is finite
};

TensorStats computeStats(const Tensor &t);
// The same, streamed 16 MiB at a time: when the tensor aliases a mapped file (ONNX external data),
// each chunk's pages are given back after it is read (releaseIfMapped), so a tensor of gigabytes
// never becomes resident as a whole. Equal to computeStats up to rounding (chunks are combined).
TensorStats computeStreamingStats(const Tensor &t);
constexpr uint64_t kStatsChunkBytes = uint64_t(16) << 20;
// The value of element i as a double (any dtype).
double elementAsDouble(const Tensor &t, int64_t i);

} // namespace netwright
