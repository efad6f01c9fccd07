// SPDX-License-Identifier: Apache-2.0
// Training with --device cuda against the CPU reference, where a GPU is present: every op with a
// CUDA kernel of its own (Gemm, Conv, MaxPool, AveragePool, GlobalAveragePool, Relu, Dropout,
// Add/Sub/Mul/Div, BatchNormalization with its running statistics, SoftmaxCrossEntropyLoss)
// forward and backward against its CPU kernel within 1e-4, through the
// same registry the executor uses; a short lenet5 and cnn-bn run on 602 Fashion-MNIST images on
// both devices (losses, parameters and test accuracy close); and a run stopped on the GPU that
// continues on the CPU from its checkpoint state.
// Without a GPU the test says why and exits 77, which ctest reports as "Skipped" — never passed.
#include "checkpoint/training_state.h"
#include "config/run_config.h"
#include "core/error.h"
#include "core/parallel.h"
#include "cuda/cuda_device.h"
#include "data/minibatch_source.h"
#include "engine/ops/gradcheck.h"
#include "ops/op.h"
#include "train/trainer.h"
#include "zoo/model_zoo.h"

#include "support/short_run.h"

#include <QTest>

#include <cmath>
#include <cstdio>
#include <cstring>

using namespace netwright;
using namespace netwright::testing;

namespace {

struct KernelRun {
    std::vector<Tensor> outputs;  // on the host
    std::vector<Tensor> gradients; // per input, on the host (undefined where none)
    std::vector<Tensor> inputs;    // after the step, on the host (BatchNormalization writes its running statistics)
};

// Runs `node` forward (training mode, a dropout stream seeded 42) and backward with `dy` on
// `device` through the kernel registry, as the executor does; inputs and dy come from the host.
KernelRun runOn(Device device, const Node &node, const std::vector<Tensor> &inputs, const Tensor &dy, bool training = true)
{
    const OpKernel &k = kernelFor(node.opType, device.type, node);
    std::vector<Tensor> in;
    std::vector<Shape> shapes;
    for (const Tensor &t : inputs) {
        in.push_back(device.type == DeviceType::Cpu ? t.clone() : t.to(device)); // the caller's inputs stay as they were
        shapes.push_back(t.shape());
    }
    std::vector<Tensor *> inPtrs;
    std::vector<const Tensor *> constants;
    for (Tensor &t : in) {
        inPtrs.push_back(&t);
        constants.push_back(&t);
    }
    const auto outShapes = k.inferShapes(node, shapes, constants);
    std::vector<Tensor> out;
    std::vector<DType> inTypes;
    for (const Tensor &t : in)
        inTypes.push_back(t.dtype());
    const auto outTypes = k.outputTypes(node, inTypes);
    for (size_t i = 0; i < node.outputs.size(); ++i)
        out.emplace_back(outShapes[i], outTypes[i], outTypes[i] == DType::Float32 ? device : Device::cpu());
    std::vector<Tensor *> outPtrs;
    for (Tensor &t : out)
        outPtrs.push_back(&t);
    std::vector<Tensor> saved;
    Rng rng(42);
    KernelContext fwd{node, inPtrs, outPtrs, saved, training, &rng, {}, {}, 0};
    k.forward(fwd);
    const Tensor dyOn = dy.to(device);
    std::vector<Tensor> grads(in.size());
    std::vector<Tensor *> gradPtrs;
    for (size_t i = 0; i < in.size(); ++i) {
        if (in[i].dtype() == DType::Float32 && k.differentiable(i)) {
            grads[i] = Tensor(in[i].shape(), DType::Float32, device);
            gradPtrs.push_back(&grads[i]);
        } else {
            gradPtrs.push_back(nullptr);
        }
    }
    KernelContext bwd{node, inPtrs, outPtrs, saved, training, &rng, {&dyOn}, gradPtrs, 0};
    k.backward(bwd);
    cuda::synchronize();
    KernelRun r;
    for (const Tensor &t : out)
        r.outputs.push_back(t.to(Device::cpu()));
    for (const Tensor &t : grads)
        r.gradients.push_back(t.defined() ? t.to(Device::cpu()) : Tensor());
    for (const Tensor &t : in)
        r.inputs.push_back(t.to(Device::cpu()));
    return r;
}

Node makeNode(const std::string &op, size_t inputs, std::map<std::string, Attribute> attributes = {})
{
    Node n;
    n.name = "n";
    n.opType = op;
    for (size_t i = 0; i < inputs; ++i)
        n.inputs.push_back("x" + std::to_string(i));
    n.outputs = {"y"};
    n.attributes = std::move(attributes);
    return n;
}

} // namespace

class CudaTrainingTest : public QObject {
    Q_OBJECT
    ShortData m_data;

    std::unique_ptr<Trainer> makeTrainer(const std::string &model, Device device)
    {
        OptimizerSettings opt;
        opt.momentum = 0.9;
        return makeShortTrainer(m_data, model, opt, 0.02, device);
    }

private slots:
    void initTestCase()
    {
        setThreadCount(2);
        QCOMPARE(cuda::startBackend() > 0, true);
        m_data = loadShortData();
    }

    void everyCudaKernelEqualsTheCpuKernel_data()
    {
        QTest::addColumn<QString>("op");
        QTest::addColumn<QString>("attributes");
        QTest::addColumn<bool>("native"); // false: a setting the CUDA kernel leaves to the CPU kernel
        QTest::newRow("Relu") << "Relu" << "" << true;
        QTest::newRow("Gemm transB + bias") << "Gemm" << "transB" << true;
        QTest::newRow("Gemm transA alpha, no bias") << "Gemm" << "transA" << true;
        QTest::newRow("Conv 3x3 pad 1 + bias") << "Conv" << "pad1" << true;
        QTest::newRow("Conv stride 2 dilation 2 groups 2") << "Conv" << "grouped" << true;
        QTest::newRow("Conv asymmetric pads (cuDNN cannot: CPU kernel inside)") << "Conv" << "asymmetric" << true;
        QTest::newRow("MaxPool 2x2") << "MaxPool" << "" << true;
        QTest::newRow("AveragePool 3x3 pad 1") << "AveragePool" << "" << true;
        QTest::newRow("AveragePool count_include_pad") << "AveragePool" << "include" << true;
        QTest::newRow("GlobalAveragePool") << "GlobalAveragePool" << "" << true;
        QTest::newRow("Dropout 0.3") << "Dropout" << "" << true;
        QTest::newRow("SoftmaxCrossEntropyLoss") << "SoftmaxCrossEntropyLoss" << "" << true;
        QTest::newRow("Add") << "Add" << "" << true;
        QTest::newRow("Sub") << "Sub" << "" << true;
        QTest::newRow("Mul") << "Mul" << "" << true;
        QTest::newRow("Div") << "Div" << "" << true;
        QTest::newRow("Add with a broadcast operand (CPU kernel inside)") << "Add" << "broadcast" << true;
        QTest::newRow("BatchNormalization, training") << "BatchNormalization" << "" << true;
        QTest::newRow("BatchNormalization, running statistics") << "BatchNormalization" << "inference" << true;
        QTest::newRow("BatchNormalization, training_mode=1 outside training") << "BatchNormalization" << "training_mode" << true;
        QTest::newRow("BatchNormalization, training_mode=1 with running-statistic outputs")
            << "BatchNormalization" << "outputs" << true;
        QTest::newRow("Dropout with a mask output (CPU kernel)") << "Dropout" << "mask" << false;
    }
    void everyCudaKernelEqualsTheCpuKernel()
    {
        QFETCH(QString, op);
        QFETCH(QString, attributes);
        QFETCH(bool, native);
        Rng rng(7);
        Node node;
        std::vector<Tensor> inputs;
        const std::string a = attributes.toStdString();
        bool training = true;
        if (op == "Relu") {
            node = makeNode("Relu", 1);
            inputs = {randomTensor({4, 3, 5, 5}, rng)};
        } else if (op == "Gemm") {
            const bool ta = a == "transA";
            node = makeNode("Gemm", ta ? 2 : 3, ta ? std::map<std::string, Attribute>{{"transA", int64_t(1)}, {"alpha", 0.5f}}
                                               : std::map<std::string, Attribute>{{"transB", int64_t(1)}});
            inputs = ta ? std::vector<Tensor>{randomTensor({33, 16}, rng), randomTensor({33, 10}, rng)}
                        : std::vector<Tensor>{randomTensor({16, 33}, rng), randomTensor({10, 33}, rng), randomTensor({10}, rng)};
        } else if (op == "Conv") {
            if (a == "pad1") {
                node = makeNode("Conv", 3, {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
                inputs = {randomTensor({2, 3, 9, 9}, rng), randomTensor({6, 3, 3, 3}, rng), randomTensor({6}, rng)};
            } else if (a == "grouped") {
                node = makeNode("Conv", 2, {{"strides", std::vector<int64_t>{2, 2}}, {"dilations", std::vector<int64_t>{2, 2}},
                                            {"group", int64_t(2)}, {"pads", std::vector<int64_t>{2, 2, 2, 2}}});
                inputs = {randomTensor({2, 4, 11, 11}, rng), randomTensor({6, 2, 3, 3}, rng)};
            } else {
                node = makeNode("Conv", 2, {{"pads", std::vector<int64_t>{0, 1, 1, 0}}});
                inputs = {randomTensor({2, 3, 8, 8}, rng), randomTensor({4, 3, 3, 3}, rng)};
            }
        } else if (op == "MaxPool") {
            node = makeNode("MaxPool", 1, {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}});
            inputs = {randomTensor({2, 3, 8, 8}, rng)};
        } else if (op == "AveragePool") {
            node = makeNode("AveragePool", 1, {{"kernel_shape", std::vector<int64_t>{3, 3}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}},
                                               {"count_include_pad", int64_t(a == "include" ? 1 : 0)}});
            inputs = {randomTensor({2, 3, 7, 7}, rng)};
        } else if (op == "GlobalAveragePool") {
            node = makeNode("GlobalAveragePool", 1);
            inputs = {randomTensor({2, 5, 6, 6}, rng)};
        } else if (op == "Dropout") {
            node = makeNode("Dropout", 1, {{"ratio", 0.3f}});
            if (a == "mask")
                node.outputs.push_back("mask");
            inputs = {randomTensor({8, 50}, rng)};
        } else if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
            node = makeNode(op.toStdString(), 2);
            inputs = {randomTensor({4, 6, 5, 5}, rng), randomTensor(a == "broadcast" ? Shape{6, 1, 1} : Shape{4, 6, 5, 5}, rng)};
            if (op == "Div") // divisors in [1, 1.5]: the quotients and their gradients stay moderate
                for (int64_t i = 0; i < inputs[1].numel(); ++i)
                    inputs[1].data()[i] = 1.0f + 0.5f * std::fabs(inputs[1].data()[i]);
        } else if (op == "BatchNormalization") {
            node = makeNode("BatchNormalization", 5, {{"epsilon", 1e-3f}, {"momentum", 0.8f}});
            if (a == "training_mode" || a == "outputs")
                node.attributes["training_mode"] = int64_t(1);
            if (a == "outputs")
                node.outputs = {"y", "running_mean", "running_var"};
            Tensor var = randomTensor({6}, rng);
            for (int64_t i = 0; i < 6; ++i)
                var.data()[i] = 0.5f + std::fabs(var.data()[i]);
            inputs = {randomTensor({4, 6, 5, 5}, rng), randomTensor({6}, rng), randomTensor({6}, rng), randomTensor({6}, rng), var};
            training = a.empty();
        } else {
            node = makeNode("SoftmaxCrossEntropyLoss", 2, {{"reduction", std::string("mean")}});
            std::vector<int64_t> labels;
            for (int i = 0; i < 16; ++i)
                labels.push_back((i * 7) % 10);
            inputs = {randomTensor({16, 10}, rng), Tensor::fromInt64({16}, labels)};
        }
        QCOMPARE(runsNatively(node, DeviceType::Cuda), native);
        std::vector<Shape> shapes;
        std::vector<const Tensor *> constants;
        for (const Tensor &t : inputs) {
            shapes.push_back(t.shape());
            constants.push_back(&t);
        }
        const Shape yShape = kernelFor(node.opType, DeviceType::Cpu, node).inferShapes(node, shapes, constants)[0];
        Rng dyRng(9);
        const Tensor dy = randomTensor(yShape, dyRng);
        const KernelRun cpu = runOn(Device::cpu(), node, inputs, dy, training);
        const KernelRun gpu = runOn(Device::cuda(0), node, inputs, dy, training);
        QCOMPARE(gpu.outputs.size(), cpu.outputs.size());
        for (size_t i = 0; i < cpu.outputs.size(); ++i) {
            if (cpu.outputs[i].dtype() != DType::Float32) // Dropout's mask
                continue;
            QCOMPARE(gpu.outputs[i].shape(), cpu.outputs[i].shape());
            const double fwd = maxAbsDiff(gpu.outputs[i], cpu.outputs[i]);
            QVERIFY2(fwd <= 1e-4, qPrintable(QStringLiteral("output %1 differs by %2").arg(i).arg(fwd)));
        }
        for (size_t i = 0; i < cpu.gradients.size(); ++i) {
            QCOMPARE(gpu.gradients[i].defined(), cpu.gradients[i].defined());
            if (!cpu.gradients[i].defined())
                continue;
            const double bwd = maxAbsDiff(gpu.gradients[i], cpu.gradients[i]);
            QVERIFY2(bwd <= 1e-4, qPrintable(QStringLiteral("gradient of input %1 differs by %2").arg(i).arg(bwd)));
        }
        // What a kernel writes into its inputs (BatchNormalization's running statistics in training).
        for (size_t i = 0; i < cpu.inputs.size(); ++i) {
            if (cpu.inputs[i].dtype() != DType::Float32)
                continue;
            const double written = maxAbsDiff(gpu.inputs[i], cpu.inputs[i]);
            QVERIFY2(written <= 1e-4, qPrintable(QStringLiteral("input %1 after the step differs by %2").arg(i).arg(written)));
        }
        if (op == "BatchNormalization" && training) // the running statistics did move
            QVERIFY(maxAbsDiff(cpu.inputs[3], inputs[3]) > 1e-3);
    }

    void shortRunOnBothDevices_data()
    {
        QTest::addColumn<QString>("model");
        QTest::newRow("lenet5") << "lenet5";
        QTest::newRow("cnn-bn") << "cnn-bn";
    }
    void shortRunOnBothDevices()
    {
        QFETCH(QString, model);
        auto cpuTrainer = makeTrainer(model.toStdString(), Device::cpu());
        const ShortRun cpu = finishRun(*cpuTrainer);
        auto gpuTrainer = makeTrainer(model.toStdString(), Device::cuda(0));
        const ShortRun gpu = finishRun(*gpuTrainer);
        QCOMPARE(gpu.losses.size(), cpu.losses.size());
        for (size_t i = 0; i < 5; ++i) // before rounding differences have had time to grow
            QVERIFY2(std::abs(gpu.losses[i] - cpu.losses[i]) <= 1e-4 * std::max(1.0f, std::abs(cpu.losses[i])),
                     qPrintable(QStringLiteral("step %1: %2 vs %3").arg(i + 1).arg(gpu.losses[i]).arg(cpu.losses[i])));
        const double rel = worstRelativeDifference(gpu.parameters, cpu.parameters);
        qInfo("%s, 31 steps: GPU vs CPU relative parameter difference %.3g, test accuracy %lld vs %lld of 250", qPrintable(model), rel,
              static_cast<long long>(gpu.eval.correct), static_cast<long long>(cpu.eval.correct));
        QVERIFY2(rel <= 1e-3, qPrintable(QString::number(rel)));
        QVERIFY(std::abs(gpu.eval.correct - cpu.eval.correct) <= 5);
        QVERIFY(gpu.eval.correct >= 100);
    }

    void aRunStoppedOnTheGpuContinuesOnTheCpu()
    {
        auto whole = makeTrainer("lenet5", Device::cpu());
        const ShortRun reference = finishRun(*whole);
        auto first = makeTrainer("lenet5", Device::cuda(0));
        const ShortRun part = finishRun(*first, 12);
        const auto entries = captureTrainingState(*first);
        auto second = makeTrainer("lenet5", Device::cpu());
        restoreTrainingState(*second, entries, "in-memory checkpoint");
        const ShortRun rest = finishRun(*second, 0, part);
        QCOMPARE(rest.losses.size(), reference.losses.size());
        const double rel = worstRelativeDifference(rest.parameters, reference.parameters);
        QVERIFY2(rel <= 1e-3, qPrintable(QString::number(rel)));
    }
};

int main(int argc, char **argv)
{
    std::string reason;
    const auto devices = cuda::listDevices(&reason);
    if (devices.empty()) {
        std::printf("SKIP: no CUDA device, so training on the GPU was not run (%s).\n", reason.c_str());
        return 77;
    }
    std::printf("CUDA device 0: %s\n", devices[0].name.c_str());
    CudaTrainingTest test;
    return QTest::qExec(&test, argc, argv);
}

#include "cuda_training_test.moc"
