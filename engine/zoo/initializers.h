// SPDX-License-Identifier: Apache-2.0
// Seeded weight initialisation: Kaiming (He) and Xavier (Glorot), uniform or normal, with fan-in
// and fan-out computed as PyTorch does ([out, in, k…]: fan_in = in·∏k). Layer: engine/zoo.
#pragma once

#include "core/rng.h"
#include "core/tensor.h"

#include <string>

namespace netwright {

enum class InitScheme { KaimingUniform, KaimingNormal, XavierUniform, XavierNormal };

// Throws Error for an unknown name (kaiming-uniform, kaiming-normal, xavier-uniform, xavier-normal).
InitScheme parseInitScheme(const std::string &name);
// Fills a weight of shape [out, in, k…] (rank ≥ 2). Kaiming uses the ReLU gain √2 when a ReLU
// follows the layer and gain 1 otherwise (the output layer), so the first logits stay O(1).
void initializeWeight(Tensor &weight, InitScheme scheme, Rng &rng, bool reluFollows = true);

} // namespace netwright
