// SPDX-License-Identifier: Apache-2.0
// A CPU kernel for tensors that live on a device: inputs are copied to the host, the CPU kernel
// runs there, and what it wrote is copied back. Layer: engine/ops. Gives every device every op
// the CPU runs, with the CPU's bits; device backends replace it op by op with kernels of their
// own. The node's saved tensors stay on the host (only this wrapper reads them).
#include "ops/kernels.h"

namespace netwright {

namespace {

// Host views of tensors that may live on a device: a host tensor is aliased, a device tensor
// copied. `writable` gives a host buffer of the same shape without copying the contents.
struct HostSide {
    std::vector<Tensor> tensors;
    std::vector<Tensor *> pointers;

    template<typename Ptr> static HostSide of(const std::vector<Ptr> &side, bool copyContents)
    {
        HostSide h;
        h.tensors.resize(side.size());
        for (size_t i = 0; i < side.size(); ++i) {
            const Tensor *t = side[i];
            if (!t)
                continue;
            if (t->device().type == DeviceType::Cpu)
                h.tensors[i] = *t; // alias
            else if (copyContents)
                h.tensors[i] = t->to(Device::cpu());
            else
                h.tensors[i] = Tensor(t->shape(), t->dtype());
        }
        for (size_t i = 0; i < side.size(); ++i)
            h.pointers.push_back(side[i] ? &h.tensors[i] : nullptr);
        return h;
    }
    // Copies the host results into the device tensors they stand for.
    template<typename Ptr> void writeBack(const std::vector<Ptr> &side) const
    {
        for (size_t i = 0; i < side.size(); ++i)
            if (side[i] && side[i]->device().type != DeviceType::Cpu)
                side[i]->copyFrom(tensors[i]);
    }
};

std::vector<const Tensor *> constView(const HostSide &h)
{
    return {h.pointers.begin(), h.pointers.end()};
}

class HostFallback final : public OpKernel {
public:
    explicit HostFallback(const OpKernel &cpu) : m_cpu(cpu) {}

    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &inputs,
                                   const std::vector<const Tensor *> &constants) const override
    {
        // A kernel reading operand values (Reshape's shape) must see host memory; kernels read
        // only integer operands, so float data stays where it is.
        std::vector<Tensor> host(constants.size());
        std::vector<const Tensor *> view(constants.begin(), constants.end());
        for (size_t i = 0; i < constants.size(); ++i)
            if (constants[i] && constants[i]->defined() && constants[i]->device().type != DeviceType::Cpu
                && constants[i]->dtype() != DType::Float32) {
                host[i] = constants[i]->to(Device::cpu());
                view[i] = &host[i];
            }
        return m_cpu.inferShapes(node, inputs, view);
    }
    std::vector<DType> outputTypes(const Node &node, const std::vector<DType> &inputs) const override
    {
        return m_cpu.outputTypes(node, inputs);
    }
    bool acceptsType(size_t input, DType type) const override { return m_cpu.acceptsType(input, type); }
    std::optional<Tensor> valueFromShapes(const Node &node, const std::vector<Shape> &shapes) const override
    {
        return m_cpu.valueFromShapes(node, shapes);
    }
    bool differentiable(size_t input) const override { return m_cpu.differentiable(input); }
    bool outputAliasesInput() const override { return m_cpu.outputAliasesInput(); }
    bool forwardsInput(const Node &node, const std::vector<const Tensor *> &inputs, bool training) const override
    {
        return m_cpu.forwardsInput(node, inputs, training);
    }
    bool passesGradient(size_t input, const Shape &inShape, const Shape &outShape, const std::vector<Tensor> &saved) const override
    {
        return m_cpu.passesGradient(input, inShape, outShape, saved);
    }
    bool writesInputs() const override { return m_cpu.writesInputs(); }
    bool allocatesOutputs() const override { return m_cpu.allocatesOutputs(); }

    void forward(KernelContext &ctx) const override
    {
        if (m_cpu.allocatesOutputs()) { // the outputs come back on the host; the executor places them
            HostSide in = HostSide::of(ctx.inputs, true);
            KernelContext host{ctx.node, in.pointers, ctx.outputs, ctx.saved, ctx.training, ctx.rng, {}, {}, ctx.rowOffset};
            m_cpu.forward(host);
            return;
        }
        HostSide in = HostSide::of(ctx.inputs, true);
        HostSide out = HostSide::of(ctx.outputs, false);
        KernelContext host{ctx.node, in.pointers, out.pointers, ctx.saved, ctx.training, ctx.rng, {}, {}, ctx.rowOffset};
        m_cpu.forward(host);
        out.writeBack(ctx.outputs);
        if (m_cpu.writesInputs())
            in.writeBack(ctx.inputs);
    }

    void backward(KernelContext &ctx) const override
    {
        HostSide in = HostSide::of(ctx.inputs, true);
        HostSide out = HostSide::of(ctx.outputs, true);
        HostSide gradOut = HostSide::of(ctx.gradOutputs, true);
        HostSide gradIn = HostSide::of(ctx.gradInputs, false);
        KernelContext host{ctx.node, in.pointers, out.pointers, ctx.saved, ctx.training, ctx.rng, constView(gradOut), gradIn.pointers,
                           ctx.rowOffset};
        m_cpu.backward(host);
        gradIn.writeBack(ctx.gradInputs);
    }

private:
    const OpKernel &m_cpu;
};

} // namespace

std::unique_ptr<OpKernel> makeHostFallbackKernel(const OpKernel &cpu)
{
    return std::make_unique<HostFallback>(cpu);
}

} // namespace netwright
