// SPDX-License-Identifier: Apache-2.0
#include "zoo/initializers.h"

#include "core/error.h"

#include <cmath>

namespace netwright {

InitScheme parseInitScheme(const std::string &name)
{
    if (name == "kaiming-uniform")
        return InitScheme::KaimingUniform;
    if (name == "kaiming-normal")
        return InitScheme::KaimingNormal;
    if (name == "xavier-uniform")
        return InitScheme::XavierUniform;
    if (name == "xavier-normal")
        return InitScheme::XavierNormal;
    throw Error("Unknown model.init \"" + name + "\" (expected kaiming-uniform, kaiming-normal, xavier-uniform or xavier-normal).");
}

void initializeWeight(Tensor &weight, InitScheme scheme, Rng &rng, bool reluFollows)
{
    check(weight.rank() >= 2, "initializeWeight needs a weight of rank ≥ 2, got " + shapeToString(weight.shape()) + ".");
    const double receptive = static_cast<double>(weight.numel() / (weight.dim(0) * weight.dim(1)));
    const double fanIn = weight.dim(1) * receptive, fanOut = weight.dim(0) * receptive;
    double stdv = 0.0;
    switch (scheme) {
    case InitScheme::KaimingUniform:
    case InitScheme::KaimingNormal: stdv = std::sqrt((reluFollows ? 2.0 : 1.0) / fanIn); break;
    case InitScheme::XavierUniform:
    case InitScheme::XavierNormal: stdv = std::sqrt(2.0 / (fanIn + fanOut)); break;
    }
    const bool uniform = scheme == InitScheme::KaimingUniform || scheme == InitScheme::XavierUniform;
    const float bound = static_cast<float>(std::sqrt(3.0) * stdv);
    float *w = weight.data();
    for (int64_t i = 0; i < weight.numel(); ++i)
        w[i] = uniform ? (2.0f * rng.uniform() - 1.0f) * bound : static_cast<float>(stdv) * rng.normal();
}

} // namespace netwright
