// SPDX-License-Identifier: Apache-2.0
#include "core/tensor.h"

#include "core/error.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <unordered_map>
#include <sys/mman.h>

namespace netwright {

size_t dtypeSize(DType type)
{
    switch (type) {
    case DType::Float32: return 4;
    case DType::Float64: return 8;
    case DType::Float16: return 2;
    case DType::BFloat16: return 2;
    case DType::Int64: return 8;
    case DType::Int32: return 4;
    case DType::Int16: return 2;
    case DType::Int8: return 1;
    case DType::UInt64: return 8;
    case DType::UInt32: return 4;
    case DType::UInt16: return 2;
    case DType::UInt8: return 1;
    case DType::Bool: return 1;
    }
    return 1;
}

std::string dtypeName(DType type)
{
    switch (type) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Float16: return "float16";
    case DType::BFloat16: return "bfloat16";
    case DType::Int64: return "int64";
    case DType::Int32: return "int32";
    case DType::Int16: return "int16";
    case DType::Int8: return "int8";
    case DType::UInt64: return "uint64";
    case DType::UInt32: return "uint32";
    case DType::UInt16: return "uint16";
    case DType::UInt8: return "uint8";
    case DType::Bool: return "bool";
    }
    return "?";
}

std::string shapeToString(const Shape &shape)
{
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i)
            s += ",";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

int64_t shapeNumel(const Shape &shape)
{
    int64_t n = 1;
    for (int64_t d : shape) {
        check(d >= 0, "Invalid tensor shape " + shapeToString(shape) + ": negative dimension.");
        check(d == 0 || n <= std::numeric_limits<int64_t>::max() / d,
              "Invalid tensor shape " + shapeToString(shape) + ": too many elements.");
        n *= d;
    }
    return n;
}

namespace {
constexpr size_t kAlignment = 64;
constexpr size_t kHugePage = size_t(2) << 20;

// Freed large blocks are kept for the next tensor of the same size: a training step frees and
// makes the same activations and gradients every time, and a fresh block costs page faults and
// the kernel's zeroing of its (huge) pages. Bounded, so a run whose shapes change keeps no more
// than kCacheCap bytes it does not use.
constexpr size_t kCacheFrom = size_t(1) << 20;
constexpr size_t kCacheCap = size_t(256) << 20;

class BlockCache {
public:
    void *take(size_t bytes)
    {
        std::lock_guard lock(m_mutex);
        auto it = m_free.find(bytes);
        if (it == m_free.end())
            return nullptr;
        void *p = it->second;
        m_free.erase(it);
        m_cached -= bytes;
        return p;
    }
    void give(void *p, size_t bytes)
    {
        {
            std::lock_guard lock(m_mutex);
            if (m_cached + bytes <= kCacheCap) {
                m_free.emplace(bytes, p);
                m_cached += bytes;
                return;
            }
        }
        std::free(p);
    }

private:
    std::mutex m_mutex;
    std::unordered_multimap<size_t, void *> m_free;
    size_t m_cached = 0;
};

BlockCache &blockCache()
{
    static auto *cache = new BlockCache; // never destroyed: tensors may be freed during exit
    return *cache;
}

std::shared_ptr<void> allocate(size_t bytes)
{
    // Large tensors are 2 MiB-aligned and asked to be backed by transparent huge pages: a fresh
    // 256 MiB checkpoint load then takes 128 page faults instead of 65,536.
    const size_t align = bytes >= kHugePage ? kHugePage : kAlignment;
    const size_t rounded = std::max<size_t>(align, (bytes + align - 1) / align * align);
    if (rounded >= kCacheFrom) {
        void *p = blockCache().take(rounded);
        if (!p) {
            p = std::aligned_alloc(align, rounded);
            if (!p)
                throw Error("Out of memory allocating a tensor of " + std::to_string(bytes) + " bytes.");
            if (align == kHugePage)
                ::madvise(p, rounded, MADV_HUGEPAGE);
        }
        return std::shared_ptr<void>(p, [rounded](void *q) { blockCache().give(q, rounded); });
    }
    void *p = std::aligned_alloc(align, rounded);
    if (!p)
        throw Error("Out of memory allocating a tensor of " + std::to_string(bytes) + " bytes.");
    return std::shared_ptr<void>(p, [](void *q) { std::free(q); });
}

const DeviceMemory &backendFor(Device device)
{
    const DeviceMemory *m = deviceMemory(device.type);
    if (!m)
        throw Error("Tensors on " + device.toString() + " need the " + (device.type == DeviceType::Cuda ? "CUDA" : "device")
                    + " backend, which this process has not started.");
    return *m;
}

std::shared_ptr<void> allocateOn(Device device, size_t bytes)
{
    if (device.type == DeviceType::Cpu)
        return allocate(bytes);
    const DeviceMemory &m = backendFor(device);
    void *p = m.allocate(bytes, device.index);
    auto release = m.release;
    const int index = device.index;
    return std::shared_ptr<void>(p, [release, index](void *q) { release(q, index); });
}

// bytes from src to dst, across devices as needed.
void copyBytes(void *dst, Device dstDevice, const void *src, Device srcDevice, size_t bytes)
{
    if (bytes == 0 || dst == src)
        return;
    if (dstDevice.type == DeviceType::Cpu && srcDevice.type == DeviceType::Cpu) {
        std::memcpy(dst, src, bytes);
        return;
    }
    const DeviceMemory &m = backendFor(dstDevice.type == DeviceType::Cpu ? srcDevice : dstDevice);
    m.copy(dst, dstDevice.type == DeviceType::Cpu, src, srcDevice.type == DeviceType::Cpu, bytes);
}
} // namespace

Tensor::Tensor(Shape shape, DType dtype, Device device)
    : m_shape(std::move(shape)), m_numel(shapeNumel(m_shape)), m_dtype(dtype), m_device(device)
{
    m_storage = allocateOn(device, byteSize());
}

Tensor Tensor::zeros(Shape shape, DType dtype, Device device)
{
    if (device.type != DeviceType::Cpu)
        return zeros(std::move(shape), dtype).to(device);
    Tensor t(std::move(shape), dtype);
    std::memset(t.raw(), 0, t.byteSize());
    return t;
}

Tensor Tensor::full(Shape shape, float value)
{
    Tensor t(std::move(shape));
    t.fill(value);
    return t;
}

Tensor Tensor::fromVector(Shape shape, const std::vector<float> &values)
{
    Tensor t(std::move(shape));
    check(static_cast<int64_t>(values.size()) == t.numel(), "Tensor::fromVector: value count does not match the shape.");
    std::copy(values.begin(), values.end(), t.data());
    return t;
}

Tensor Tensor::fromInt64(Shape shape, const std::vector<int64_t> &values)
{
    Tensor t(std::move(shape), DType::Int64);
    check(static_cast<int64_t>(values.size()) == t.numel(), "Tensor::fromInt64: value count does not match the shape.");
    std::copy(values.begin(), values.end(), t.dataAs<int64_t>());
    return t;
}

Tensor Tensor::adopt(Shape shape, DType dtype, std::shared_ptr<void> storage)
{
    check(storage != nullptr && reinterpret_cast<uintptr_t>(storage.get()) % kAlignment == 0,
          "Tensor::adopt: the storage is not 64-byte aligned.");
    Tensor t;
    t.m_numel = shapeNumel(shape);
    t.m_shape = std::move(shape);
    t.m_dtype = dtype;
    t.m_device = Device::cpu();
    t.m_storage = std::move(storage);
    return t;
}

Tensor Tensor::reshaped(Shape shape) const
{
    const int64_t n = shapeNumel(shape);
    check(n == m_numel, "Cannot reshape a tensor of shape " + shapeToString(m_shape) + " to " + shapeToString(shape) + ".");
    Tensor t = *this;
    t.m_shape = std::move(shape);
    return t;
}

Tensor Tensor::clone() const
{
    if (!defined())
        return {};
    Tensor t(m_shape, m_dtype, m_device);
    copyBytes(t.raw(), m_device, raw(), m_device, byteSize());
    return t;
}

Tensor Tensor::to(Device device) const
{
    if (!defined() || device == m_device)
        return *this;
    Tensor t(m_shape, m_dtype, device);
    copyBytes(t.raw(), device, raw(), m_device, byteSize());
    return t;
}

Tensor Tensor::hostCopy() const
{
    return m_device.type == DeviceType::Cpu ? clone() : to(Device::cpu());
}

void Tensor::fill(float value)
{
    check(m_dtype == DType::Float32, "Tensor::fill needs a float32 tensor.");
    if (m_device.type == DeviceType::Cpu)
        std::fill(data(), data() + m_numel, value);
    else
        backendFor(m_device).fill(data(), m_numel, value);
}

void Tensor::copyFrom(const Tensor &other)
{
    check(other.numel() == m_numel && other.dtype() == m_dtype,
          "Cannot copy a " + dtypeName(other.dtype()) + " tensor of shape " + shapeToString(other.shape()) + " into "
              + dtypeName(m_dtype) + " " + shapeToString(m_shape) + ".");
    copyBytes(raw(), m_device, other.raw(), other.device(), byteSize());
}

} // namespace netwright
