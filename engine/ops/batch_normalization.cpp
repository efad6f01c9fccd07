// SPDX-License-Identifier: Apache-2.0
// BatchNormalization (ONNX): inference uses the running statistics; training uses the batch's
// (biased variance for normalising) and updates the running ones in place,
// running = momentum·running + (1 − momentum)·batch, with the unbiased variance as PyTorch
// and MindSpore keep it. X is [N, C, D1, …] of any rank ≥ 2 (BatchNorm1d's [N, C] and [N, C, L],
// 2-D and 3-D). Work is split by channel (by bands of channels for [N, C], whose rows are read in
// order), so every sum has one fixed order whatever the thread count.
#include "core/error.h"
#include "core/parallel.h"
#include "ops/batch_norm_rules.h"
#include "ops/kernels.h"

#include <cmath>
#include <vector>

namespace netwright {

namespace {

class BatchNormalization final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 5, node.describe() + ": needs inputs X, scale, B, input_mean, input_var.");
        check(in[0].size() >= 2, node.describe() + ": input X must be [N,C,…], got " + shapeToString(in[0]) + ".");
        const int64_t C = in[0][1];
        static const char *names[] = {"X", "scale", "B", "input_mean", "input_var"};
        for (int i = 1; i < 5; ++i)
            check(in[i] == Shape{C}, node.describe() + ": " + names[i] + " must have shape [" + std::to_string(C) + "], got "
                                         + shapeToString(in[i]) + ".");
        return {in[0], {C}, {C}};
    }

    bool differentiable(size_t input) const override { return input < 3; }
    bool writesInputs() const override { return true; } // the running statistics, in training

    void forward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        const float eps = ctx.node.attrFloat("epsilon", 1e-5f);
        const float momentum = ctx.node.attrFloat("momentum", 0.9f);
        // training_mode=1 (ONNX) normalises with batch statistics; only a training step of our
        // own (ctx.training) updates the running statistics in place.
        const bool training = ctx.training || ctx.node.attrInt("training_mode", 0) != 0;
        const bool updateRunning = ctx.training;
        const int64_t N = X.dim(0), C = X.dim(1), S = X.numel() / std::max<int64_t>(1, N * C), count = N * S;
        const float *x = X.data(), *gamma = ctx.in(1).data(), *beta = ctx.in(2).data();
        float *runMean = ctx.inputs[3]->data(), *runVar = ctx.inputs[4]->data();
        float *y = ctx.out(0).data();
        ctx.saved.resize(2);
        if (!ctx.saved[0].defined() || ctx.saved[0].numel() != C) {
            ctx.saved[0] = Tensor({C});
            ctx.saved[1] = Tensor({C});
        }
        float *meanOut = ctx.saved[0].data(), *invStdOut = ctx.saved[1].data();
        // ONNX's optional outputs 1 and 2: the running statistics updated with this batch's
        // (population) statistics in training mode, the running statistics as given otherwise.
        float *runningMeanOut = ctx.outputs.size() > 1 && ctx.outputs[1] ? ctx.outputs[1]->data() : nullptr;
        float *runningVarOut = ctx.outputs.size() > 2 && ctx.outputs[2] ? ctx.outputs[2]->data() : nullptr;
        if (S == 1) { // [N, C] (BatchNorm1d): column bands, rows in order
            parallelFor(C, [&](int64_t c0, int64_t c1, int) {
                const int64_t w = c1 - c0;
                std::vector<float> a(static_cast<size_t>(w)), b(static_cast<size_t>(w));
                if (training) {
                    std::vector<double> s(static_cast<size_t>(w), 0.0), ss(static_cast<size_t>(w), 0.0);
                    for (int64_t n = 0; n < N; ++n)
                        for (int64_t k = 0; k < w; ++k)
                            s[k] += x[n * C + c0 + k];
                    for (int64_t k = 0; k < w; ++k)
                        s[k] = static_cast<float>(s[k] / static_cast<double>(count));
                    for (int64_t n = 0; n < N; ++n)
                        for (int64_t k = 0; k < w; ++k) {
                            const float d = x[n * C + c0 + k] - static_cast<float>(s[k]);
                            ss[k] += d * d;
                        }
                    for (int64_t k = 0; k < w; ++k) {
                        const int64_t c = c0 + k;
                        const float mean = static_cast<float>(s[k]);
                        const float var = batchNormTrainingStatistics(mean, ss[k], count, momentum, runMean + c, runVar + c,
                                                                      runningMeanOut ? runningMeanOut + c : nullptr,
                                                                      runningVarOut ? runningVarOut + c : nullptr, updateRunning);
                        meanOut[c] = mean;
                        invStdOut[c] = 1.0f / std::sqrt(var + eps);
                    }
                } else {
                    for (int64_t c = c0; c < c1; ++c) {
                        meanOut[c] = runMean[c];
                        invStdOut[c] = 1.0f / std::sqrt(runVar[c] + eps);
                        if (runningMeanOut)
                            runningMeanOut[c] = runMean[c];
                        if (runningVarOut)
                            runningVarOut[c] = runVar[c];
                    }
                }
                for (int64_t k = 0; k < w; ++k) {
                    const int64_t c = c0 + k;
                    a[k] = gamma[c] * invStdOut[c];
                    b[k] = beta[c] - meanOut[c] * a[k];
                }
                for (int64_t n = 0; n < N; ++n) {
                    const float *__restrict p = x + n * C + c0;
                    float *__restrict q = y + n * C + c0;
                    for (int64_t k = 0; k < w; ++k)
                        q[k] = p[k] * a[k] + b[k];
                }
            }, std::max<int64_t>(16, 16384 / std::max<int64_t>(1, N)));
            ctx.saved.resize(3);
            ctx.saved[2] = Tensor::full({1}, training ? 1.0f : 0.0f);
            return;
        }
        parallelFor(C, [&](int64_t c0, int64_t c1, int) {
            for (int64_t c = c0; c < c1; ++c) {
                float mean, var;
                if (training) {
                    // Per plane in float (vectorised), across planes in double: fixed order.
                    double s = 0.0, ss = 0.0;
                    for (int64_t n = 0; n < N; ++n) {
                        const float *__restrict p = x + (n * C + c) * S;
                        float r = 0.0f;
#pragma omp simd reduction(+ : r)
                        for (int64_t i = 0; i < S; ++i)
                            r += p[i];
                        s += r;
                    }
                    const double m = s / static_cast<double>(count);
                    const float mf = static_cast<float>(m);
                    for (int64_t n = 0; n < N; ++n) {
                        const float *__restrict p = x + (n * C + c) * S;
                        float r = 0.0f;
#pragma omp simd reduction(+ : r)
                        for (int64_t i = 0; i < S; ++i)
                            r += (p[i] - mf) * (p[i] - mf);
                        ss += r;
                    }
                    mean = static_cast<float>(m);
                    var = batchNormTrainingStatistics(mean, ss, count, momentum, runMean + c, runVar + c,
                                                      runningMeanOut ? runningMeanOut + c : nullptr,
                                                      runningVarOut ? runningVarOut + c : nullptr, updateRunning);
                } else {
                    mean = runMean[c];
                    var = runVar[c];
                    if (runningMeanOut)
                        runningMeanOut[c] = mean;
                    if (runningVarOut)
                        runningVarOut[c] = var;
                }
                const float invStd = 1.0f / std::sqrt(var + eps);
                meanOut[c] = mean;
                invStdOut[c] = invStd;
                const float a = gamma[c] * invStd, b = beta[c] - mean * a;
                for (int64_t n = 0; n < N; ++n) {
                    const float *__restrict p = x + (n * C + c) * S;
                    float *__restrict q = y + (n * C + c) * S;
                    for (int64_t i = 0; i < S; ++i)
                        q[i] = p[i] * a + b;
                }
            }
        });
        ctx.saved.resize(3);
        ctx.saved[2] = Tensor::full({1}, training ? 1.0f : 0.0f);
    }

    void backward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        const bool training = ctx.saved.at(2).data()[0] != 0.0f;
        const int64_t N = X.dim(0), C = X.dim(1), S = X.numel() / std::max<int64_t>(1, N * C);
        const float count = static_cast<float>(N * S);
        const float *x = X.data(), *gamma = ctx.in(1).data(), *dy = ctx.gradOutputs[0]->data();
        const float *mean = ctx.saved[0].data(), *invStd = ctx.saved[1].data();
        float *dx = ctx.wantsGrad(0) ? ctx.gradInputs[0]->data() : nullptr;
        float *dgamma = ctx.wantsGrad(1) ? ctx.gradInputs[1]->data() : nullptr;
        float *dbeta = ctx.wantsGrad(2) ? ctx.gradInputs[2]->data() : nullptr;
        if (S == 1) { // [N, C]: column bands, rows in order
            parallelFor(C, [&](int64_t c0, int64_t c1, int) {
                const int64_t w = c1 - c0;
                std::vector<double> sdy(static_cast<size_t>(w), 0.0), sdyx(static_cast<size_t>(w), 0.0);
                for (int64_t n = 0; n < N; ++n)
                    for (int64_t k = 0; k < w; ++k) {
                        const int64_t i = n * C + c0 + k;
                        sdy[k] += dy[i];
                        sdyx[k] += static_cast<double>(dy[i] * (x[i] - mean[c0 + k])) * invStd[c0 + k];
                    }
                std::vector<float> kk(static_cast<size_t>(w)), scale(static_cast<size_t>(w)), shift(static_cast<size_t>(w));
                for (int64_t k = 0; k < w; ++k) {
                    const int64_t c = c0 + k;
                    if (dbeta)
                        dbeta[c] = static_cast<float>(sdy[k]);
                    if (dgamma)
                        dgamma[c] = static_cast<float>(sdyx[k]);
                    kk[k] = gamma[c] * invStd[c];
                    const float mdy = static_cast<float>(sdy[k]) / count, mdyx = static_cast<float>(sdyx[k]) / count;
                    scale[k] = training ? -kk[k] * invStd[c] * mdyx : 0.0f;
                    shift[k] = training ? -kk[k] * mdy + kk[k] * mean[c] * invStd[c] * mdyx : 0.0f;
                }
                if (!dx)
                    return;
                for (int64_t n = 0; n < N; ++n) {
                    const float *__restrict p = x + n * C + c0, *__restrict g = dy + n * C + c0;
                    float *__restrict q = dx + n * C + c0;
                    for (int64_t k = 0; k < w; ++k)
                        q[k] = kk[k] * g[k] + scale[k] * p[k] + shift[k];
                }
            }, std::max<int64_t>(16, 16384 / std::max<int64_t>(1, N)));
            return;
        }
        parallelFor(C, [&](int64_t c0, int64_t c1, int) {
            for (int64_t c = c0; c < c1; ++c) {
                double sdy = 0.0, sdyx = 0.0;
                const float mc = mean[c], ic = invStd[c];
                for (int64_t n = 0; n < N; ++n) {
                    const float *__restrict p = x + (n * C + c) * S, *__restrict g = dy + (n * C + c) * S;
                    float r = 0.0f, rx = 0.0f;
#pragma omp simd reduction(+ : r, rx)
                    for (int64_t i = 0; i < S; ++i) {
                        r += g[i];
                        rx += g[i] * (p[i] - mc);
                    }
                    sdy += r;
                    sdyx += static_cast<double>(rx) * ic;
                }
                if (dbeta)
                    dbeta[c] = static_cast<float>(sdy);
                if (dgamma)
                    dgamma[c] = static_cast<float>(sdyx);
                if (!dx)
                    continue;
                const float k = gamma[c] * invStd[c];
                const float mdy = static_cast<float>(sdy) / count, mdyx = static_cast<float>(sdyx) / count;
                for (int64_t n = 0; n < N; ++n) {
                    const float *__restrict p = x + (n * C + c) * S, *__restrict g = dy + (n * C + c) * S;
                    float *__restrict q = dx + (n * C + c) * S;
                    if (training) {
                        const float shift = -k * mdy + k * mc * ic * mdyx, scale = -k * ic * mdyx;
                        for (int64_t i = 0; i < S; ++i)
                            q[i] = k * g[i] + scale * p[i] + shift;
                    } else {
                        for (int64_t i = 0; i < S; ++i)
                            q[i] = k * g[i];
                    }
                }
            }
        });
    }
};

} // namespace

void registerBatchNormalization(KernelTable &t)
{
    t["BatchNormalization"] = std::make_unique<BatchNormalization>();
}

} // namespace netwright
