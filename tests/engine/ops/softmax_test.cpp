// SPDX-License-Identifier: Apache-2.0
// Softmax and LogSoftmax along each axis: rows sum to one (exp for LogSoftmax), stable for
// large inputs, gradients by finite differences; Hardmax (first maximum), float64, errors.
#include "engine/ops/gradcheck.h"

#include "core/error.h"
#include "core/parallel.h"

#include <QTest>

#include <cmath>

using namespace netwright;
using namespace netwright::testing;

class SoftmaxTest : public QObject {
    Q_OBJECT
private slots:
    void valuesAndGradients_data()
    {
        QTest::addColumn<QString>("op");
        QTest::addColumn<int>("axis");
        for (const char *op : {"Softmax", "LogSoftmax"})
            for (int axis : {-1, 0, 1, 2, -3})
                QTest::newRow(qPrintable(QStringLiteral("%1 axis %2").arg(op).arg(axis))) << op << axis;
    }
    void valuesAndGradients()
    {
        QFETCH(QString, op);
        QFETCH(int, axis);
        setThreadCount(2);
        Rng rng(17);
        const Tensor x = randomTensor({3, 4, 5}, rng, -2.0f, 2.0f);
        Node n{"sm", op.toStdString(), {}, {}, {{"axis", int64_t(axis)}}};
        const Tensor y = runNode(n, {x});
        const int ax = axis < 0 ? axis + 3 : axis;
        const Shape s{3, 4, 5};
        // Check one full slice along the axis against exp(x)/Σexp(x).
        std::vector<int64_t> idx{1, 2, 3};
        double denom = 0;
        for (int64_t k = 0; k < s[ax]; ++k) {
            auto i = idx; i[ax] = k;
            denom += std::exp(x.data()[(i[0] * 4 + i[1]) * 5 + i[2]]);
        }
        for (int64_t k = 0; k < s[ax]; ++k) {
            auto i = idx; i[ax] = k;
            const int64_t off = (i[0] * 4 + i[1]) * 5 + i[2];
            const double p = std::exp(x.data()[off]) / denom;
            QVERIFY(std::abs((op == "Softmax" ? p : std::log(p)) - y.data()[off]) < 1e-5);
        }
        NW_GRADCHECK(n, (std::vector<Tensor>{x}), (std::set<size_t>{0}));
    }
    void stableForLargeInputs()
    {
        Node n{"sm", "Softmax", {}, {}, {}};
        const Tensor y = runNode(n, {Tensor::fromVector({1, 3}, {1000, 1001, 1002})});
        QVERIFY(std::isfinite(y.data()[0]) && std::abs(y.data()[0] + y.data()[1] + y.data()[2] - 1.0f) < 1e-6);
        QVERIFY(std::abs(y.data()[2] - 0.66524096f) < 1e-6);
    }
    void hardmaxPicksTheFirstMaximum_data()
    {
        QTest::addColumn<int>("axis");
        for (int axis : {0, 1, 2, -1})
            QTest::newRow(qPrintable(QStringLiteral("axis %1").arg(axis))) << axis;
    }
    void hardmaxPicksTheFirstMaximum()
    {
        QFETCH(int, axis);
        // Values with ties: x = (i·7) mod 5 over [3, 4, 5].
        Tensor x({3, 4, 5});
        for (int64_t i = 0; i < 60; ++i)
            x.data()[i] = static_cast<float>((i * 7) % 5);
        Node n{"hm", "Hardmax", {}, {}, {{"axis", int64_t(axis)}}};
        const Tensor y = runNode(n, {x});
        const int ax = axis < 0 ? axis + 3 : axis;
        const int64_t dims[3] = {3, 4, 5}, strides[3] = {20, 5, 1};
        for (int64_t i = 0; i < 60; ++i) {
            const int64_t pos = (i / strides[ax]) % dims[ax], base = i - pos * strides[ax];
            int64_t best = 0;
            for (int64_t k = 1; k < dims[ax]; ++k)
                if (x.data()[base + k * strides[ax]] > x.data()[base + best * strides[ax]])
                    best = k;
            QCOMPARE(y.data()[i], pos == best ? 1.0f : 0.0f);
        }
    }
    void lastAxisLongRowsMatchTheFormula()
    {
        // The attention shape: many rows of a few hundred columns, in parallel.
        setThreadCount(2);
        Rng rng(5);
        const Tensor x = randomTensor({64, 300}, rng, -5.0f, 5.0f);
        for (const char *op : {"Softmax", "LogSoftmax"}) {
            const Tensor y = runNode(Node{"sm", op, {}, {}, {}}, {x});
            for (int64_t r = 0; r < 64; r += 9) {
                double z = 0;
                for (int64_t k = 0; k < 300; ++k)
                    z += std::exp(static_cast<double>(x.data()[r * 300 + k]));
                for (int64_t k = 0; k < 300; k += 7) {
                    const double lp = x.data()[r * 300 + k] - std::log(z);
                    const double want = std::string(op) == "Softmax" ? std::exp(lp) : lp;
                    QVERIFY(std::abs(want - y.data()[r * 300 + k]) < 1e-5);
                }
            }
        }
        NW_GRADCHECK((Node{"sm", "Softmax", {}, {}, {}}), (std::vector<Tensor>{randomTensor({3, 40}, rng)}), (std::set<size_t>{0}));
    }
    void float64Forward()
    {
        Tensor x(Shape{2, 3}, DType::Float64);
        const double v[6] = {0.5, -1.0, 2.0, 3.0, 3.0, -4.0};
        std::copy(v, v + 6, x.dataAs<double>());
        const Tensor y = runNode(Node{"sm", "LogSoftmax", {}, {}, {{"axis", int64_t(0)}}}, {x});
        QCOMPARE(y.dtype(), DType::Float64);
        for (int c = 0; c < 3; ++c) {
            const double z = std::log(std::exp(v[c]) + std::exp(v[3 + c]));
            QVERIFY(std::abs(y.dataAs<double>()[c] - (v[c] - z)) < 1e-14);
            QVERIFY(std::abs(y.dataAs<double>()[3 + c] - (v[3 + c] - z)) < 1e-14);
        }
    }
    void axisOutOfRangeNamesTheNode()
    {
        try {
            runNode(Node{"sm7", "Softmax", {}, {}, {{"axis", int64_t(3)}}}, {Tensor::full({2, 3, 4}, 1.0f)});
            QFAIL("axis 3 of rank 3 accepted");
        } catch (const Error &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("\"sm7\"")) && QString::fromUtf8(e.what()).contains("axis 3"), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(SoftmaxTest)
#include "softmax_test.moc"
