// SPDX-License-Identifier: Apache-2.0
// Element-wise CUDA kernels (C++17: CMake 3.25 cannot compile CUDA as C++20). Grid-stride loops,
// so any n runs with a bounded grid.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

namespace netwright::cuda {

namespace {

constexpr int kThreads = 256;

int blocksFor(int64_t n)
{
    return static_cast<int>(std::min<int64_t>((n + kThreads - 1) / kThreads, 4096));
}

__global__ void reluForwardKernel(const float *x, float *y, int64_t n)
{
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

__global__ void reluBackwardKernel(const float *x, const float *dy, float *dx, int64_t n)
{
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
        dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}

} // namespace

void reluForward(const float *x, float *y, int64_t n)
{
    if (n > 0)
        reluForwardKernel<<<blocksFor(n), kThreads>>>(x, y, n);
}

void reluBackward(const float *x, const float *dy, float *dx, int64_t n)
{
    if (n > 0)
        reluBackwardKernel<<<blocksFor(n), kThreads>>>(x, dy, dx, n);
}

} // namespace netwright::cuda
