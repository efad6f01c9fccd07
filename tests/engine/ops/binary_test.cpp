// SPDX-License-Identifier: Apache-2.0
// Add, Sub, Mul, Div: values against the formula under ONNX broadcasting (same shape, scalar,
// trailing, leading and two-sided broadcasts) and gradients by finite differences.
#include "engine/ops/gradcheck.h"

#include "core/error.h"
#include "core/parallel.h"

#include <QTest>

using namespace netwright;
using namespace netwright::testing;

class BinaryTest : public QObject {
    Q_OBJECT
private slots:
    void broadcastValuesAndGradients_data()
    {
        QTest::addColumn<QString>("op");
        QTest::addColumn<QString>("a");
        QTest::addColumn<QString>("b");
        for (const char *op : {"Add", "Sub", "Mul", "Div"}) {
            QTest::newRow(qPrintable(QStringLiteral("%1 same").arg(op))) << op << "2,3,4" << "2,3,4";
            QTest::newRow(qPrintable(QStringLiteral("%1 scalar").arg(op))) << op << "2,3" << "";
            QTest::newRow(qPrintable(QStringLiteral("%1 channel").arg(op))) << op << "2,3,2,2" << "3,1,1";
            QTest::newRow(qPrintable(QStringLiteral("%1 two-sided").arg(op))) << op << "3,1" << "1,4";
        }
    }
    void broadcastValuesAndGradients()
    {
        QFETCH(QString, op);
        QFETCH(QString, a);
        QFETCH(QString, b);
        auto parse = [](const QString &s) { Shape r; if (!s.isEmpty()) for (const auto &p : s.split(',')) r.push_back(p.toLongLong()); return r; };
        setThreadCount(2);
        Rng rng(5);
        // Keep divisors away from 0 so finite differences stay meaningful.
        const Tensor A = randomTensor(parse(a), rng), B = randomTensor(parse(b), rng, 0.5f, 1.5f);
        Node n{"op", op.toStdString(), {}, {}, {}};
        const Tensor y = runNode(n, {A, B});
        // Check the value at every position via explicit index arithmetic.
        const Shape ys = y.shape();
        for (int64_t i = 0; i < y.numel(); ++i) {
            auto at = [&](const Tensor &t) {
                int64_t rem = i, off = 0, stride = 1;
                for (int d = static_cast<int>(ys.size()) - 1, k = t.rank() - 1; d >= 0; --d, --k) {
                    const int64_t idx = rem % ys[d];
                    rem /= ys[d];
                    if (k >= 0) {
                        off += (t.dim(k) == 1 ? 0 : idx) * stride;
                        stride *= t.dim(k);
                    }
                }
                return t.data()[off];
            };
            const float x = at(A), z = at(B);
            const float want = op == "Add" ? x + z : op == "Sub" ? x - z : op == "Mul" ? x * z : x / z;
            QVERIFY(std::abs(want - y.data()[i]) < 1e-6);
        }
        NW_GRADCHECK(n, (std::vector<Tensor>{A, B}), (std::set<size_t>{0, 1}));
    }

    void incompatibleShapesAreAnError()
    {
        Rng rng(1);
        Node n{"add1", "Add", {}, {}, {}};
        try {
            runNode(n, {randomTensor({2, 3}, rng), randomTensor({4}, rng)});
            QFAIL("accepted [2,3] + [4]");
        } catch (const Error &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("cannot be broadcast")), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(BinaryTest)
#include "binary_test.moc"
