// SPDX-License-Identifier: Apache-2.0
// TopK (ONNX): the k largest or smallest values along an axis and their indices.
#include "core/error.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

namespace netwright {

void registerTopK(KernelTable &)
{
}

} // namespace netwright
