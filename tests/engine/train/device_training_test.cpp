// SPDX-License-Identifier: Apache-2.0
// Training on a device other than the CPU, without a GPU: a stand-in "cuda" backend whose memory
// is host memory behind addresses the CPU cannot dereference (any host read of device memory
// crashes the test), with no kernels of its own, so every op runs its CPU kernel behind host
// copies. Checks what the device path owns — parameters, activations, gradients and optimizer
// slots on the device, uploads of the batches, the loss and accuracy read back, the device
// arithmetic or its host fallback — by requiring the CPU's bits; and that checkpoints hold host
// tensors, so a run stopped on one device continues on the other, bit for bit. Also the sentence
// a user gets for a device this build or this machine does not have.
#include "checkpoint/training_state.h"
#include "config/run_config.h"
#include "core/device.h"
#include "core/error.h"
#include "core/parallel.h"
#include "data/minibatch_source.h"
#include "optim/update_rules.h"
#include "train/trainer.h"
#include "zoo/model_zoo.h"

#include <QTest>

#include <cstdint>
#include <cstdlib>
#include <cstring>

using namespace netwright;

namespace {

// Bit 62 set: a non-canonical x86-64 address, so dereferencing a "device" pointer on the host
// faults instead of silently working.
constexpr uintptr_t kTag = uintptr_t(1) << 62;
int g_allocations = 0;
int g_arithmeticCalls = 0;

template<typename T> T *host(T *p)
{
    return reinterpret_cast<T *>(reinterpret_cast<uintptr_t>(p) ^ kTag);
}

DeviceMemory standInMemory()
{
    DeviceMemory m;
    m.allocate = [](size_t bytes, int) -> void * {
        ++g_allocations;
        void *p = std::aligned_alloc(64, (std::max<size_t>(bytes, 1) + 63) / 64 * 64);
        return reinterpret_cast<void *>(reinterpret_cast<uintptr_t>(p) ^ kTag);
    };
    m.release = [](void *p, int) { std::free(host(p)); };
    m.copy = [](void *dst, bool dstOnHost, const void *src, bool srcOnHost, size_t bytes) {
        std::memcpy(dstOnHost ? dst : host(dst), srcOnHost ? src : host(src), bytes);
    };
    m.fill = [](float *p, int64_t n, float v) {
        float *h = host(p);
        for (int64_t i = 0; i < n; ++i)
            h[i] = v;
    };
    return m;
}

// The device arithmetic a backend may register, here on the untagged memory with the engine's
// own update rules (as the CUDA kernels use them).
DeviceArithmetic standInArithmetic()
{
    DeviceArithmetic a;
    a.add = [](float *dst, const float *src, int64_t n) {
        ++g_arithmeticCalls;
        for (int64_t i = 0; i < n; ++i)
            host(dst)[i] += host(src)[i];
    };
    a.sgdUpdate = [](float *w, const float *g, float *buf, int64_t n, float lr, float mu, float wd, bool nesterov) {
        ++g_arithmeticCalls;
        for (int64_t i = 0; i < n; ++i)
            sgdElement(host(w)[i], host(g)[i], buf ? host(buf) + i : nullptr, lr, mu, wd, nesterov);
    };
    a.adamUpdate = [](float *w, const float *g, float *m, float *v, int64_t n, float lr, float b1, float b2, float eps, float wd,
                      float c1, float c2, bool decoupled) {
        ++g_arithmeticCalls;
        for (int64_t i = 0; i < n; ++i)
            adamElement(host(w)[i], host(g)[i], host(m)[i], host(v)[i], lr, b1, b2, eps, wd, c1, c2, decoupled);
    };
    return a;
}

int startStandIn()
{
    registerDeviceMemory(DeviceType::Cuda, standInMemory());
    return 1;
}

std::shared_ptr<Dataset> firstSamples(const Dataset &all, int64_t n)
{
    auto d = std::make_shared<Dataset>();
    d->name = all.name;
    d->classes = all.classes;
    Shape shape = all.features.shape();
    shape[0] = n;
    d->features = Tensor(shape, all.features.dtype());
    std::memcpy(d->features.raw(), all.features.raw(), d->features.byteSize());
    d->labels = Tensor({n}, DType::Int64);
    std::memcpy(d->labels.raw(), all.labels.raw(), d->labels.byteSize());
    return d;
}

struct Run {
    std::map<std::string, std::vector<float>> parameters; // host copies, buffers included
    std::vector<float> losses;
    std::vector<float> accuracies;
    EvalInfo eval;
};

// Records the steps and asks for a stop after global step `stopAt` (0: never).
class Recorder final : public TrainingObserver {
public:
    Recorder(Run &run, std::stop_source &stop, int64_t stopAt) : m_run(run), m_stop(stop), m_stopAt(stopAt) {}
    void onStep(const StepInfo &s) override
    {
        m_run.losses.push_back(s.loss);
        m_run.accuracies.push_back(s.accuracy);
        if (s.globalStep == m_stopAt)
            m_stop.request_stop();
    }

private:
    Run &m_run;
    std::stop_source &m_stop;
    int64_t m_stopAt;
};

} // namespace

class DeviceTrainingTest : public QObject {
    Q_OBJECT
    std::shared_ptr<Dataset> m_train, m_test;

    std::unique_ptr<Trainer> makeTrainer(const std::string &model, const std::string &optimizer, Device device)
    {
        const RunConfig defaults = defaultRunConfig();
        const Normalization norm{defaults.data.scale, defaults.data.mean, defaults.data.std};
        ModelSpec spec;
        spec.name = model;
        OptimizerSettings opt;
        opt.name = optimizer;
        opt.momentum = optimizer == "sgd" ? 0.9 : 0.0;
        opt.nesterov = optimizer == "sgd";
        opt.weightDecay = 1e-4;
        TrainerSettings settings{1, 1, optimizer == "sgd" ? 0.02 : 0.002, {}};
        settings.device = device;
        return std::make_unique<Trainer>(buildZooModel(spec, InitScheme::KaimingUniform, 5),
                                         std::make_unique<DatasetSource>(m_train, 20, true, false, 7, norm),
                                         std::make_unique<DatasetSource>(m_test, 100, false, false, 0, norm), makeOptimizer(opt),
                                         settings);
    }

    static Run finish(Trainer &t, int64_t stopAt = 0, Run run = {})
    {
        std::stop_source stop;
        Recorder rec(run, stop, stopAt);
        t.addObserver(&rec);
        const TrainEndInfo end = t.run(stop.get_token());
        if (end.lastEvaluation)
            run.eval = *end.lastEvaluation;
        run.parameters.clear();
        for (const auto &[name, v] : t.graph().initializers)
            if (v.dtype() == DType::Float32) {
                const Tensor h = v.to(Device::cpu());
                run.parameters[name].assign(h.data(), h.data() + h.numel());
            }
        return run;
    }

    // The stand-in device must reproduce the CPU's run of `model` exactly.
    void compareWithCpu(const std::string &model, const std::string &optimizer)
    {
        auto cpu = makeTrainer(model, optimizer, Device::cpu());
        const Run reference = finish(*cpu);
        g_allocations = 0;
        auto dev = makeTrainer(model, optimizer, Device::cuda(0));
        for (const auto &[name, v] : dev->graph().initializers)
            QVERIFY2(v.dtype() != DType::Float32 || v.device() == Device::cuda(0), name.c_str());
        const Run onDevice = finish(*dev);
        QVERIFY(g_allocations > 0);
        QCOMPARE(onDevice.losses.size(), size_t(31)); // 602 samples, batch 20
        QVERIFY(onDevice.losses == reference.losses);
        QVERIFY(onDevice.accuracies == reference.accuracies);
        QCOMPARE(onDevice.eval.correct, reference.eval.correct);
        QCOMPARE(onDevice.eval.loss, reference.eval.loss);
        QVERIFY(onDevice.parameters == reference.parameters);
        // It learned (chance is 25 of 250), so the comparison is between two real runs.
        QVERIFY2(reference.eval.correct >= 100, qPrintable(QString::number(reference.eval.correct)));
        for (const auto &[name, t] : dev->optimizer().state())
            QVERIFY2(t.device() == Device::cpu(), name.c_str()); // what a checkpoint stores
    }

private slots:
    void initTestCase()
    {
        setThreadCount(1);
        const std::string fm = defaultFashionMnistDir();
        const Dataset train = loadIdxDataset(fm + "/train-images-idx3-ubyte.gz", fm + "/train-labels-idx1-ubyte.gz");
        const Dataset test = loadIdxDataset(fm + "/t10k-images-idx3-ubyte.gz", fm + "/t10k-labels-idx1-ubyte.gz");
        m_train = firstSamples(train, 602);
        m_test = firstSamples(test, 250);
    }

    // Before any backend is registered (as in a build without CUDA).
    void aDeviceThisBuildLacksIsNamed()
    {
        try {
            startDevice(Device::cuda(0));
            QFAIL("startDevice succeeded without a CUDA backend");
        } catch (const Error &e) {
            QCOMPARE(QString::fromUtf8(e.what()),
                     QStringLiteral("This build of Netwright has no CUDA backend (it was built without NETWRIGHT_WITH_CUDA); use --device cpu."));
        }
        RunConfig config = defaultRunConfig();
        config.training.device = "gpu";
        try {
            validateRunConfig(config);
            QFAIL("training.device \"gpu\" was accepted");
        } catch (const Error &e) {
            QCOMPARE(QString::fromUtf8(e.what()), QStringLiteral("training.device: Unknown device \"gpu\" (expected cpu, cuda or cuda:N)."));
        }
        QVERIFY(parseDevice("cuda:3") == Device::cuda(3));
        QVERIFY(parseDevice("cuda") == Device::cuda(0));
        QVERIFY(parseDevice("cpu") == Device::cpu());
    }

    void aDeviceTheMachineLacksIsNamed()
    {
        registerDeviceStarter(DeviceType::Cuda, [] () -> int {
            throw Error("No CUDA device is usable (cudaErrorNoDevice: no CUDA-capable device is detected); train with --device cpu.");
        });
        try {
            startDevice(Device::cuda(0));
            QFAIL("startDevice succeeded without a device");
        } catch (const Error &e) {
            QVERIFY2(std::string(e.what()).find("No CUDA device is usable") == 0, e.what());
        }
        registerDeviceStarter(DeviceType::Cuda, &startStandIn);
        QCOMPARE(startDevice(Device::cuda(0)), 1);
        try {
            startDevice(Device::cuda(2));
            QFAIL("cuda:2 was accepted on a machine with one device");
        } catch (const Error &e) {
            QCOMPARE(QString::fromUtf8(e.what()), QStringLiteral("There is no cuda:2: this machine has 1 CUDA device (cuda:0)."));
        }
    }

    // Every op through host copies, the arithmetic through host copies too.
    void trainsLikeTheCpuThroughHostCopies_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("optimizer");
        QTest::newRow("lenet5, SGD Nesterov") << "lenet5" << "sgd";
        QTest::newRow("cnn-bn (BatchNorm, Dropout), AdamW") << "cnn-bn" << "adamw";
    }
    void trainsLikeTheCpuThroughHostCopies()
    {
        QFETCH(QString, model);
        QFETCH(QString, optimizer);
        registerDeviceStarter(DeviceType::Cuda, &startStandIn);
        startDevice(Device::cuda(0));
        compareWithCpu(model.toStdString(), optimizer.toStdString());
    }

    // With the backend's own accumulation and updates (as the CUDA backend registers them).
    void trainsLikeTheCpuWithDeviceArithmetic_data() { trainsLikeTheCpuThroughHostCopies_data(); }
    void trainsLikeTheCpuWithDeviceArithmetic()
    {
        QFETCH(QString, model);
        QFETCH(QString, optimizer);
        registerDeviceArithmetic(DeviceType::Cuda, standInArithmetic());
        g_arithmeticCalls = 0;
        compareWithCpu(model.toStdString(), optimizer.toStdString());
        QVERIFY(g_arithmeticCalls >= 31); // at least one update a step went through the backend
    }

    // A run stopped on one device continues on the other from its checkpoint state and ends where
    // an uninterrupted run ends: the same parameters, optimizer slots and metrics.
    void checkpointsMoveBetweenDevices_data()
    {
        QTest::addColumn<bool>("fromDevice");
        QTest::newRow("device → cpu") << true;
        QTest::newRow("cpu → device") << false;
    }
    void checkpointsMoveBetweenDevices()
    {
        QFETCH(bool, fromDevice);
        registerDeviceArithmetic(DeviceType::Cuda, DeviceArithmetic{}); // every path through host copies
        auto reference = makeTrainer("cnn-bn", "adamw", Device::cpu());
        const Run whole = finish(*reference);

        auto first = makeTrainer("cnn-bn", "adamw", fromDevice ? Device::cuda(0) : Device::cpu());
        const Run part = finish(*first, 12);
        QCOMPARE(part.losses.size(), size_t(12));
        const auto entries = captureTrainingState(*first);
        int tensors = 0;
        for (const auto &e : entries)
            if (!e.isString) {
                QVERIFY2(e.tensor.device() == Device::cpu(), e.name.c_str());
                ++tensors;
            }
        QVERIFY(tensors > 20);

        auto second = makeTrainer("cnn-bn", "adamw", fromDevice ? Device::cpu() : Device::cuda(0));
        restoreTrainingState(*second, entries, "in-memory checkpoint");
        const Run rest = finish(*second, 0, part);
        QVERIFY(rest.losses == whole.losses);
        QVERIFY(rest.parameters == whole.parameters);
        QCOMPARE(rest.eval.correct, whole.eval.correct);
        const auto slotsWhole = reference->optimizer().state(), slotsRest = second->optimizer().state();
        QCOMPARE(slotsRest.size(), slotsWhole.size());
        for (const auto &[name, t] : slotsWhole)
            QVERIFY2(std::memcmp(slotsRest.at(name).raw(), t.raw(), t.byteSize()) == 0, name.c_str());
    }
};

QTEST_GUILESS_MAIN(DeviceTrainingTest)
#include "device_training_test.moc"
