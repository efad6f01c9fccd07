// SPDX-License-Identifier: Apache-2.0
// Relu, LeakyRelu, Sigmoid, Tanh: values against the formulas, gradients by finite differences.
#include "engine/ops/gradcheck.h"

#include "core/parallel.h"

#include <QTest>

#include <cmath>

using namespace netwright;
using namespace netwright::testing;

class ActivationsTest : public QObject {
    Q_OBJECT
private slots:
    void valuesAndGradients_data()
    {
        QTest::addColumn<QString>("op");
        QTest::addColumn<QString>("shape");
        for (const char *op : {"Relu", "LeakyRelu", "Sigmoid", "Tanh"}) {
            QTest::newRow(qPrintable(QStringLiteral("%1 small").arg(op))) << op << "7";
            QTest::newRow(qPrintable(QStringLiteral("%1 4d").arg(op))) << op << "2,3,4,5";
        }
    }
    void valuesAndGradients()
    {
        QFETCH(QString, op);
        QFETCH(QString, shape);
        setThreadCount(2);
        Shape s;
        for (const auto &p : shape.split(','))
            s.push_back(p.toLongLong());
        Rng rng(13);
        Tensor x = randomTensor(s, rng, -3.0f, 3.0f);
        // Keep ReLU kinks away from the finite-difference step.
        for (int64_t i = 0; i < x.numel(); ++i)
            if (std::abs(x.data()[i]) < 0.05f)
                x.data()[i] = 0.3f;
        Node n{"act", op.toStdString(), {}, {}, {}};
        if (op == "LeakyRelu")
            n.attributes["alpha"] = 0.2f;
        const Tensor y = runNode(n, {x});
        for (int64_t i = 0; i < x.numel(); ++i) {
            const double v = x.data()[i];
            const double want = op == "Relu" ? std::max(0.0, v) : op == "LeakyRelu" ? (v >= 0 ? v : 0.2 * v)
                              : op == "Sigmoid" ? 1.0 / (1.0 + std::exp(-v)) : std::tanh(v);
            QVERIFY(std::abs(want - y.data()[i]) < 1e-6);
        }
        NW_GRADCHECK(n, (std::vector<Tensor>{x}), (std::set<size_t>{0}));
    }
};

QTEST_GUILESS_MAIN(ActivationsTest)
#include "activations_test.moc"
