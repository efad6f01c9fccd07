// SPDX-License-Identifier: Apache-2.0
// The device seam: where a tensor lives and which kernels run it. Only the CPU exists today;
// kernels are registered per (op type, device type) so a CUDA backend slots in beside them.
#pragma once

#include <string>

namespace netwright {

enum class DeviceType { Cpu, Cuda };

struct Device {
    DeviceType type = DeviceType::Cpu;
    int index = 0;

    static Device cpu() { return {}; }
    bool operator==(const Device &) const = default;
    std::string toString() const;
};

} // namespace netwright
