// SPDX-License-Identifier: Apache-2.0
// The CUDA backend's device layer: which GPUs there are, device memory, and the first kernels
// (GEMM through cuBLAS, ReLU as CUDA kernels) with the engine's row-major conventions. Layer:
// engine/cuda, built only with NETWRIGHT_WITH_CUDA and not yet wired into the executor; the CPU
// kernels stay the reference every function here is tested against. No CUDA header leaks out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace netwright::cuda {

struct DeviceInfo {
    int index = 0;
    std::string name;
    int major = 0, minor = 0; // compute capability
    size_t memoryBytes = 0;
};

// The CUDA devices this process can use. With none, returns {} and sets `reason` to why, in the
// driver's words (no driver loaded, no device, a driver older than the runtime).
std::vector<DeviceInfo> listDevices(std::string *reason = nullptr);

// Device memory for `count` floats on the current device. Move-only; throws Error naming the
// size when the allocation fails.
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    explicit DeviceBuffer(size_t count);
    ~DeviceBuffer();
    DeviceBuffer(DeviceBuffer &&other) noexcept;
    DeviceBuffer &operator=(DeviceBuffer &&other) noexcept;
    DeviceBuffer(const DeviceBuffer &) = delete;
    DeviceBuffer &operator=(const DeviceBuffer &) = delete;

    float *data() { return m_data; }
    const float *data() const { return m_data; }
    size_t size() const { return m_count; }
    void upload(const float *host, size_t count);        // count ≤ size()
    void download(float *host, size_t count) const;      // waits for the device

private:
    float *m_data = nullptr;
    size_t m_count = 0;
};

// C[m,n] = alpha · op(A) · op(B) + beta · C on device pointers, all row-major as the engine's
// Gemm: A is [m,k] ([k,m] when transA), B is [k,n] ([n,k] when transB). Through cuBLAS.
void gemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float *a, const float *b, float beta,
          float *c);
// y = max(x, 0); dx = dy where x > 0, else 0. n elements, device pointers.
void reluForward(const float *x, float *y, int64_t n);
void reluBackward(const float *x, const float *dy, float *dx, int64_t n);
// Waits for the device; throws Error with the CUDA error of any kernel that failed.
void synchronize();

} // namespace netwright::cuda
