// SPDX-License-Identifier: Apache-2.0
// Einsum (ONNX): the contractions PyTorch emits, as batched matrix products.
#include "core/error.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

namespace netwright {

void registerEinsum(KernelTable &)
{
}

} // namespace netwright
