// SPDX-License-Identifier: Apache-2.0
// Ops that move values around (ONNX): Tile, Pad, DepthToSpace, SpaceToDepth, Trilu,
// ReverseSequence.
#include "core/error.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

namespace netwright {

void registerRearrangeOps(KernelTable &)
{
}

} // namespace netwright
