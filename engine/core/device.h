// SPDX-License-Identifier: Apache-2.0
// The device seam: where a tensor lives and which kernels run it. The CPU is built in; a device
// backend (engine/cuda) registers how to allocate, copy and fill its memory, its arithmetic and
// its kernels (per op type, ops/op.h), so the engine core never links a device runtime.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace netwright {

enum class DeviceType { Cpu, Cuda };

struct Device {
    DeviceType type = DeviceType::Cpu;
    int index = 0;

    static Device cpu() { return {}; }
    static Device cuda(int index = 0) { return {DeviceType::Cuda, index}; }
    bool operator==(const Device &) const = default;
    std::string toString() const;
};

// How tensors live on a device other than the CPU. Every function throws Error on failure (out
// of device memory, a device error) and may be called from any thread.
struct DeviceMemory {
    void *(*allocate)(size_t bytes, int index) = nullptr;
    void (*release)(void *p, int index) = nullptr;
    // Copies `bytes`, waiting until done; dstOnHost/srcOnHost say which side is host memory.
    void (*copy)(void *dst, bool dstOnHost, const void *src, bool srcOnHost, size_t bytes) = nullptr;
    void (*fill)(float *p, int64_t count, float value) = nullptr;
};
// Called once by a backend when it starts; later calls replace the entry.
void registerDeviceMemory(DeviceType type, const DeviceMemory &memory);
// The backend's functions, or nullptr when none is registered (or for the CPU).
const DeviceMemory *deviceMemory(DeviceType type);

// The arithmetic the engine does outside op kernels: gradient accumulation and the optimizer
// updates (the rules of optim/update_rules.h). Pointers are device memory. A backend may leave
// any entry null; the engine then copies to the host, computes there and copies back — the same
// bits, only slower.
struct DeviceArithmetic {
    void (*add)(float *dst, const float *src, int64_t n) = nullptr; // dst[i] += src[i]
    void (*scale)(float *x, int64_t n, float factor) = nullptr;      // x[i] *= factor
    // optim/update_rules.h's sgdElement over n elements (buf null when mu = 0).
    void (*sgdUpdate)(float *w, const float *g, float *buf, int64_t n, float lr, float mu, float wd, bool nesterov) = nullptr;
    // optim/update_rules.h's adamElement over n elements.
    void (*adamUpdate)(float *w, const float *g, float *m, float *v, int64_t n, float lr, float beta1, float beta2, float eps,
                       float wd, float c1, float c2, bool decoupled) = nullptr;
};
void registerDeviceArithmetic(DeviceType type, const DeviceArithmetic &arithmetic);
const DeviceArithmetic *deviceArithmetic(DeviceType type);

// How a backend starts: registered by the backend itself (libnetwright-cuda.so's entry point, or
// cuda::registerBackend() where a program links engine/cuda directly); it registers the backend's
// memory, arithmetic and kernels, and returns how many devices it can use — or throws Error
// saying why none.
using DeviceStarter = int (*)();
void registerDeviceStarter(DeviceType type, DeviceStarter starter);
// "cpu", "cuda" (device 0) or "cuda:N"; throws Error naming the text otherwise.
Device parseDevice(const std::string &text);
// Makes `device` usable (starting its backend on first use, after loading libnetwright-cuda.so
// when no starter is registered yet) and returns the number of devices of its type. Throws Error when this build has no backend for it, when no such device is present
// (the backend's reason), or when the index is out of range. The CPU always succeeds.
int startDevice(Device device);

} // namespace netwright
