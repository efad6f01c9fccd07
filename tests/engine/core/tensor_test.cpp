// SPDX-License-Identifier: Apache-2.0
// Tensor storage and the seeded RNG: alignment, aliasing vs clone, reshape checks, and RNG
// streams that repeat per seed and restore from their saved state.
#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "core/tensor.h"

#include <QTest>

#include <algorithm>
#include <vector>

using namespace netwright;

class TensorTest : public QObject {
    Q_OBJECT
private slots:
    void parallelCopyAndFillCoverEveryByte()
    {
        // Sizes below, at and above the threaded threshold, odd ones whose chunks end mid-float:
        // every byte copied, every float set, nothing past the end touched.
        setThreadCount(2);
        Rng rng(5);
        for (size_t bytes : {size_t(1), size_t(4095), size_t(131071), size_t(131072), size_t(1000003), size_t(3u << 20)}) {
            std::vector<unsigned char> src(bytes), dst(bytes + 16, 0xAB);
            for (auto &b : src)
                b = static_cast<unsigned char>(rng.uniform() * 256);
            parallelCopy(dst.data(), src.data(), bytes);
            QVERIFY2(std::equal(src.begin(), src.end(), dst.begin()), qPrintable(QString::number(bytes)));
            for (size_t i = bytes; i < dst.size(); ++i)
                QCOMPARE(dst[i], static_cast<unsigned char>(0xAB));
        }
        for (int64_t n : {int64_t(3), int64_t(32767), int64_t(32768), int64_t(250001)}) {
            std::vector<float> v(static_cast<size_t>(n) + 4, -1.0f);
            parallelFill(v.data(), n, 2.5f);
            for (int64_t i = 0; i < n; ++i)
                QVERIFY(v[static_cast<size_t>(i)] == 2.5f);
            for (size_t i = static_cast<size_t>(n); i < v.size(); ++i)
                QVERIFY(v[i] == -1.0f);
        }
    }

    void storage()
    {
        Tensor t({3, 5});
        QCOMPARE(t.numel(), int64_t(15));
        QCOMPARE(reinterpret_cast<uintptr_t>(t.data()) % 64, uintptr_t(0));
        t.fill(2.0f);
        Tensor alias = t.reshaped({5, 3});
        alias.data()[4] = 7.0f;
        QCOMPARE(t.data()[4], 7.0f);
        Tensor copy = t.clone();
        copy.data()[4] = 1.0f;
        QCOMPARE(t.data()[4], 7.0f);
        QVERIFY_THROWS_EXCEPTION(Error, t.reshaped({4, 4}));
        QVERIFY_THROWS_EXCEPTION(Error, Tensor({-1, 3}));
        QCOMPARE(Tensor::zeros({2}, DType::Int64).byteSize(), size_t(16));
        QCOMPARE(shapeToString({1, 28, 28}), std::string("[1,28,28]"));
        QCOMPARE(Tensor(Shape{}).numel(), int64_t(1)); // a scalar
    }
    void rng()
    {
        Rng a(5), b(5), c(6);
        std::vector<uint64_t> sa, sc;
        for (int i = 0; i < 10; ++i) {
            sa.push_back(a.nextU64());
            QCOMPARE(b.nextU64(), sa.back());
            sc.push_back(c.nextU64());
        }
        QVERIFY(sa != sc);
        const Rng::State st = a.state();
        const float u1 = a.uniform(), n1 = a.normal();
        a.setState(st);
        QCOMPARE(a.uniform(), u1);
        QCOMPARE(a.normal(), n1);
        // below() stays in range and hits every value; normal() has mean ≈ 0 and variance ≈ 1.
        std::vector<int> hits(7, 0);
        double s = 0, ss = 0;
        for (int i = 0; i < 70000; ++i) {
            const uint64_t v = a.below(7);
            QVERIFY(v < 7);
            ++hits[v];
            const double z = a.normal();
            s += z;
            ss += z * z;
        }
        for (int h : hits)
            QVERIFY(h > 9000 && h < 11000);
        QVERIFY(std::abs(s / 70000) < 0.02 && std::abs(ss / 70000 - 1.0) < 0.03);
        QVERIFY(deriveSeed(1, 1) != deriveSeed(1, 2));
    }
};

QTEST_GUILESS_MAIN(TensorTest)
#include "tensor_test.moc"
