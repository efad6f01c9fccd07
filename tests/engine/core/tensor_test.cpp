// SPDX-License-Identifier: Apache-2.0
// Tensor storage and the seeded RNG: alignment, aliasing vs clone, reshape checks, and RNG
// streams that repeat per seed and restore from their saved state.
#include "core/error.h"
#include "core/rng.h"
#include "core/tensor.h"

#include <QTest>

using namespace netwright;

class TensorTest : public QObject {
    Q_OBJECT
private slots:
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
