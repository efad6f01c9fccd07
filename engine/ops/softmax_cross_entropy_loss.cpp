// SPDX-License-Identifier: Apache-2.0
// SoftmaxCrossEntropyLoss and NegativeLogLikelihoodLoss (ONNX opset 13) for scores [N, C] or
// [N, C, d1, …] and labels [N] or [N, d1, …] (int64, int32, or float32 holding whole numbers):
// the optional weights input [C], ignore_index, reduction mean (default: Σ w·ℓ over the elements
// not ignored, divided by Σ w over them — the count without weights; 0 when nothing counts), sum
// or none (the labels' shape). SoftmaxCrossEntropyLoss's optional second output is log_prob (the
// scores' shape). A label outside [0, C) that is not ignore_index is an error naming the node.
// Float32 forward and backward (to the scores, also through log_prob), float64 forward. Every
// sample is computed independently (in parallel) and the reduction sums in sample order.
#include "core/error.h"
#include "core/parallel.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

#include <cmath>
#include <vector>

namespace netwright {

namespace {

enum class Reduction { Mean, Sum, None };

Reduction reductionOf(const Node &node)
{
    const std::string reduction = node.attrString("reduction", "mean");
    check(reduction == "mean" || reduction == "sum" || reduction == "none", node.describe() + ": unknown reduction \"" + reduction + "\".");
    return reduction == "mean" ? Reduction::Mean : reduction == "sum" ? Reduction::Sum : Reduction::None;
}

// N samples of C classes at D positions each: element (n, c, j) sits at (n·C + c)·D + j.
struct LossLayout {
    int64_t N = 0, C = 0, D = 1;
    explicit LossLayout(const Shape &scores)
    {
        N = scores[0];
        C = scores[1];
        for (size_t d = 2; d < scores.size(); ++d)
            D *= scores[d];
    }
    int64_t samples() const { return N * D; }
    int64_t base(int64_t s) const { return (s / D) * C * D + s % D; } // element (n, 0, j) of sample s
};

// The class of every sample (−1 where ignored), checked against [0, C) serially (errors cannot
// leave a parallel region).
std::vector<int64_t> classesOf(const Node &node, const Tensor &labels, const LossLayout &l)
{
    const bool hasIgnore = node.hasAttribute("ignore_index");
    const int64_t ignore = node.attrInt("ignore_index", -100);
    std::vector<int64_t> out(static_cast<size_t>(l.samples()));
    for (int64_t s = 0; s < l.samples(); ++s) {
        const int64_t label = labels.dtype() == DType::Int64   ? labels.dataAs<int64_t>()[s]
                              : labels.dtype() == DType::Int32 ? labels.dataAs<int32_t>()[s]
                                                               : static_cast<int64_t>(labels.data()[s]);
        if (hasIgnore && label == ignore) {
            out[s] = -1;
            continue;
        }
        check(label >= 0 && label < l.C, node.describe() + ": label " + std::to_string(label) + " at "
                                             + (l.D == 1 ? "row " : "position ") + std::to_string(s) + " is outside [0, "
                                             + std::to_string(l.C) + ").");
        out[s] = label;
    }
    return out;
}

class ClassificationLoss final : public OpKernel {
public:
    explicit ClassificationLoss(bool softmax) : m_softmax(softmax) {}

    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 2 || in.size() == 3, node.describe() + ": needs inputs " + (m_softmax ? "scores" : "input")
                                                     + " and labels, and optionally weights.");
        const Shape &s = in[0];
        check(s.size() >= 2, node.describe() + ": " + (m_softmax ? "scores" : "input") + " must be [N, C, …], got "
                                 + shapeToString(s) + ".");
        Shape labels{s[0]};
        labels.insert(labels.end(), s.begin() + 2, s.end());
        check(in[1] == labels, node.describe() + ": labels must have shape " + shapeToString(labels) + ", got " + shapeToString(in[1]) + ".");
        if (in.size() == 3 && !in[2].empty())
            check(in[2] == Shape{s[1]}, node.describe() + ": weights must have shape [" + std::to_string(s[1]) + "], got "
                                            + shapeToString(in[2]) + ".");
        const Reduction r = reductionOf(node);
        const Shape loss = r == Reduction::None ? labels : Shape{};
        if (m_softmax)
            return {loss, s};
        return {loss};
    }
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override
    {
        const DType t = in.empty() ? DType::Float32 : in[0];
        return m_softmax ? std::vector<DType>{t, t} : std::vector<DType>{t};
    }
    bool acceptsType(size_t input, DType type) const override
    {
        if (input == 1)
            return type == DType::Int64 || type == DType::Int32 || type == DType::Float32;
        return inTypeSet(type, kFloats);
    }
    bool differentiable(size_t input) const override { return input == 0; }

    void forward(KernelContext &ctx) const override
    {
        const Tensor &S = ctx.in(0);
        check(!ctx.hasInput(2) || ctx.in(2).dtype() == S.dtype(), ctx.node.describe() + ": weights must have the type of the "
                                                                       + (m_softmax ? "scores" : "input") + ".");
        dispatchType<kFloats>(S.dtype(), ctx.node, [&](auto tag) { run<typename decltype(tag)::type>(ctx); });
    }

    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        const Tensor &S = ctx.in(0);
        check(S.dtype() == DType::Float32, ctx.node.describe() + ": gradients are computed for float32 only.");
        const LossLayout l(S.shape());
        const std::vector<int64_t> cls = classesOf(ctx.node, ctx.in(1), l);
        const Reduction r = reductionOf(ctx.node);
        const float *w = ctx.hasInput(2) ? ctx.in(2).data() : nullptr;
        const float denom = ctx.saved.at(1).data()[0];
        const float *g = ctx.gradOutputs[0]->data();
        const float *glp = m_softmax && ctx.gradOutputs.size() > 1 && ctx.gradOutputs[1] ? ctx.gradOutputs[1]->data() : nullptr;
        const float *lp = m_softmax ? ctx.saved.at(0).data() : nullptr;
        float *ds = ctx.gradInputs[0]->data();
        const int64_t C = l.C, D = l.D;
        const bool softmax = m_softmax;
        parallelFor(l.samples(), [&](int64_t s0, int64_t s1, int) {
            for (int64_t s = s0; s < s1; ++s) {
                const int64_t b = l.base(s), label = cls[s];
                float scale = 0.0f;
                if (label >= 0) {
                    scale = r == Reduction::None ? g[s] : r == Reduction::Sum ? g[0] : denom > 0.0f ? g[0] / denom : 0.0f;
                    if (w)
                        scale *= w[label];
                }
                if (!softmax) { // NLL: −w·input[label]
                    for (int64_t c = 0; c < C; ++c)
                        ds[b + c * D] = 0.0f;
                    if (label >= 0)
                        ds[b + label * D] = -scale;
                    continue;
                }
                float glpSum = 0.0f;
                if (glp)
                    for (int64_t c = 0; c < C; ++c)
                        glpSum += glp[b + c * D];
                for (int64_t c = 0; c < C; ++c) {
                    const int64_t i = b + c * D;
                    const float p = std::exp(lp[i]);
                    float d = scale * (p - (c == label ? 1.0f : 0.0f));
                    if (glp)
                        d += glp[i] - p * glpSum;
                    ds[i] = d;
                }
            }
        }, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, l.C)));
    }

private:
    template<typename T> void run(KernelContext &ctx) const
    {
        const Tensor &S = ctx.in(0);
        const LossLayout l(S.shape());
        const std::vector<int64_t> cls = classesOf(ctx.node, ctx.in(1), l);
        const Reduction r = reductionOf(ctx.node);
        const T *w = ctx.hasInput(2) ? ctx.in(2).dataAs<T>() : nullptr;
        const T *x = S.dataAs<T>();
        // log_prob: kept for backward (float32) or written straight to the output.
        T *logp = nullptr;
        ctx.saved.resize(2);
        if (m_softmax) {
            if (!ctx.saved[0].defined() || ctx.saved[0].shape() != S.shape() || ctx.saved[0].dtype() != S.dtype())
                ctx.saved[0] = Tensor(S.shape(), S.dtype());
            logp = ctx.saved[0].dataAs<T>();
        }
        std::vector<T> perSample(static_cast<size_t>(l.samples()), T(0)), weightOf(static_cast<size_t>(l.samples()), T(0));
        const int64_t C = l.C, D = l.D;
        const bool softmax = m_softmax;
        parallelFor(l.samples(), [&](int64_t s0, int64_t s1, int) {
            for (int64_t s = s0; s < s1; ++s) {
                const int64_t b = l.base(s), label = cls[s];
                if (softmax) {
                    T mx = x[b];
                    for (int64_t c = 1; c < C; ++c)
                        mx = std::max(mx, x[b + c * D]);
                    T sum = 0;
                    for (int64_t c = 0; c < C; ++c)
                        sum += std::exp(x[b + c * D] - mx);
                    const T lse = mx + std::log(sum);
                    for (int64_t c = 0; c < C; ++c)
                        logp[b + c * D] = x[b + c * D] - lse;
                }
                if (label < 0)
                    continue;
                const T wl = w ? w[label] : T(1);
                perSample[s] = -wl * (softmax ? logp[b + label * D] : x[b + label * D]);
                weightOf[s] = wl;
            }
        }, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, l.C)));
        T *loss = ctx.out(0).dataAs<T>();
        double denom = 0.0;
        if (r == Reduction::None) {
            std::copy(perSample.begin(), perSample.end(), loss);
        } else {
            double total = 0.0;
            for (int64_t s = 0; s < l.samples(); ++s) {
                total += static_cast<double>(perSample[s]);
                denom += static_cast<double>(weightOf[s]);
            }
            loss[0] = static_cast<T>(r == Reduction::Sum ? total : denom != 0.0 ? total / denom : 0.0);
        }
        if (m_softmax && ctx.outputs.size() > 1 && ctx.outputs[1])
            ctx.outputs[1]->copyFrom(ctx.saved[0]);
        ctx.saved[1] = Tensor::full({1}, static_cast<float>(denom));
    }

    bool m_softmax;
};

} // namespace

void registerSoftmaxCrossEntropyLoss(KernelTable &t)
{
    t["SoftmaxCrossEntropyLoss"] = std::make_unique<ClassificationLoss>(true);
    t["NegativeLogLikelihoodLoss"] = std::make_unique<ClassificationLoss>(false);
}

} // namespace netwright
