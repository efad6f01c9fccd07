// SPDX-License-Identifier: Apache-2.0
#include "cuda/cuda_device.h"

#include "core/device.h"
#include "core/error.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <mutex>
#include <utility>

namespace netwright::cuda {

namespace {

void checkCuda(cudaError_t status, const char *what)
{
    if (status != cudaSuccess)
        throw Error(std::string("CUDA ") + what + " failed: " + cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ").");
}

void checkCublas(cublasStatus_t status, const char *what)
{
    if (status != CUBLAS_STATUS_SUCCESS)
        throw Error(std::string("cuBLAS ") + what + " failed: " + cublasGetStatusString(status) + ".");
}

// One cuBLAS handle per thread (handles are not thread-safe), created on first use.
cublasHandle_t cublas()
{
    thread_local struct Handle {
        cublasHandle_t h = nullptr;
        ~Handle()
        {
            if (h)
                cublasDestroy(h);
        }
    } handle;
    if (!handle.h)
        checkCublas(cublasCreate(&handle.h), "cublasCreate");
    return handle.h;
}

} // namespace

std::vector<DeviceInfo> listDevices(std::string *reason)
{
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess || count == 0) {
        if (reason)
            *reason = status != cudaSuccess ? std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status)
                                            : std::string("the driver reports no CUDA device");
        cudaGetLastError(); // clear the sticky-free error so later calls start clean
        return {};
    }
    std::vector<DeviceInfo> out;
    for (int i = 0; i < count; ++i) {
        cudaDeviceProp p{};
        checkCuda(cudaGetDeviceProperties(&p, i), "cudaGetDeviceProperties");
        out.push_back({i, p.name, p.major, p.minor, p.totalGlobalMem});
    }
    return out;
}

int startBackend()
{
    std::string reason;
    const auto devices = listDevices(&reason);
    if (devices.empty())
        throw Error("No CUDA device is usable (" + reason + "); use --device cpu.");
    DeviceMemory m;
    m.allocate = [](size_t bytes, int index) -> void * {
        checkCuda(cudaSetDevice(index), "cudaSetDevice");
        void *p = nullptr;
        const cudaError_t status = cudaMalloc(&p, std::max<size_t>(bytes, 1));
        if (status != cudaSuccess)
            throw Error("Cannot allocate " + std::to_string(bytes) + " bytes on cuda:" + std::to_string(index) + ": "
                        + cudaGetErrorString(status) + ".");
        return p;
    };
    m.release = [](void *p, int) { cudaFree(p); };
    m.copy = [](void *dst, bool dstOnHost, const void *src, bool srcOnHost, size_t bytes) {
        const cudaMemcpyKind kind = dstOnHost ? (srcOnHost ? cudaMemcpyHostToHost : cudaMemcpyDeviceToHost)
                                              : (srcOnHost ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToDevice);
        checkCuda(cudaMemcpy(dst, src, bytes, kind), "cudaMemcpy");
    };
    m.fill = [](float *p, int64_t count, float value) {
        cuda::fill(p, count, value);
        synchronize();
    };
    registerDeviceMemory(DeviceType::Cuda, m);
    DeviceArithmetic a;
    a.add = &addInPlace;
    a.scale = &scale;
    a.sgdUpdate = &sgdUpdate;
    a.adamUpdate = &adamUpdate;
    registerDeviceArithmetic(DeviceType::Cuda, a);
    registerKernels();
#ifdef NETWRIGHT_HAVE_NCCL
    registerNcclCollective();
#endif
    return static_cast<int>(devices.size());
}

void registerBackend()
{
    registerDeviceStarter(DeviceType::Cuda, &startBackend);
}

DeviceBuffer::DeviceBuffer(size_t count) : m_count(count)
{
    if (count == 0)
        return;
    void *p = nullptr;
    const cudaError_t status = cudaMalloc(&p, count * sizeof(float));
    if (status != cudaSuccess)
        throw Error("Cannot allocate " + std::to_string(count * sizeof(float)) + " bytes on the GPU: " + cudaGetErrorString(status) + ".");
    m_data = static_cast<float *>(p);
}

DeviceBuffer::~DeviceBuffer()
{
    if (m_data)
        cudaFree(m_data);
}

DeviceBuffer::DeviceBuffer(DeviceBuffer &&other) noexcept
    : m_data(std::exchange(other.m_data, nullptr)), m_count(std::exchange(other.m_count, 0))
{
}

DeviceBuffer &DeviceBuffer::operator=(DeviceBuffer &&other) noexcept
{
    if (this != &other) {
        if (m_data)
            cudaFree(m_data);
        m_data = std::exchange(other.m_data, nullptr);
        m_count = std::exchange(other.m_count, 0);
    }
    return *this;
}

void DeviceBuffer::upload(const float *host, size_t count)
{
    check(count <= m_count, "DeviceBuffer::upload: " + std::to_string(count) + " floats into a buffer of " + std::to_string(m_count) + ".");
    checkCuda(cudaMemcpy(m_data, host, count * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy (to the device)");
}

void DeviceBuffer::uploadBytes(const void *host, size_t bytes)
{
    check(bytes <= m_count * sizeof(float), "DeviceBuffer::uploadBytes: " + std::to_string(bytes) + " bytes into a buffer of "
                                                + std::to_string(m_count * sizeof(float)) + ".");
    checkCuda(cudaMemcpy(m_data, host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy (to the device)");
}

void DeviceBuffer::download(float *host, size_t count) const
{
    check(count <= m_count, "DeviceBuffer::download: " + std::to_string(count) + " floats from a buffer of " + std::to_string(m_count) + ".");
    checkCuda(cudaMemcpy(host, m_data, count * sizeof(float), cudaMemcpyDeviceToHost), "cudaMemcpy (to the host)");
}

void gemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float *a, const float *b, float beta, float *c)
{
    // cuBLAS is column-major: a row-major [m,n] C is a column-major [n,m] Cᵀ = op(B)ᵀ · op(A)ᵀ, so
    // swap the operands and keep the transposition flags.
    const int lda = static_cast<int>(transA ? m : k);
    const int ldb = static_cast<int>(transB ? k : n);
    checkCublas(cublasSgemm(cublas(), transB ? CUBLAS_OP_T : CUBLAS_OP_N, transA ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(n),
                            static_cast<int>(m), static_cast<int>(k), &alpha, b, ldb, a, lda, &beta, c, static_cast<int>(n)),
                "cublasSgemm");
}

void synchronize()
{
    checkCuda(cudaDeviceSynchronize(), "a kernel");
}

} // namespace netwright::cuda
