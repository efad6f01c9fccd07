// SPDX-License-Identifier: Apache-2.0
// Normalisations (ONNX), float32 forward and backward:
//  - LayerNormalization (opset 17: axis, epsilon, stash_type; optional outputs Mean and
//    InvStdDev; Scale and B broadcast to the normalised shape X[axis:]). One row at a time (the
//    row stays in cache), rows in parallel; the Scale/B gradients are summed over rows per column
//    band, so every sum has one fixed order whatever the thread count.
//  - InstanceNormalization and GroupNormalization (opset 18: num_groups; scale and bias of shape
//    [num_groups], or [C] as opset 21 and PyTorch have them): one group of channels at a time.
//  - LpNormalization (p 1 or 2, axis; a zero vector stays zero), MeanVarianceNormalization (axes,
//    (X − E X) / (√Var X + 1e−9) as ONNX's function body), LRN (size, alpha, beta, bias).
#include "core/error.h"
#include "core/parallel.h"
#include "ops/broadcast.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"
#include "ops/rowwise_isa.h"

#include <cmath>
#include <vector>

namespace netwright {

namespace {

float *optionalOutput(const KernelContext &ctx, size_t i)
{
    return i < ctx.outputs.size() && ctx.outputs[i] ? ctx.outputs[i]->data() : nullptr;
}

// parallelFor's minPerThread for items of `work` elements each: about 16K elements per thread.
int64_t perThread(int64_t work)
{
    return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, work));
}

Tensor &savedTensor(KernelContext &ctx, size_t i, const Shape &shape)
{
    if (ctx.saved.size() <= i)
        ctx.saved.resize(i + 1);
    if (!ctx.saved[i].defined() || ctx.saved[i].shape() != shape)
        ctx.saved[i] = Tensor(shape);
    return ctx.saved[i];
}

// Σ p[0, n) in float lanes (vectorised), returned as double.
inline double laneSum(const float *__restrict p, int64_t n)
{
    float r = 0.0f;
#pragma omp simd reduction(+ : r)
    for (int64_t i = 0; i < n; ++i)
        r += p[i];
    return r;
}

inline double laneSquaredDeviation(const float *__restrict p, int64_t n, float mean)
{
    float r = 0.0f;
#pragma omp simd reduction(+ : r)
    for (int64_t i = 0; i < n; ++i)
        r += (p[i] - mean) * (p[i] - mean);
    return r;
}

// ---------------------------------------------------------------------------------------------
// LayerNormalization

class LayerNormalization final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 2 || in.size() == 3, node.describe() + ": needs inputs X, Scale and optionally B.");
        const int rank = static_cast<int>(in[0].size());
        const int64_t axis = shape_rules::normalizeAxis(node, node.attrInt("axis", -1), rank);
        const Shape normalized(in[0].begin() + axis, in[0].end());
        for (size_t k = 1; k < in.size(); ++k) {
            if (k == 2 && in[2].empty())
                continue;
            check(fitsNormalizedShape(in[k], normalized),
                  node.describe() + ": " + (k == 1 ? "Scale " : "B ") + shapeToString(in[k])
                      + " does not broadcast to the normalised shape " + shapeToString(normalized) + ".");
        }
        Shape stats = in[0];
        for (int d = static_cast<int>(axis); d < rank; ++d)
            stats[d] = 1;
        return {in[0], stats, stats};
    }
    bool differentiable(size_t input) const override { return input < 3; }

    void forward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        int64_t rows, D;
        rowsAndSize(ctx.node, X.shape(), rows, D);
        const float eps = ctx.node.attrFloat("epsilon", 1e-5f);
        const std::vector<float> scaleBuf = expand(ctx, 1, X.shape());
        const std::vector<float> biasBuf = ctx.hasInput(2) ? expand(ctx, 2, X.shape()) : std::vector<float>();
        const float *scale = scaleBuf.empty() ? ctx.in(1).data() : scaleBuf.data();
        const float *bias = !ctx.hasInput(2) ? nullptr : biasBuf.empty() ? ctx.in(2).data() : biasBuf.data();
        float *mean = savedTensor(ctx, 0, {rows}).data(), *invStd = savedTensor(ctx, 1, {rows}).data();
        const float *x = X.data();
        float *y = ctx.out(0).data();
        if (D > 0) {
            const auto rowsForward = rows::layerNormForward(); // the CPU level's row loops
            parallelFor(rows, [&](int64_t r0, int64_t r1, int) { rowsForward(x, scale, bias, eps, y, mean, invStd, D, r0, r1); },
                        std::max<int64_t>(1, 8192 / D));
        }
        if (float *o = optionalOutput(ctx, 1))
            std::copy(mean, mean + rows, o);
        if (float *o = optionalOutput(ctx, 2))
            std::copy(invStd, invStd + rows, o);
    }

    void backward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        int64_t rows, D;
        rowsAndSize(ctx.node, X.shape(), rows, D);
        if (D == 0 || rows == 0) {
            for (size_t k = 0; k < 3; ++k)
                if (ctx.wantsGrad(k))
                    ctx.gradInputs[k]->fill(0.0f);
            return;
        }
        const std::vector<float> scaleBuf = expand(ctx, 1, X.shape());
        const float *scale = scaleBuf.empty() ? ctx.in(1).data() : scaleBuf.data();
        const float *mean = ctx.saved.at(0).data(), *invStd = ctx.saved.at(1).data();
        const float *x = X.data(), *dy = ctx.gradOutputs[0]->data();
        // Gradients through the optional Mean/InvStdDev outputs are not modelled: they are
        // statistics for inspection (what exporters attach), not part of a trained path.
        if (ctx.wantsGrad(0)) {
            float *dx = ctx.gradInputs[0]->data();
            const auto rowsBackward = rows::layerNormBackward();
            parallelFor(rows, [&](int64_t r0, int64_t r1, int) { rowsBackward(x, dy, scale, mean, invStd, dx, D, r0, r1); },
                        std::max<int64_t>(1, 8192 / D));
        }
        const bool wantScale = ctx.wantsGrad(1), wantBias = ctx.wantsGrad(2);
        if (!wantScale && !wantBias)
            return;
        // Per column band: Σ over rows in row order.
        std::vector<float> dScale(wantScale ? D : 0), dBias(wantBias ? D : 0);
        const auto paramGrads = rows::layerNormParamGrads(); // the CPU level's column loops
        parallelFor(D, [&](int64_t d0, int64_t d1, int) {
            paramGrads(x, dy, mean, invStd, rows, D, d0, d1, wantScale ? dScale.data() : nullptr, wantBias ? dBias.data() : nullptr);
        }, perThread(rows));
        if (wantScale)
            reduceInto(ctx, 1, X.shape(), dScale);
        if (wantBias)
            reduceInto(ctx, 2, X.shape(), dBias);
    }

private:
    static bool fitsNormalizedShape(const Shape &s, const Shape &normalized)
    {
        const size_t extra = s.size() > normalized.size() ? s.size() - normalized.size() : 0;
        for (size_t i = 0; i < extra; ++i)
            if (s[i] != 1)
                return false;
        for (size_t i = extra; i < s.size(); ++i) {
            const int64_t n = normalized[normalized.size() - (s.size() - i)];
            if (s[i] != n && s[i] != 1)
                return false;
        }
        return true;
    }
    static void rowsAndSize(const Node &node, const Shape &s, int64_t &rows, int64_t &D)
    {
        const int64_t axis = shape_rules::normalizeAxis(node, node.attrInt("axis", -1), static_cast<int>(s.size()));
        rows = 1;
        D = 1;
        for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d)
            (d < axis ? rows : D) *= s[d];
    }
    static Shape normalizedShapes(const Node &node, const Shape &x, Shape &param)
    {
        const int64_t axis = shape_rules::normalizeAxis(node, node.attrInt("axis", -1), static_cast<int>(x.size()));
        const Shape normalized(x.begin() + axis, x.end());
        while (param.size() > normalized.size())
            param.erase(param.begin()); // leading 1s (checked by inferShapes)
        return normalized;
    }
    // Input k spread over the normalised shape, or empty when it already has one value per column.
    static std::vector<float> expand(const KernelContext &ctx, size_t k, const Shape &x)
    {
        const Tensor &p = ctx.in(k);
        Shape ps = p.shape();
        const Shape normalized = normalizedShapes(ctx.node, x, ps);
        const int64_t D = shapeNumel(normalized);
        if (p.numel() == D)
            return {};
        const BroadcastIndexer ix(normalized, ps);
        std::vector<float> out(static_cast<size_t>(D));
        for (int64_t d = 0; d < D; ++d)
            out[d] = p.data()[ix.offset(d)];
        return out;
    }
    // Writes a per-column gradient into input k's gradient, summed over its broadcast dims.
    static void reduceInto(KernelContext &ctx, size_t k, const Shape &x, const std::vector<float> &perColumn)
    {
        Tensor &g = *ctx.gradInputs[k];
        Shape ps = ctx.in(k).shape();
        const Shape normalized = normalizedShapes(ctx.node, x, ps);
        if (g.numel() == static_cast<int64_t>(perColumn.size())) {
            std::copy(perColumn.begin(), perColumn.end(), g.data());
            return;
        }
        const BroadcastIndexer ix(normalized, ps);
        std::vector<double> acc(static_cast<size_t>(g.numel()), 0.0);
        for (size_t d = 0; d < perColumn.size(); ++d)
            acc[ix.offset(static_cast<int64_t>(d))] += perColumn[d];
        for (int64_t i = 0; i < g.numel(); ++i)
            g.data()[i] = static_cast<float>(acc[i]);
    }
};

// ---------------------------------------------------------------------------------------------
// InstanceNormalization and GroupNormalization: X [N, C, …] in N·G groups of K = C/G channels.

class GroupedNormalization final : public OpKernel {
public:
    explicit GroupedNormalization(bool instance) : m_instance(instance) {}

    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 3, node.describe() + ": needs inputs X, scale and B.");
        check(in[0].size() >= 2, node.describe() + ": input X must be [N,C,…], got " + shapeToString(in[0]) + ".");
        const int64_t C = in[0][1], G = groups(node, C);
        for (size_t k = 1; k < 3; ++k)
            check(in[k] == Shape{C} || (!m_instance && in[k] == Shape{G}),
                  node.describe() + ": " + (k == 1 ? "scale" : "B") + " must have shape [" + std::to_string(C) + "]"
                      + (m_instance ? std::string() : " or [" + std::to_string(G) + "]") + ", got " + shapeToString(in[k]) + ".");
        return {in[0]};
    }

    void forward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        Layout l = layout(ctx.node, X.shape());
        const float eps = ctx.node.attrFloat("epsilon", 1e-5f);
        const std::vector<float> gamma = perChannel(ctx.in(1), l), beta = perChannel(ctx.in(2), l);
        float *mean = savedTensor(ctx, 0, {l.N * l.G}).data(), *invStd = savedTensor(ctx, 1, {l.N * l.G}).data();
        const float *x = X.data();
        float *y = ctx.out(0).data();
        const int64_t groupSize = l.K * l.S;
        if (groupSize == 0)
            return;
        parallelFor(l.N * l.G, [&](int64_t q0, int64_t q1, int) {
            for (int64_t q = q0; q < q1; ++q) {
                const float *xq = x + q * groupSize;
                double s = 0.0;
                for (int64_t k = 0; k < l.K; ++k)
                    s += laneSum(xq + k * l.S, l.S);
                const float m = static_cast<float>(s / static_cast<double>(groupSize));
                double ss = 0.0;
                for (int64_t k = 0; k < l.K; ++k)
                    ss += laneSquaredDeviation(xq + k * l.S, l.S, m);
                const float inv = 1.0f / std::sqrt(static_cast<float>(ss / static_cast<double>(groupSize)) + eps);
                mean[q] = m;
                invStd[q] = inv;
                const int64_t c0 = (q % l.G) * l.K;
                for (int64_t k = 0; k < l.K; ++k) {
                    const float a = gamma[c0 + k] * inv, b = beta[c0 + k] - m * a;
                    const float *__restrict p = xq + k * l.S;
                    float *__restrict o = y + q * groupSize + k * l.S;
                    for (int64_t i = 0; i < l.S; ++i)
                        o[i] = p[i] * a + b;
                }
            }
        }, perThread(groupSize));
    }

    void backward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        Layout l = layout(ctx.node, X.shape());
        const std::vector<float> gamma = perChannel(ctx.in(1), l);
        const float *mean = ctx.saved.at(0).data(), *invStd = ctx.saved.at(1).data();
        const float *x = X.data(), *dy = ctx.gradOutputs[0]->data();
        const int64_t groupSize = l.K * l.S;
        if (ctx.wantsGrad(0)) {
            float *dx = ctx.gradInputs[0]->data();
            parallelFor(l.N * l.G, [&](int64_t q0, int64_t q1, int) {
                for (int64_t q = q0; q < q1; ++q) {
                    const float m = mean[q], inv = invStd[q];
                    const int64_t c0 = (q % l.G) * l.K;
                    double sg = 0.0, sgx = 0.0;
                    for (int64_t k = 0; k < l.K; ++k) {
                        const float *__restrict p = x + q * groupSize + k * l.S, *__restrict g = dy + q * groupSize + k * l.S;
                        float r = 0.0f, rx = 0.0f;
#pragma omp simd reduction(+ : r, rx)
                        for (int64_t i = 0; i < l.S; ++i) {
                            r += g[i];
                            rx += g[i] * (p[i] - m);
                        }
                        sg += static_cast<double>(r) * gamma[c0 + k];
                        sgx += static_cast<double>(rx) * gamma[c0 + k];
                    }
                    const float mg = static_cast<float>(sg / static_cast<double>(groupSize));
                    const float mgx = static_cast<float>(sgx / static_cast<double>(groupSize)) * inv;
                    for (int64_t k = 0; k < l.K; ++k) {
                        const float *__restrict p = x + q * groupSize + k * l.S, *__restrict g = dy + q * groupSize + k * l.S;
                        float *__restrict d = dx + q * groupSize + k * l.S;
                        const float gk = gamma[c0 + k];
                        for (int64_t i = 0; i < l.S; ++i)
                            d[i] = inv * (g[i] * gk - mg - (p[i] - m) * inv * mgx);
                    }
                }
            }, perThread(groupSize));
        }
        const bool wantScale = ctx.wantsGrad(1), wantBias = ctx.wantsGrad(2);
        if (!wantScale && !wantBias)
            return;
        const int64_t C = l.G * l.K;
        std::vector<float> dGamma(C), dBeta(C);
        parallelFor(C, [&](int64_t c0, int64_t c1, int) {
            for (int64_t c = c0; c < c1; ++c) {
                double sb = 0.0, sgam = 0.0;
                for (int64_t n = 0; n < l.N; ++n) {
                    const int64_t q = n * l.G + c / l.K;
                    const float *__restrict p = x + (n * C + c) * l.S, *__restrict g = dy + (n * C + c) * l.S;
                    const float m = mean[q];
                    float r = 0.0f, rx = 0.0f;
#pragma omp simd reduction(+ : r, rx)
                    for (int64_t i = 0; i < l.S; ++i) {
                        r += g[i];
                        rx += g[i] * (p[i] - m);
                    }
                    sb += r;
                    sgam += static_cast<double>(rx) * invStd[q];
                }
                dGamma[c] = static_cast<float>(sgam);
                dBeta[c] = static_cast<float>(sb);
            }
        }, perThread(l.N * l.S));
        for (size_t k = 1; k < 3; ++k) {
            if (!ctx.wantsGrad(k))
                continue;
            const std::vector<float> &src = k == 1 ? dGamma : dBeta;
            float *out = ctx.gradInputs[k]->data();
            if (ctx.in(k).numel() == C) {
                std::copy(src.begin(), src.end(), out);
            } else { // one value per group
                for (int64_t g = 0; g < l.G; ++g) {
                    double s = 0.0;
                    for (int64_t c = g * l.K; c < (g + 1) * l.K; ++c)
                        s += src[c];
                    out[g] = static_cast<float>(s);
                }
            }
        }
    }

private:
    struct Layout {
        int64_t N, G, K, S;
    };
    int64_t groups(const Node &node, int64_t C) const
    {
        if (m_instance)
            return C;
        check(node.hasAttribute("num_groups"), node.describe() + ": the attribute num_groups is required.");
        const int64_t G = node.attrInt("num_groups", 1);
        check(G > 0 && C % G == 0, node.describe() + ": num_groups " + std::to_string(G) + " does not divide the "
                                       + std::to_string(C) + " channels.");
        return G;
    }
    Layout layout(const Node &node, const Shape &s) const
    {
        Layout l;
        l.N = s[0];
        const int64_t C = s[1];
        l.G = groups(node, C);
        l.K = C / l.G;
        l.S = 1;
        for (size_t d = 2; d < s.size(); ++d)
            l.S *= s[d];
        return l;
    }
    static std::vector<float> perChannel(const Tensor &p, const Layout &l)
    {
        const int64_t C = l.G * l.K;
        if (p.numel() == C)
            return std::vector<float>(p.data(), p.data() + C);
        std::vector<float> out(static_cast<size_t>(C));
        for (int64_t c = 0; c < C; ++c)
            out[c] = p.data()[c / l.K];
        return out;
    }
    bool m_instance;
};

// ---------------------------------------------------------------------------------------------
// LpNormalization: y = x / ‖x‖_p along one axis.

class LpNormalization final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 1, node.describe() + ": needs one input.");
        shape_rules::normalizeAxis(node, node.attrInt("axis", -1), static_cast<int>(in[0].size()));
        const int64_t p = node.attrInt("p", 2);
        check(p == 1 || p == 2, node.describe() + ": p must be 1 or 2, got " + std::to_string(p) + ".");
        return {in[0]};
    }

    void forward(KernelContext &ctx) const override
    {
        int64_t outer, n, inner;
        split(ctx, outer, n, inner);
        const bool l1 = ctx.node.attrInt("p", 2) == 1;
        const float *x = ctx.in(0).data();
        float *y = ctx.out(0).data();
        parallelFor(outer * inner, [&](int64_t r0, int64_t r1, int) {
            for (int64_t r = r0; r < r1; ++r) {
                const int64_t base = (r / inner) * n * inner + r % inner;
                const float norm = normOf(x + base, n, inner, l1);
                const float inv = norm > 0.0f ? 1.0f / norm : 0.0f;
                for (int64_t k = 0; k < n; ++k)
                    y[base + k * inner] = x[base + k * inner] * inv;
            }
        }, perThread(n));
    }

    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        int64_t outer, n, inner;
        split(ctx, outer, n, inner);
        const bool l1 = ctx.node.attrInt("p", 2) == 1;
        const float *x = ctx.in(0).data(), *dy = ctx.gradOutputs[0]->data();
        float *dx = ctx.gradInputs[0]->data();
        parallelFor(outer * inner, [&](int64_t r0, int64_t r1, int) {
            for (int64_t r = r0; r < r1; ++r) {
                const int64_t base = (r / inner) * n * inner + r % inner;
                const float norm = normOf(x + base, n, inner, l1);
                if (!(norm > 0.0f)) {
                    for (int64_t k = 0; k < n; ++k)
                        dx[base + k * inner] = 0.0f;
                    continue;
                }
                double dot = 0.0; // Σ dy·x
                for (int64_t k = 0; k < n; ++k)
                    dot += static_cast<double>(dy[base + k * inner]) * x[base + k * inner];
                const float inv = 1.0f / norm;
                // p = 2: (dy − x·(dy·x)/‖x‖²)/‖x‖; p = 1: dy/‖x‖ − sign(x)·(dy·x)/‖x‖².
                const float c = static_cast<float>(dot) * inv * inv;
                for (int64_t k = 0; k < n; ++k) {
                    const float v = x[base + k * inner];
                    const float dir = l1 ? static_cast<float>((v > 0.0f) - (v < 0.0f)) : v * inv;
                    dx[base + k * inner] = dy[base + k * inner] * inv - dir * c;
                }
            }
        }, perThread(n));
    }

private:
    static void split(const KernelContext &ctx, int64_t &outer, int64_t &n, int64_t &inner)
    {
        const Shape &s = ctx.in(0).shape();
        splitAt(s, shape_rules::normalizeAxis(ctx.node, ctx.node.attrInt("axis", -1), static_cast<int>(s.size())), outer, n, inner);
    }
    static float normOf(const float *x, int64_t n, int64_t stride, bool l1)
    {
        double s = 0.0;
        for (int64_t k = 0; k < n; ++k)
            s += l1 ? std::abs(static_cast<double>(x[k * stride])) : static_cast<double>(x[k * stride]) * x[k * stride];
        return static_cast<float>(l1 ? s : std::sqrt(s));
    }
};

// ---------------------------------------------------------------------------------------------
// MeanVarianceNormalization over `axes` (default [0, 2, 3]).

class MeanVarianceNormalization final : public OpKernel {
public:
    static constexpr float kEpsilon = 1e-9f; // ONNX's function body adds it to the deviation

    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 1, node.describe() + ": needs one input.");
        normalizeAxes(node, node.attrInts("axes", {0, 2, 3}), static_cast<int>(in[0].size()));
        return {in[0]};
    }

    void forward(KernelContext &ctx) const override
    {
        const Groups gr = groupsOf(ctx.node, ctx.in(0).shape());
        const int64_t R = static_cast<int64_t>(gr.reduced.size());
        const float *x = ctx.in(0).data();
        float *y = ctx.out(0).data();
        float *mean = savedTensor(ctx, 0, {static_cast<int64_t>(gr.kept.size())}).data();
        float *dev = savedTensor(ctx, 1, {static_cast<int64_t>(gr.kept.size())}).data();
        if (R == 0)
            return;
        parallelFor(static_cast<int64_t>(gr.kept.size()), [&](int64_t g0, int64_t g1, int) {
            for (int64_t g = g0; g < g1; ++g) {
                const float *xg = x + gr.kept[g];
                double s = 0.0;
                for (int64_t r = 0; r < R; ++r)
                    s += xg[gr.reduced[r]];
                const double m = s / static_cast<double>(R);
                double ss = 0.0;
                for (int64_t r = 0; r < R; ++r)
                    ss += (xg[gr.reduced[r]] - m) * (xg[gr.reduced[r]] - m);
                const double sd = std::sqrt(ss / static_cast<double>(R));
                mean[g] = static_cast<float>(m);
                dev[g] = static_cast<float>(sd);
                const double inv = 1.0 / (sd + kEpsilon);
                for (int64_t r = 0; r < R; ++r)
                    y[gr.kept[g] + gr.reduced[r]] = static_cast<float>((xg[gr.reduced[r]] - m) * inv);
            }
        }, perThread(R));
    }

    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        const Groups gr = groupsOf(ctx.node, ctx.in(0).shape());
        const int64_t R = static_cast<int64_t>(gr.reduced.size());
        const float *x = ctx.in(0).data(), *dy = ctx.gradOutputs[0]->data();
        const float *mean = ctx.saved.at(0).data(), *dev = ctx.saved.at(1).data();
        float *dx = ctx.gradInputs[0]->data();
        if (R == 0)
            return;
        // y = d/q with d = x − m, q = s + ε, s = √(Σd²/R):
        // dx = (g − mean g)/q − d·(Σ g·d)/(q²·s·R).
        parallelFor(static_cast<int64_t>(gr.kept.size()), [&](int64_t g0, int64_t g1, int) {
            for (int64_t g = g0; g < g1; ++g) {
                const int64_t base = gr.kept[g];
                const double m = mean[g], s = dev[g], q = s + kEpsilon;
                double sg = 0.0, sgd = 0.0;
                for (int64_t r = 0; r < R; ++r) {
                    const int64_t i = base + gr.reduced[r];
                    sg += dy[i];
                    sgd += dy[i] * (x[i] - m);
                }
                const double mg = sg / static_cast<double>(R);
                const double c = s > 0.0 ? sgd / (q * q * s * static_cast<double>(R)) : 0.0;
                for (int64_t r = 0; r < R; ++r) {
                    const int64_t i = base + gr.reduced[r];
                    dx[i] = static_cast<float>((dy[i] - mg) / q - (x[i] - m) * c);
                }
            }
        }, perThread(R));
    }

private:
    struct Groups {
        std::vector<int64_t> kept;    // the offset of each group's first element
        std::vector<int64_t> reduced; // the offsets of a group's elements from its first
    };
    static Groups groupsOf(const Node &node, const Shape &s)
    {
        const int rank = static_cast<int>(s.size());
        const std::vector<int64_t> axes = normalizeAxes(node, node.attrInts("axes", {0, 2, 3}), rank);
        std::vector<char> isReduced(static_cast<size_t>(rank), 0);
        for (int64_t a : axes)
            isReduced[a] = 1;
        std::vector<int64_t> strides(static_cast<size_t>(rank), 1);
        for (int d = rank - 2; d >= 0; --d)
            strides[d] = strides[d + 1] * s[d + 1];
        Groups g;
        g.kept = {0};
        g.reduced = {0};
        for (int d = 0; d < rank; ++d) { // odometer over each set of dims, first dim slowest
            std::vector<int64_t> &v = isReduced[d] ? g.reduced : g.kept;
            std::vector<int64_t> next;
            next.reserve(v.size() * static_cast<size_t>(s[d]));
            for (int64_t o : v)
                for (int64_t i = 0; i < s[d]; ++i)
                    next.push_back(o + i * strides[d]);
            v = std::move(next);
        }
        return g;
    }
};

// ---------------------------------------------------------------------------------------------
// LRN across channels: y = x · t^−β, t = bias + α/size · Σ_window x².

class LocalResponseNormalization final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 1, node.describe() + ": needs one input.");
        check(in[0].size() >= 2, node.describe() + ": input X must be [N,C,…], got " + shapeToString(in[0]) + ".");
        check(node.hasAttribute("size") && node.attrInt("size", 0) > 0, node.describe() + ": the attribute size must be a positive integer.");
        return {in[0]};
    }

    void forward(KernelContext &ctx) const override
    {
        const P p = params(ctx);
        const float *x = ctx.in(0).data();
        float *y = ctx.out(0).data();
        float *t = savedTensor(ctx, 0, ctx.in(0).shape()).data();
        parallelFor(p.N * p.C, [&](int64_t q0, int64_t q1, int) {
            for (int64_t q = q0; q < q1; ++q) {
                const int64_t n = q / p.C, c = q % p.C;
                float *__restrict tq = t + q * p.S;
                for (int64_t i = 0; i < p.S; ++i)
                    tq[i] = 0.0f;
                for (int64_t j = std::max<int64_t>(0, c - p.lo); j <= std::min(p.C - 1, c + p.hi); ++j) {
                    const float *__restrict xj = x + (n * p.C + j) * p.S;
                    for (int64_t i = 0; i < p.S; ++i)
                        tq[i] += xj[i] * xj[i];
                }
                const float *__restrict xq = x + q * p.S;
                float *__restrict yq = y + q * p.S;
                for (int64_t i = 0; i < p.S; ++i) {
                    tq[i] = p.bias + p.alphaOverSize * tq[i];
                    yq[i] = xq[i] * std::pow(tq[i], -p.beta);
                }
            }
        }, perThread(p.S * std::min<int64_t>(p.C, p.lo + p.hi + 1)));
    }

    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        const P p = params(ctx);
        const float *x = ctx.in(0).data(), *dy = ctx.gradOutputs[0]->data(), *t = ctx.saved.at(0).data();
        float *dx = ctx.gradInputs[0]->data();
        // dx_i = dy_i·t_i^−β − 2αβ/size · x_i · Σ_{c: i ∈ window(c)} dy_c·x_c·t_c^(−β−1),
        // window(c) = [c − lo, c + hi] ∋ i  ⇔  c ∈ [i − hi, i + lo].
        parallelFor(p.N * p.C, [&](int64_t q0, int64_t q1, int) {
            for (int64_t q = q0; q < q1; ++q) {
                const int64_t n = q / p.C, i = q % p.C;
                float *__restrict d = dx + q * p.S;
                const float *__restrict xq = x + q * p.S, *__restrict tq = t + q * p.S, *__restrict gq = dy + q * p.S;
                for (int64_t s = 0; s < p.S; ++s)
                    d[s] = 0.0f;
                for (int64_t c = std::max<int64_t>(0, i - p.hi); c <= std::min(p.C - 1, i + p.lo); ++c) {
                    const int64_t o = (n * p.C + c) * p.S;
                    for (int64_t s = 0; s < p.S; ++s)
                        d[s] += dy[o + s] * x[o + s] * std::pow(t[o + s], -p.beta - 1.0f);
                }
                const float k = 2.0f * p.alphaOverSize * p.beta;
                for (int64_t s = 0; s < p.S; ++s)
                    d[s] = gq[s] * std::pow(tq[s], -p.beta) - k * xq[s] * d[s];
            }
        }, perThread(p.S * std::min<int64_t>(p.C, p.lo + p.hi + 1)));
    }

private:
    struct P {
        int64_t N, C, S, lo, hi;
        float alphaOverSize, beta, bias;
    };
    static P params(const KernelContext &ctx)
    {
        const Shape &s = ctx.in(0).shape();
        P p;
        p.N = s[0];
        p.C = s[1];
        p.S = 1;
        for (size_t d = 2; d < s.size(); ++d)
            p.S *= s[d];
        const int64_t size = ctx.node.attrInt("size", 1);
        p.lo = (size - 1) / 2;
        p.hi = size - 1 - p.lo; // ceil((size − 1)/2)
        p.alphaOverSize = ctx.node.attrFloat("alpha", 1e-4f) / static_cast<float>(size);
        p.beta = ctx.node.attrFloat("beta", 0.75f);
        p.bias = ctx.node.attrFloat("bias", 1.0f);
        return p;
    }
};

} // namespace

void registerNormalizations(KernelTable &t)
{
    t["LayerNormalization"] = std::make_unique<LayerNormalization>();
    t["InstanceNormalization"] = std::make_unique<GroupedNormalization>(true);
    t["GroupNormalization"] = std::make_unique<GroupedNormalization>(false);
    t["LpNormalization"] = std::make_unique<LpNormalization>();
    t["MeanVarianceNormalization"] = std::make_unique<MeanVarianceNormalization>();
    t["LRN"] = std::make_unique<LocalResponseNormalization>();
}

} // namespace netwright
