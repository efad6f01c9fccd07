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

#include "dist/communicator.h"
#include "support/short_run.h"
#include "support/thread_communicator.h"

#include <QTest>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

using namespace netwright;
using namespace netwright::testing;

namespace {

// Bit 62 set: a non-canonical x86-64 address, so dereferencing a "device" pointer on the host
// faults instead of silently working.
constexpr uintptr_t kTag = uintptr_t(1) << 62;
std::atomic<int> g_allocations = 0;
std::atomic<int> g_arithmeticCalls = 0;
std::atomic<int> g_collectiveCalls = 0;

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

// The device collective a backend registers (NCCL for CUDA), over the stand-in memory: the ranks'
// host communicator sums the floats behind the device pointers, in rank order.
class StandInCollective final : public DeviceCollective {
public:
    explicit StandInCollective(Communicator &ranks) : m_ranks(ranks) {}
    Device device() const override { return Device::cuda(0); }
    void allReduceSum(float *deviceData, size_t count) override
    {
        ++g_collectiveCalls;
        m_ranks.allReduceSum(host(deviceData), count);
    }

private:
    Communicator &m_ranks;
};

} // namespace

class DeviceTrainingTest : public QObject {
    Q_OBJECT
    ShortData m_data;

    std::unique_ptr<Trainer> makeTrainer(const std::string &model, const std::string &optimizer, Device device)
    {
        OptimizerSettings opt;
        opt.name = optimizer;
        opt.momentum = optimizer == "sgd" ? 0.9 : 0.0;
        opt.nesterov = optimizer == "sgd";
        opt.weightDecay = 1e-4;
        return makeShortTrainer(m_data, model, opt, optimizer == "sgd" ? 0.02 : 0.002, device);
    }

    // The stand-in device must reproduce the CPU's run of `model` exactly.
    void compareWithCpu(const std::string &model, const std::string &optimizer)
    {
        auto cpu = makeTrainer(model, optimizer, Device::cpu());
        const ShortRun reference = finishRun(*cpu);
        g_allocations = 0;
        auto dev = makeTrainer(model, optimizer, Device::cuda(0));
        for (const auto &[name, v] : dev->graph().initializers)
            QVERIFY2(v.dtype() != DType::Float32 || v.device() == Device::cuda(0), name.c_str());
        const ShortRun onDevice = finishRun(*dev);
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
        m_data = loadShortData();
    }

    // Before any backend is registered (as in a build without CUDA).
    void aDeviceThisBuildLacksIsNamed()
    {
        try {
            startDevice(Device::cuda(0));
            QFAIL("startDevice succeeded without a CUDA backend");
        } catch (const Error &e) {
            QCOMPARE(QString::fromUtf8(e.what()),
                     QStringLiteral("This build of Netwright has no CUDA backend (no libnetwright-cuda.so beside the program; it is "
                                    "built with NETWRIGHT_WITH_CUDA); use --device cpu."));
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
            throw Error("No CUDA device is usable (cudaErrorNoDevice: no CUDA-capable device is detected); use --device cpu.");
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
        const ShortRun whole = finishRun(*reference);

        auto first = makeTrainer("cnn-bn", "adamw", fromDevice ? Device::cuda(0) : Device::cpu());
        const ShortRun part = finishRun(*first, 12);
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
        const ShortRun rest = finishRun(*second, 0, part);
        QVERIFY(rest.losses == whole.losses);
        QVERIFY(rest.parameters == whole.parameters);
        QCOMPARE(rest.eval.correct, whole.eval.correct);
        const auto slotsWhole = reference->optimizer().state(), slotsRest = second->optimizer().state();
        QCOMPARE(slotsRest.size(), slotsWhole.size());
        for (const auto &[name, t] : slotsWhole)
            QVERIFY2(std::memcmp(slotsRest.at(name).raw(), t.raw(), t.byteSize()) == 0, name.c_str());
    }

    // Data-parallel ranks on devices sum their gradients (and BatchNorm's running statistics) in
    // device memory through the backend's collective: three ranks as threads, the last batch
    // leaving rank 0 without a row, end with the bits of three CPU ranks summing through the host.
    void ranksSumOnTheDeviceLikeThroughTheHost_data()
    {
        QTest::addColumn<QString>("model");
        QTest::newRow("lenet5") << "lenet5";
        QTest::newRow("cnn-bn") << "cnn-bn";
    }
    void ranksSumOnTheDeviceLikeThroughTheHost()
    {
        QFETCH(QString, model);
        std::vector<ShortRun> cpu(3), dev(3);
        auto errors = onRanks(3, [&](Communicator &comm, int r) {
            auto t = makeTrainer(model.toStdString(), "sgd", Device::cpu());
            t->setCommunicator(&comm);
            cpu[static_cast<size_t>(r)] = finishRun(*t);
        });
        for (const auto &e : errors)
            QVERIFY2(e.empty(), e.c_str());
        g_collectiveCalls = 0;
        errors = onRanks(3, [&](Communicator &comm, int r) {
            auto t = makeTrainer(model.toStdString(), "sgd", Device::cuda(0));
            t->setCommunicator(&comm);
            t->setDeviceCollective(std::make_unique<StandInCollective>(comm));
            dev[static_cast<size_t>(r)] = finishRun(*t);
        });
        for (const auto &e : errors)
            QVERIFY2(e.empty(), e.c_str());
        QCOMPARE(g_collectiveCalls.load(), 3 * 31); // every step of every rank
        for (size_t r = 0; r < 3; ++r) {
            QVERIFY(dev[r].parameters == cpu[0].parameters);
            QVERIFY(dev[r].losses == cpu[0].losses);
            QCOMPARE(dev[r].eval.correct, cpu[0].eval.correct);
        }
    }
};

QTEST_GUILESS_MAIN(DeviceTrainingTest)
#include "device_training_test.moc"
