// SPDX-License-Identifier: Apache-2.0
// The device seam of Tensor, without a GPU: with no backend a device tensor is refused with a
// sentence naming the device; with a backend registered (here one that keeps "device" memory on
// the host and counts what it is asked), allocation, to(), clone(), copyFrom() and fill() go
// through it — and only through it — and values survive every round trip.
#include "core/device.h"
#include "core/error.h"
#include "core/tensor.h"

#include <QTest>

#include <cstdlib>
#include <cstring>

using namespace netwright;

namespace {

struct Counts {
    int allocations = 0, releases = 0, toDevice = 0, toHost = 0, onDevice = 0, fills = 0;
} g_counts;

DeviceMemory fakeBackend()
{
    DeviceMemory m;
    m.allocate = [](size_t bytes, int) -> void * {
        ++g_counts.allocations;
        return std::malloc(bytes ? bytes : 1);
    };
    m.release = [](void *p, int) {
        ++g_counts.releases;
        std::free(p);
    };
    m.copy = [](void *dst, bool dstOnHost, const void *src, bool srcOnHost, size_t bytes) {
        (dstOnHost ? g_counts.toHost : (srcOnHost ? g_counts.toDevice : g_counts.onDevice))++;
        std::memcpy(dst, src, bytes);
    };
    m.fill = [](float *p, int64_t n, float v) {
        ++g_counts.fills;
        for (int64_t i = 0; i < n; ++i)
            p[i] = v;
    };
    return m;
}

std::vector<float> values(const Tensor &t)
{
    return std::vector<float>(t.data(), t.data() + t.numel());
}

} // namespace

class DeviceMemoryTest : public QObject {
    Q_OBJECT
private slots:
    void withoutABackendADeviceTensorIsRefused()
    {
        try {
            Tensor t({2, 3}, DType::Float32, Device::cuda(1));
            QFAIL("a cuda tensor was made without a backend");
        } catch (const Error &e) {
            QCOMPARE(QString(e.what()), QString("Tensors on cuda:1 need the CUDA backend, which this process has not started."));
        }
        QVERIFY(deviceMemory(DeviceType::Cuda) == nullptr);
        QVERIFY(deviceMemory(DeviceType::Cpu) == nullptr);
    }

    void roundTripsGoThroughTheBackend()
    {
        registerDeviceMemory(DeviceType::Cuda, fakeBackend());
        const Tensor host = Tensor::fromVector({2, 3}, {1, 2, 3, 4, 5, 6});
        {
            const Tensor dev = host.to(Device::cuda());
            QCOMPARE(dev.device(), Device::cuda());
            QCOMPARE(g_counts.allocations, 1);
            QCOMPARE(g_counts.toDevice, 1);
            QVERIFY(dev.raw() != host.raw());
            QVERIFY(host.to(Device::cpu()).raw() == host.raw()); // already there: aliased
            const Tensor copy = dev.clone();
            QCOMPARE(g_counts.onDevice, 1);
            QCOMPARE(copy.device(), Device::cuda());
            const Tensor back = copy.to(Device::cpu());
            QCOMPARE(g_counts.toHost, 1);
            QCOMPARE(back.device(), Device::cpu());
            QCOMPARE(values(back), values(host));

            Tensor filled({4}, DType::Float32, Device::cuda());
            filled.fill(0.25f);
            QCOMPARE(g_counts.fills, 1);
            Tensor into({2, 2});
            into.copyFrom(filled); // device → host through the backend
            QCOMPARE(values(into), std::vector<float>(4, 0.25f));
            QCOMPARE(g_counts.toHost, 2);
        }
        QCOMPARE(g_counts.releases, g_counts.allocations); // every device block given back
        // Host tensors never touch the backend.
        const int before = g_counts.allocations;
        Tensor plain({100});
        plain.fill(1.0f);
        QCOMPARE(plain.clone().numel(), int64_t(100));
        QCOMPARE(g_counts.allocations, before);
    }
};

QTEST_GUILESS_MAIN(DeviceMemoryTest)
#include "device_memory_test.moc"
