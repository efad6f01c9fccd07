// SPDX-License-Identifier: Apache-2.0
// Reductions along axes (ONNX): ReduceMean/Sum/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare,
// ArgMax, ArgMin, CumSum.
#include "core/error.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

namespace netwright {

void registerReductions(KernelTable &)
{
}

} // namespace netwright
