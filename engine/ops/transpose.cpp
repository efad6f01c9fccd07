// SPDX-License-Identifier: Apache-2.0
// Transpose (ONNX): output dim i is input dim perm[i]; perm defaults to reversing the dims. Any
// element type (moved by its byte size); float32 gradients.
#include "core/error.h"
#include "core/parallel.h"
#include "ops/index_util.h"
#include "ops/kernels.h"

#include <numeric>

namespace netwright {

namespace {

std::vector<int64_t> permutation(const Node &node, size_t rank)
{
    std::vector<int64_t> def(rank);
    std::iota(def.rbegin(), def.rend(), 0);
    auto perm = node.attrInts("perm", def);
    std::vector<bool> seen(rank, false);
    check(perm.size() == rank, node.describe() + ": perm has " + std::to_string(perm.size()) + " entries for rank "
                                   + std::to_string(rank) + ".");
    for (int64_t p : perm) {
        check(p >= 0 && p < static_cast<int64_t>(rank) && !seen[p], node.describe() + ": perm is not a permutation.");
        seen[p] = true;
    }
    return perm;
}

// dst[outIndex] = src[inIndex] where out dim i = in dim perm[i].
template<typename U> void permute(const U *src, U *dst, const Shape &inShape, const std::vector<int64_t> &perm)
{
    const size_t rank = inShape.size();
    Shape outShape(rank);
    std::vector<int64_t> inStride(rank, 1), outStrideOfIn(rank);
    for (int d = static_cast<int>(rank) - 2; d >= 0; --d)
        inStride[d] = inStride[d + 1] * inShape[d + 1];
    for (size_t i = 0; i < rank; ++i)
        outShape[i] = inShape[perm[i]];
    const int64_t total = shapeNumel(inShape);
    parallelFor(total, [&](int64_t o0, int64_t o1, int) {
        for (int64_t o = o0; o < o1; ++o) {
            int64_t rem = o, off = 0;
            for (int d = static_cast<int>(rank) - 1; d >= 0; --d) {
                const int64_t idx = rem % outShape[d];
                rem /= outShape[d];
                off += idx * inStride[perm[d]];
            }
            dst[o] = src[off];
        }
    }, 4096);
}

class Transpose final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 1, node.describe() + ": needs one input.");
        const auto perm = permutation(node, in[0].size());
        Shape out(in[0].size());
        for (size_t i = 0; i < perm.size(); ++i)
            out[i] = in[0][perm[i]];
        return {out};
    }
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override { return {in.at(0)}; }
    bool acceptsType(size_t, DType) const override { return true; }
    void forward(KernelContext &ctx) const override
    {
        const auto perm = permutation(ctx.node, ctx.in(0).rank());
        byElementSize(ctx.in(0).dtype(), [&](auto tag) {
            using U = typename decltype(tag)::type;
            permute(ctx.in(0).dataAs<U>(), ctx.out(0).dataAs<U>(), ctx.in(0).shape(), perm);
        });
    }
    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        const auto perm = permutation(ctx.node, ctx.in(0).rank());
        std::vector<int64_t> inverse(perm.size());
        for (size_t i = 0; i < perm.size(); ++i)
            inverse[perm[i]] = static_cast<int64_t>(i);
        permute(ctx.gradOutputs[0]->data(), ctx.gradInputs[0]->data(), ctx.gradOutputs[0]->shape(), inverse);
    }
};

} // namespace

void registerTranspose(KernelTable &t)
{
    t["Transpose"] = std::make_unique<Transpose>();
}

} // namespace netwright
