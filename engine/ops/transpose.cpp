// SPDX-License-Identifier: Apache-2.0
// Transpose (ONNX): output dim i is input dim perm[i]; perm defaults to reversing the dims. Any
// element type (moved by its byte size); float32 gradients.
#include "core/error.h"
#include "core/parallel.h"
#include "ops/index_util.h"
#include "ops/kernels.h"

#include <algorithm>
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

// dst[outIndex] = src[inIndex] where out dim i = in dim perm[i]. Output dims of size 1 are dropped
// and neighbours that are contiguous in the input too are merged, so the copy runs over rows of
// the innermost merged dim (whole-row memcpy when it is contiguous in the input) with an odometer
// for the outer dims — no per-element index division.
template<typename U> void permute(const U *src, U *dst, const Shape &inShape, const std::vector<int64_t> &perm)
{
    const size_t rank = inShape.size();
    const int64_t total = shapeNumel(inShape);
    if (total == 0)
        return;
    std::vector<int64_t> inStride(rank, 1);
    for (int d = static_cast<int>(rank) - 2; d >= 0; --d)
        inStride[d] = inStride[d + 1] * inShape[d + 1];
    std::vector<int64_t> size, stride; // the output's dims, merged, with their input strides
    for (size_t i = 0; i < rank; ++i) {
        const int64_t n = inShape[perm[i]], st = inStride[perm[i]];
        if (n == 1)
            continue;
        if (!size.empty() && stride.back() == st * n) {
            size.back() *= n;
            stride.back() = st;
        } else {
            size.push_back(n);
            stride.push_back(st);
        }
    }
    if (size.empty()) {
        size.push_back(1);
        stride.push_back(1);
    }
    const int outer = static_cast<int>(size.size()) - 1;
    const int64_t n = size.back(), s = stride.back(), rows = total / n;
    parallelFor(rows, [&](int64_t r0, int64_t r1, int) {
        std::vector<int64_t> idx(static_cast<size_t>(outer));
        int64_t rem = r0, off = 0;
        for (int d = outer - 1; d >= 0; --d) {
            idx[d] = rem % size[d];
            rem /= size[d];
            off += idx[d] * stride[d];
        }
        for (int64_t r = r0; r < r1; ++r) {
            U *out = dst + r * n;
            const U *in = src + off;
            if (s == 1)
                std::copy(in, in + n, out);
            else
                for (int64_t j = 0; j < n; ++j)
                    out[j] = in[j * s];
            for (int d = outer - 1; d >= 0; --d) {
                off += stride[d];
                if (++idx[d] < size[d])
                    break;
                off -= stride[d] * size[d];
                idx[d] = 0;
            }
        }
    }, std::max<int64_t>(1, 4096 / n));
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
