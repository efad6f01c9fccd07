// SPDX-License-Identifier: Apache-2.0
// Normalisations (ONNX): LayerNormalization, InstanceNormalization, GroupNormalization,
// LpNormalization, MeanVarianceNormalization, LRN.
#include "core/error.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

namespace netwright {

void registerNormalizations(KernelTable &)
{
}

} // namespace netwright
