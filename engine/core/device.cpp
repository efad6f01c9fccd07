// SPDX-License-Identifier: Apache-2.0
#include "core/device.h"

namespace netwright {

std::string Device::toString() const
{
    return type == DeviceType::Cpu ? std::string("cpu") : "cuda:" + std::to_string(index);
}

} // namespace netwright
