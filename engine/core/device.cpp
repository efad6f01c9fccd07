// SPDX-License-Identifier: Apache-2.0
#include "core/device.h"

#include <mutex>

namespace netwright {

namespace {
std::mutex g_mutex;
DeviceMemory g_cuda;
bool g_cudaRegistered = false;
} // namespace

void registerDeviceMemory(DeviceType type, const DeviceMemory &memory)
{
    if (type != DeviceType::Cuda)
        return; // the CPU is built in
    std::lock_guard lock(g_mutex);
    g_cuda = memory;
    g_cudaRegistered = true;
}

const DeviceMemory *deviceMemory(DeviceType type)
{
    std::lock_guard lock(g_mutex);
    return type == DeviceType::Cuda && g_cudaRegistered ? &g_cuda : nullptr;
}

std::string Device::toString() const
{
    return type == DeviceType::Cpu ? std::string("cpu") : "cuda:" + std::to_string(index);
}

} // namespace netwright
