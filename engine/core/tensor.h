// SPDX-License-Identifier: Apache-2.0
// Tensor: a shape, a dtype and contiguous 64-byte-aligned row-major storage, shared by copies
// (copies alias; clone() copies). Layer: engine/core. Kernels compute in float32; int64 holds
// labels and shape operands, other dtypes are storage for the format readers. A tensor on a
// device (device() is not the CPU) holds device memory: data() is then a device pointer, for
// that device's kernels only; to(Device::cpu()) gives a host copy.
#pragma once

#include "core/device.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace netwright {

using Shape = std::vector<int64_t>;

enum class DType { Float32, Float64, Float16, BFloat16, Int64, Int32, Int16, Int8, UInt64, UInt32, UInt16, UInt8, Bool };

size_t dtypeSize(DType type);
std::string dtypeName(DType type);
std::string shapeToString(const Shape &shape);
// Product of the dims; throws Error when a dim is negative or the product overflows.
int64_t shapeNumel(const Shape &shape);

class Tensor {
public:
    Tensor() = default;
    // Uninitialised storage (kernels overwrite it); use zeros() when the contents matter.
    explicit Tensor(Shape shape, DType dtype = DType::Float32, Device device = Device::cpu());

    static Tensor zeros(Shape shape, DType dtype = DType::Float32, Device device = Device::cpu());
    static Tensor full(Shape shape, float value);
    static Tensor fromVector(Shape shape, const std::vector<float> &values);
    static Tensor fromInt64(Shape shape, const std::vector<int64_t> &values);
    // A CPU tensor over storage someone else owns (a memory-mapped file: aliasing() in
    // core/file_view.h), without copying. The caller guarantees numel × dtypeSize bytes there and
    // 64-byte alignment (kernels assume it); copy misaligned bytes instead.
    static Tensor adopt(Shape shape, DType dtype, std::shared_ptr<void> storage);

    bool defined() const { return m_storage != nullptr; }
    const Shape &shape() const { return m_shape; }
    int rank() const { return static_cast<int>(m_shape.size()); }
    int64_t dim(int i) const { return m_shape[i < 0 ? i + rank() : i]; }
    int64_t numel() const { return m_numel; }
    DType dtype() const { return m_dtype; }
    Device device() const { return m_device; }
    size_t byteSize() const { return static_cast<size_t>(m_numel) * dtypeSize(m_dtype); }

    float *data() { return static_cast<float *>(m_storage.get()); }
    const float *data() const { return static_cast<const float *>(m_storage.get()); }
    template<typename T> T *dataAs() { return static_cast<T *>(m_storage.get()); }
    template<typename T> const T *dataAs() const { return static_cast<const T *>(m_storage.get()); }
    void *raw() { return m_storage.get(); }
    const void *raw() const { return m_storage.get(); }

    // A view with another shape over the same storage; numel must match.
    Tensor reshaped(Shape shape) const;
    Tensor clone() const; // on the same device
    // This tensor on `device`: itself (aliased) when already there, else a copy.
    Tensor to(Device device) const;
    // A host copy that never aliases this tensor, wherever it lives (what a checkpoint stores).
    Tensor hostCopy() const;
    void fill(float value);
    void copyFrom(const Tensor &other); // same numel and dtype; shapes and devices may differ
    // True when no other Tensor aliases this storage (the executor reuses such buffers).
    bool uniquelyOwned() const { return m_storage.use_count() == 1; }

private:
    std::shared_ptr<void> m_storage;
    Shape m_shape;
    int64_t m_numel = 0;
    DType m_dtype = DType::Float32;
    Device m_device;
};

} // namespace netwright
