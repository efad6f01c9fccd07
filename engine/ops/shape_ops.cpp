// SPDX-License-Identifier: Apache-2.0
// Ops that only change how the same values are indexed (ONNX): Flatten (axis, default 1),
// Reshape (shape operand: 0 copies a dim unless allowzero, −1 infers one dim), Squeeze and
// Unsqueeze (axes as input since 13, as attribute before) and Identity; the ops that read a
// shape: Shape (start, end) and Size; and the ops that make a tensor of a given shape: Expand
// (broadcast to a shape operand), ConstantOfShape, Range and EyeLike. All of them work on any
// element type; shape operands must be known (constants ahead of a run, values during one).
#include "core/error.h"
#include "core/parallel.h"
#include "ops/broadcast.h"
#include "ops/index_util.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

namespace netwright {

namespace {

// dX ← dY (same element count): over the threads on the CPU (a transformer reshapes its
// activations a dozen times a step, and each gradient comes back through a copy).
void copyGradient(Tensor &dX, const Tensor &dY)
{
    if (dX.device().type == DeviceType::Cpu && dY.device().type == DeviceType::Cpu && dX.numel() == dY.numel()
        && dX.dtype() == dY.dtype())
        parallelCopy(dX.raw(), dY.raw(), dX.byteSize());
    else
        dX.copyFrom(dY);
}

// The output is input 0 with another shape: the executor aliases it (forward() is the copy
// fallback); the gradient is the output gradient reshaped back.
class ViewKernel : public OpKernel {
public:
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override { return {in.at(0)}; }
    bool acceptsType(size_t, DType) const override { return true; }
    void forward(KernelContext &ctx) const override { ctx.out(0).copyFrom(ctx.in(0)); }
    bool outputAliasesInput() const override { return true; }
    bool passesGradient(size_t input, const Shape &, const Shape &, const std::vector<Tensor> &) const override { return input == 0; }
    void backward(KernelContext &ctx) const override
    {
        if (ctx.wantsGrad(0))
            copyGradient(*ctx.gradInputs[0], *ctx.gradOutputs[0]);
    }

};

class Flatten final : public ViewKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 1, node.describe() + ": needs one input.");
        const int rank = static_cast<int>(in[0].size());
        int64_t axis = node.attrInt("axis", 1);
        check(axis >= -rank && axis <= rank, node.describe() + ": axis " + std::to_string(axis) + " is out of range for rank "
                                                 + std::to_string(rank) + ".");
        if (axis < 0)
            axis += rank;
        int64_t a = 1, b = 1;
        for (int d = 0; d < rank; ++d)
            (d < axis ? a : b) *= in[0][d];
        return {{a, b}};
    }
};

class Reshape final : public ViewKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &constants) const override
    {
        check(in.size() == 2, node.describe() + ": needs inputs data and shape.");
        check(constants.size() == 2 && constants[1], node.describe() + ": the shape operand must be a constant.");
        const Tensor &s = *constants[1];
        check(s.dtype() == DType::Int64 && s.rank() == 1, node.describe() + ": the shape operand must be a 1-D int64 tensor.");
        const bool allowZero = node.attrInt("allowzero", 0) != 0;
        Shape out(s.dataAs<int64_t>(), s.dataAs<int64_t>() + s.numel());
        int inferAt = -1;
        int64_t known = 1;
        for (size_t i = 0; i < out.size(); ++i) {
            if (out[i] == 0 && !allowZero) {
                check(i < in[0].size(), node.describe() + ": shape " + shapeToString(out) + " copies dim " + std::to_string(i)
                                            + " that " + shapeToString(in[0]) + " lacks.");
                out[i] = in[0][i];
            }
            if (out[i] == -1) {
                check(inferAt < 0, node.describe() + ": shape " + shapeToString(out) + " has more than one -1.");
                inferAt = static_cast<int>(i);
            } else {
                check(out[i] >= 0, node.describe() + ": shape " + shapeToString(out) + " has a negative dimension.");
                check(out[i] == 0 || known <= kMaxComputedElements / out[i],
                      node.describe() + ": shape " + shapeToString(out) + " has more elements than the engine allocates (2^34).");
                known *= out[i];
            }
        }
        const int64_t total = shapeNumel(in[0]);
        if (inferAt >= 0) {
            check(known > 0 && total % known == 0, node.describe() + ": cannot reshape " + shapeToString(in[0]) + " to "
                                                       + shapeToString(out) + ".");
            out[inferAt] = total / known;
        }
        check(checkedNumel(node, out) == total, node.describe() + ": cannot reshape " + shapeToString(in[0]) + " ("
                                                    + std::to_string(total) + " values) to " + shapeToString(out) + ".");
        return {out};
    }
    bool differentiable(size_t input) const override { return input == 0; }
};

// Squeeze: removes the listed size-1 dims (every size-1 dim when no axes are given).
class Squeeze final : public ViewKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &constants) const override
    {
        check(!in.empty() && in.size() <= 2, node.describe() + ": needs input data and optionally axes.");
        const int rank = static_cast<int>(in[0].size());
        const auto axes = intOperand(node, constants, 1, "axes", "axes");
        std::vector<char> drop(static_cast<size_t>(rank), 0);
        if (axes) {
            for (int64_t a : normalizeAxes(node, *axes, rank)) {
                check(in[0][a] == 1, node.describe() + ": cannot squeeze axis " + std::to_string(a) + " of shape "
                                         + shapeToString(in[0]) + ": its size is not 1.");
                drop[a] = 1;
            }
        } else {
            for (int d = 0; d < rank; ++d)
                drop[d] = in[0][d] == 1;
        }
        Shape out;
        for (int d = 0; d < rank; ++d)
            if (!drop[d])
                out.push_back(in[0][d]);
        return {out};
    }
    bool differentiable(size_t input) const override { return input == 0; }
};

// Unsqueeze: inserts size-1 dims at the listed positions of the output.
class Unsqueeze final : public ViewKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &constants) const override
    {
        check(!in.empty() && in.size() <= 2, node.describe() + ": needs inputs data and axes.");
        const auto axes = intOperand(node, constants, 1, "axes", "axes");
        check(axes.has_value(), node.describe() + ": needs axes.");
        const int outRank = static_cast<int>(in[0].size() + axes->size());
        std::vector<char> inserted(static_cast<size_t>(outRank), 0);
        for (int64_t a : normalizeAxes(node, *axes, outRank))
            inserted[a] = 1;
        Shape out;
        size_t k = 0;
        for (int d = 0; d < outRank; ++d)
            out.push_back(inserted[d] ? 1 : in[0][k++]);
        return {out};
    }
    bool differentiable(size_t input) const override { return input == 0; }
};

// The int64 values of a shape operand (input `index`), which must be known.
std::vector<int64_t> shapeOperand(const Node &node, const std::vector<const Tensor *> &constants, size_t index, const char *what)
{
    check(index < constants.size() && constants[index] && constants[index]->defined(),
          node.describe() + ": " + what + " (input " + std::to_string(index) + ") must be known before the op runs.");
    const Tensor &t = *constants[index];
    check(t.rank() == 1, node.describe() + ": " + what + " must be a 1-D tensor, got shape " + shapeToString(t.shape()) + ".");
    return intValues(node, t, what);
}

// Expand: input 0 broadcast (ONNX multidirectional rule) with the shape operand.
class Expand final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &constants) const override
    {
        check(in.size() == 2, node.describe() + ": needs inputs input and shape.");
        const Shape s = shapeOperand(node, constants, 1, "the shape operand");
        for (int64_t d : s)
            check(d >= 0, node.describe() + ": the shape operand " + shapeToString(s) + " has a negative dimension.");
        const Shape out = shape_rules::broadcast(node, in[0], s);
        checkedNumel(node, out);
        return {out};
    }
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override { return {in.at(0)}; }
    bool acceptsType(size_t, DType) const override { return true; }
    bool differentiable(size_t input) const override { return input == 0; }
    void forward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        Tensor &Y = ctx.out(0);
        const BroadcastIndexer ix(Y.shape(), X.shape());
        byElementSize(X.dtype(), [&](auto tag) {
            using U = typename decltype(tag)::type;
            const U *x = X.dataAs<U>();
            U *y = Y.dataAs<U>();
            parallelFor(Y.numel(), [&](int64_t i0, int64_t i1, int) {
                for (int64_t i = i0; i < i1; ++i)
                    y[i] = x[ix.identity() ? i : ix.offset(i)];
            }, 4096);
        });
    }
    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        const Tensor &dY = *ctx.gradOutputs[0];
        Tensor &dX = *ctx.gradInputs[0];
        const BroadcastIndexer ix(dY.shape(), dX.shape());
        if (ix.identity()) {
            copyGradient(dX, dY);
            return;
        }
        dX.fill(0.0f);
        const float *dy = dY.data();
        float *dx = dX.data();
        for (int64_t i = 0, n = dY.numel(); i < n; ++i) // serial, in index order: deterministic sums
            dx[ix.offset(i)] += dy[i];
    }
};

// The attribute `value` of ConstantOfShape (a one-element tensor), or float 0.
Tensor constantOfShapeValue(const Node &node)
{
    auto it = node.attributes.find("value");
    if (it == node.attributes.end())
        return Tensor::full({}, 0.0f);
    const Tensor *t = std::get_if<Tensor>(&it->second);
    check(t && t->numel() == 1 && t->device().type == DeviceType::Cpu,
          node.describe() + ": attribute value must be a one-element tensor.");
    return *t;
}

class ConstantOfShape final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &constants) const override
    {
        check(in.size() == 1, node.describe() + ": needs one input (the shape).");
        const Shape s = shapeOperand(node, constants, 0, "the shape operand");
        checkedNumel(node, s);
        return {s};
    }
    std::vector<DType> outputTypes(const Node &node, const std::vector<DType> &) const override
    {
        return {constantOfShapeValue(node).dtype()};
    }
    bool acceptsType(size_t, DType t) const override { return t == DType::Int64 || t == DType::Int32; }
    bool differentiable(size_t) const override { return false; }
    void forward(KernelContext &ctx) const override
    {
        const Tensor value = constantOfShapeValue(ctx.node);
        Tensor &Y = ctx.out(0);
        byElementSize(value.dtype(), [&](auto tag) {
            using U = typename decltype(tag)::type;
            const U v = value.dataAs<U>()[0];
            U *y = Y.dataAs<U>();
            for (int64_t i = 0, n = Y.numel(); i < n; ++i)
                y[i] = v;
        });
    }
    void backward(KernelContext &) const override {}
};

// Range: start, start + delta, … while short of limit; count max(ceil((limit − start) / delta), 0).
class Range final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &constants) const override
    {
        check(in.size() == 3, node.describe() + ": needs inputs start, limit and delta.");
        for (size_t i = 0; i < 3; ++i)
            check(i < constants.size() && constants[i] && constants[i]->defined(),
                  node.describe() + ": start, limit and delta must be known before the op runs.");
        const DType t = constants[0]->dtype();
        check(constants[1]->dtype() == t && constants[2]->dtype() == t,
              node.describe() + ": start, limit and delta must have the same element type.");
        const Shape out{count(node, *constants[0], *constants[1], *constants[2])};
        checkedNumel(node, out);
        return {out};
    }
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override { return {in.at(0)}; }
    bool acceptsType(size_t, DType t) const override { return inTypeSet(t, kNumeric); }
    bool differentiable(size_t) const override { return false; }
    void forward(KernelContext &ctx) const override
    {
        Tensor &Y = ctx.out(0);
        dispatchType<kNumeric>(Y.dtype(), ctx.node, [&](auto tag) {
            using T = typename decltype(tag)::type;
            const T start = ctx.in(0).dataAs<T>()[0], delta = ctx.in(2).dataAs<T>()[0];
            T *y = Y.dataAs<T>();
            for (int64_t i = 0, n = Y.numel(); i < n; ++i)
                y[i] = static_cast<T>(start + static_cast<T>(i) * delta);
        });
    }
    void backward(KernelContext &) const override {}

private:
    static int64_t count(const Node &node, const Tensor &start, const Tensor &limit, const Tensor &delta)
    {
        for (const Tensor *t : {&start, &limit, &delta})
            check(t->numel() == 1, node.describe() + ": start, limit and delta must be scalars, got shape "
                                       + shapeToString(t->shape()) + ".");
        return dispatchType<kNumeric>(start.dtype(), node, [&](auto tag) -> int64_t {
            using T = typename decltype(tag)::type;
            const T s = start.dataAs<T>()[0], l = limit.dataAs<T>()[0], d = delta.dataAs<T>()[0];
            check(d != T(0), node.describe() + ": delta must not be zero.");
            if constexpr (std::is_floating_point_v<T>) {
                const double n = std::ceil((static_cast<double>(l) - static_cast<double>(s)) / static_cast<double>(d));
                check(std::isfinite(n) || n < 0, node.describe() + ": start, limit and delta give no finite range.");
                check(n < static_cast<double>(kMaxComputedElements), node.describe() + ": the range has more elements than the engine allocates (2^34).");
                return n > 0 ? static_cast<int64_t>(n) : 0;
            } else {
                const __int128 span = static_cast<__int128>(l) - static_cast<__int128>(s), step = d;
                if ((span > 0) != (step > 0) || span == 0)
                    return 0;
                const __int128 n = (span > 0 ? (span + step - 1) / step : (span + step + 1) / step);
                check(n < kMaxComputedElements, node.describe() + ": the range has more elements than the engine allocates (2^34).");
                return static_cast<int64_t>(n);
            }
        });
    }
};

// An ONNX TensorProto element type code (EyeLike's dtype attribute) as an engine type.
DType dtypeFromOnnx(const Node &node, int64_t code)
{
    if (const auto t = dtypeOfOnnxNumber(code))
        return *t;
    throw Error(node.describe() + ": dtype " + std::to_string(code) + " is not an element type the engine has tensors for.");
}

// EyeLike: ones on the k-th diagonal of a 2-D tensor shaped like the input, zeros elsewhere.
class EyeLike final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 1, node.describe() + ": needs one input.");
        shape_rules::expectRank(node, "the input", in[0], 2);
        return {in[0]};
    }
    std::vector<DType> outputTypes(const Node &node, const std::vector<DType> &in) const override
    {
        return {node.hasAttribute("dtype") ? dtypeFromOnnx(node, node.attrInt("dtype", 1)) : in.at(0)};
    }
    bool acceptsType(size_t, DType) const override { return true; }
    bool differentiable(size_t) const override { return false; }
    void forward(KernelContext &ctx) const override
    {
        Tensor &Y = ctx.out(0);
        const int64_t rows = Y.dim(0), cols = Y.dim(1), k = ctx.node.attrInt("k", 0);
        std::memset(Y.raw(), 0, Y.byteSize());
        dispatchType<kAllTypes>(Y.dtype(), ctx.node, [&](auto tag) {
            using T = typename decltype(tag)::type;
            T *y = Y.dataAs<T>();
            for (int64_t i = std::max<int64_t>(0, -k); i < rows && i + k < cols; ++i)
                y[i * cols + i + k] = T(1);
        });
    }
    void backward(KernelContext &) const override {}
};

class Identity final : public ViewKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 1, node.describe() + ": needs one input.");
        return {in[0]};
    }
};

// Shape (start and end since opset 15, clamped like Python slices) and Size: int64 values read
// from the input's shape alone.
class ShapeOf final : public OpKernel {
public:
    explicit ShapeOf(bool size) : m_size(size) {}
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 1, node.describe() + ": needs one input.");
        return {m_size ? Shape{} : Shape{static_cast<int64_t>(dims(node, in[0]).size())}};
    }
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &) const override { return {DType::Int64}; }
    bool acceptsType(size_t, DType) const override { return true; }
    bool differentiable(size_t) const override { return false; }
    std::optional<Tensor> valueFromShapes(const Node &node, const std::vector<Shape> &in) const override
    {
        if (in.size() != 1)
            return std::nullopt;
        if (m_size)
            return Tensor::fromInt64({}, {shapeNumel(in[0])});
        const Shape d = dims(node, in[0]);
        return Tensor::fromInt64({static_cast<int64_t>(d.size())}, d);
    }
    void forward(KernelContext &ctx) const override { ctx.out(0).copyFrom(*valueFromShapes(ctx.node, {ctx.in(0).shape()})); }
    void backward(KernelContext &) const override {}

private:
    static Shape dims(const Node &node, const Shape &s)
    {
        const int64_t rank = static_cast<int64_t>(s.size());
        auto clamp = [rank](int64_t v) { return std::clamp(v < 0 ? v + rank : v, int64_t{0}, rank); };
        const int64_t start = clamp(node.attrInt("start", 0)), end = clamp(node.attrInt("end", rank));
        return start < end ? Shape(s.begin() + start, s.begin() + end) : Shape{};
    }
    bool m_size;
};

} // namespace

void registerShapeOps(KernelTable &t)
{
    t["Shape"] = std::make_unique<ShapeOf>(false);
    t["Size"] = std::make_unique<ShapeOf>(true);
    t["Flatten"] = std::make_unique<Flatten>();
    t["Reshape"] = std::make_unique<Reshape>();
    t["Identity"] = std::make_unique<Identity>();
    t["Squeeze"] = std::make_unique<Squeeze>();
    t["Unsqueeze"] = std::make_unique<Unsqueeze>();
    t["Expand"] = std::make_unique<Expand>();
    t["ConstantOfShape"] = std::make_unique<ConstantOfShape>();
    t["Range"] = std::make_unique<Range>();
    t["EyeLike"] = std::make_unique<EyeLike>();
}

} // namespace netwright
