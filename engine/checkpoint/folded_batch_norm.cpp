// SPDX-License-Identifier: Apache-2.0
#include "checkpoint/folded_batch_norm.h"

#include "core/error.h"

#include <algorithm>
#include <cmath>

namespace netwright {

FoldedConv foldBatchNorm(const Tensor &weight, const Tensor *bias, const BatchNormParams &bn)
{
    check(weight.rank() >= 2 && weight.dtype() == DType::Float32, "A folded convolution's weight must be float32 [C,…], it is "
                                                                      + dtypeName(weight.dtype()) + " " + shapeToString(weight.shape()) + ".");
    const int64_t channels = weight.dim(0);
    const int64_t perChannel = weight.numel() / std::max<int64_t>(channels, 1);
    auto vectorOk = [&](const Tensor &t) { return t.defined() && t.dtype() == DType::Float32 && t.shape() == Shape{channels}; };
    check(vectorOk(bn.gamma) && vectorOk(bn.beta) && vectorOk(bn.mean) && vectorOk(bn.var) && (!bias || vectorOk(*bias)),
          "A BatchNorm folded into a convolution of " + std::to_string(channels) + " output channels needs float32 ["
              + std::to_string(channels) + "] parameters and statistics.");
    FoldedConv out{Tensor(weight.shape()), Tensor(Shape{channels})};
    const float *w = weight.data();
    float *w2 = out.weight.data();
    for (int64_t c = 0; c < channels; ++c) {
        const double var = bn.var.data()[c];
        check(var + bn.epsilon > 0, "A BatchNorm's running variance is negative (" + std::to_string(var) + ").");
        const double scale = double(bn.gamma.data()[c]) / std::sqrt(var + bn.epsilon);
        for (int64_t i = 0; i < perChannel; ++i)
            w2[c * perChannel + i] = static_cast<float>(double(w[c * perChannel + i]) * scale);
        const double b = bias ? double(bias->data()[c]) : 0.0;
        out.bias.data()[c] = static_cast<float>(double(bn.beta.data()[c]) + (b - double(bn.mean.data()[c])) * scale);
    }
    return out;
}

} // namespace netwright
