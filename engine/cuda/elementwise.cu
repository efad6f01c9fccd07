// SPDX-License-Identifier: Apache-2.0
// Element-wise CUDA kernels, the loss and the SGD update (C++17: CMake 3.25 cannot compile CUDA
// as C++20). Grid-stride loops, so any n runs with a bounded grid.
#include "cuda/cuda_device.h"
#include "cuda/cudnn_ops.h"
#include "ops/batch_norm_rules.h"
#include "ops/dropout_mask.h"
#include "optim/update_rules.h"

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

__global__ void adamKernel(float *w, const float *g, float *m, float *v, int64_t n, float lr, float b1, float b2, float eps, float wd,
                           float c1, float c2, bool decoupled)
{
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        adamElement(w[i], g[i], m[i], v[i], lr, b1, b2, eps, wd, c1, c2, decoupled);
    }
}

__global__ void dropoutKernel(const float *x, float *y, float *scale, int64_t n, uint64_t key, uint64_t first, float ratio, float keep)
{
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const float s = dropoutUniform(key, first + static_cast<uint64_t>(i)) >= ratio ? keep : 0.0f;
        scale[i] = s;
        y[i] = x[i] * s;
    }
}

__global__ void multiplyKernel(const float *a, const float *b, float *out, int64_t n)
{
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
        out[i] = a[i] * b[i];
}

__global__ void addInPlaceKernel(float *dst, const float *src, int64_t n)
{
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
        dst[i] += src[i];
}

__global__ void scaleKernel(float *x, int64_t n, float factor)
{
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
        x[i] *= factor;
}

// y = x · (*factor): the factor is a device scalar (the loss's incoming gradient).
__global__ void scaleByKernel(const float *x, const float *factor, float *y, int64_t n)
{
    const float f = *factor;
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
        y[i] = x[i] * f;
}

__global__ void fillKernel(float *p, int64_t n, float value)
{
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
        p[i] = value;
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

__global__ void addBiasRowsKernel(const float *x, const float *bias, float *y, int64_t rows, int64_t cols)
{
    const int64_t n = rows * cols;
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
        y[i] = x[i] + bias[i % cols];
}

// One thread per column; rows summed in order, as the CPU kernel does.
__global__ void biasGradientKernel(const float *dy, float *db, int64_t rows, int64_t cols)
{
    for (int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; j < cols; j += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        float s = 0.0f;
        for (int64_t i = 0; i < rows; ++i)
            s += dy[i * cols + j];
        db[j] = s;
    }
}

// One thread per row: log-softmax by the max-shifted sum, the row's loss into perRow, and the
// gradient row (softmax − one-hot) / n.
__global__ void softmaxCrossEntropyRows(const float *scores, const int64_t *labels, float *perRow, float *dscores, int64_t n, int64_t c,
                                        int *badLabel)
{
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const float *row = scores + i * c;
        float mx = row[0];
        for (int64_t k = 1; k < c; ++k)
            mx = fmaxf(mx, row[k]);
        float sum = 0.0f;
        for (int64_t k = 0; k < c; ++k)
            sum += expf(row[k] - mx);
        const float logSum = logf(sum) + mx;
        int64_t label = labels[i];
        if (label < 0 || label >= c) {
            if (badLabel)
                *badLabel = 1;
            label = 0;
        }
        perRow[i] = logSum - row[label];
        float *d = dscores + i * c;
        const float invN = 1.0f / static_cast<float>(n);
        for (int64_t k = 0; k < c; ++k)
            d[k] = (expf(row[k] - logSum) - (k == label ? 1.0f : 0.0f)) * invN;
    }
}

// The sum of every thread's s over a block of 256 threads (a tree in shared memory); every
// thread of the block must call it. Float for the loss and bias gradients, double for a whole
// channel of BatchNormalization.
template <typename T>
__device__ T blockTotal(T s)
{
    __shared__ T partial[256];
    partial[threadIdx.x] = s;
    __syncthreads();
    for (int width = blockDim.x / 2; width > 0; width /= 2) {
        if (threadIdx.x < width)
            partial[threadIdx.x] += partial[threadIdx.x + width];
        __syncthreads();
    }
    const T total = partial[0];
    __syncthreads(); // partial may be reused by the caller's next blockTotal
    return total;
}

// The mean of perRow in one block (n is a minibatch: a serial sum per thread, then a tree).
__global__ void meanKernel(const float *perRow, float *out, int64_t n)
{
    float s = 0.0f;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
        s += perRow[i];
    const float total = blockTotal<float>(s);
    if (threadIdx.x == 0)
        out[0] = total / static_cast<float>(n);
}

__global__ void sgdKernel(float *w, const float *g, float *buf, int64_t n, float lr, float mu, float wd, bool nesterov)
{
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        sgdElement(w[i], g[i], buf ? buf + i : nullptr, lr, mu, wd, nesterov);
    }
}

__global__ void addBiasChannelsKernel(float *y, const float *bias, int64_t n, int64_t k, int64_t plane)
{
    const int64_t total = n * k * plane;
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
        y[i] += bias[(i / plane) % k];
}

// One block per channel: a serial sum per thread over its slice, then a tree.
__global__ void biasGradientChannelsKernel(const float *dy, float *db, int64_t n, int64_t k, int64_t plane)
{
    const int64_t channel = blockIdx.x;
    float s = 0.0f;
    for (int64_t i = threadIdx.x; i < n * plane; i += blockDim.x)
        s += dy[(i / plane) * k * plane + channel * plane + i % plane];
    const float total = blockTotal<float>(s);
    if (threadIdx.x == 0)
        db[channel] = total;
}


// Add, Sub, Mul, Div (op 0…3) of two tensors of one shape.
__global__ void binaryForwardKernel(int op, const float *a, const float *b, float *y, int64_t n)
{
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const float x = a[i], z = b[i];
        y[i] = op == 0 ? x + z : op == 1 ? x - z : op == 2 ? x * z : x / z;
    }
}

// The gradient of input `which` (0: a, 1: b), as the CPU kernel's partials.
__global__ void binaryBackwardKernel(int op, int which, const float *a, const float *b, const float *dy, float *g, int64_t n)
{
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const float d = dy[i];
        switch (op) {
        case 0: g[i] = d; break;
        case 1: g[i] = which == 0 ? d : -d; break;
        case 2: g[i] = which == 0 ? d * b[i] : d * a[i]; break;
        default: g[i] = which == 0 ? d / b[i] : -d * a[i] / (b[i] * b[i]); break;
        }
    }
}

// Element j of channel c's n·plane values in [n, channels, plane].
__device__ int64_t channelElement(int64_t j, int64_t c, int64_t channels, int64_t plane)
{
    return (j / plane) * channels * plane + c * plane + j % plane;
}

// One block per channel: the statistics (the batch's in training, the running ones otherwise),
// the running statistics' updates, and y = x·a + b — the CPU kernel's formulas.
__global__ void batchNormForwardKernel(const float *x, const float *gamma, const float *beta, float *runMean, float *runVar,
                                       float *runningMeanOut, float *runningVarOut, float *y, float *meanOut, float *invStdOut,
                                       int64_t n, int64_t channels, int64_t plane, float eps, float momentum, bool training,
                                       bool updateRunning)
{
    const int64_t c = blockIdx.x, count = n * plane;
    __shared__ float stats[2]; // mean, invStd
    if (training) {
        double s = 0.0;
        for (int64_t j = threadIdx.x; j < count; j += blockDim.x)
            s += x[channelElement(j, c, channels, plane)];
        const double m = blockTotal<double>(s) / static_cast<double>(count);
        const float mf = static_cast<float>(m);
        double ss = 0.0;
        for (int64_t j = threadIdx.x; j < count; j += blockDim.x) {
            const float d = x[channelElement(j, c, channels, plane)] - mf;
            ss += d * d;
        }
        const double sq = blockTotal<double>(ss);
        if (threadIdx.x == 0) {
            const float var = batchNormTrainingStatistics(mf, sq, count, momentum, runMean + c, runVar + c,
                                                          runningMeanOut ? runningMeanOut + c : nullptr,
                                                          runningVarOut ? runningVarOut + c : nullptr, updateRunning);
            stats[0] = mf;
            stats[1] = 1.0f / sqrtf(var + eps);
        }
    } else if (threadIdx.x == 0) {
        if (runningMeanOut)
            runningMeanOut[c] = runMean[c];
        if (runningVarOut)
            runningVarOut[c] = runVar[c];
        stats[0] = runMean[c];
        stats[1] = 1.0f / sqrtf(runVar[c] + eps);
    }
    __syncthreads();
    const float mean = stats[0], invStd = stats[1];
    if (threadIdx.x == 0) {
        meanOut[c] = mean;
        invStdOut[c] = invStd;
    }
    const float a = gamma[c] * invStd, b = beta[c] - mean * a;
    for (int64_t j = threadIdx.x; j < count; j += blockDim.x) {
        const int64_t i = channelElement(j, c, channels, plane);
        y[i] = x[i] * a + b;
    }
}

// One block per channel: dβ = Σdy, dγ = Σdy·x̂, and dx (through the batch statistics in training).
__global__ void batchNormBackwardKernel(const float *x, const float *gamma, const float *dy, const float *mean, const float *invStd,
                                        float *dx, float *dgamma, float *dbeta, int64_t n, int64_t channels, int64_t plane,
                                        bool training)
{
    const int64_t c = blockIdx.x, count = n * plane;
    const float mc = mean[c], ic = invStd[c];
    double sdy = 0.0, sdyx = 0.0;
    for (int64_t j = threadIdx.x; j < count; j += blockDim.x) {
        const int64_t i = channelElement(j, c, channels, plane);
        sdy += dy[i];
        sdyx += dy[i] * (x[i] - mc);
    }
    sdy = blockTotal<double>(sdy);
    sdyx = blockTotal<double>(sdyx) * ic;
    if (threadIdx.x == 0) {
        if (dbeta)
            dbeta[c] = static_cast<float>(sdy);
        if (dgamma)
            dgamma[c] = static_cast<float>(sdyx);
    }
    if (!dx)
        return;
    const float k = gamma[c] * ic, cnt = static_cast<float>(count);
    const float mdy = static_cast<float>(sdy) / cnt, mdyx = static_cast<float>(sdyx) / cnt;
    const float shift = training ? -k * mdy + k * mc * ic * mdyx : 0.0f, scale = training ? -k * ic * mdyx : 0.0f;
    for (int64_t j = threadIdx.x; j < count; j += blockDim.x) {
        const int64_t i = channelElement(j, c, channels, plane);
        dx[i] = k * dy[i] + scale * x[i] + shift;
    }
}

} // namespace

void addBiasChannels(float *y, const float *bias, int64_t n, int64_t k, int64_t plane)
{
    if (n * k * plane > 0)
        addBiasChannelsKernel<<<blocksFor(n * k * plane), kThreads>>>(y, bias, n, k, plane);
}

void biasGradientChannels(const float *dy, float *db, int64_t n, int64_t k, int64_t plane)
{
    if (k > 0)
        biasGradientChannelsKernel<<<static_cast<unsigned>(k), 256>>>(dy, db, n, k, plane);
}

void addBiasRows(const float *x, const float *bias, float *y, int64_t rows, int64_t cols)
{
    if (rows * cols > 0)
        addBiasRowsKernel<<<blocksFor(rows * cols), kThreads>>>(x, bias, y, rows, cols);
}

void biasGradient(const float *dy, float *db, int64_t rows, int64_t cols)
{
    if (cols > 0)
        biasGradientKernel<<<blocksFor(cols), kThreads>>>(dy, db, rows, cols);
}

void softmaxCrossEntropy(const float *scores, const int64_t *labels, float *loss, float *dscores, int64_t n, int64_t c,
                         float *workspace, int *badLabel)
{
    if (n <= 0 || c <= 0)
        return;
    softmaxCrossEntropyRows<<<blocksFor(n), kThreads>>>(scores, labels, workspace, dscores, n, c, badLabel);
    meanKernel<<<1, 256>>>(workspace, loss, n);
}

void sgdUpdate(float *w, const float *g, float *buf, int64_t n, float lr, float mu, float wd, bool nesterov)
{
    if (n > 0)
        sgdKernel<<<blocksFor(n), kThreads>>>(w, g, buf, n, lr, mu, wd, nesterov);
}

void adamUpdate(float *w, const float *g, float *m, float *v, int64_t n, float lr, float beta1, float beta2, float eps, float wd,
                float c1, float c2, bool decoupled)
{
    if (n > 0)
        adamKernel<<<blocksFor(n), kThreads>>>(w, g, m, v, n, lr, beta1, beta2, eps, wd, c1, c2, decoupled);
}

void dropoutForward(const float *x, float *y, float *scale, int64_t n, uint64_t key, uint64_t first, float ratio)
{
    if (n > 0)
        dropoutKernel<<<blocksFor(n), kThreads>>>(x, y, scale, n, key, first, ratio, 1.0f / (1.0f - ratio));
}

void multiply(const float *a, const float *b, float *out, int64_t n)
{
    if (n > 0)
        multiplyKernel<<<blocksFor(n), kThreads>>>(a, b, out, n);
}

void fill(float *p, int64_t count, float value)
{
    if (count > 0)
        fillKernel<<<blocksFor(count), kThreads>>>(p, count, value);
}

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

void addInPlace(float *dst, const float *src, int64_t n)
{
    if (n > 0)
        addInPlaceKernel<<<blocksFor(n), kThreads>>>(dst, src, n);
}

void scale(float *x, int64_t n, float factor)
{
    if (n > 0)
        scaleKernel<<<blocksFor(n), kThreads>>>(x, n, factor);
}

void scaleBy(const float *x, const float *factor, float *y, int64_t n)
{
    if (n > 0)
        scaleByKernel<<<blocksFor(n), kThreads>>>(x, factor, y, n);
}

void binaryForward(int op, const float *a, const float *b, float *y, int64_t n)
{
    if (n > 0)
        binaryForwardKernel<<<blocksFor(n), kThreads>>>(op, a, b, y, n);
}

void binaryBackward(int op, int which, const float *a, const float *b, const float *dy, float *g, int64_t n)
{
    if (n > 0)
        binaryBackwardKernel<<<blocksFor(n), kThreads>>>(op, which, a, b, dy, g, n);
}

void batchNormForward(const BatchNormArgs &p, const float *x, float *y)
{
    if (p.channels > 0)
        batchNormForwardKernel<<<static_cast<unsigned>(p.channels), 256>>>(x, p.gamma, p.beta, p.runMean, p.runVar, p.runningMeanOut,
                                                                          p.runningVarOut, y, p.mean, p.invStd, p.n, p.channels,
                                                                          p.plane, p.eps, p.momentum, p.training, p.updateRunning);
}

void batchNormBackward(const BatchNormArgs &p, const float *x, const float *dy, float *dx, float *dgamma, float *dbeta)
{
    if (p.channels > 0)
        batchNormBackwardKernel<<<static_cast<unsigned>(p.channels), 256>>>(x, p.gamma, dy, p.mean, p.invStd, dx, dgamma, dbeta, p.n,
                                                                           p.channels, p.plane, p.training);
}

} // namespace netwright::cuda
