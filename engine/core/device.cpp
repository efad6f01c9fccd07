// SPDX-License-Identifier: Apache-2.0
#include "core/device.h"

#include "core/error.h"

namespace netwright {

std::string Device::toString() const
{
    return type == DeviceType::Cpu ? std::string("cpu") : "cuda:" + std::to_string(index);
}

Device parseDevice(const std::string &text)
{
    if (text == "cpu")
        return Device::cpu();
    if (text.rfind("cuda", 0) == 0)
        throw Error("Device \"" + text + "\" is not available: this build has no CUDA backend.");
    throw Error("Unknown device \"" + text + "\" (expected cpu).");
}

} // namespace netwright
