// SPDX-License-Identifier: Apache-2.0
// Concat (ONNX): joins its inputs along `axis` (required; negative counts from the end), of any
// element type (all inputs the same); float32 gradients.
#include "core/error.h"
#include "ops/kernels.h"

#include <cstring>

namespace netwright {

namespace {

class Concat final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(!in.empty(), node.describe() + ": needs at least one input.");
        check(node.hasAttribute("axis"), node.describe() + ": attribute axis is required.");
        const int rank = static_cast<int>(in[0].size());
        const int64_t axis = shape_rules::normalizeAxis(node, node.attrInt("axis", 0), rank);
        Shape out = in[0];
        for (size_t k = 1; k < in.size(); ++k) {
            check(static_cast<int>(in[k].size()) == rank, node.describe() + ": input " + std::to_string(k) + " has rank "
                                                              + std::to_string(in[k].size()) + ", expected "
                                                              + std::to_string(rank) + ".");
            for (int d = 0; d < rank; ++d)
                if (d != axis)
                    check(in[k][d] == out[d], node.describe() + ": input " + std::to_string(k) + " " + shapeToString(in[k])
                                                  + " does not match " + shapeToString(in[0]) + " outside axis "
                                                  + std::to_string(axis) + ".");
            out[axis] += in[k][axis];
        }
        return {out};
    }
    std::vector<DType> outputTypes(const Node &node, const std::vector<DType> &in) const override
    {
        check(!in.empty(), node.describe() + ": needs at least one input.");
        for (size_t k = 1; k < in.size(); ++k)
            check(in[k] == in[0], node.describe() + ": input " + std::to_string(k) + " is " + dtypeName(in[k]) + ", input 0 is "
                                      + dtypeName(in[0]) + ".");
        return {in[0]};
    }
    bool acceptsType(size_t, DType) const override { return true; }

    void forward(KernelContext &ctx) const override { run(ctx, false); }
    void backward(KernelContext &ctx) const override { run(ctx, true); }

private:
    static void run(KernelContext &ctx, bool backward)
    {
        const Shape &outShape = backward ? ctx.gradOutputs[0]->shape() : ctx.out(0).shape();
        const int rank = static_cast<int>(outShape.size());
        const int64_t axis = shape_rules::normalizeAxis(ctx.node, ctx.node.attrInt("axis", 0), rank);
        int64_t outer = 1, inner = 1;
        for (int d = 0; d < axis; ++d)
            outer *= outShape[d];
        for (int d = axis + 1; d < rank; ++d)
            inner *= outShape[d];
        const int64_t outRow = outShape[axis] * inner;
        int64_t offset = 0;
        for (size_t k = 0; k < ctx.inputs.size(); ++k) {
            const int64_t rowK = ctx.in(k).dim(static_cast<int>(axis)) * inner;
            if (!backward) {
                const size_t es = dtypeSize(ctx.in(k).dtype());
                const auto *src = static_cast<const char *>(ctx.in(k).raw());
                auto *dst = static_cast<char *>(ctx.out(0).raw());
                for (int64_t o = 0; o < outer; ++o)
                    std::memcpy(dst + (o * outRow + offset) * es, src + o * rowK * es, es * rowK);
            } else if (ctx.wantsGrad(k)) {
                const float *src = ctx.gradOutputs[0]->data();
                float *dst = ctx.gradInputs[k]->data();
                for (int64_t o = 0; o < outer; ++o)
                    std::memcpy(dst + o * rowK, src + o * outRow + offset, sizeof(float) * rowK);
            }
            offset += rowK;
        }
    }
};

} // namespace

void registerConcat(KernelTable &t)
{
    t["Concat"] = std::make_unique<Concat>();
}

} // namespace netwright
