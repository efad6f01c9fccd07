// SPDX-License-Identifier: Apache-2.0
// Resize (ONNX; Upsample is imported as Resize) and MaxUnpool.
#include "core/error.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

namespace netwright {

void registerResizeOps(KernelTable &)
{
}

} // namespace netwright
