// SPDX-License-Identifier: Apache-2.0
// Element-wise training losses for regression and multi-label tasks, with PyTorch's semantics:
// MeanSquaredErrorLoss, L1Loss, HuberLoss (delta) and SigmoidBinaryCrossEntropyLoss (on logits).
// Layer: engine/ops; engine-internal ops the trainer appends, never exported. Inputs are
// [N,T] float32 of one shape; reduction mean (default), sum or none ([N,T]); targets get no gradient.
#include "core/error.h"
#include "ops/kernels.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

namespace netwright {

namespace {

enum class Reduction { Mean, Sum, None };

Reduction reductionOf(const Node &node)
{
    const std::string reduction = node.attrString("reduction", "mean");
    if (reduction == "mean")
        return Reduction::Mean;
    if (reduction == "sum")
        return Reduction::Sum;
    check(reduction == "none", node.describe() + ": unknown reduction \"" + reduction + "\".");
    return Reduction::None;
}

std::string formatNumber(double v)
{
    std::ostringstream s;
    s << v;
    return s.str();
}

// Each rule gives the per-element loss ℓ(p, t) and ∂ℓ/∂p in double; its constructor reads and
// checks the op's own attributes.

struct SquaredError {
    static constexpr const char *kFirstInput = "predictions";
    static constexpr bool kTargetsAreProbabilities = false;
    explicit SquaredError(const Node &) {}
    double value(double p, double t) const { return (p - t) * (p - t); }
    double derivative(double p, double t) const { return 2.0 * (p - t); }
};

struct AbsoluteError {
    static constexpr const char *kFirstInput = "predictions";
    static constexpr bool kTargetsAreProbabilities = false;
    explicit AbsoluteError(const Node &) {}
    double value(double p, double t) const { return std::abs(p - t); }
    // sign(p − t), 0 where p == t (as PyTorch's L1Loss).
    double derivative(double p, double t) const { return (p > t) - (p < t); }
};

struct Huber {
    static constexpr const char *kFirstInput = "predictions";
    static constexpr bool kTargetsAreProbabilities = false;
    double delta;
    explicit Huber(const Node &node) : delta(node.attrFloat("delta", 1.0f))
    {
        check(std::isfinite(delta) && delta > 0.0,
              node.describe() + ": delta must be a positive number, got " + formatNumber(delta) + ".");
    }
    // Quadratic inside |p − t| < delta, linear with slope delta outside; both meet at delta.
    double value(double p, double t) const
    {
        const double a = std::abs(p - t);
        return a < delta ? 0.5 * a * a : delta * (a - 0.5 * delta);
    }
    double derivative(double p, double t) const { return std::clamp(p - t, -delta, delta); }
};

// On logits x: −t·log σ(x) − (1 − t)·log(1 − σ(x)) = max(x, 0) − x·t + log(1 + exp(−|x|)),
// which never overflows and keeps its precision for large |x|.
struct SigmoidBinaryCrossEntropy {
    static constexpr const char *kFirstInput = "logits";
    static constexpr bool kTargetsAreProbabilities = true;
    explicit SigmoidBinaryCrossEntropy(const Node &) {}
    double value(double x, double t) const { return std::max(x, 0.0) - x * t + std::log1p(std::exp(-std::abs(x))); }
    // σ(x) − t written as (1 − t)·σ(x) − t·σ(−x): no cancellation for saturated logits.
    double derivative(double x, double t) const
    {
        const double e = std::exp(-std::abs(x));
        const double large = 1.0 / (1.0 + e), small = e / (1.0 + e); // σ(|x|), σ(−|x|)
        return x >= 0.0 ? (1.0 - t) * large - t * small : (1.0 - t) * small - t * large;
    }
};

template<typename Rule>
class ElementwiseLoss final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 2, node.describe() + ": needs exactly two inputs, " + Rule::kFirstInput + " and targets.");
        check(in[1] == in[0], node.describe() + ": " + Rule::kFirstInput + " " + shapeToString(in[0]) + " and targets "
                                  + shapeToString(in[1]) + " must have the same shape.");
        shape_rules::expectRank(node, Rule::kFirstInput, in[0], 2);
        const Reduction reduction = reductionOf(node);
        [[maybe_unused]] const Rule rule(node); // checks the op's own attributes
        return {reduction == Reduction::None ? in[0] : Shape{}};
    }
    bool differentiable(size_t input) const override { return input == 0; }

    void forward(KernelContext &ctx) const override
    {
        const Tensor &P = ctx.in(0), &T = ctx.in(1);
        expectFloat32(ctx.node, Rule::kFirstInput, P);
        expectFloat32(ctx.node, "targets", T);
        if constexpr (Rule::kTargetsAreProbabilities)
            expectProbabilities(ctx.node, T);
        const Rule rule(ctx.node);
        const int64_t n = P.numel();
        const float *p = P.data(), *t = T.data();
        float *out = ctx.out(0).data();
        const Reduction reduction = reductionOf(ctx.node);
        if (reduction == Reduction::None) {
            for (int64_t i = 0; i < n; ++i)
                out[i] = static_cast<float>(rule.value(p[i], t[i]));
            return;
        }
        double total = 0.0;
        for (int64_t i = 0; i < n; ++i)
            total += rule.value(p[i], t[i]);
        // An empty batch has loss 0 rather than 0/0, as SoftmaxCrossEntropyLoss does.
        out[0] = static_cast<float>(reduction == Reduction::Mean ? total / static_cast<double>(std::max<int64_t>(1, n)) : total);
    }

    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        const Rule rule(ctx.node);
        const Reduction reduction = reductionOf(ctx.node);
        const Tensor &P = ctx.in(0), &T = ctx.in(1);
        const int64_t n = P.numel();
        const float *p = P.data(), *t = T.data(), *g = ctx.gradOutputs[0]->data();
        float *dp = ctx.gradInputs[0]->data();
        if (reduction == Reduction::None) {
            for (int64_t i = 0; i < n; ++i)
                dp[i] = static_cast<float>(g[i] * rule.derivative(p[i], t[i]));
            return;
        }
        const double scale = reduction == Reduction::Mean ? g[0] / static_cast<double>(std::max<int64_t>(1, n)) : g[0];
        for (int64_t i = 0; i < n; ++i)
            dp[i] = static_cast<float>(scale * rule.derivative(p[i], t[i]));
    }

private:
    static void expectFloat32(const Node &node, const char *what, const Tensor &x)
    {
        check(x.dtype() == DType::Float32, node.describe() + ": " + what + " must be float32, got " + dtypeName(x.dtype()) + ".");
    }
    // Targets of a binary cross-entropy are probabilities; anything else (NaN included) is a data error.
    static void expectProbabilities(const Node &node, const Tensor &targets)
    {
        const int64_t cols = targets.dim(1);
        const float *t = targets.data();
        for (int64_t i = 0; i < targets.numel(); ++i)
            if (!(t[i] >= 0.0f && t[i] <= 1.0f))
                throw Error(node.describe() + ": target " + formatNumber(t[i]) + " at row " + std::to_string(i / cols) + ", column "
                            + std::to_string(i % cols) + " is outside [0, 1].");
    }
};

} // namespace

void registerRegressionLosses(KernelTable &t)
{
    t["MeanSquaredErrorLoss"] = std::make_unique<ElementwiseLoss<SquaredError>>();
    t["L1Loss"] = std::make_unique<ElementwiseLoss<AbsoluteError>>();
    t["HuberLoss"] = std::make_unique<ElementwiseLoss<Huber>>();
    t["SigmoidBinaryCrossEntropyLoss"] = std::make_unique<ElementwiseLoss<SigmoidBinaryCrossEntropy>>();
}

} // namespace netwright
