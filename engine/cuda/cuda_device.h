// SPDX-License-Identifier: Apache-2.0
// The CUDA backend's device layer: which GPUs there are, device memory, and the first kernels
// (GEMM through cuBLAS, ReLU as CUDA kernels) with the engine's row-major conventions. Layer:
// engine/cuda, built only with NETWRIGHT_WITH_CUDA; the CPU kernels stay the reference every
// function here is tested against. No CUDA header leaks out.
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

// Makes the CUDA device usable by the engine: registers cudaMalloc, cudaMemcpy and a fill kernel
// as its DeviceMemory, the gradient accumulation and optimizer updates as its DeviceArithmetic,
// and the op kernels of cuda_kernels.cpp. Returns the number of devices; throws Error naming the
// reason when there is no usable device.
int startBackend();
// Registers startBackend() as the engine's starter for DeviceType::Cuda (core/device.h
// startDevice): the backend starts when a run first asks for --device cuda. Starts nothing.
void registerBackend();
// The op kernels of cuda_kernels.cpp, registered with the engine (called by startBackend()).
void registerKernels();
// NCCL's all-reduce as the engine's DeviceCollective for data-parallel runs on GPUs (called by
// startBackend() in builds with NCCL; nccl_collective.cpp).
void registerNcclCollective();
// p[0..count) = value on the current device.
void fill(float *p, int64_t count, float value);

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
    // Other element types in the same storage (int64 labels: 2 floats' room each).
    void uploadBytes(const void *host, size_t bytes);    // bytes ≤ size() · 4
    template<typename T> T *as() { return reinterpret_cast<T *>(m_data); }

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
// y[i,j] = x[i,j] + bias[j] for rows × cols; db[j] = Σᵢ dy[i,j] (overwrites db).
void addBiasRows(const float *x, const float *bias, float *y, int64_t rows, int64_t cols);
void biasGradient(const float *dy, float *db, int64_t rows, int64_t cols);
// Mean softmax cross-entropy of scores [n,c] against labels [n] (int64, each in [0, c)): loss[0]
// gets the mean, dscores the gradient of the mean (softmax − one-hot) / n; workspace holds n
// floats. Labels outside [0, c) count as 0 and set *badLabel (device int, may be null) to 1.
void softmaxCrossEntropy(const float *scores, const int64_t *labels, float *loss, float *dscores, int64_t n, int64_t c,
                         float *workspace, int *badLabel);
// The CPU SGD rule on n elements: d = g + wd·w; with momentum, buf = mu·buf + d and d = d + mu·buf
// (Nesterov) or buf; w −= lr·d. buf may be null when mu = 0.
void sgdUpdate(float *w, const float *g, float *buf, int64_t n, float lr, float mu, float wd, bool nesterov);
// The CPU Adam/AdamW rule (optim/optimizer.cpp) on n elements, c1 = 1 − β1ᵗ and c2 = √(1 − β2ᵗ)
// computed by the caller: AdamW decays w by lr·wd first; Adam adds wd·w to the gradient.
void adamUpdate(float *w, const float *g, float *m, float *v, int64_t n, float lr, float beta1, float beta2, float eps, float wd,
                float c1, float c2, bool decoupled);
// Training-mode Dropout on n elements starting at global element `first`: scale[i] is 1/(1−ratio)
// or 0 by dropoutUniform(key, first + i) (ops/dropout_mask.h, as on the CPU), y = x · scale.
void dropoutForward(const float *x, float *y, float *scale, int64_t n, uint64_t key, uint64_t first, float ratio);
// dx = dy · scale.
void multiply(const float *a, const float *b, float *out, int64_t n);
// dst[i] += src[i] (the executor's gradient accumulation).
void addInPlace(float *dst, const float *src, int64_t n);
// x[i] *= factor.
void scale(float *x, int64_t n, float factor);
// y[i] = x[i] · factor[0], factor a device scalar.
void scaleBy(const float *x, const float *factor, float *y, int64_t n);
// Add, Sub, Mul, Div (op 0…3) of two tensors of one shape (n elements), and the gradient of
// input `which` (0 or 1) from dy, as the CPU kernel computes them.
void binaryForward(int op, const float *a, const float *b, float *y, int64_t n);
void binaryBackward(int op, int which, const float *a, const float *b, const float *dy, float *g, int64_t n);
// BatchNormalization over [n, channels, plane] (ops/batch_normalization.cpp's formulas): in
// training the batch's statistics (biased variance to normalise), the running ones updated with
// the unbiased variance when updateRunning; otherwise the running statistics. mean and invStd
// (per channel) are written by the forward and read by the backward. Optional pointers may be null.
struct BatchNormArgs {
    int64_t n = 0, channels = 0, plane = 1;
    float eps = 1e-5f, momentum = 0.9f;
    bool training = false, updateRunning = false;
    const float *gamma = nullptr, *beta = nullptr;
    float *runMean = nullptr, *runVar = nullptr;               // the running statistics (inputs 3, 4)
    float *runningMeanOut = nullptr, *runningVarOut = nullptr; // ONNX's optional outputs 1, 2
    float *mean = nullptr, *invStd = nullptr;
};
void batchNormForward(const BatchNormArgs &args, const float *x, float *y);
void batchNormBackward(const BatchNormArgs &args, const float *x, const float *dy, float *dx, float *dgamma, float *dbeta);
// Waits for the device; throws Error with the CUDA error of any kernel that failed.
void synchronize();

} // namespace netwright::cuda
