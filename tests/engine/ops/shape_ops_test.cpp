// SPDX-License-Identifier: Apache-2.0
// Flatten, Reshape (0 and −1), Identity, Squeeze, Unsqueeze, Expand, ConstantOfShape, Range,
// EyeLike, Transpose, Concat: shapes, element placement, other element types, hostile shape
// operands refused naming the node, and gradients by finite differences.
#include "engine/ops/gradcheck.h"
#include "engine/ops/op_test_util.h"
#include "support/error_of.h"

#include "core/error.h"
#include "core/parallel.h"

#include <QTest>

#include <cmath>
#include <limits>

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
        // A negative product, or one too large to allocate: refused, naming the node.
        for (const Tensor &bad : {ints({-2, -12}), ints({int64_t(1) << 40, int64_t(1) << 40, -1}), ints({-1, 5})}) {
            const std::string m = errorOf([&] { runNode(n, {x, bad}); }).toStdString();
            QVERIFY2(m.find("Node \"r\" (Reshape)") != std::string::npos, (m + " for " + shapeToString(bad.reshaped({bad.numel()}).shape())).c_str());
        }
        // Any element type.
        const Tensor b = runNode(n, {typed<uint8_t>({2, 2}, DType::Bool, {1, 0, 0, 1}), ints({4})});
        QCOMPARE(b.dtype(), DType::Bool);
        QCOMPARE(valuesOf<uint8_t>(b), (std::vector<uint8_t>{1, 0, 0, 1}));
    }
    void squeezeUnsqueeze()
    {
        Rng rng(7);
        const Tensor x = randomTensor({1, 3, 1, 2}, rng);
        Node sq{"sq", "Squeeze", {}, {}, {}};
        QCOMPARE(runNode(sq, {x}).shape(), (Shape{3, 2}));
        const Tensor y = runNode(sq, {x, ints({-2})});
        QCOMPARE(y.shape(), (Shape{1, 3, 2}));
        QCOMPARE(maxAbsDiff(y.reshaped({6}), x.reshaped({6})), 0.0);
        Node sqOld{"sq", "Squeeze", {}, {}, {{"axes", std::vector<int64_t>{0}}}}; // opset < 13
        QCOMPARE(runNode(sqOld, {x}).shape(), (Shape{3, 1, 2}));
        const std::string m = errorOf([&] { runNode(sq, {x, ints({1})}); }).toStdString();
        QVERIFY2(m.find("Node \"sq\" (Squeeze)") != std::string::npos, m.c_str());
        NW_GRADCHECK(sq, (std::vector<Tensor>{x, ints({0, 2})}), (std::set<size_t>{0}));

        Node un{"un", "Unsqueeze", {}, {}, {}};
        QCOMPARE(runNode(un, {randomTensor({3, 4}, rng), ints({-1, 0})}).shape(), (Shape{1, 3, 4, 1}));
        QCOMPARE(runNode(un, {randomTensor({3, 4}, rng), ints({3, 1})}).shape(), (Shape{3, 1, 4, 1}));
        Node unOld{"un", "Unsqueeze", {}, {}, {{"axes", std::vector<int64_t>{1}}}};
        const Tensor i = runNode(unOld, {typed<int32_t>({2}, DType::Int32, {5, -6})});
        QCOMPARE(i.shape(), (Shape{2, 1}));
        QCOMPARE(valuesOf<int32_t>(i), (std::vector<int32_t>{5, -6}));
        QVERIFY(errorOf([&] { runNode(un, {x, ints({0, 0})}); }).contains("Node \"un\" (Unsqueeze)"));
        NW_GRADCHECK(un, (std::vector<Tensor>{randomTensor({3, 2}, rng), ints({1})}), (std::set<size_t>{0}));
    }
    void expand()
    {
        Node n{"e", "Expand", {}, {}, {}};
        const Tensor x = Tensor::fromVector({3, 1}, {1, 2, 3});
        Tensor y = runNode(n, {x, ints({2, 1, 4})});
        QCOMPARE(y.shape(), (Shape{2, 3, 4}));
        for (int64_t k = 0; k < 24; ++k)
            QCOMPARE(y.data()[k], static_cast<float>(k / 4 % 3 + 1));
        // The shape operand may be smaller than the input (bidirectional broadcast).
        QCOMPARE(runNode(n, {x, ints({1, 1})}).shape(), (Shape{3, 1}));
        y = runNode(n, {typed<int64_t>({2}, DType::Int64, {7, 8}), ints({2, 2})});
        QCOMPARE(valuesOf<int64_t>(y), (std::vector<int64_t>{7, 8, 7, 8}));
        for (const Tensor &bad : {ints({int64_t(1) << 40, int64_t(1) << 40}), ints({int64_t(1) << 36, 1}), ints({-3, 1}), ints({2, 2})}) {
            const std::string m = errorOf([&] { runNode(n, {x, bad}); }).toStdString();
            QVERIFY2(m.find("Node \"e\" (Expand)") != std::string::npos, m.c_str());
        }
        Rng rng(8);
        NW_GRADCHECK(n, (std::vector<Tensor>{randomTensor({3, 1}, rng), ints({2, 3, 4})}), (std::set<size_t>{0}));
        NW_GRADCHECK(n, (std::vector<Tensor>{randomTensor({2, 3}, rng), ints({2, 3})}), (std::set<size_t>{0}));
    }
    void constantOfShape()
    {
        Node n{"c", "ConstantOfShape", {}, {}, {}};
        Tensor y = runNode(n, {ints({2, 3})});
        QCOMPARE(y.dtype(), DType::Float32);
        QCOMPARE(y.shape(), (Shape{2, 3}));
        QCOMPARE(maxAbsDiff(y, Tensor::zeros({2, 3})), 0.0);
        n.attributes["value"] = Tensor::fromInt64({1}, {-9});
        y = runNode(n, {ints({4})});
        QCOMPARE(y.dtype(), DType::Int64);
        QCOMPARE(valuesOf<int64_t>(y), (std::vector<int64_t>{-9, -9, -9, -9}));
        y = runNode(n, {Tensor::fromInt64({0}, {})});
        QCOMPARE(y.shape(), Shape{});
        QCOMPARE(y.dataAs<int64_t>()[0], int64_t(-9));
        for (const Tensor &bad : {ints({int64_t(1) << 35}), ints({int64_t(1) << 62, int64_t(1) << 62}), ints({-1})}) {
            const std::string m = errorOf([&] { runNode(n, {bad}); }).toStdString();
            QVERIFY2(m.find("Node \"c\" (ConstantOfShape)") != std::string::npos, m.c_str());
        }
    }
    void range()
    {
        Node n{"r", "Range", {}, {}, {}};
        Tensor y = runNode(n, {Tensor::full({}, 1.0f), Tensor::full({}, 2.0f), Tensor::full({}, 0.3f)});
        QCOMPARE(y.shape(), (Shape{4})); // np.arange(1, 2, 0.3)
        for (int k = 0; k < 4; ++k)
            QVERIFY(std::abs(y.data()[k] - (1.0f + 0.3f * k)) < 1e-6);
        y = runNode(n, {typed<int32_t>({}, DType::Int32, {10}), typed<int32_t>({}, DType::Int32, {6}), typed<int32_t>({}, DType::Int32, {-3})});
        QCOMPARE(y.dtype(), DType::Int32);
        QCOMPARE(valuesOf<int32_t>(y), (std::vector<int32_t>{10, 7}));
        y = runNode(n, {Tensor::fromInt64({}, {5}), Tensor::fromInt64({}, {5}), Tensor::fromInt64({}, {1})});
        QCOMPARE(y.shape(), (Shape{0}));
        const std::string m = errorOf([&] { runNode(n, {Tensor::full({}, 0.0f), Tensor::full({}, 1e30f), Tensor::full({}, 1.0f)}); }).toStdString();
        QVERIFY2(m.find("Node \"r\" (Range)") != std::string::npos, m.c_str());
        const std::string m2 = errorOf([&] {
            runNode(n, {Tensor::fromInt64({}, {std::numeric_limits<int64_t>::min()}), Tensor::fromInt64({}, {std::numeric_limits<int64_t>::max()}),
                        Tensor::fromInt64({}, {1})});
        }).toStdString();
        QVERIFY2(m2.find("Node \"r\" (Range)") != std::string::npos, m2.c_str());
        QVERIFY(errorOf([&] { runNode(n, {Tensor::full({}, 0.0f), Tensor::full({}, 1.0f), Tensor::full({}, 0.0f)}); }).contains("Node \"r\""));
    }
    void eyeLike()
    {
        Node n{"i", "EyeLike", {}, {}, {{"k", int64_t(1)}}};
        Tensor y = runNode(n, {Tensor::zeros({3, 4})});
        QCOMPARE(y.dtype(), DType::Float32);
        const std::vector<float> want{0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}; // np.eye(3, 4, k=1)
        QCOMPARE(std::vector<float>(y.data(), y.data() + 12), want);
        Node typedEye{"i", "EyeLike", {}, {}, {{"k", int64_t(-1)}, {"dtype", int64_t(7)}}};
        y = runNode(typedEye, {Tensor::zeros({3, 2}, DType::Int32)});
        QCOMPARE(y.dtype(), DType::Int64);
        QCOMPARE(valuesOf<int64_t>(y), (std::vector<int64_t>{0, 0, 1, 0, 0, 1}));
        y = runNode(Node{"i", "EyeLike", {}, {}, {}}, {Tensor::zeros({2, 2}, DType::Bool)});
        QCOMPARE(valuesOf<uint8_t>(y), (std::vector<uint8_t>{1, 0, 0, 1}));
    }
    void otherTypesConcatTranspose()
    {
        Node c{"c", "Concat", {}, {}, {{"axis", int64_t(0)}}};
        Tensor y = runNode(c, {ints({1, 2}), ints({3})});
        QCOMPARE(y.dtype(), DType::Int64);
        QCOMPARE(valuesOf<int64_t>(y), (std::vector<int64_t>{1, 2, 3}));
        y = runNode(c, {typed<uint16_t>({1, 2}, DType::Float16, {1, 2}), typed<uint16_t>({2, 2}, DType::Float16, {3, 4, 5, 6})});
        QCOMPARE(y.dtype(), DType::Float16);
        QCOMPARE(valuesOf<uint16_t>(y), (std::vector<uint16_t>{1, 2, 3, 4, 5, 6}));
        QVERIFY(errorOf([&] { runNode(c, {ints({1}), Tensor::full({1}, 1.0f)}); }).contains("Node \"c\" (Concat)"));
        Node t{"t", "Transpose", {}, {}, {}};
        y = runNode(t, {typed<double>({2, 3}, DType::Float64, {1, 2, 3, 4, 5, 6})});
        QCOMPARE(y.dtype(), DType::Float64);
        QCOMPARE(valuesOf<double>(y), (std::vector<double>{1, 4, 2, 5, 3, 6}));
        y = runNode(t, {typed<int8_t>({3, 2}, DType::Int8, {1, -2, 3, -4, 5, -6})});
        QCOMPARE(valuesOf<int8_t>(y), (std::vector<int8_t>{1, 3, 5, -2, -4, -6}));
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
