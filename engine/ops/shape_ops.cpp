// SPDX-License-Identifier: Apache-2.0
// Ops that only change how the same values are indexed (ONNX): Flatten (axis, default 1),
// Reshape (shape operand: 0 copies a dim unless allowzero, −1 infers one dim) and Identity; and
// the ops that read a shape: Shape (start, end) and Size. All of them work on any element type.
#include "core/error.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

#include <algorithm>
#include <cstring>

namespace netwright {

namespace {

// The output is input 0 with another shape: the executor aliases it (forward() is the copy
// fallback); the gradient is the output gradient reshaped back.
class ViewKernel : public OpKernel {
public:
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override { return {in.at(0)}; }
    bool acceptsType(size_t, DType) const override { return true; }
    void forward(KernelContext &ctx) const override { ctx.out(0).copyFrom(ctx.in(0)); }
    bool outputAliasesInput() const override { return true; }
    void backward(KernelContext &ctx) const override
    {
        if (ctx.wantsGrad(0))
            ctx.gradInputs[0]->copyFrom(*ctx.gradOutputs[0]);
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
                known *= out[i];
            }
        }
        const int64_t total = shapeNumel(in[0]);
        if (inferAt >= 0) {
            check(known > 0 && total % known == 0, node.describe() + ": cannot reshape " + shapeToString(in[0]) + " to "
                                                       + shapeToString(out) + ".");
            out[inferAt] = total / known;
        }
        check(shapeNumel(out) == total, node.describe() + ": cannot reshape " + shapeToString(in[0]) + " ("
                                            + std::to_string(total) + " values) to " + shapeToString(out) + ".");
        return {out};
    }
    bool differentiable(size_t input) const override { return input == 0; }
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
}

} // namespace netwright
