// SPDX-License-Identifier: Apache-2.0
#include "core/device.h"

#include "core/error.h"

#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace netwright {

namespace {
std::mutex g_mutex;

// What the CUDA backend registered of one kind (the CPU is built in and registers nothing).
template<typename T> struct Registration {
    T value;
    bool registered = false;

    void set(DeviceType type, const T &v)
    {
        if (type != DeviceType::Cuda)
            return;
        std::lock_guard lock(g_mutex);
        value = v;
        registered = true;
    }
    const T *get(DeviceType type) const
    {
        std::lock_guard lock(g_mutex);
        return type == DeviceType::Cuda && registered ? &value : nullptr;
    }
};

Registration<DeviceMemory> g_cudaMemory;
Registration<DeviceArithmetic> g_cudaArithmetic;
DeviceStarter g_cudaStarter = nullptr;
int g_cudaDevices = -1; // -1: not started yet
} // namespace

void registerDeviceMemory(DeviceType type, const DeviceMemory &memory)
{
    g_cudaMemory.set(type, memory);
}

const DeviceMemory *deviceMemory(DeviceType type)
{
    return g_cudaMemory.get(type);
}

void registerDeviceArithmetic(DeviceType type, const DeviceArithmetic &arithmetic)
{
    g_cudaArithmetic.set(type, arithmetic);
}

const DeviceArithmetic *deviceArithmetic(DeviceType type)
{
    return g_cudaArithmetic.get(type);
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

namespace {
// Loads libnetwright-cuda.so — $NETWRIGHT_CUDA_MODULE, else beside the program, else in
// ../lib/netwright — whose entry point registers the CUDA starter. Returns "" when it registered
// one, else why not ("" path: no module found).
std::string loadCudaModule()
{
    std::vector<std::string> candidates;
    if (const char *explicitPath = std::getenv("NETWRIGHT_CUDA_MODULE"))
        candidates.push_back(explicitPath);
    char exe[PATH_MAX] = {};
    const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        std::string dir(exe, static_cast<size_t>(n));
        dir.resize(dir.rfind('/') + 1);
        candidates.push_back(dir + "libnetwright-cuda.so");
        candidates.push_back(dir + "../lib/netwright/libnetwright-cuda.so");
    }
    for (const std::string &path : candidates) {
        if (::access(path.c_str(), F_OK) != 0)
            continue;
        void *module = ::dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
        if (!module)
            return "Cannot load the CUDA backend \"" + path + "\": " + ::dlerror() + "; use --device cpu.";
        auto entry = reinterpret_cast<void (*)()>(::dlsym(module, "netwright_cuda_register"));
        if (!entry)
            return "\"" + path + "\" is not a Netwright CUDA backend (no netwright_cuda_register); use --device cpu.";
        entry();
        return {};
    }
    return "This build of Netwright has no CUDA backend (no libnetwright-cuda.so beside the program; it is built with "
           "NETWRIGHT_WITH_CUDA); use --device cpu.";
}
} // namespace

int startDevice(Device device)
{
    if (device.type == DeviceType::Cpu)
        return 1;
    DeviceStarter starter = nullptr;
    {
        std::lock_guard lock(g_mutex);
        starter = g_cudaStarter;
    }
    if (!starter) {
        const std::string why = loadCudaModule();
        std::lock_guard lock(g_mutex);
        starter = g_cudaStarter;
        if (!starter)
            throw Error(why.empty() ? "The CUDA backend registered no starter; use --device cpu." : why);
    }
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
