// SPDX-License-Identifier: Apache-2.0
// Slicing and splitting (ONNX): Slice, Split.
#include "core/error.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

namespace netwright {

void registerSliceSplit(KernelTable &)
{
}

} // namespace netwright
