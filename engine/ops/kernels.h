// SPDX-License-Identifier: Apache-2.0
// Internal to engine/ops: one registration function per op file, called by op_registry.cpp.
#pragma once

#include "ops/op.h"

#include <map>
#include <memory>
#include <string>

namespace netwright {

using KernelTable = std::map<std::string, std::unique_ptr<OpKernel>>;

void registerGemm(KernelTable &t);
void registerMatMul(KernelTable &t);
void registerBinaryOps(KernelTable &t);
void registerConv(KernelTable &t);
void registerMaxPool(KernelTable &t);
void registerAveragePools(KernelTable &t);
void registerBatchNormalization(KernelTable &t);
void registerActivations(KernelTable &t);
void registerSoftmaxOps(KernelTable &t);
void registerShapeOps(KernelTable &t);
void registerTranspose(KernelTable &t);
void registerConcat(KernelTable &t);
void registerClip(KernelTable &t);
void registerDropout(KernelTable &t);
void registerSoftmaxCrossEntropyLoss(KernelTable &t);
void registerRegressionLosses(KernelTable &t);
void registerUnaryMath(KernelTable &t);
void registerCompareOps(KernelTable &t);
void registerVariadicOps(KernelTable &t);
void registerCastOps(KernelTable &t);
void registerNormalizations(KernelTable &t);
void registerReductions(KernelTable &t);
void registerTopK(KernelTable &t);
void registerEinsum(KernelTable &t);
void registerSliceSplit(KernelTable &t);
void registerGatherScatter(KernelTable &t);
void registerRearrangeOps(KernelTable &t);
void registerConvTranspose(KernelTable &t);
void registerResizeOps(KernelTable &t);
void registerRecurrentOps(KernelTable &t);
void registerControlFlow(KernelTable &t);

// The CPU kernel `cpu` for tensors on a device: copies the inputs to the host, runs it there and
// copies the outputs (and the inputs it writes, and the gradients) back (ops/host_fallback.cpp).
std::unique_ptr<OpKernel> makeHostFallbackKernel(const OpKernel &cpu);

} // namespace netwright
