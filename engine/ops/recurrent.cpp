// SPDX-License-Identifier: Apache-2.0
// The recurrent layers (ONNX): RNN, GRU, LSTM.
#include "core/error.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

namespace netwright {

void registerRecurrentOps(KernelTable &)
{
}

} // namespace netwright
