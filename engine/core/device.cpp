// SPDX-License-Identifier: Apache-2.0
#include "core/device.h"

#include "core/error.h"

#include <mutex>

namespace netwright {

namespace {
std::mutex g_mutex;
DeviceMemory g_cuda;
bool g_cudaRegistered = false;
DeviceArithmetic g_cudaArithmetic;
bool g_cudaArithmeticRegistered = false;
DeviceStarter g_cudaStarter = nullptr;
int g_cudaDevices = -1; // -1: not started yet
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

void registerDeviceArithmetic(DeviceType type, const DeviceArithmetic &arithmetic)
{
    if (type != DeviceType::Cuda)
        return;
    std::lock_guard lock(g_mutex);
    g_cudaArithmetic = arithmetic;
    g_cudaArithmeticRegistered = true;
}

const DeviceArithmetic *deviceArithmetic(DeviceType type)
{
    std::lock_guard lock(g_mutex);
    return type == DeviceType::Cuda && g_cudaArithmeticRegistered ? &g_cudaArithmetic : nullptr;
}

void registerDeviceStarter(DeviceType type, DeviceStarter starter)
{
    if (type != DeviceType::Cuda)
        return;
    std::lock_guard lock(g_mutex);
    g_cudaStarter = starter;
    g_cudaDevices = -1;
}

Device parseDevice(const std::string &text)
{
    if (text == "cpu")
        return Device::cpu();
    if (text == "cuda")
        return Device::cuda(0);
    if (text.rfind("cuda:", 0) == 0 && text.size() > 5 && text.size() <= 8
        && text.find_first_not_of("0123456789", 5) == std::string::npos)
        return Device::cuda(std::stoi(text.substr(5)));
    throw Error("Unknown device \"" + text + "\" (expected cpu, cuda or cuda:N).");
}

int startDevice(Device device)
{
    if (device.type == DeviceType::Cpu)
        return 1;
    DeviceStarter starter = nullptr;
    {
        std::lock_guard lock(g_mutex);
        starter = g_cudaStarter;
    }
    if (!starter)
        throw Error("This build of Netwright has no CUDA backend (it was built without NETWRIGHT_WITH_CUDA); use --device cpu.");
    int count = 0;
    {
        std::lock_guard lock(g_mutex);
        count = g_cudaDevices;
    }
    if (count < 0) {
        count = starter(); // registers memory, arithmetic and kernels (takes g_mutex itself)
        std::lock_guard lock(g_mutex);
        g_cudaDevices = count;
    }
    if (device.index < 0 || device.index >= count)
        throw Error("There is no " + device.toString() + ": this machine has " + std::to_string(count) + " CUDA device"
                    + (count == 1 ? "" : "s") + " (cuda:0" + (count > 1 ? "…cuda:" + std::to_string(count - 1) : std::string()) + ").");
    return count;
}

std::string Device::toString() const
{
    return type == DeviceType::Cpu ? std::string("cpu") : "cuda:" + std::to_string(index);
}

} // namespace netwright
