// SPDX-License-Identifier: Apache-2.0
// The entry point of libnetwright-cuda.so, the CUDA backend as a module: core/device.cpp loads it
// on the first --device cuda and calls netwright_cuda_register(), which registers the backend's
// starter with the program's engine (startBackend() then registers memory, arithmetic, kernels
// and the NCCL collective). Layer: engine/cuda.
#include "cuda/cuda_device.h"

extern "C" __attribute__((visibility("default"))) void netwright_cuda_register()
{
    netwright::cuda::registerBackend();
}
