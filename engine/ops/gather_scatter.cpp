// SPDX-License-Identifier: Apache-2.0
// Indexing (ONNX): Gather, GatherElements, GatherND, ScatterElements, ScatterND, Compress,
// NonZero, OneHot.
#include "core/error.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

namespace netwright {

void registerGatherScatter(KernelTable &)
{
}

} // namespace netwright
