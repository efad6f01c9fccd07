// SPDX-License-Identifier: Apache-2.0
// Comparisons, logic and selection (ONNX), with multidirectional broadcasting: Equal (numeric
// and bool), Less, Greater, LessOrEqual, GreaterOrEqual (numeric; a bool output, NaN compares
// false), And, Or, Xor (bool), BitShift (unsigned integers; direction LEFT or RIGHT, a shift by
// the type's width or more gives 0), Where (a bool condition choosing between X and Y of any one
// element type, float16/bfloat16 included since it only moves bits). Only Where is differentiable:
// float32 gradients to X and Y (dY where the condition picks that operand, summed over broadcast
// dims serially in index order), none to the condition.
#include "core/error.h"
#include "core/parallel.h"
#include "ops/broadcast.h"
#include "ops/elementwise.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

#include <type_traits>

namespace netwright {

namespace {

enum class CompareKind { Equal, Less, Greater, LessOrEqual, GreaterOrEqual, And, Or, Xor, BitShift };

class Compare final : public OpKernel {
public:
    explicit Compare(CompareKind kind) : m_kind(kind) {}

    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 2, node.describe() + ": needs two inputs.");
        return {shape_rules::broadcast(node, in[0], in[1])};
    }

    std::vector<DType> outputTypes(const Node &node, const std::vector<DType> &in) const override
    {
        check(in.size() == 2, node.describe() + ": needs two inputs.");
        check(in[0] == in[1], node.describe() + ": its inputs are " + dtypeName(in[0]) + " and " + dtypeName(in[1]) + "; " + node.opType
                                  + " needs one element type.");
        return {m_kind == CompareKind::BitShift ? in[0] : DType::Bool};
    }

    bool acceptsType(size_t, DType type) const override { return inTypeSet(type, types()); }
    bool differentiable(size_t) const override { return false; }

    void forward(KernelContext &ctx) const override
    {
        const Node &node = ctx.node;
        const Tensor &A = ctx.in(0), &B = ctx.in(1);
        Tensor &Y = ctx.out(0);
        check(A.dtype() == B.dtype(), node.describe() + ": its inputs are " + dtypeName(A.dtype()) + " and " + dtypeName(B.dtype())
                                          + "; " + node.opType + " needs one element type.");
        switch (m_kind) {
        case CompareKind::And: return logic(node, A, B, Y, [](uint8_t x, uint8_t z) { return uint8_t(x && z); });
        case CompareKind::Or: return logic(node, A, B, Y, [](uint8_t x, uint8_t z) { return uint8_t(x || z); });
        case CompareKind::Xor: return logic(node, A, B, Y, [](uint8_t x, uint8_t z) { return uint8_t((x != 0) != (z != 0)); });
        case CompareKind::BitShift: {
            const std::string direction = node.attrString("direction", "");
            check(direction == "LEFT" || direction == "RIGHT",
                  node.describe() + ": direction must be \"LEFT\" or \"RIGHT\", got \"" + direction + "\".");
            const bool left = direction == "LEFT";
            dispatchType<kUnsignedInts>(A.dtype(), node, [&](auto tag) {
                using T = typename decltype(tag)::type;
                constexpr uint64_t bits = sizeof(T) * 8;
                broadcastMap<T, T, T>(A, B, Y, [left](T x, T s) {
                    if (static_cast<uint64_t>(s) >= bits)
                        return T(0);
                    return left ? T(WrapType<T>(x) << s) : T(x >> s);
                });
            });
            return;
        }
        default: break;
        }
        dispatchType<kAllTypes>(A.dtype(), node, [&](auto tag) {
            using T = typename decltype(tag)::type;
            switch (m_kind) {
            case CompareKind::Equal: broadcastMap<T, T, bool>(A, B, Y, [](T x, T z) { return x == z; }); break;
            case CompareKind::Less: broadcastMap<T, T, bool>(A, B, Y, [](T x, T z) { return x < z; }); break;
            case CompareKind::Greater: broadcastMap<T, T, bool>(A, B, Y, [](T x, T z) { return x > z; }); break;
            case CompareKind::LessOrEqual: broadcastMap<T, T, bool>(A, B, Y, [](T x, T z) { return x <= z; }); break;
            case CompareKind::GreaterOrEqual: broadcastMap<T, T, bool>(A, B, Y, [](T x, T z) { return x >= z; }); break;
            default: break;
            }
        });
    }

    void backward(KernelContext &) const override {} // no input is differentiable

private:
    unsigned types() const
    {
        switch (m_kind) {
        case CompareKind::Equal: return kAllTypes;
        case CompareKind::And:
        case CompareKind::Or:
        case CompareKind::Xor: return kBool;
        case CompareKind::BitShift: return kUnsignedInts;
        default: return kNumeric;
        }
    }

    template<typename F>
    static void logic(const Node &node, const Tensor &A, const Tensor &B, Tensor &Y, F f)
    {
        dispatchType<kBool>(A.dtype(), node, [&](auto) { broadcastMap<uint8_t, uint8_t, uint8_t>(A, B, Y, f); });
    }

    CompareKind m_kind;
};

// Where(condition, X, Y): X where the condition holds, else Y, all three broadcast together.
class Where final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 3, node.describe() + ": needs three inputs (condition, X, Y).");
        return {shape_rules::broadcast(node, shape_rules::broadcast(node, in[0], in[1]), in[2])};
    }

    std::vector<DType> outputTypes(const Node &node, const std::vector<DType> &in) const override
    {
        check(in.size() == 3, node.describe() + ": needs three inputs (condition, X, Y).");
        check(in[1] == in[2], node.describe() + ": X is " + dtypeName(in[1]) + " and Y is " + dtypeName(in[2]) + "; Where needs one element type.");
        return {in[1]};
    }

    bool acceptsType(size_t input, DType type) const override { return input != 0 || type == DType::Bool; }
    bool differentiable(size_t input) const override { return input != 0; }

    void forward(KernelContext &ctx) const override
    {
        const Tensor &C = ctx.in(0), &X = ctx.in(1), &Yin = ctx.in(2);
        Tensor &Out = ctx.out(0);
        check(C.dtype() == DType::Bool, ctx.node.describe() + ": the condition must be bool, got " + dtypeName(C.dtype()) + ".");
        check(X.dtype() == Yin.dtype(), ctx.node.describe() + ": X is " + dtypeName(X.dtype()) + " and Y is " + dtypeName(Yin.dtype())
                                            + "; Where needs one element type.");
        // Selection only moves bits: one loop per element size serves every type.
        switch (dtypeSize(X.dtype())) {
        case 1: select<uint8_t>(C, X, Yin, Out); break;
        case 2: select<uint16_t>(C, X, Yin, Out); break;
        case 4: select<uint32_t>(C, X, Yin, Out); break;
        case 8: select<uint64_t>(C, X, Yin, Out); break;
        default: throw Error(ctx.node.describe() + ": the engine has no " + dtypeName(X.dtype()) + " kernel for Where.");
        }
    }

    void backward(KernelContext &ctx) const override
    {
        const Tensor &C = ctx.in(0), &dOut = *ctx.gradOutputs[0];
        const bool isFloat = ctx.in(1).dtype() == DType::Float32;
        const BroadcastIndexer ic(dOut.shape(), C.shape());
        const uint8_t *c = C.dataAs<uint8_t>();
        const float *dy = dOut.data();
        for (size_t which = 1; which <= 2; ++which) {
            if (!ctx.wantsGrad(which))
                continue;
            if (!isFloat) {
                ctx.gradInputs[which]->fill(0.0f);
                continue;
            }
            const bool pickWhen = which == 1;
            const BroadcastIndexer self(dOut.shape(), ctx.in(which).shape());
            reduceBroadcastGrad(self, dOut.shape(), *ctx.gradInputs[which], [&](int64_t i) {
                return (c[ic.identity() ? i : ic.offset(i)] != 0) == pickWhen ? dy[i] : 0.0f;
            });
        }
    }

private:
    template<typename T>
    static void select(const Tensor &C, const Tensor &X, const Tensor &Y, Tensor &Out)
    {
        const BroadcastIndexer ic(Out.shape(), C.shape()), ix(Out.shape(), X.shape()), iy(Out.shape(), Y.shape());
        const uint8_t *c = C.dataAs<uint8_t>();
        const T *x = X.dataAs<T>(), *y = Y.dataAs<T>();
        T *out = Out.dataAs<T>();
        if (ic.identity() && ix.identity() && iy.identity()) {
            parallelFor(Out.numel(), [&](int64_t i0, int64_t i1, int) {
                for (int64_t i = i0; i < i1; ++i)
                    out[i] = c[i] ? x[i] : y[i];
            }, 8192);
            return;
        }
        parallelFor(Out.numel(), [&](int64_t i0, int64_t i1, int) {
            for (int64_t i = i0; i < i1; ++i)
                out[i] = c[ic.identity() ? i : ic.offset(i)] ? x[ix.identity() ? i : ix.offset(i)] : y[iy.identity() ? i : iy.offset(i)];
        }, 4096);
    }
};

} // namespace

void registerCompareOps(KernelTable &t)
{
    t["Equal"] = std::make_unique<Compare>(CompareKind::Equal);
    t["Less"] = std::make_unique<Compare>(CompareKind::Less);
    t["Greater"] = std::make_unique<Compare>(CompareKind::Greater);
    t["LessOrEqual"] = std::make_unique<Compare>(CompareKind::LessOrEqual);
    t["GreaterOrEqual"] = std::make_unique<Compare>(CompareKind::GreaterOrEqual);
    t["And"] = std::make_unique<Compare>(CompareKind::And);
    t["Or"] = std::make_unique<Compare>(CompareKind::Or);
    t["Xor"] = std::make_unique<Compare>(CompareKind::Xor);
    t["BitShift"] = std::make_unique<Compare>(CompareKind::BitShift);
    t["Where"] = std::make_unique<Where>();
}

} // namespace netwright
