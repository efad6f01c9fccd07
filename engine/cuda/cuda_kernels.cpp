// SPDX-License-Identifier: Apache-2.0
// The op kernels of the CUDA device: Gemm through cuBLAS, Conv and the pools through cuDNN,
// Relu, Dropout, Add/Sub/Mul/Div, BatchNormalization and the softmax cross-entropy as CUDA kernels. Layer: engine/cuda. Each takes
// its shapes and attributes from the CPU kernel (one definition of the op) and covers the common
// settings; a node or shape outside them runs the CPU kernel behind host copies
// (hostFallbackFor), so every model that trains on the CPU trains here.
#include "cuda/cuda_device.h"
#include "cuda/cudnn_ops.h"

#include "core/error.h"
#include "ops/op.h"
#include "ops/window_2d.h"

#include <algorithm>

namespace netwright::cuda {

namespace {

Node probeNode(const std::string &opType)
{
    Node n;
    n.name = "probe";
    n.opType = opType;
    return n;
}

bool onlyFirstOutput(const Node &node)
{
    for (size_t i = 1; i < node.outputs.size(); ++i)
        if (!node.outputs[i].empty())
            return false;
    return true;
}

// Shapes, types and differentiability come from the CPU kernel of the same op.
class CudaKernel : public OpKernel {
public:
    explicit CudaKernel(const std::string &opType) : m_cpu(kernelFor(opType, DeviceType::Cpu, probeNode(opType))) {}
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &inputs,
                                   const std::vector<const Tensor *> &constants) const override
    {
        return m_cpu.inferShapes(node, inputs, constants);
    }
    std::vector<DType> outputTypes(const Node &node, const std::vector<DType> &inputs) const override
    {
        return m_cpu.outputTypes(node, inputs);
    }
    bool acceptsType(size_t input, DType type) const override { return m_cpu.acceptsType(input, type); }
    bool differentiable(size_t input) const override { return m_cpu.differentiable(input); }
    bool writesInputs() const override { return m_cpu.writesInputs(); }

private:
    const OpKernel &m_cpu;
};

class Relu final : public CudaKernel {
public:
    Relu() : CudaKernel("Relu") {}
    void forward(KernelContext &ctx) const override { reluForward(ctx.in(0).data(), ctx.out(0).data(), ctx.in(0).numel()); }
    void backward(KernelContext &ctx) const override
    {
        if (ctx.wantsGrad(0))
            reluBackward(ctx.in(0).data(), ctx.gradOutputs[0]->data(), ctx.gradInputs[0]->data(), ctx.in(0).numel());
    }
};

// Y = alpha·op(A)·op(B) + C, C absent or a row bias [N] / [1,N] with beta = 1 (nn.Linear's shape).
class Gemm final : public CudaKernel {
public:
    Gemm() : CudaKernel("Gemm") {}
    bool supports(const Node &node) const override
    {
        return node.inputs.size() < 3 || node.inputs[2].empty() || node.attrFloat("beta", 1.0f) == 1.0f;
    }
    static bool rowBias(const KernelContext &ctx, int64_t n)
    {
        if (!ctx.hasInput(2))
            return true;
        const Shape &c = ctx.in(2).shape();
        return (c.size() == 1 && c[0] == n) || (c.size() == 2 && c[0] == 1 && c[1] == n);
    }
    void forward(KernelContext &ctx) const override
    {
        const Node &node = ctx.node;
        const bool ta = node.attrInt("transA", 0), tb = node.attrInt("transB", 0);
        const float alpha = node.attrFloat("alpha", 1.0f);
        const Tensor &A = ctx.in(0), &B = ctx.in(1);
        Tensor &Y = ctx.out(0);
        const int64_t M = Y.dim(0), N = Y.dim(1), K = ta ? A.dim(0) : A.dim(1);
        if (!rowBias(ctx, N))
            return hostFallbackFor(node).forward(ctx);
        gemm(ta, tb, M, N, K, alpha, A.data(), B.data(), 0.0f, Y.data());
        if (ctx.hasInput(2))
            addBiasRows(Y.data(), ctx.in(2).data(), Y.data(), M, N);
    }
    void backward(KernelContext &ctx) const override
    {
        const Node &node = ctx.node;
        const bool ta = node.attrInt("transA", 0), tb = node.attrInt("transB", 0);
        const float alpha = node.attrFloat("alpha", 1.0f);
        const Tensor &A = ctx.in(0), &B = ctx.in(1), &dY = *ctx.gradOutputs[0];
        const int64_t M = dY.dim(0), N = dY.dim(1), K = ta ? A.dim(0) : A.dim(1);
        if (!rowBias(ctx, N))
            return hostFallbackFor(node).backward(ctx);
        if (ctx.wantsGrad(0)) {
            float *dA = ctx.gradInputs[0]->data();
            if (!ta) // dA[M,K] = alpha dY op(B)ᵀ
                gemm(false, !tb, M, K, N, alpha, dY.data(), B.data(), 0.0f, dA);
            else // dA[K,M] = alpha op(B) dYᵀ
                gemm(tb, true, K, M, N, alpha, B.data(), dY.data(), 0.0f, dA);
        }
        if (ctx.wantsGrad(1)) {
            float *dB = ctx.gradInputs[1]->data();
            if (!tb) // dB[K,N] = alpha op(A)ᵀ dY
                gemm(!ta, false, K, N, M, alpha, A.data(), dY.data(), 0.0f, dB);
            else // dB[N,K] = alpha dYᵀ op(A)
                gemm(true, ta, N, K, M, alpha, dY.data(), A.data(), 0.0f, dB);
        }
        if (ctx.wantsGrad(2))
            biasGradient(dY.data(), ctx.gradInputs[2]->data(), M, N);
    }
};

// cuDNN pads both sides alike: a window whose pads differ runs on the CPU kernel.
bool symmetric(const Window2d &w)
{
    return w.padTop == w.padBottom && w.padLeft == w.padRight;
}

class Conv final : public CudaKernel {
public:
    Conv() : CudaKernel("Conv") {}
    bool supports(const Node &node) const override { return onlyFirstOutput(node); }
    // The cuDNN description of this call, or false when it needs the CPU kernel (not 2-D, or
    // asymmetric pads).
    static bool describe(const KernelContext &ctx, Conv2dShape *s)
    {
        const Tensor &X = ctx.in(0), &W = ctx.in(1);
        if (X.rank() != 4 || W.rank() != 4)
            return false;
        const Window2d w = Window2d::fromNode(ctx.node, X.dim(2), X.dim(3), {W.dim(2), W.dim(3)}, false);
        if (!symmetric(w))
            return false;
        s->n = X.dim(0), s->c = X.dim(1), s->h = X.dim(2), s->w = X.dim(3);
        s->k = W.dim(0), s->r = W.dim(2), s->s = W.dim(3);
        s->padH = static_cast<int>(w.padTop), s->padW = static_cast<int>(w.padLeft);
        s->strideH = static_cast<int>(w.sh), s->strideW = static_cast<int>(w.sw);
        s->dilationH = static_cast<int>(w.dh), s->dilationW = static_cast<int>(w.dw);
        s->groups = static_cast<int>(ctx.node.attrInt("group", 1));
        return s->outH() == w.oh && s->outW() == w.ow;
    }
    void forward(KernelContext &ctx) const override
    {
        Conv2dShape s;
        if (!describe(ctx, &s))
            return hostFallbackFor(ctx.node).forward(ctx);
        float *y = ctx.out(0).data();
        conv2dForward(s, ctx.in(0).data(), ctx.in(1).data(), y);
        if (ctx.hasInput(2))
            addBiasChannels(y, ctx.in(2).data(), s.n, s.k, s.outH() * s.outW());
    }
    void backward(KernelContext &ctx) const override
    {
        Conv2dShape s;
        if (!describe(ctx, &s))
            return hostFallbackFor(ctx.node).backward(ctx);
        const float *dy = ctx.gradOutputs[0]->data();
        if (ctx.wantsGrad(0))
            conv2dBackwardData(s, ctx.in(1).data(), dy, ctx.gradInputs[0]->data());
        if (ctx.wantsGrad(1))
            conv2dBackwardFilter(s, ctx.in(0).data(), dy, ctx.gradInputs[1]->data());
        if (ctx.wantsGrad(2))
            biasGradientChannels(dy, ctx.gradInputs[2]->data(), s.n, s.k, s.outH() * s.outW());
    }
};

// MaxPool, AveragePool and GlobalAveragePool over NCHW: symmetric pads, no dilation, no ceil_mode
// windows that cuDNN would size differently, no Indices output.
class Pool final : public CudaKernel {
public:
    Pool(const std::string &opType, bool max, bool global) : CudaKernel(opType), m_max(max), m_global(global) {}
    bool supports(const Node &node) const override { return onlyFirstOutput(node) && node.attrInt("storage_order", 0) == 0; }
    bool describe(const KernelContext &ctx, Pool2dShape *s) const
    {
        const Tensor &X = ctx.in(0);
        if (X.rank() != 4)
            return false;
        s->n = X.dim(0), s->c = X.dim(1), s->h = X.dim(2), s->w = X.dim(3);
        s->max = m_max;
        if (m_global) {
            s->kernelH = static_cast<int>(s->h), s->kernelW = static_cast<int>(s->w);
            return s->h > 0 && s->w > 0;
        }
        const Window2d w = Window2d::fromNode(ctx.node, X.dim(2), X.dim(3), {}, true);
        if (!symmetric(w) || w.dh != 1 || w.dw != 1)
            return false;
        s->kernelH = static_cast<int>(w.kh), s->kernelW = static_cast<int>(w.kw);
        s->padH = static_cast<int>(w.padTop), s->padW = static_cast<int>(w.padLeft);
        s->strideH = static_cast<int>(w.sh), s->strideW = static_cast<int>(w.sw);
        s->countIncludePad = ctx.node.attrInt("count_include_pad", 0) != 0;
        return s->outH() == w.oh && s->outW() == w.ow;
    }
    void forward(KernelContext &ctx) const override
    {
        Pool2dShape s;
        if (!describe(ctx, &s))
            return hostFallbackFor(ctx.node).forward(ctx);
        pool2dForward(s, ctx.in(0).data(), ctx.out(0).data());
    }
    void backward(KernelContext &ctx) const override
    {
        Pool2dShape s;
        if (!describe(ctx, &s))
            return hostFallbackFor(ctx.node).backward(ctx);
        if (ctx.wantsGrad(0))
            pool2dBackward(s, ctx.in(0).data(), ctx.out(0).data(), ctx.gradOutputs[0]->data(), ctx.gradInputs[0]->data());
    }

private:
    bool m_max, m_global;
};

// Dropout with its ratio attribute (no ratio or training_mode input, no mask output): the same
// mask as the CPU kernel, element by element (ops/dropout_mask.h).
class Dropout final : public CudaKernel {
public:
    Dropout() : CudaKernel("Dropout") {}
    bool supports(const Node &node) const override { return node.inputs.size() < 2 && onlyFirstOutput(node); }
    void forward(KernelContext &ctx) const override
    {
        const float ratio = ctx.node.attrFloat("ratio", 0.5f);
        check(ratio >= 0.0f && ratio < 1.0f, ctx.node.describe() + ": ratio must be in [0, 1), got " + std::to_string(ratio) + ".");
        const Tensor &X = ctx.in(0);
        const int64_t n = X.numel();
        ctx.saved.resize(1);
        if (!ctx.training || ratio == 0.0f) {
            ctx.saved[0] = Tensor(); // the identity: backward passes dy through
            ctx.out(0).copyFrom(X);
            return;
        }
        check(ctx.rng != nullptr, ctx.node.describe() + ": training needs a dropout random stream.");
        if (!ctx.saved[0].defined() || ctx.saved[0].numel() != n || ctx.saved[0].device() != X.device())
            ctx.saved[0] = Tensor(X.shape(), DType::Float32, X.device());
        const uint64_t key = ctx.rng->nextU64();
        const int64_t rows = X.rank() > 0 ? X.dim(0) : 1;
        const uint64_t first = static_cast<uint64_t>(ctx.rowOffset * (rows > 0 ? n / rows : 0));
        dropoutForward(X.data(), ctx.out(0).data(), ctx.saved[0].data(), n, key, first, ratio);
    }
    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        const Tensor &dY = *ctx.gradOutputs[0];
        if (ctx.saved.empty() || !ctx.saved[0].defined())
            ctx.gradInputs[0]->copyFrom(dY);
        else
            multiply(dY.data(), ctx.saved[0].data(), ctx.gradInputs[0]->data(), dY.numel());
    }
};

// The mean softmax cross-entropy of scores [N,C] against int64 labels [N] (the trainer's loss):
// forward leaves the gradient of the mean in saved[0]; backward scales it by the incoming one.
class SoftmaxCrossEntropyLoss final : public CudaKernel {
public:
    SoftmaxCrossEntropyLoss() : CudaKernel("SoftmaxCrossEntropyLoss") {}
    bool supports(const Node &node) const override
    {
        return node.attrString("reduction", "mean") == "mean" && !node.hasAttribute("ignore_index")
               && (node.inputs.size() < 3 || node.inputs[2].empty()) && onlyFirstOutput(node);
    }
    void forward(KernelContext &ctx) const override
    {
        const Tensor &S = ctx.in(0), &labels = ctx.in(1);
        if (S.rank() != 2 || labels.dtype() != DType::Int64 || labels.device() != S.device())
            return hostFallbackFor(ctx.node).forward(ctx);
        const int64_t n = S.dim(0), c = S.dim(1);
        ctx.saved.resize(3);
        if (!ctx.saved[0].defined() || ctx.saved[0].shape() != S.shape())
            ctx.saved[0] = Tensor(S.shape(), DType::Float32, S.device());
        if (!ctx.saved[1].defined() || ctx.saved[1].numel() != std::max<int64_t>(n, 1))
            ctx.saved[1] = Tensor({std::max<int64_t>(n, 1)}, DType::Float32, S.device());
        if (!ctx.saved[2].defined())
            ctx.saved[2] = Tensor({1}, DType::Int32, S.device());
        ctx.saved[2].copyFrom(Tensor::zeros({1}, DType::Int32));
        softmaxCrossEntropy(S.data(), labels.dataAs<int64_t>(), ctx.out(0).data(), ctx.saved[0].data(), n, c, ctx.saved[1].data(),
                            ctx.saved[2].dataAs<int>());
        const Tensor bad = ctx.saved[2].to(Device::cpu()); // waits for the kernels, reporting any failure
        check(bad.dataAs<int32_t>()[0] == 0,
              ctx.node.describe() + ": a label lies outside [0, " + std::to_string(c) + ") for scores of shape " + shapeToString(S.shape()) + ".");
    }
    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        if (ctx.saved.size() < 3) // forward ran on the CPU kernel
            return hostFallbackFor(ctx.node).backward(ctx);
        scaleBy(ctx.saved[0].data(), ctx.gradOutputs[0]->data(), ctx.gradInputs[0]->data(), ctx.saved[0].numel());
    }
};

// Add, Sub, Mul, Div of two operands of the output's shape (a residual connection); a broadcast
// operand runs the CPU kernel, whose gradient sums over the repeated dims in a fixed order.
class Binary final : public CudaKernel {
public:
    Binary(const std::string &opType, int op) : CudaKernel(opType), m_op(op) {}
    static bool sameShapes(const KernelContext &ctx, const Shape &out)
    {
        return ctx.in(0).shape() == out && ctx.in(1).shape() == out;
    }
    void forward(KernelContext &ctx) const override
    {
        Tensor &Y = ctx.out(0);
        if (!sameShapes(ctx, Y.shape()))
            return hostFallbackFor(ctx.node).forward(ctx);
        binaryForward(m_op, ctx.in(0).data(), ctx.in(1).data(), Y.data(), Y.numel());
    }
    void backward(KernelContext &ctx) const override
    {
        const Tensor &dY = *ctx.gradOutputs[0];
        if (!sameShapes(ctx, dY.shape()))
            return hostFallbackFor(ctx.node).backward(ctx);
        for (int which = 0; which < 2; ++which)
            if (ctx.wantsGrad(which))
                binaryBackward(m_op, which, ctx.in(0).data(), ctx.in(1).data(), dY.data(), ctx.gradInputs[which]->data(), dY.numel());
    }

private:
    int m_op;
};

// BatchNormalization over [N,C,…]: the CPU kernel's statistics and updates, one block per channel.
// saved: mean and 1/σ per channel (device), and whether the forward used batch statistics (host).
class BatchNormalization final : public CudaKernel {
public:
    BatchNormalization() : CudaKernel("BatchNormalization") {}
    static BatchNormArgs arguments(const KernelContext &ctx)
    {
        const Tensor &X = ctx.in(0);
        BatchNormArgs a;
        a.n = X.dim(0);
        a.channels = X.dim(1);
        a.plane = X.numel() / std::max<int64_t>(1, a.n * a.channels);
        a.eps = ctx.node.attrFloat("epsilon", 1e-5f);
        a.momentum = ctx.node.attrFloat("momentum", 0.9f);
        a.gamma = ctx.in(1).data();
        a.beta = ctx.in(2).data();
        a.runMean = ctx.inputs[3]->data();
        a.runVar = ctx.inputs[4]->data();
        return a;
    }
    void forward(KernelContext &ctx) const override
    {
        BatchNormArgs a = arguments(ctx);
        // training_mode=1 (ONNX) normalises with batch statistics; only a training step of our own
        // updates the running statistics in place.
        a.training = ctx.training || ctx.node.attrInt("training_mode", 0) != 0;
        a.updateRunning = ctx.training;
        a.runningMeanOut = ctx.outputs.size() > 1 && ctx.outputs[1] ? ctx.outputs[1]->data() : nullptr;
        a.runningVarOut = ctx.outputs.size() > 2 && ctx.outputs[2] ? ctx.outputs[2]->data() : nullptr;
        ctx.saved.resize(3);
        const Device device = ctx.in(0).device();
        for (int i = 0; i < 2; ++i)
            if (!ctx.saved[i].defined() || ctx.saved[i].numel() != a.channels || ctx.saved[i].device() != device)
                ctx.saved[i] = Tensor({a.channels}, DType::Float32, device);
        a.mean = ctx.saved[0].data();
        a.invStd = ctx.saved[1].data();
        ctx.saved[2] = Tensor::full({1}, a.training ? 1.0f : 0.0f);
        batchNormForward(a, ctx.in(0).data(), ctx.out(0).data());
    }
    void backward(KernelContext &ctx) const override
    {
        BatchNormArgs a = arguments(ctx);
        a.training = ctx.saved.at(2).data()[0] != 0.0f;
        a.mean = ctx.saved.at(0).data();
        a.invStd = ctx.saved.at(1).data();
        batchNormBackward(a, ctx.in(0).data(), ctx.gradOutputs[0]->data(), ctx.wantsGrad(0) ? ctx.gradInputs[0]->data() : nullptr,
                          ctx.wantsGrad(1) ? ctx.gradInputs[1]->data() : nullptr, ctx.wantsGrad(2) ? ctx.gradInputs[2]->data() : nullptr);
    }
};

} // namespace

void registerKernels()
{
    registerDeviceKernel(DeviceType::Cuda, "Relu", std::make_unique<Relu>());
    registerDeviceKernel(DeviceType::Cuda, "Gemm", std::make_unique<Gemm>());
    registerDeviceKernel(DeviceType::Cuda, "Conv", std::make_unique<Conv>());
    registerDeviceKernel(DeviceType::Cuda, "MaxPool", std::make_unique<Pool>("MaxPool", true, false));
    registerDeviceKernel(DeviceType::Cuda, "AveragePool", std::make_unique<Pool>("AveragePool", false, false));
    registerDeviceKernel(DeviceType::Cuda, "GlobalAveragePool", std::make_unique<Pool>("GlobalAveragePool", false, true));
    registerDeviceKernel(DeviceType::Cuda, "Dropout", std::make_unique<Dropout>());
    registerDeviceKernel(DeviceType::Cuda, "SoftmaxCrossEntropyLoss", std::make_unique<SoftmaxCrossEntropyLoss>());
    registerDeviceKernel(DeviceType::Cuda, "Add", std::make_unique<Binary>("Add", 0));
    registerDeviceKernel(DeviceType::Cuda, "Sub", std::make_unique<Binary>("Sub", 1));
    registerDeviceKernel(DeviceType::Cuda, "Mul", std::make_unique<Binary>("Mul", 2));
    registerDeviceKernel(DeviceType::Cuda, "Div", std::make_unique<Binary>("Div", 3));
    registerDeviceKernel(DeviceType::Cuda, "BatchNormalization", std::make_unique<BatchNormalization>());
}

} // namespace netwright::cuda
