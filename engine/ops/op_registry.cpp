// SPDX-License-Identifier: Apache-2.0
// The kernel tables: every CPU kernel is listed here explicitly (static registrars would be
// dropped by the static-library linker); device kernels are registered by their backend, and a
// node no device kernel supports runs its CPU kernel through host copies (ops/host_fallback).
#include "ops/op.h"

#include "core/error.h"
#include "ops/kernels.h"

#include <map>
#include <memory>
#include <mutex>

namespace netwright {

namespace {
using Table = std::map<std::string, std::unique_ptr<OpKernel>>;

const Table &cpuTable()
{
    static const Table table = [] {
        Table t;
        registerGemm(t);
        registerMatMul(t);
        registerBinaryOps(t);
        registerConv(t);
        registerMaxPool(t);
        registerAveragePools(t);
        registerBatchNormalization(t);
        registerActivations(t);
        registerSoftmaxOps(t);
        registerShapeOps(t);
        registerTranspose(t);
        registerConcat(t);
        registerClip(t);
        registerDropout(t);
        registerSoftmaxCrossEntropyLoss(t);
        registerRegressionLosses(t);
        registerUnaryMath(t);
        registerCompareOps(t);
        registerVariadicOps(t);
        registerCastOps(t);
        registerNormalizations(t);
        registerReductions(t);
        registerTopK(t);
        registerEinsum(t);
        registerSliceSplit(t);
        registerGatherScatter(t);
        registerRearrangeOps(t);
        registerConvTranspose(t);
        registerResizeOps(t);
        registerRecurrentOps(t);
        registerControlFlow(t);
        return t;
    }();
    return table;
}

std::mutex g_deviceMutex;
Table g_cudaTable;                                  // native CUDA kernels, by op type
std::map<std::string, std::unique_ptr<OpKernel>> g_fallbacks; // host-copy wrappers, by op type

const OpKernel *nativeKernel(const Node &node, DeviceType device)
{
    if (device != DeviceType::Cuda)
        return nullptr;
    std::lock_guard lock(g_deviceMutex);
    auto it = g_cudaTable.find(node.opType);
    return it != g_cudaTable.end() && it->second->supports(node) ? it->second.get() : nullptr;
}

const OpKernel &cpuKernel(const std::string &opType, const Node &node)
{
    const auto &t = cpuTable();
    auto it = t.find(opType);
    if (it == t.end())
        throw Error(node.describe() + ": the engine has no kernel for op type \"" + opType + "\".");
    return *it->second;
}
} // namespace

const OpKernel &kernelFor(const std::string &opType, DeviceType device, const Node &node)
{
    const OpKernel &cpu = cpuKernel(opType, node);
    if (device == DeviceType::Cpu)
        return cpu;
    if (const OpKernel *native = nativeKernel(node, device))
        return *native;
    return hostFallbackFor(node);
}

const OpKernel &hostFallbackFor(const Node &node)
{
    const OpKernel &cpu = cpuKernel(node.opType, node);
    std::lock_guard lock(g_deviceMutex);
    auto &fallback = g_fallbacks[node.opType];
    if (!fallback)
        fallback = makeHostFallbackKernel(cpu);
    return *fallback;
}

bool hasKernel(const std::string &opType, DeviceType device)
{
    return cpuTable().count(opType) != 0; // every device runs what the CPU runs (see kernelFor)
}

bool runsNatively(const Node &node, DeviceType device)
{
    return device == DeviceType::Cpu ? hasKernel(node.opType) : nativeKernel(node, device) != nullptr;
}

std::vector<std::string> supportedOps(DeviceType device)
{
    std::vector<std::string> names;
    for (const auto &[k, v] : cpuTable())
        names.push_back(k);
    return names;
}

void registerDeviceKernel(DeviceType device, const std::string &opType, std::unique_ptr<OpKernel> kernel)
{
    if (device != DeviceType::Cuda)
        return;
    std::lock_guard lock(g_deviceMutex);
    g_cudaTable[opType] = std::move(kernel);
}

std::vector<DType> OpKernel::outputTypes(const Node &node, const std::vector<DType> &) const
{
    return std::vector<DType>(node.outputs.size(), DType::Float32);
}

std::vector<Tensor> evaluateNode(const Node &node, const std::vector<const Tensor *> &inputs)
{
    const OpKernel &k = cpuKernel(node.opType, node);
    std::vector<Shape> shapes;
    std::vector<DType> types;
    std::vector<Tensor *> in;
    for (const Tensor *t : inputs) {
        shapes.push_back(t ? t->shape() : Shape{});
        types.push_back(t ? t->dtype() : DType::Float32);
        in.push_back(const_cast<Tensor *>(t)); // kernels only read their inputs in inference mode
    }
    for (size_t i = 0; i < inputs.size(); ++i)
        check(!inputs[i] || k.acceptsType(i, types[i]), node.describe() + ": input " + std::to_string(i) + " is "
                                                            + dtypeName(types[i]) + ", which its kernel does not compute with.");
    std::vector<Tensor> outputs(node.outputs.size());
    if (k.allocatesOutputs()) { // control flow: the kernel sizes and assigns its outputs
        std::vector<Tensor *> slots;
        for (size_t i = 0; i < node.outputs.size(); ++i)
            slots.push_back(node.outputs[i].empty() ? nullptr : &outputs[i]);
        std::vector<Tensor> saved;
        KernelContext ctx{node, std::move(in), std::move(slots), saved, false, nullptr, {}, {}, 0};
        k.forward(ctx);
        return outputs;
    }
    const std::vector<Shape> outShapes = k.inferShapes(node, shapes, inputs);
    const std::vector<DType> outTypes = k.outputTypes(node, types);
    std::vector<Tensor *> out;
    for (size_t i = 0; i < node.outputs.size(); ++i) {
        if (node.outputs[i].empty()) {
            out.push_back(nullptr);
            continue;
        }
        check(i < outShapes.size() && i < outTypes.size(), node.describe() + ": has more outputs than the op defines.");
        outputs[i] = Tensor(outShapes[i], outTypes[i]);
        out.push_back(&outputs[i]);
    }
    if (k.outputAliasesInput() && !outputs.empty() && out[0]) {
        outputs[0] = inputs[0]->reshaped(outShapes[0]);
        return outputs;
    }
    std::vector<Tensor> saved;
    KernelContext ctx{node, std::move(in), std::move(out), saved, false, nullptr, {}, {}, 0};
    k.forward(ctx);
    return outputs;
}

namespace shape_rules {

void expectRank(const Node &node, const char *what, const Shape &shape, int rank)
{
    check(static_cast<int>(shape.size()) == rank, node.describe() + ": " + what + " must have rank " + std::to_string(rank)
                                                    + ", got shape " + shapeToString(shape) + ".");
}

Shape broadcast(const Node &node, const Shape &a, const Shape &b)
{
    const size_t r = std::max(a.size(), b.size());
    Shape out(r);
    for (size_t i = 0; i < r; ++i) {
        const int64_t da = i + a.size() >= r ? a[i + a.size() - r] : 1;
        const int64_t db = i + b.size() >= r ? b[i + b.size() - r] : 1;
        check(da == db || da == 1 || db == 1, node.describe() + ": shapes " + shapeToString(a) + " and " + shapeToString(b)
                                                  + " cannot be broadcast together.");
        out[i] = da == 1 ? db : da;
    }
    return out;
}

int64_t normalizeAxis(const Node &node, int64_t axis, int rank)
{
    check(rank >= 1 && axis >= -rank && axis < rank,
          node.describe() + ": axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank) + ".");
    return axis < 0 ? axis + rank : axis;
}

} // namespace shape_rules

} // namespace netwright
