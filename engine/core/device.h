// SPDX-License-Identifier: Apache-2.0
// The device seam: where a tensor lives and which kernels run it. The CPU is built in; a device
// backend (engine/cuda) registers how to allocate, copy and fill its memory, so the engine core
// never links a device runtime. Kernels are registered per (op type, device type) likewise.
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

} // namespace netwright
