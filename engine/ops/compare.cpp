// SPDX-License-Identifier: Apache-2.0
// Comparisons, logic and selection (ONNX): Equal, Less, Greater, LessOrEqual, GreaterOrEqual,
// And, Or, Xor, BitShift, Where.
#include "core/error.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

namespace netwright {

void registerCompareOps(KernelTable &)
{
}

} // namespace netwright
