// SPDX-License-Identifier: Apache-2.0
// MaxPool, AveragePool, GlobalAveragePool: hand-computed values, ceil_mode and padding rules,
// Indices, and gradients by finite differences.
#include "engine/ops/gradcheck.h"

#include "core/parallel.h"

#include <QTest>

using namespace netwright;
using namespace netwright::testing;

namespace {
Tensor ramp(const Shape &s)
{
    Tensor t(s);
    for (int64_t i = 0; i < t.numel(); ++i)
        t.data()[i] = static_cast<float>(i);
    return t;
}
} // namespace

class PoolTest : public QObject {
    Q_OBJECT
private slots:
    void maxPoolValues()
    {
        // 4x4 ramp, 2x2 stride 2: maxima are the bottom-right of each block.
        Node n{"pool", "MaxPool", {}, {"y", "idx"}, {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}}};
        const Tensor y = runNode(n, {ramp({1, 2, 4, 4})});
        QCOMPARE(y.shape(), (Shape{1, 2, 2, 2}));
        const std::vector<float> want{5, 7, 13, 15, 21, 23, 29, 31};
        for (int i = 0; i < 8; ++i)
            QCOMPARE(y.data()[i], want[i]);
    }
    void maxPoolCeilModeAndPads()
    {
        // 5x5, kernel 2, stride 2: floor → 2x2, ceil → 3x3 (last window starts inside).
        Node floorN{"p", "MaxPool", {}, {}, {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}}};
        QCOMPARE(runNode(floorN, {ramp({1, 1, 5, 5})}).shape(), (Shape{1, 1, 2, 2}));
        Node ceilN = floorN;
        ceilN.attributes["ceil_mode"] = int64_t(1);
        const Tensor y = runNode(ceilN, {ramp({1, 1, 5, 5})});
        QCOMPARE(y.shape(), (Shape{1, 1, 3, 3}));
        QCOMPARE(y.data()[8], 24.0f);
        // Padding never wins: all-negative input with pads keeps the real maximum.
        Node padN{"p", "MaxPool", {}, {}, {{"kernel_shape", std::vector<int64_t>{3, 3}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}}}};
        Tensor neg = Tensor::full({1, 1, 2, 2}, -3.0f);
        neg.data()[3] = -1.0f;
        const Tensor yp = runNode(padN, {neg});
        QCOMPARE(yp.shape(), (Shape{1, 1, 2, 2}));
        for (int i = 0; i < 4; ++i)
            QCOMPARE(yp.data()[i], -1.0f);
    }
    void averagePoolCountIncludePad()
    {
        Node n{"avg", "AveragePool", {}, {}, {{"kernel_shape", std::vector<int64_t>{3, 3}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}}}};
        const Tensor ones = Tensor::full({1, 1, 3, 3}, 1.0f);
        const Tensor exclude = runNode(n, {ones});
        QCOMPARE(exclude.data()[0], 1.0f); // corner: 4 real cells averaged
        n.attributes["count_include_pad"] = int64_t(1);
        const Tensor include = runNode(n, {ones});
        QVERIFY(std::abs(include.data()[0] - 4.0f / 9.0f) < 1e-6); // padding counted as zeros
        QVERIFY(std::abs(include.data()[4] - 1.0f) < 1e-6);
    }
    void globalAveragePool()
    {
        Node n{"gap", "GlobalAveragePool", {}, {}, {}};
        const Tensor y = runNode(n, {ramp({2, 3, 2, 2})});
        QCOMPARE(y.shape(), (Shape{2, 3, 1, 1}));
        for (int p = 0; p < 6; ++p)
            QCOMPARE(y.data()[p], static_cast<float>(4 * p) + 1.5f);
    }
    void gradients_data()
    {
        QTest::addColumn<QString>("op");
        QTest::addColumn<int>("variant");
        for (int v = 0; v < 3; ++v) {
            QTest::newRow(qPrintable(QStringLiteral("MaxPool %1").arg(v))) << "MaxPool" << v;
            QTest::newRow(qPrintable(QStringLiteral("AveragePool %1").arg(v))) << "AveragePool" << v;
        }
        QTest::newRow("GlobalAveragePool") << "GlobalAveragePool" << 0;
    }
    void gradients()
    {
        QFETCH(QString, op);
        QFETCH(int, variant);
        setThreadCount(2);
        Node n{"pool", op.toStdString(), {}, {}, {}};
        if (op != "GlobalAveragePool") {
            n.attributes["kernel_shape"] = std::vector<int64_t>{variant == 1 ? 3 : 2, 2};
            n.attributes["strides"] = std::vector<int64_t>{variant == 2 ? 1 : 2, 2};
            if (variant == 1)
                n.attributes["pads"] = std::vector<int64_t>{1, 0, 1, 1};
            if (variant == 2) {
                n.attributes["ceil_mode"] = int64_t(1);
                n.attributes["dilations"] = std::vector<int64_t>{2, 1};
            }
        }
        Rng rng(8 + variant);
        // Distinct values so max positions are stable under a ±eps perturbation.
        Tensor x({2, 2, 5, 5});
        std::vector<float> v(static_cast<size_t>(x.numel()));
        for (size_t i = 0; i < v.size(); ++i)
            v[i] = static_cast<float>(i) * 0.1f;
        for (size_t i = v.size() - 1; i > 0; --i)
            std::swap(v[i], v[rng.below(i + 1)]);
        std::copy(v.begin(), v.end(), x.data());
        NW_GRADCHECK(n, (std::vector<Tensor>{x}), (std::set<size_t>{0}));
    }
};

QTEST_GUILESS_MAIN(PoolTest)
#include "pool_test.moc"
