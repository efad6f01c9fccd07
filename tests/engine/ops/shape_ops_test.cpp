// SPDX-License-Identifier: Apache-2.0
// Flatten, Reshape (0 and −1), Identity, Transpose, Concat: shapes, element placement, and
// gradients by finite differences.
#include "engine/ops/gradcheck.h"

#include "core/error.h"
#include "core/parallel.h"

#include <QTest>

using namespace netwright;
using namespace netwright::testing;

class ShapeOpsTest : public QObject {
    Q_OBJECT
private slots:
    void flatten()
    {
        Rng rng(1);
        const Tensor x = randomTensor({2, 3, 4, 5}, rng);
        Node n{"f", "Flatten", {}, {}, {{"axis", int64_t(2)}}};
        const Tensor y = runNode(n, {x});
        QCOMPARE(y.shape(), (Shape{6, 20}));
        QCOMPARE(maxAbsDiff(y, x), 0.0);
        n.attributes["axis"] = int64_t(0);
        QCOMPARE(runNode(n, {x}).shape(), (Shape{1, 120}));
        NW_GRADCHECK(n, (std::vector<Tensor>{x}), (std::set<size_t>{0}));
    }
    void reshape()
    {
        Rng rng(2);
        const Tensor x = randomTensor({2, 3, 4}, rng);
        Node n{"r", "Reshape", {}, {}, {}};
        QCOMPARE(runNode(n, {x, Tensor::fromInt64({3}, {0, -1, 2})}).shape(), (Shape{2, 6, 2}));
        QCOMPARE(runNode(n, {x, Tensor::fromInt64({2}, {-1, 4})}).shape(), (Shape{6, 4}));
        QVERIFY_THROWS_EXCEPTION(Error, runNode(n, {x, Tensor::fromInt64({2}, {5, -1})}));
        QVERIFY_THROWS_EXCEPTION(Error, runNode(n, {x, Tensor::fromInt64({2}, {-1, -1})}));
        NW_GRADCHECK(n, (std::vector<Tensor>{x, Tensor::fromInt64({2}, {4, 6})}), (std::set<size_t>{0}));
    }
    void identity()
    {
        Rng rng(3);
        const Tensor x = randomTensor({3, 2}, rng);
        Node n{"i", "Identity", {}, {}, {}};
        QCOMPARE(maxAbsDiff(runNode(n, {x}), x), 0.0);
        NW_GRADCHECK(n, (std::vector<Tensor>{x}), (std::set<size_t>{0}));
    }
    void transpose_data()
    {
        QTest::addColumn<QString>("perm");
        QTest::newRow("default (reverse)") << "";
        QTest::newRow("0,2,3,1 (NCHW→NHWC)") << "0,2,3,1";
        QTest::newRow("1,0,3,2") << "1,0,3,2";
    }
    void transpose()
    {
        QFETCH(QString, perm);
        setThreadCount(2);
        Rng rng(4);
        const Tensor x = randomTensor({2, 3, 4, 5}, rng);
        Node n{"t", "Transpose", {}, {}, {}};
        std::vector<int64_t> p{3, 2, 1, 0};
        if (!perm.isEmpty()) {
            p.clear();
            for (const auto &s : perm.split(','))
                p.push_back(s.toLongLong());
            n.attributes["perm"] = p;
        }
        const Tensor y = runNode(n, {x});
        const Shape xs = x.shape();
        QCOMPARE(y.shape(), (Shape{xs[p[0]], xs[p[1]], xs[p[2]], xs[p[3]]}));
        // y[i0,i1,i2,i3] = x[j] with j[p[k]] = i_k, checked at one position.
        const int64_t i[4] = {1, 1, 1, 0};
        int64_t j[4];
        for (int k = 0; k < 4; ++k)
            j[p[k]] = i[k];
        const Shape ys = y.shape();
        QCOMPARE(y.data()[((i[0] * ys[1] + i[1]) * ys[2] + i[2]) * ys[3] + i[3]],
                 x.data()[((j[0] * 3 + j[1]) * 4 + j[2]) * 5 + j[3]]);
        NW_GRADCHECK(n, (std::vector<Tensor>{x}), (std::set<size_t>{0}));
    }
    void concat_data()
    {
        QTest::addColumn<int>("axis");
        QTest::newRow("axis 1") << 1;
        QTest::newRow("axis -1") << -1;
        QTest::newRow("axis 0") << 0;
    }
    void concat()
    {
        QFETCH(int, axis);
        Rng rng(5);
        const int ax = axis < 0 ? 2 : axis;
        Shape a{2, 3, 4}, b{2, 3, 4};
        b[ax] = 2;
        const Tensor A = randomTensor(a, rng), B = randomTensor(b, rng);
        Node n{"c", "Concat", {}, {}, {{"axis", int64_t(axis)}}};
        const Tensor y = runNode(n, {A, B});
        Shape want = a;
        want[ax] += 2;
        QCOMPARE(y.shape(), want);
        // The last element comes from B, the first from A.
        QCOMPARE(y.data()[0], A.data()[0]);
        QCOMPARE(y.data()[y.numel() - 1], B.data()[B.numel() - 1]);
        NW_GRADCHECK(n, (std::vector<Tensor>{A, B}), (std::set<size_t>{0, 1}));
        Node scalars{"c", "Concat", {}, {}, {{"axis", int64_t(0)}}};
        QVERIFY_THROWS_EXCEPTION(Error, runNode(scalars, {Tensor::full({}, 1.0f), Tensor::full({}, 2.0f)}));
        Node bad{"c", "Concat", {}, {}, {{"axis", int64_t(0)}}};
        QVERIFY_THROWS_EXCEPTION(Error, runNode(bad, {randomTensor({2, 3}, rng), randomTensor({2, 4}, rng)}));
    }
};

QTEST_GUILESS_MAIN(ShapeOpsTest)
#include "shape_ops_test.moc"
