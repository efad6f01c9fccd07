// SPDX-License-Identifier: Apache-2.0
// Add, Sub, Mul, Div (ONNX) with multidirectional broadcasting. Gradients of a broadcast operand
// are summed over the repeated dims, serially in index order (deterministic).
#include "core/error.h"
#include "core/parallel.h"
#include "ops/broadcast.h"
#include "ops/kernels.h"

namespace netwright {

namespace {

enum class BinaryKind { Add, Sub, Mul, Div };

class Binary final : public OpKernel {
public:
    explicit Binary(BinaryKind kind) : m_kind(kind) {}

    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &) const override
    {
        check(in.size() == 2, node.describe() + ": needs two inputs.");
        return {shape_rules::broadcast(node, in[0], in[1])};
    }

    void forward(KernelContext &ctx) const override
    {
        const Tensor &A = ctx.in(0), &B = ctx.in(1);
        Tensor &Y = ctx.out(0);
        const BroadcastIndexer ia(Y.shape(), A.shape()), ib(Y.shape(), B.shape());
        const float *a = A.data(), *b = B.data();
        float *y = Y.data();
        const BinaryKind kind = m_kind;
        parallelFor(Y.numel(), [&](int64_t i0, int64_t i1, int) {
            for (int64_t i = i0; i < i1; ++i) {
                const float x = a[ia.identity() ? i : ia.offset(i)], z = b[ib.identity() ? i : ib.offset(i)];
                switch (kind) {
                case BinaryKind::Add: y[i] = x + z; break;
                case BinaryKind::Sub: y[i] = x - z; break;
                case BinaryKind::Mul: y[i] = x * z; break;
                case BinaryKind::Div: y[i] = x / z; break;
                }
            }
        }, 4096);
    }

    void backward(KernelContext &ctx) const override
    {
        const Tensor &A = ctx.in(0), &B = ctx.in(1), &dY = *ctx.gradOutputs[0];
        const BroadcastIndexer ia(dY.shape(), A.shape()), ib(dY.shape(), B.shape());
        const float *a = A.data(), *b = B.data(), *dy = dY.data();
        const int64_t n = dY.numel();
        for (int which = 0; which < 2; ++which) {
            if (!ctx.wantsGrad(which))
                continue;
            const BroadcastIndexer &self = which == 0 ? ia : ib;
            float *g = ctx.gradInputs[which]->data();
            auto partial = [&](int64_t i) -> float {
                const float x = a[ia.identity() ? i : ia.offset(i)], z = b[ib.identity() ? i : ib.offset(i)];
                switch (m_kind) {
                case BinaryKind::Add: return dy[i];
                case BinaryKind::Sub: return which == 0 ? dy[i] : -dy[i];
                case BinaryKind::Mul: return which == 0 ? dy[i] * z : dy[i] * x;
                case BinaryKind::Div: return which == 0 ? dy[i] / z : -dy[i] * x / (z * z);
                }
                return 0.0f;
            };
            if (self.identity()) {
                parallelFor(n, [&](int64_t i0, int64_t i1, int) {
                    for (int64_t i = i0; i < i1; ++i)
                        g[i] = partial(i);
                }, 4096);
            } else {
                ctx.gradInputs[which]->fill(0.0f);
                for (int64_t i = 0; i < n; ++i)
                    g[self.offset(i)] += partial(i);
            }
        }
    }

private:
    BinaryKind m_kind;
};

} // namespace

void registerBinaryOps(KernelTable &t)
{
    t["Add"] = std::make_unique<Binary>(BinaryKind::Add);
    t["Sub"] = std::make_unique<Binary>(BinaryKind::Sub);
    t["Mul"] = std::make_unique<Binary>(BinaryKind::Mul);
    t["Div"] = std::make_unique<Binary>(BinaryKind::Div);
}

} // namespace netwright
