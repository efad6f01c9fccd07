// SPDX-License-Identifier: Apache-2.0
#include "cuda/cudnn_ops.h"

#include "core/error.h"

#include <cuda_runtime.h>
#include <cudnn.h>

#include <string>

namespace netwright::cuda {

namespace {

void checkCudnn(cudnnStatus_t status, const char *what)
{
    if (status != CUDNN_STATUS_SUCCESS)
        throw Error(std::string("cuDNN ") + what + " failed: " + cudnnGetErrorString(status) + ".");
}

// One cuDNN handle per thread, created on first use.
cudnnHandle_t cudnn()
{
    thread_local struct Handle {
        cudnnHandle_t h = nullptr;
        ~Handle()
        {
            if (h)
                cudnnDestroy(h);
        }
    } handle;
    if (!handle.h)
        checkCudnn(cudnnCreate(&handle.h), "cudnnCreate");
    return handle.h;
}

int asInt(int64_t v, const char *what)
{
    check(v >= 0 && v <= INT32_MAX, std::string("cuDNN: ") + what + " " + std::to_string(v) + " does not fit its int.");
    return static_cast<int>(v);
}

// RAII descriptors for one convolution.
struct ConvDescriptors {
    cudnnTensorDescriptor_t x = nullptr, y = nullptr;
    cudnnFilterDescriptor_t w = nullptr;
    cudnnConvolutionDescriptor_t conv = nullptr;

    explicit ConvDescriptors(const Conv2dShape &s)
    {
        checkCudnn(cudnnCreateTensorDescriptor(&x), "cudnnCreateTensorDescriptor");
        checkCudnn(cudnnCreateTensorDescriptor(&y), "cudnnCreateTensorDescriptor");
        checkCudnn(cudnnCreateFilterDescriptor(&w), "cudnnCreateFilterDescriptor");
        checkCudnn(cudnnCreateConvolutionDescriptor(&conv), "cudnnCreateConvolutionDescriptor");
        check(s.groups > 0 && s.c % s.groups == 0 && s.k % s.groups == 0, "cuDNN conv: channels do not split into the groups.");
        checkCudnn(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, asInt(s.n, "batch"), asInt(s.c, "channels"),
                                              asInt(s.h, "height"), asInt(s.w, "width")),
                   "cudnnSetTensor4dDescriptor (input)");
        checkCudnn(cudnnSetFilter4dDescriptor(w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, asInt(s.k, "filters"),
                                              asInt(s.c / s.groups, "channels per group"), asInt(s.r, "kernel height"),
                                              asInt(s.s, "kernel width")),
                   "cudnnSetFilter4dDescriptor");
        checkCudnn(cudnnSetConvolution2dDescriptor(conv, s.padH, s.padW, s.strideH, s.strideW, s.dilationH, s.dilationW,
                                                   CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
                   "cudnnSetConvolution2dDescriptor");
        checkCudnn(cudnnSetConvolutionGroupCount(conv, s.groups), "cudnnSetConvolutionGroupCount");
        // Full float32 math: no TF32 tensor cores, so results stay within 1e-4 of the CPU.
        checkCudnn(cudnnSetConvolutionMathType(conv, CUDNN_FMA_MATH), "cudnnSetConvolutionMathType");
        checkCudnn(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, asInt(s.n, "batch"), asInt(s.k, "filters"),
                                              asInt(s.outH(), "output height"), asInt(s.outW(), "output width")),
                   "cudnnSetTensor4dDescriptor (output)");
    }
    ~ConvDescriptors()
    {
        cudnnDestroyConvolutionDescriptor(conv);
        cudnnDestroyFilterDescriptor(w);
        cudnnDestroyTensorDescriptor(y);
        cudnnDestroyTensorDescriptor(x);
    }
    ConvDescriptors(const ConvDescriptors &) = delete;
    ConvDescriptors &operator=(const ConvDescriptors &) = delete;
};

// Scratch device memory for one call.
class Workspace {
public:
    explicit Workspace(size_t bytes) : m_bytes(bytes)
    {
        if (bytes && cudaMalloc(&m_p, bytes) != cudaSuccess)
            throw Error("Cannot allocate a " + std::to_string(bytes) + "-byte cuDNN workspace on the GPU.");
    }
    ~Workspace()
    {
        if (m_p)
            cudaFree(m_p);
    }
    void *get() const { return m_p; }
    size_t bytes() const { return m_bytes; }
    Workspace(const Workspace &) = delete;
    Workspace &operator=(const Workspace &) = delete;

private:
    void *m_p = nullptr;
    size_t m_bytes;
};

// The first algorithm cuDNN's heuristics rank usable (status success) for this problem.
template<typename Perf, typename Get>
auto bestAlgorithm(Get get, const char *what)
{
    Perf perf[8];
    int found = 0;
    checkCudnn(get(8, &found, perf), what);
    for (int i = 0; i < found; ++i)
        if (perf[i].status == CUDNN_STATUS_SUCCESS)
            return perf[i].algo;
    throw Error(std::string("cuDNN has no usable algorithm for this ") + what + ".");
}

struct PoolDescriptors {
    cudnnTensorDescriptor_t x = nullptr, y = nullptr;
    cudnnPoolingDescriptor_t pool = nullptr;
    explicit PoolDescriptors(const Pool2dShape &s)
    {
        checkCudnn(cudnnCreateTensorDescriptor(&x), "cudnnCreateTensorDescriptor");
        checkCudnn(cudnnCreateTensorDescriptor(&y), "cudnnCreateTensorDescriptor");
        checkCudnn(cudnnCreatePoolingDescriptor(&pool), "cudnnCreatePoolingDescriptor");
        const cudnnPoolingMode_t mode = s.max ? CUDNN_POOLING_MAX_DETERMINISTIC
                                              : (s.countIncludePad ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
                                                                   : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING);
        checkCudnn(cudnnSetPooling2dDescriptor(pool, mode, CUDNN_NOT_PROPAGATE_NAN, s.kernelH, s.kernelW, s.padH, s.padW, s.strideH,
                                               s.strideW),
                   "cudnnSetPooling2dDescriptor");
        checkCudnn(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, asInt(s.n, "batch"), asInt(s.c, "channels"),
                                              asInt(s.h, "height"), asInt(s.w, "width")),
                   "cudnnSetTensor4dDescriptor (pool input)");
        checkCudnn(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, asInt(s.n, "batch"), asInt(s.c, "channels"),
                                              asInt(s.outH(), "output height"), asInt(s.outW(), "output width")),
                   "cudnnSetTensor4dDescriptor (pool output)");
    }
    ~PoolDescriptors()
    {
        cudnnDestroyPoolingDescriptor(pool);
        cudnnDestroyTensorDescriptor(y);
        cudnnDestroyTensorDescriptor(x);
    }
    PoolDescriptors(const PoolDescriptors &) = delete;
    PoolDescriptors &operator=(const PoolDescriptors &) = delete;
};

const float kOne = 1.0f, kZero = 0.0f;

} // namespace

void conv2dForward(const Conv2dShape &shape, const float *x, const float *w, float *y)
{
    const ConvDescriptors d(shape);
    cudnnHandle_t h = cudnn();
    const auto algo = bestAlgorithm<cudnnConvolutionFwdAlgoPerf_t>(
        [&](int n, int *found, cudnnConvolutionFwdAlgoPerf_t *perf) {
            return cudnnGetConvolutionForwardAlgorithm_v7(h, d.x, d.w, d.conv, d.y, n, found, perf);
        },
        "convolution forward");
    size_t bytes = 0;
    checkCudnn(cudnnGetConvolutionForwardWorkspaceSize(h, d.x, d.w, d.conv, d.y, algo, &bytes), "cudnnGetConvolutionForwardWorkspaceSize");
    const Workspace ws(bytes);
    checkCudnn(cudnnConvolutionForward(h, &kOne, d.x, x, d.w, w, d.conv, algo, ws.get(), ws.bytes(), &kZero, d.y, y),
               "cudnnConvolutionForward");
}

void conv2dBackwardData(const Conv2dShape &shape, const float *w, const float *dy, float *dx)
{
    const ConvDescriptors d(shape);
    cudnnHandle_t h = cudnn();
    const auto algo = bestAlgorithm<cudnnConvolutionBwdDataAlgoPerf_t>(
        [&](int n, int *found, cudnnConvolutionBwdDataAlgoPerf_t *perf) {
            return cudnnGetConvolutionBackwardDataAlgorithm_v7(h, d.w, d.y, d.conv, d.x, n, found, perf);
        },
        "convolution backward (data)");
    size_t bytes = 0;
    checkCudnn(cudnnGetConvolutionBackwardDataWorkspaceSize(h, d.w, d.y, d.conv, d.x, algo, &bytes),
               "cudnnGetConvolutionBackwardDataWorkspaceSize");
    const Workspace ws(bytes);
    checkCudnn(cudnnConvolutionBackwardData(h, &kOne, d.w, w, d.y, dy, d.conv, algo, ws.get(), ws.bytes(), &kZero, d.x, dx),
               "cudnnConvolutionBackwardData");
}

void conv2dBackwardFilter(const Conv2dShape &shape, const float *x, const float *dy, float *dw)
{
    const ConvDescriptors d(shape);
    cudnnHandle_t h = cudnn();
    const auto algo = bestAlgorithm<cudnnConvolutionBwdFilterAlgoPerf_t>(
        [&](int n, int *found, cudnnConvolutionBwdFilterAlgoPerf_t *perf) {
            return cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, d.x, d.y, d.conv, d.w, n, found, perf);
        },
        "convolution backward (filter)");
    size_t bytes = 0;
    checkCudnn(cudnnGetConvolutionBackwardFilterWorkspaceSize(h, d.x, d.y, d.conv, d.w, algo, &bytes),
               "cudnnGetConvolutionBackwardFilterWorkspaceSize");
    const Workspace ws(bytes);
    checkCudnn(cudnnConvolutionBackwardFilter(h, &kOne, d.x, x, d.y, dy, d.conv, algo, ws.get(), ws.bytes(), &kZero, d.w, dw),
               "cudnnConvolutionBackwardFilter");
}

void pool2dForward(const Pool2dShape &shape, const float *x, float *y)
{
    const PoolDescriptors d(shape);
    checkCudnn(cudnnPoolingForward(cudnn(), d.pool, &kOne, d.x, x, &kZero, d.y, y), "cudnnPoolingForward");
}

void pool2dBackward(const Pool2dShape &shape, const float *x, const float *y, const float *dy, float *dx)
{
    const PoolDescriptors d(shape);
    checkCudnn(cudnnPoolingBackward(cudnn(), d.pool, &kOne, d.y, y, d.y, dy, d.x, x, &kZero, d.x, dx), "cudnnPoolingBackward");
}

} // namespace netwright::cuda
