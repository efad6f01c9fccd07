// SPDX-License-Identifier: Apache-2.0
// Softmax and LogSoftmax along each axis: rows sum to one (exp for LogSoftmax), stable for
// large inputs, gradients by finite differences.
#include "engine/ops/gradcheck.h"

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
            for (int axis : {-1, 0, 1})
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
        const int ax = axis < 0 ? 2 : axis;
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
};

QTEST_GUILESS_MAIN(SoftmaxTest)
#include "softmax_test.moc"
