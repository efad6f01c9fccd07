// SPDX-License-Identifier: Apache-2.0
// SoftmaxCrossEntropyLoss (ONNX opset 12+) for scores [N,C] and class labels [N] (int64, or
// float32 holding whole numbers): reduction mean (default), sum or none; ignore_index; the
// optional second output is log_prob [N,C]. A label outside [0, C) is an error naming the node.
#include "core/error.h"
#include "core/parallel.h"
#include "ops/kernels.h"

#include <cmath>

namespace netwright {

namespace {

int64_t labelAt(const Tensor &labels, int64_t i)
{
    return labels.dtype() == DType::Int64 ? labels.dataAs<int64_t>()[i] : static_cast<int64_t>(labels.data()[i]);
}

class SoftmaxCrossEntropyLoss final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() >= 2, node.describe() + ": needs inputs scores and labels.");
        check(in.size() == 2 || (in.size() == 3 && in[2].empty()),
              node.describe() + ": the optional weights input is not supported by the engine.");
        shape_rules::expectRank(node, "scores", in[0], 2);
        check(in[1] == Shape{in[0][0]}, node.describe() + ": labels must have shape [" + std::to_string(in[0][0]) + "], got "
                                            + shapeToString(in[1]) + ".");
        const std::string reduction = node.attrString("reduction", "mean");
        check(reduction == "mean" || reduction == "sum" || reduction == "none",
              node.describe() + ": unknown reduction \"" + reduction + "\".");
        return {reduction == "none" ? Shape{in[0][0]} : Shape{}, in[0]};
    }
    bool differentiable(size_t input) const override { return input == 0; }

    void forward(KernelContext &ctx) const override
    {
        const Tensor &S = ctx.in(0), &L = ctx.in(1);
        const int64_t N = S.dim(0), C = S.dim(1);
        const bool hasIgnore = ctx.node.hasAttribute("ignore_index");
        const int64_t ignore = ctx.node.attrInt("ignore_index", -1);
        ctx.saved.resize(1);
        if (!ctx.saved[0].defined() || ctx.saved[0].shape() != S.shape())
            ctx.saved[0] = Tensor(S.shape());
        float *logp = ctx.saved[0].data();
        const float *s = S.data();
        std::vector<float> perSample(N, 0.0f);
        int64_t counted = 0;
        for (int64_t i = 0; i < N; ++i) {
            const int64_t label = labelAt(L, i);
            const bool skip = hasIgnore && label == ignore;
            check(skip || (label >= 0 && label < C), ctx.node.describe() + ": label " + std::to_string(label) + " at row "
                                                         + std::to_string(i) + " is outside [0, " + std::to_string(C) + ").");
            const float *row = s + i * C;
            float mx = row[0];
            for (int64_t c = 1; c < C; ++c)
                mx = std::max(mx, row[c]);
            float sum = 0.0f;
            for (int64_t c = 0; c < C; ++c)
                sum += std::exp(row[c] - mx);
            const float lse = mx + std::log(sum);
            for (int64_t c = 0; c < C; ++c)
                logp[i * C + c] = row[c] - lse;
            if (!skip) {
                perSample[i] = -logp[i * C + label];
                ++counted;
            }
        }
        const std::string reduction = ctx.node.attrString("reduction", "mean");
        float *loss = ctx.out(0).data();
        if (reduction == "none") {
            for (int64_t i = 0; i < N; ++i)
                loss[i] = perSample[i];
        } else {
            double total = 0.0;
            for (float v : perSample)
                total += v;
            loss[0] = static_cast<float>(reduction == "mean" ? total / std::max<int64_t>(1, counted) : total);
        }
        if (ctx.outputs.size() > 1 && ctx.outputs[1])
            ctx.outputs[1]->copyFrom(ctx.saved[0]);
        ctx.saved.resize(2);
        ctx.saved[1] = Tensor::full({1}, static_cast<float>(counted));
    }

    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        const Tensor &L = ctx.in(1);
        const Tensor &logp = ctx.saved.at(0);
        const int64_t N = logp.dim(0), C = logp.dim(1);
        const bool hasIgnore = ctx.node.hasAttribute("ignore_index");
        const int64_t ignore = ctx.node.attrInt("ignore_index", -1);
        const std::string reduction = ctx.node.attrString("reduction", "mean");
        const float counted = std::max(1.0f, ctx.saved.at(1).data()[0]);
        const float *lp = logp.data(), *g = ctx.gradOutputs[0]->data();
        const float *glp = ctx.gradOutputs.size() > 1 && ctx.gradOutputs[1] ? ctx.gradOutputs[1]->data() : nullptr;
        float *ds = ctx.gradInputs[0]->data();
        for (int64_t i = 0; i < N; ++i) {
            if (glp) { // through log_prob: d/ds = g − softmax · Σg
                float sum = 0.0f;
                for (int64_t c = 0; c < C; ++c)
                    sum += glp[i * C + c];
                for (int64_t c = 0; c < C; ++c)
                    ds[i * C + c] = glp[i * C + c] - std::exp(lp[i * C + c]) * sum;
            }
            const int64_t label = labelAt(L, i);
            const float scale = (hasIgnore && label == ignore) ? 0.0f
                                : reduction == "none"          ? g[i]
                                : reduction == "mean"          ? g[0] / counted
                                                               : g[0];
            for (int64_t c = 0; c < C; ++c) {
                const float d = scale * (std::exp(lp[i * C + c]) - (c == label ? 1.0f : 0.0f));
                ds[i * C + c] = glp ? ds[i * C + c] + d : d;
            }
        }
    }
};

} // namespace

void registerSoftmaxCrossEntropyLoss(KernelTable &t)
{
    t["SoftmaxCrossEntropyLoss"] = std::make_unique<SoftmaxCrossEntropyLoss>();
}

} // namespace netwright
