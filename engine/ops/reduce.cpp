// SPDX-License-Identifier: Apache-2.0
// Reductions along axes (ONNX): ReduceMean/Sum/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare,
// ArgMax, ArgMin, CumSum.
//
// A reduction is laid out once per shape (ReduceGeometry): size-1 dims dropped, neighbouring
// kept (or reduced) dims merged, so that every output element reads `count` input elements at
// outBase[o / inner] + o % inner + redBase[r'] + [0, innerReduced). Each output is independent:
// forward and backward run parallel over outputs, every input element written by exactly one
// output (deterministic, no atomics). Outputs keep the input type (integers accumulate in 64 bits
// and wrap back, as numpy does; Mean/L2/LogSum of integers truncate their real result).
#include "core/error.h"
#include "core/parallel.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

namespace netwright {

namespace {

enum class ReduceKind { Sum, Mean, Max, Min, Prod, L1, L2, LogSum, LogSumExp, SumSquare };

// The reduced axes of a Reduce* node for an input of `rank` (sorted flags), or nullopt when the
// node is the identity (empty axes with noop_with_empty_axes).
std::optional<std::vector<char>> reducedAxes(const Node &node, const std::vector<const Tensor *> &values, int rank)
{
    std::vector<int64_t> axes = intOperand(node, values, 1, "axes", "axes").value_or(std::vector<int64_t>{});
    if (axes.empty()) {
        if (node.attrInt("noop_with_empty_axes", 0) != 0)
            return std::nullopt;
        return std::vector<char>(static_cast<size_t>(rank), 1);
    }
    std::vector<char> flags(static_cast<size_t>(rank), 0);
    for (int64_t a : normalizeAxes(node, axes, rank))
        flags[static_cast<size_t>(a)] = 1;
    return flags;
}

Shape reducedShape(const Shape &in, const std::vector<char> &flags, bool keepdims)
{
    Shape out;
    for (size_t d = 0; d < in.size(); ++d) {
        if (!flags[d])
            out.push_back(in[d]);
        else if (keepdims)
            out.push_back(1);
    }
    return out;
}

// All offsets of a row-major walk over dims `sizes` with `strides`.
std::vector<int64_t> offsetsOf(const std::vector<int64_t> &sizes, const std::vector<int64_t> &strides)
{
    int64_t total = 1;
    for (int64_t s : sizes)
        total *= s;
    std::vector<int64_t> out(static_cast<size_t>(total));
    std::vector<int64_t> idx(sizes.size(), 0);
    int64_t off = 0;
    for (int64_t i = 0; i < total; ++i) {
        out[static_cast<size_t>(i)] = off;
        for (int d = static_cast<int>(sizes.size()) - 1; d >= 0; --d) {
            off += strides[d];
            if (++idx[d] < sizes[d])
                break;
            off -= strides[d] * sizes[d];
            idx[d] = 0;
        }
    }
    return out;
}

struct ReduceGeometry {
    std::vector<int64_t> outBase, redBase;
    int64_t innerKept = 1;    // the last merged dim group when it is kept (outputs contiguous)
    int64_t innerReduced = 1; // the last merged dim group when it is reduced (inputs contiguous)
    int64_t numOut = 1, count = 1;

    ReduceGeometry(const Shape &in, const std::vector<char> &flags)
    {
        // Merge: drop size-1 dims, join neighbours of the same kind.
        std::vector<int64_t> sizes;
        std::vector<char> kinds;
        for (size_t d = 0; d < in.size(); ++d) {
            if (in[d] == 1)
                continue;
            if (!kinds.empty() && kinds.back() == flags[d])
                sizes.back() *= in[d];
            else {
                sizes.push_back(in[d]);
                kinds.push_back(flags[d]);
            }
            (flags[d] ? count : numOut) *= in[d];
        }
        std::vector<int64_t> strides(sizes.size(), 1);
        for (int g = static_cast<int>(sizes.size()) - 2; g >= 0; --g)
            strides[g] = strides[g + 1] * sizes[g + 1];
        size_t groups = sizes.size();
        if (groups > 0) {
            (kinds.back() ? innerReduced : innerKept) = sizes.back();
            --groups;
        }
        std::vector<int64_t> ks, kst, rs, rst;
        for (size_t g = 0; g < groups; ++g) {
            (kinds[g] ? rs : ks).push_back(sizes[g]);
            (kinds[g] ? rst : kst).push_back(strides[g]);
        }
        outBase = offsetsOf(ks, kst);
        redBase = offsetsOf(rs, rst);
    }

    // f(flat input index) for every input element that output `o` reduces, in row-major order.
    template<typename F> void visit(int64_t o, F &&f) const
    {
        const int64_t base = outBase[static_cast<size_t>(o / innerKept)] + o % innerKept;
        for (const int64_t rb : redBase) {
            const int64_t b = base + rb;
            for (int64_t r = 0; r < innerReduced; ++r)
                f(b + r);
        }
    }
    // f(first flat index, length) for each contiguous run of the elements output `o` reduces.
    template<typename F> void visitRuns(int64_t o, F &&f) const
    {
        const int64_t base = outBase[static_cast<size_t>(o / innerKept)] + o % innerKept;
        for (const int64_t rb : redBase)
            f(base + rb, innerReduced);
    }
};

// Σ p[0..n) (of squares when `square`), four independent accumulators: not latency-bound, and
// the same order every run.
template<typename Acc, typename T> Acc sumRun(const T *p, int64_t n, bool square)
{
    Acc s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t i = 0;
    if (square) {
        for (; i + 4 <= n; i += 4) {
            s0 += static_cast<Acc>(p[i]) * static_cast<Acc>(p[i]);
            s1 += static_cast<Acc>(p[i + 1]) * static_cast<Acc>(p[i + 1]);
            s2 += static_cast<Acc>(p[i + 2]) * static_cast<Acc>(p[i + 2]);
            s3 += static_cast<Acc>(p[i + 3]) * static_cast<Acc>(p[i + 3]);
        }
        for (; i < n; ++i)
            s0 += static_cast<Acc>(p[i]) * static_cast<Acc>(p[i]);
    } else {
        for (; i + 4 <= n; i += 4) {
            s0 += static_cast<Acc>(p[i]);
            s1 += static_cast<Acc>(p[i + 1]);
            s2 += static_cast<Acc>(p[i + 2]);
            s3 += static_cast<Acc>(p[i + 3]);
        }
        for (; i < n; ++i)
            s0 += static_cast<Acc>(p[i]);
    }
    return (s0 + s1) + (s2 + s3);
}

template<typename T> using AccOf = std::conditional_t<std::is_floating_point_v<T>, double,
                                                      std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>;

template<typename T> T absOf(T x)
{
    if constexpr (std::is_signed_v<T>)
        return x < 0 ? static_cast<T>(-x) : x;
    else
        return x;
}

template<typename T> T lowestOf()
{
    if constexpr (std::is_floating_point_v<T>)
        return -std::numeric_limits<T>::infinity();
    else
        return std::numeric_limits<T>::lowest();
}

template<typename T> T highestOf()
{
    if constexpr (std::is_floating_point_v<T>)
        return std::numeric_limits<T>::infinity();
    else
        return std::numeric_limits<T>::max();
}

template<typename T> bool isNan(T x)
{
    if constexpr (std::is_floating_point_v<T>)
        return std::isnan(x);
    else
        return false;
}

// A real-valued result converted to the element type (integers truncate, as numpy's astype).
template<typename T> T fromReal(double v)
{
    if constexpr (std::is_floating_point_v<T>)
        return static_cast<T>(v);
    else
        return std::isfinite(v) ? static_cast<T>(v) : T(0);
}

template<typename T> void reduceForward(ReduceKind kind, const ReduceGeometry &g, const T *x, T *y)
{
    using Acc = AccOf<T>;
    const int64_t n = g.count;
    const int64_t minPerThread = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, n));
    parallelFor(g.numOut, [&](int64_t o0, int64_t o1, int) {
        for (int64_t o = o0; o < o1; ++o) {
            switch (kind) {
            case ReduceKind::Sum:
            case ReduceKind::Mean:
            case ReduceKind::LogSum: {
                Acc a = 0;
                g.visitRuns(o, [&](int64_t i, int64_t len) { a += sumRun<Acc>(x + i, len, false); });
                y[o] = kind == ReduceKind::Sum    ? static_cast<T>(a)
                       : kind == ReduceKind::Mean ? fromReal<T>(static_cast<double>(a) / static_cast<double>(n))
                                                  : fromReal<T>(std::log(static_cast<double>(a)));
                break;
            }
            case ReduceKind::SumSquare:
            case ReduceKind::L2: {
                Acc a = 0;
                g.visitRuns(o, [&](int64_t i, int64_t len) { a += sumRun<Acc>(x + i, len, true); });
                y[o] = kind == ReduceKind::SumSquare ? static_cast<T>(a) : fromReal<T>(std::sqrt(static_cast<double>(a)));
                break;
            }
            case ReduceKind::L1: {
                Acc a = 0;
                g.visit(o, [&](int64_t i) { a += static_cast<Acc>(absOf(x[i])); });
                y[o] = static_cast<T>(a);
                break;
            }
            case ReduceKind::Prod: {
                Acc a = 1;
                g.visit(o, [&](int64_t i) { a *= static_cast<Acc>(x[i]); });
                y[o] = static_cast<T>(a);
                break;
            }
            case ReduceKind::Max:
            case ReduceKind::Min: {
                const bool mx = kind == ReduceKind::Max;
                T a = mx ? lowestOf<T>() : highestOf<T>();
                g.visit(o, [&](int64_t i) {
                    const T v = x[i];
                    if ((mx ? v > a : v < a) || (isNan(v) && !isNan(a)))
                        a = v;
                });
                y[o] = a;
                break;
            }
            case ReduceKind::LogSumExp: {
                T m = lowestOf<T>();
                g.visit(o, [&](int64_t i) { m = std::max(m, x[i]); });
                const double shift = std::isfinite(static_cast<double>(m)) ? static_cast<double>(m) : 0.0;
                double s = 0;
                g.visit(o, [&](int64_t i) { s += std::exp(static_cast<double>(x[i]) - shift); });
                y[o] = fromReal<T>(shift + std::log(s));
                break;
            }
            }
        }
    }, minPerThread);
}

// Float32 gradients: every input element is written once, by the output that reduces it.
void reduceBackward(ReduceKind kind, const ReduceGeometry &g, const float *x, const float *y, const float *dy, float *dx)
{
    const int64_t n = g.count;
    const int64_t minPerThread = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, n));
    parallelFor(g.numOut, [&](int64_t o0, int64_t o1, int) {
        for (int64_t o = o0; o < o1; ++o) {
            const float d = dy[o], yo = y[o];
            switch (kind) {
            case ReduceKind::Sum: g.visit(o, [&](int64_t i) { dx[i] = d; }); break;
            case ReduceKind::Mean: {
                const float v = d / static_cast<float>(n);
                g.visit(o, [&](int64_t i) { dx[i] = v; });
                break;
            }
            case ReduceKind::SumSquare: g.visit(o, [&](int64_t i) { dx[i] = 2.0f * x[i] * d; }); break;
            case ReduceKind::L1:
                g.visit(o, [&](int64_t i) { dx[i] = x[i] > 0.0f ? d : x[i] < 0.0f ? -d : 0.0f; });
                break;
            case ReduceKind::L2: g.visit(o, [&](int64_t i) { dx[i] = yo > 0.0f ? d * x[i] / yo : 0.0f; }); break;
            case ReduceKind::LogSum: {
                const float v = d / std::exp(yo);
                g.visit(o, [&](int64_t i) { dx[i] = v; });
                break;
            }
            case ReduceKind::LogSumExp: g.visit(o, [&](int64_t i) { dx[i] = d * std::exp(x[i] - yo); }); break;
            case ReduceKind::Prod: {
                // d/dx_i Π = Π_{j≠i} x_j, exact with zeros: no zero → y/x_i; one zero → only it.
                double nonZero = 1.0;
                int zeros = 0;
                g.visit(o, [&](int64_t i) {
                    if (x[i] == 0.0f)
                        ++zeros;
                    else
                        nonZero *= x[i];
                });
                g.visit(o, [&](int64_t i) {
                    if (zeros == 0)
                        dx[i] = static_cast<float>(d * nonZero / x[i]);
                    else if (zeros == 1 && x[i] == 0.0f)
                        dx[i] = static_cast<float>(d * nonZero);
                    else
                        dx[i] = 0.0f;
                });
                break;
            }
            case ReduceKind::Max:
            case ReduceKind::Min: {
                bool found = false;
                g.visit(o, [&](int64_t i) {
                    const bool hit = !found && (x[i] == yo || (std::isnan(yo) && std::isnan(x[i])));
                    dx[i] = hit ? d : 0.0f;
                    found = found || hit;
                });
                break;
            }
            }
        }
    }, minPerThread);
}

class Reduce final : public OpKernel {
public:
    explicit Reduce(ReduceKind kind) : m_kind(kind) {}

    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &constants) const override
    {
        check(!in.empty() && in.size() <= 2, node.describe() + ": needs input data and optionally axes.");
        const auto flags = reducedAxes(node, constants, static_cast<int>(in[0].size()));
        if (!flags)
            return {in[0]};
        return {reducedShape(in[0], *flags, node.attrInt("keepdims", 1) != 0)};
    }
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override { return {in.at(0)}; }
    bool acceptsType(size_t input, DType type) const override
    {
        return input == 0 ? inTypeSet(type, kNumeric) : type == DType::Int64 || type == DType::Int32;
    }
    bool differentiable(size_t input) const override { return input == 0; }

    void forward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        Tensor &Y = ctx.out(0);
        const auto flags = reducedAxes(ctx.node, {ctx.inputs.begin(), ctx.inputs.end()}, X.rank());
        if (!flags) {
            Y.copyFrom(X);
            return;
        }
        const ReduceGeometry g(X.shape(), *flags);
        dispatchType<kNumeric>(X.dtype(), ctx.node, [&](auto tag) {
            using T = typename decltype(tag)::type;
            reduceForward<T>(m_kind, g, X.dataAs<T>(), Y.dataAs<T>());
        });
    }

    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        const Tensor &X = ctx.in(0);
        check(X.dtype() == DType::Float32, ctx.node.describe() + ": gradients are float32 only.");
        const auto flags = reducedAxes(ctx.node, {ctx.inputs.begin(), ctx.inputs.end()}, X.rank());
        if (!flags) {
            ctx.gradInputs[0]->copyFrom(*ctx.gradOutputs[0]);
            return;
        }
        const ReduceGeometry g(X.shape(), *flags);
        reduceBackward(m_kind, g, X.data(), ctx.out(0).data(), ctx.gradOutputs[0]->data(), ctx.gradInputs[0]->data());
    }

private:
    ReduceKind m_kind;
};

class ArgReduce final : public OpKernel {
public:
    explicit ArgReduce(bool max) : m_max(max) {}

    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 1, node.describe() + ": needs one input.");
        const int rank = static_cast<int>(in[0].size());
        const int64_t axis = shape_rules::normalizeAxis(node, node.attrInt("axis", 0), rank);
        check(in[0][axis] > 0, node.describe() + ": cannot take the index of an extreme over an empty axis.");
        std::vector<char> flags(static_cast<size_t>(rank), 0);
        flags[axis] = 1;
        return {reducedShape(in[0], flags, node.attrInt("keepdims", 1) != 0)};
    }
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &) const override { return {DType::Int64}; }
    bool acceptsType(size_t, DType type) const override { return inTypeSet(type, kNumeric); }
    bool differentiable(size_t) const override { return false; }

    void forward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        const int64_t axis = shape_rules::normalizeAxis(ctx.node, ctx.node.attrInt("axis", 0), X.rank());
        const bool last = ctx.node.attrInt("select_last_index", 0) != 0, mx = m_max;
        int64_t outer, n, inner;
        splitAt(X.shape(), axis, outer, n, inner);
        int64_t *y = ctx.out(0).dataAs<int64_t>();
        dispatchType<kNumeric>(X.dtype(), ctx.node, [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T *x = X.dataAs<T>();
            parallelFor(outer * inner, [&](int64_t r0, int64_t r1, int) {
                for (int64_t r = r0; r < r1; ++r) {
                    const T *p = x + (r / inner) * n * inner + r % inner;
                    int64_t best = 0;
                    T b = p[0];
                    for (int64_t k = 1; k < n && !isNan(b); ++k) {
                        const T v = p[k * inner];
                        const bool better = isNan(v) || (mx ? (last ? v >= b : v > b) : (last ? v <= b : v < b));
                        if (better) {
                            best = k;
                            b = v;
                        }
                    }
                    y[r] = best;
                }
            }, std::max<int64_t>(1, 16384 / n));
        });
    }

    void backward(KernelContext &) const override {}

private:
    bool m_max;
};

class CumSum final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &constants) const override
    {
        check(in.size() == 2, node.describe() + ": needs inputs x and axis.");
        axisOf(node, constants, static_cast<int>(in[0].size()));
        return {in[0]};
    }
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override { return {in.at(0)}; }
    bool acceptsType(size_t input, DType type) const override
    {
        return input == 0 ? inTypeSet(type, kNumeric) : type == DType::Int64 || type == DType::Int32;
    }
    bool differentiable(size_t input) const override { return input == 0; }

    void forward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        const int64_t axis = axisOf(ctx.node, {ctx.inputs.begin(), ctx.inputs.end()}, X.rank());
        const bool exclusive = ctx.node.attrInt("exclusive", 0) != 0, reverse = ctx.node.attrInt("reverse", 0) != 0;
        dispatchType<kNumeric>(X.dtype(), ctx.node, [&](auto tag) {
            using T = typename decltype(tag)::type;
            scan<T>(X.shape(), axis, exclusive, reverse, X.dataAs<T>(), ctx.out(0).dataAs<T>());
        });
    }

    // The gradient of an inclusive/exclusive scan is the same scan run the other way.
    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        const Tensor &X = ctx.in(0);
        const int64_t axis = axisOf(ctx.node, {ctx.inputs.begin(), ctx.inputs.end()}, X.rank());
        const bool exclusive = ctx.node.attrInt("exclusive", 0) != 0, reverse = ctx.node.attrInt("reverse", 0) != 0;
        scan<float>(X.shape(), axis, exclusive, !reverse, ctx.gradOutputs[0]->data(), ctx.gradInputs[0]->data());
    }

private:
    static int64_t axisOf(const Node &node, const std::vector<const Tensor *> &values, int rank)
    {
        check(values.size() > 1 && values[1] && values[1]->defined(), node.describe() + ": the axis (input 1) must be known before the op runs.");
        const auto a = intValues(node, *values[1], "axis");
        check(a.size() == 1, node.describe() + ": the axis must hold one value, got " + std::to_string(a.size()) + ".");
        return shape_rules::normalizeAxis(node, a[0], rank);
    }

    template<typename T> static void scan(const Shape &s, int64_t axis, bool exclusive, bool reverse, const T *x, T *y)
    {
        int64_t outer, n, inner;
        splitAt(s, axis, outer, n, inner);
        parallelFor(outer, [&](int64_t o0, int64_t o1, int) {
            std::vector<AccOf<T>> acc(static_cast<size_t>(inner));
            for (int64_t o = o0; o < o1; ++o) {
                std::fill(acc.begin(), acc.end(), AccOf<T>(0));
                for (int64_t s2 = 0; s2 < n; ++s2) {
                    const int64_t k = reverse ? n - 1 - s2 : s2;
                    const T *xp = x + (o * n + k) * inner;
                    T *yp = y + (o * n + k) * inner;
                    for (int64_t i = 0; i < inner; ++i) {
                        if (exclusive) {
                            yp[i] = static_cast<T>(acc[i]);
                            acc[i] += xp[i];
                        } else {
                            acc[i] += xp[i];
                            yp[i] = static_cast<T>(acc[i]);
                        }
                    }
                }
            }
        }, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, n * inner)));
    }
};

} // namespace

void registerReductions(KernelTable &t)
{
    t["ReduceSum"] = std::make_unique<Reduce>(ReduceKind::Sum);
    t["ReduceMean"] = std::make_unique<Reduce>(ReduceKind::Mean);
    t["ReduceMax"] = std::make_unique<Reduce>(ReduceKind::Max);
    t["ReduceMin"] = std::make_unique<Reduce>(ReduceKind::Min);
    t["ReduceProd"] = std::make_unique<Reduce>(ReduceKind::Prod);
    t["ReduceL1"] = std::make_unique<Reduce>(ReduceKind::L1);
    t["ReduceL2"] = std::make_unique<Reduce>(ReduceKind::L2);
    t["ReduceLogSum"] = std::make_unique<Reduce>(ReduceKind::LogSum);
    t["ReduceLogSumExp"] = std::make_unique<Reduce>(ReduceKind::LogSumExp);
    t["ReduceSumSquare"] = std::make_unique<Reduce>(ReduceKind::SumSquare);
    t["ArgMax"] = std::make_unique<ArgReduce>(true);
    t["ArgMin"] = std::make_unique<ArgReduce>(false);
    t["CumSum"] = std::make_unique<CumSum>();
}

} // namespace netwright
