// SPDX-License-Identifier: Apache-2.0
// MatMul: numpy semantics (2-D, batched, broadcast batch dims, 1-D promotion) against a direct
// loop; gradients by finite differences, including a broadcast operand.
#include "engine/ops/gradcheck.h"

#include "core/parallel.h"

#include <QTest>

using namespace netwright;
using namespace netwright::testing;

class MatMulTest : public QObject {
    Q_OBJECT
private slots:
    void shapesAndValues_data()
    {
        QTest::addColumn<QString>("a");
        QTest::addColumn<QString>("b");
        QTest::addColumn<QString>("out");
        QTest::newRow("2d") << "3,4" << "4,5" << "3,5";
        QTest::newRow("batched") << "2,3,4" << "2,4,5" << "2,3,5";
        QTest::newRow("broadcast B") << "2,3,4" << "4,5" << "2,3,5";
        QTest::newRow("broadcast A batch") << "1,3,4" << "2,4,2" << "2,3,2";
        QTest::newRow("vector x matrix") << "4" << "4,3" << "3";
        QTest::newRow("matrix x vector") << "3,4" << "4" << "3";
    }
    void shapesAndValues()
    {
        QFETCH(QString, a);
        QFETCH(QString, b);
        QFETCH(QString, out);
        auto parse = [](const QString &s) { Shape r; for (const auto &p : s.split(',')) r.push_back(p.toLongLong()); return r; };
        setThreadCount(2);
        Rng rng(21);
        const Tensor A = randomTensor(parse(a), rng), B = randomTensor(parse(b), rng);
        Node n{"mm", "MatMul", {}, {}, {}};
        const Tensor y = runNode(n, {A, B});
        QCOMPARE(y.shape(), parse(out));
        // Spot-check against the definition on the last row/column of the last batch.
        const Shape sa = A.rank() == 1 ? Shape{1, A.dim(0)} : A.shape();
        const Shape sb = B.rank() == 1 ? Shape{B.dim(0), 1} : B.shape();
        const int64_t M = sa[sa.size() - 2], K = sa.back(), N = sb.back();
        const int64_t batches = y.numel() / (M * N);
        const int64_t bi = batches - 1;
        const int64_t aBatches = A.numel() / (M * K), bBatches = B.numel() / (K * N);
        for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < N; ++j) {
                double s = 0;
                for (int64_t k = 0; k < K; ++k)
                    s += A.data()[(bi % aBatches) * M * K + i * K + k] * B.data()[(bi % bBatches) * K * N + k * N + j];
                QVERIFY(std::abs(s - y.data()[bi * M * N + i * N + j]) < 1e-4);
            }
        NW_GRADCHECK(n, (std::vector<Tensor>{A, B}), (std::set<size_t>{0, 1}));
    }
};

QTEST_GUILESS_MAIN(MatMulTest)
#include "matmul_test.moc"
