// SPDX-License-Identifier: Apache-2.0
// Einsum (ONNX): any equation of letters with an optional '...' ellipsis (dims aligned on the
// right and broadcast), explicit ('->') or implicit output (the ellipsis, then the letters seen
// once, sorted). Two float32 operands without repeated or broadcast labels — batch matmul,
// attention's 'bhqd,bhkd->bhqk', outer products — run as permute → batched GEMM → permute, and
// so do their gradients (each is such a contraction again). Everything else (diagonals 'ii->i',
// sums, transposes, three operands, other numeric types) runs a general loop over the labels;
// float32 gradients of those run the same loop serially (deterministic).
#include "core/blas.h"
#include "core/error.h"
#include "core/parallel.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

#include <algorithm>
#include <cctype>
#include <type_traits>

namespace netwright {

namespace {

constexpr int kEllipsisBase = 52; // label ids: a–z 0–25, A–Z 26–51, ellipsis dims from 52

struct Equation {
    std::vector<std::vector<int>> in; // a label per dim of each input
    std::vector<int> out;             // a label per output dim
    std::vector<int64_t> size;        // per label id (0 where unused)
    std::vector<char> used;           // per label id
};

// One side of the equation: label ids and whether (where) an ellipsis appears.
std::vector<int> parseTerm(const Node &node, const std::string &term, int &ellipsisAt)
{
    std::vector<int> labels;
    ellipsisAt = -1;
    for (size_t i = 0; i < term.size(); ++i) {
        const char c = term[i];
        if (c == '.') {
            check(term.compare(i, 3, "...") == 0 && ellipsisAt < 0,
                  node.describe() + ": malformed ellipsis in the einsum term \"" + term + "\".");
            ellipsisAt = static_cast<int>(labels.size());
            i += 2;
        } else {
            check(std::isalpha(static_cast<unsigned char>(c)),
                  node.describe() + ": unexpected character '" + std::string(1, c) + "' in the einsum equation.");
            labels.push_back(c >= 'a' && c <= 'z' ? c - 'a' : 26 + (c - 'A'));
        }
    }
    return labels;
}

Equation parseEquation(const Node &node, const std::vector<Shape> &shapes)
{
    std::string eq;
    for (char c : node.attrString("equation", ""))
        if (!std::isspace(static_cast<unsigned char>(c)))
            eq += c;
    check(!eq.empty(), node.describe() + ": needs the attribute equation.");
    const size_t arrow = eq.find("->");
    const std::string lhs = eq.substr(0, arrow);
    std::vector<std::string> terms;
    for (size_t start = 0;;) {
        const size_t comma = lhs.find(',', start);
        terms.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos)
            break;
        start = comma + 1;
    }
    check(terms.size() == shapes.size(), node.describe() + ": the equation \"" + eq + "\" has " + std::to_string(terms.size())
                                             + " operands but the node has " + std::to_string(shapes.size()) + " inputs.");
    Equation e;
    std::vector<std::vector<int>> letters(terms.size());
    std::vector<int> at(terms.size());
    int ellipsisRank = 0;
    for (size_t t = 0; t < terms.size(); ++t) {
        letters[t] = parseTerm(node, terms[t], at[t]);
        const int rank = static_cast<int>(shapes[t].size()), n = static_cast<int>(letters[t].size());
        check(at[t] >= 0 ? rank >= n : rank == n, node.describe() + ": the einsum term \"" + terms[t] + "\" does not fit input "
                                                      + std::to_string(t) + " of shape " + shapeToString(shapes[t]) + ".");
        if (at[t] >= 0)
            ellipsisRank = std::max(ellipsisRank, rank - n);
    }
    e.size.assign(static_cast<size_t>(kEllipsisBase + ellipsisRank), 0);
    e.used.assign(e.size.size(), 0);
    std::vector<int> count(e.size.size(), 0);
    for (size_t t = 0; t < terms.size(); ++t) {
        std::vector<int> &labels = e.in.emplace_back();
        const int rank = static_cast<int>(shapes[t].size()), ne = at[t] >= 0 ? rank - static_cast<int>(letters[t].size()) : 0;
        for (int i = 0; i < static_cast<int>(letters[t].size()); ++i) {
            if (i == at[t])
                for (int q = 0; q < ne; ++q)
                    labels.push_back(kEllipsisBase + ellipsisRank - ne + q);
            labels.push_back(letters[t][i]);
        }
        if (at[t] == static_cast<int>(letters[t].size()))
            for (int q = 0; q < ne; ++q)
                labels.push_back(kEllipsisBase + ellipsisRank - ne + q);
        for (int d = 0; d < rank; ++d) {
            const int l = labels[d];
            const int64_t s = shapes[t][d];
            int64_t &known = e.size[l];
            check(!e.used[l] || known == s || known == 1 || s == 1,
                  node.describe() + ": einsum label sizes differ (" + std::to_string(known) + " vs " + std::to_string(s) + ").");
            if (!e.used[l] || known == 1)
                known = s;
            e.used[l] = 1;
            ++count[l];
        }
    }
    if (arrow != std::string::npos) {
        int outAt = -1;
        const std::vector<int> outLetters = parseTerm(node, eq.substr(arrow + 2), outAt);
        for (int i = 0; i <= static_cast<int>(outLetters.size()); ++i) {
            if (i == outAt)
                for (int q = 0; q < ellipsisRank; ++q)
                    e.out.push_back(kEllipsisBase + q);
            if (i < static_cast<int>(outLetters.size()))
                e.out.push_back(outLetters[i]);
        }
    } else {
        for (int q = 0; q < ellipsisRank; ++q)
            e.out.push_back(kEllipsisBase + q);
        for (int l = 0; l < kEllipsisBase; ++l)
            if (count[l] == 1)
                e.out.push_back(l);
    }
    std::vector<char> seen(e.size.size(), 0);
    for (int l : e.out) {
        check(e.used[l] || l >= kEllipsisBase, node.describe() + ": an output label of the einsum equation is on no input.");
        check(!seen[l], node.describe() + ": an output label of the einsum equation appears twice.");
        seen[l] = 1;
    }
    return e;
}

Shape outputShape(const Equation &e)
{
    Shape s;
    for (int l : e.out)
        s.push_back(e.used[l] ? e.size[l] : 1);
    return s;
}

// The general loop's view of one operand: its stride per label (repeated labels add up: a
// diagonal; broadcast dims of size 1 give 0).
std::vector<int64_t> labelStrides(const std::vector<int> &labels, const Shape &shape, size_t numLabels)
{
    std::vector<int64_t> st(numLabels, 0);
    int64_t stride = 1;
    for (int d = static_cast<int>(labels.size()) - 1; d >= 0; --d) {
        if (shape[d] != 1)
            st[labels[d]] += stride;
        stride *= shape[d];
    }
    return st;
}

struct LoopPlan {
    std::vector<int> outL, sumL;
    std::vector<std::vector<int64_t>> strides; // per operand, per label id
    int64_t numOut = 1, numSum = 1;
};

LoopPlan planLoop(const Equation &e, const std::vector<Shape> &shapes)
{
    LoopPlan p;
    p.outL = e.out;
    std::vector<char> inOut(e.size.size(), 0);
    for (int l : e.out)
        inOut[l] = 1;
    for (size_t l = 0; l < e.size.size(); ++l)
        if (e.used[l] && !inOut[l])
            p.sumL.push_back(static_cast<int>(l));
    for (size_t t = 0; t < shapes.size(); ++t)
        p.strides.push_back(labelStrides(e.in[t], shapes[t], e.size.size()));
    for (int l : p.outL)
        p.numOut *= e.used[l] ? e.size[l] : 1;
    for (int l : p.sumL)
        p.numSum *= e.size[l];
    return p;
}

// For output element o: base offsets per operand, then f(offsets) for every summed index.
template<typename F> void walk(const Equation &e, const LoopPlan &p, int64_t o, std::vector<int64_t> &off, std::vector<int64_t> &idx, F &&f)
{
    const size_t n = p.strides.size();
    std::fill(off.begin(), off.end(), 0);
    for (int d = static_cast<int>(p.outL.size()) - 1; d >= 0; --d) {
        const int l = p.outL[d];
        const int64_t size = e.used[l] ? e.size[l] : 1;
        const int64_t i = o % size;
        o /= size;
        for (size_t t = 0; t < n; ++t)
            off[t] += i * p.strides[t][l];
    }
    std::fill(idx.begin(), idx.end(), 0);
    for (int64_t s = 0; s < p.numSum; ++s) {
        f(off);
        for (int d = static_cast<int>(p.sumL.size()) - 1; d >= 0; --d) {
            const int l = p.sumL[d];
            for (size_t t = 0; t < n; ++t)
                off[t] += p.strides[t][l];
            if (++idx[d] < e.size[l])
                break;
            for (size_t t = 0; t < n; ++t)
                off[t] -= p.strides[t][l] * e.size[l];
            idx[d] = 0;
        }
    }
}

template<typename T> void loopForward(const Equation &e, const std::vector<Shape> &shapes, const std::vector<const T *> &xs, T *y)
{
    using Acc = std::conditional_t<std::is_floating_point_v<T>, double, std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>;
    const LoopPlan p = planLoop(e, shapes);
    parallelFor(p.numOut, [&](int64_t o0, int64_t o1, int) {
        std::vector<int64_t> off(xs.size()), idx(p.sumL.size());
        for (int64_t o = o0; o < o1; ++o) {
            Acc s = 0;
            walk(e, p, o, off, idx, [&](const std::vector<int64_t> &of) {
                Acc prod = 1;
                for (size_t t = 0; t < xs.size(); ++t)
                    prod *= static_cast<Acc>(xs[t][of[t]]);
                s += prod;
            });
            y[o] = static_cast<T>(s);
        }
    }, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, p.numSum)));
}

void loopBackward(const Equation &e, const std::vector<Shape> &shapes, const std::vector<const float *> &xs, const float *dy,
                  const std::vector<float *> &dxs, const std::vector<int64_t> &sizes)
{
    for (size_t t = 0; t < dxs.size(); ++t)
        if (dxs[t])
            std::fill(dxs[t], dxs[t] + sizes[t], 0.0f);
    const LoopPlan p = planLoop(e, shapes);
    std::vector<int64_t> off(xs.size()), idx(p.sumL.size());
    for (int64_t o = 0; o < p.numOut; ++o) {
        const float d = dy[o];
        walk(e, p, o, off, idx, [&](const std::vector<int64_t> &of) {
            for (size_t t = 0; t < xs.size(); ++t) {
                if (!dxs[t])
                    continue;
                float g = d;
                for (size_t u = 0; u < xs.size(); ++u)
                    if (u != t)
                        g *= xs[u][of[u]];
                dxs[t][of[t]] += g;
            }
        });
    }
}

// dst dim i = src dim perm[i] (a contiguous copy).
void permuteCopy(const float *src, const Shape &srcShape, const std::vector<int> &perm, float *dst)
{
    const size_t r = perm.size();
    std::vector<int64_t> srcStride(r, 1), size(r), stride(r), idx(r, 0);
    for (int d = static_cast<int>(r) - 2; d >= 0; --d)
        srcStride[d] = srcStride[d + 1] * srcShape[d + 1];
    for (size_t i = 0; i < r; ++i) {
        size[i] = srcShape[perm[i]];
        stride[i] = srcStride[perm[i]];
    }
    const int64_t total = shapeNumel(srcShape);
    int64_t off = 0;
    for (int64_t i = 0; i < total; ++i) {
        dst[i] = src[off];
        for (int d = static_cast<int>(r) - 1; d >= 0; --d) {
            off += stride[d];
            if (++idx[d] < size[d])
                break;
            off -= stride[d] * size[d];
            idx[d] = 0;
        }
    }
}

bool isIdentity(const std::vector<int> &perm)
{
    for (size_t i = 0; i < perm.size(); ++i)
        if (perm[i] != static_cast<int>(i))
            return false;
    return true;
}

// Whether A (labels la) · B (labels lb) → out is a plain batched GEMM: no label twice in an
// operand, every label of an operand also in the other operand or the output, and equal sizes.
bool gemmShaped(const std::vector<int> &la, const Shape &sa, const std::vector<int> &lb, const Shape &sb, const std::vector<int> &out,
                size_t numLabels)
{
    std::vector<int> inA(numLabels, 0), inB(numLabels, 0), inOut(numLabels, 0);
    std::vector<int64_t> size(numLabels, -1);
    auto note = [&](const std::vector<int> &ls, const Shape &s, std::vector<int> &in) {
        for (size_t d = 0; d < ls.size(); ++d) {
            if (++in[ls[d]] > 1 || (size[ls[d]] >= 0 && size[ls[d]] != s[d]))
                return false;
            size[ls[d]] = s[d];
        }
        return true;
    };
    if (!note(la, sa, inA) || !note(lb, sb, inB))
        return false;
    for (int l : out) {
        if (!inA[l] && !inB[l])
            return false;
        inOut[l] = 1;
    }
    for (size_t l = 0; l < numLabels; ++l)
        if ((inA[l] && !inB[l] && !inOut[l]) || (inB[l] && !inA[l] && !inOut[l]))
            return false;
    return true;
}

// y[out] = Σ A[la]·B[lb] as permute → batched GEMM → permute (gemmShaped holds).
void gemmContract(const float *a, const std::vector<int> &la, const float *b, const std::vector<int> &lb, const std::vector<int> &out,
                  const std::vector<int64_t> &size, float *y)
{
    std::vector<int> batchL, aFree, bFree, contr;
    auto has = [](const std::vector<int> &v, int l) { return std::find(v.begin(), v.end(), l) != v.end(); };
    for (int l : out) {
        if (has(la, l) && has(lb, l))
            batchL.push_back(l);
        else if (has(la, l))
            aFree.push_back(l);
        else
            bFree.push_back(l);
    }
    for (int l : la)
        if (!has(out, l))
            contr.push_back(l);
    auto pos = [](const std::vector<int> &v, int l) { return static_cast<int>(std::find(v.begin(), v.end(), l) - v.begin()); };
    auto prod = [&](const std::vector<int> &ls) {
        int64_t p = 1;
        for (int l : ls)
            p *= size[l];
        return p;
    };
    const int64_t Bt = prod(batchL), M = prod(aFree), N = prod(bFree), K = prod(contr);
    auto shapeOf = [&](const std::vector<int> &ls) {
        Shape s;
        for (int l : ls)
            s.push_back(size[l]);
        return s;
    };
    std::vector<int> permA, permB, cL;
    for (int l : batchL)
        permA.push_back(pos(la, l)), permB.push_back(pos(lb, l)), cL.push_back(l);
    for (int l : aFree)
        permA.push_back(pos(la, l)), cL.push_back(l);
    for (int l : contr)
        permA.push_back(pos(la, l)), permB.push_back(pos(lb, l));
    for (int l : bFree)
        permB.push_back(pos(lb, l)), cL.push_back(l);
    Tensor ta, tb, tc;
    const float *pa = a, *pb = b;
    if (!isIdentity(permA)) {
        ta = Tensor({Bt * M * K});
        permuteCopy(a, shapeOf(la), permA, ta.data());
        pa = ta.data();
    }
    if (!isIdentity(permB)) {
        tb = Tensor({Bt * K * N});
        permuteCopy(b, shapeOf(lb), permB, tb.data());
        pb = tb.data();
    }
    std::vector<int> permC;
    for (int l : out)
        permC.push_back(pos(cL, l));
    const bool direct = isIdentity(permC);
    if (!direct)
        tc = Tensor({Bt * M * N});
    float *pc = direct ? y : tc.data();
    if (Bt * M * N > 0) {
        if (K == 0)
            std::fill(pc, pc + Bt * M * N, 0.0f);
        else
            blas::gemmBatched(false, false, Bt, M, N, K, 1.0f, pa, K, M * K, pb, N, K * N, 0.0f, pc, N, M * N);
    }
    if (!direct)
        permuteCopy(pc, shapeOf(cL), permC, y);
}

class Einsum final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(!in.empty(), node.describe() + ": needs at least one input.");
        return {outputShape(parseEquation(node, in))};
    }
    std::vector<DType> outputTypes(const Node &, const std::vector<DType> &in) const override { return {in.at(0)}; }
    bool acceptsType(size_t, DType type) const override { return inTypeSet(type, kNumeric); }

    void forward(KernelContext &ctx) const override
    {
        std::vector<Shape> shapes;
        for (Tensor *t : ctx.inputs) {
            check(t && t->dtype() == ctx.in(0).dtype(), ctx.node.describe() + ": every einsum operand must have the same element type.");
            shapes.push_back(t->shape());
        }
        const Equation e = parseEquation(ctx.node, shapes);
        if (ctx.in(0).dtype() == DType::Float32 && shapes.size() == 2
            && gemmShaped(e.in[0], shapes[0], e.in[1], shapes[1], e.out, e.size.size())) {
            gemmContract(ctx.in(0).data(), e.in[0], ctx.in(1).data(), e.in[1], e.out, e.size, ctx.out(0).data());
            return;
        }
        dispatchType<kNumeric>(ctx.in(0).dtype(), ctx.node, [&](auto tag) {
            using T = typename decltype(tag)::type;
            std::vector<const T *> xs;
            for (Tensor *t : ctx.inputs)
                xs.push_back(t->dataAs<T>());
            loopForward<T>(e, shapes, xs, ctx.out(0).dataAs<T>());
        });
    }

    void backward(KernelContext &ctx) const override
    {
        std::vector<Shape> shapes;
        std::vector<const float *> xs;
        std::vector<float *> dxs;
        std::vector<int64_t> sizes;
        for (size_t t = 0; t < ctx.inputs.size(); ++t) {
            check(ctx.in(t).dtype() == DType::Float32, ctx.node.describe() + ": gradients are float32 only.");
            shapes.push_back(ctx.in(t).shape());
            xs.push_back(ctx.in(t).data());
            dxs.push_back(ctx.wantsGrad(t) ? ctx.gradInputs[t]->data() : nullptr);
            sizes.push_back(ctx.in(t).numel());
        }
        const Equation e = parseEquation(ctx.node, shapes);
        const float *dy = ctx.gradOutputs[0]->data();
        if (shapes.size() == 2 && gemmShaped(e.in[0], shapes[0], e.in[1], shapes[1], e.out, e.size.size())) {
            // dA = dY·B → A's labels, dB = dY·A → B's labels: contractions of the same kind.
            const Shape outShape = outputShape(e);
            for (int t = 0; t < 2; ++t)
                if (dxs[t] && gemmShaped(e.out, outShape, e.in[1 - t], shapes[1 - t], e.in[t], e.size.size())) {
                    gemmContract(dy, e.out, xs[1 - t], e.in[1 - t], e.in[t], e.size, dxs[t]);
                    dxs[t] = nullptr;
                }
        }
        if (std::any_of(dxs.begin(), dxs.end(), [](float *p) { return p != nullptr; }))
            loopBackward(e, shapes, xs, dy, dxs, sizes);
    }
};

} // namespace

void registerEinsum(KernelTable &t)
{
    t["Einsum"] = std::make_unique<Einsum>();
}

} // namespace netwright
