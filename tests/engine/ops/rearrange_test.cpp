// SPDX-License-Identifier: Apache-2.0
// Tile, Pad (constant, reflect, edge, wrap; negative pads; the attribute forms; axes), DepthToSpace
// (DCR, CRD), SpaceToDepth, Trilu, ReverseSequence: values against numpy (np.tile, np.pad, the
// reshape/transpose definitions, np.triu/np.tril), other element types, hostile sizes refused
// naming the node, and float32 gradients by finite differences.
#include "engine/ops/gradcheck.h"
#include "engine/ops/op_test_util.h"
#include "support/error_of.h"

#include "core/error.h"

#include <QTest>

#include <map>

using namespace netwright;
using namespace netwright::testing;

class RearrangeTest : public QObject {
    Q_OBJECT
private slots:
    void tile()
    {
        Node n{"t", "Tile", {}, {}, {}};
        const Tensor y = runNode(n, {arange({2, 3}), ints({2, 2})});
        QCOMPARE(y.shape(), (Shape{4, 6}));
        for (int64_t i = 0; i < 4; ++i)
            for (int64_t j = 0; j < 6; ++j)
                QCOMPARE(y.data()[i * 6 + j], static_cast<float>((i % 2) * 3 + j % 3)); // np.tile
        const Tensor yi = runNode(n, {typed<int64_t>({2}, DType::Int64, {7, -8}), ints({3})});
        QCOMPARE(valuesOf<int64_t>(yi), (std::vector<int64_t>{7, -8, 7, -8, 7, -8}));
        QCOMPARE(runNode(n, {arange({2, 3}), ints({0, 1})}).shape(), (Shape{0, 3}));
        const std::string m = errorOf([&] { runNode(n, {arange({2, 3}), ints({int64_t(1) << 40, int64_t(1) << 40})}); }).toStdString();
        QVERIFY2(m.find("Node \"t\" (Tile)") != std::string::npos, m.c_str());
        Rng rng(1);
        NW_GRADCHECK(n, (std::vector<Tensor>{randomTensor({2, 3}, rng), ints({3, 2})}), (std::set<size_t>{0}));
        NW_GRADCHECK(n, (std::vector<Tensor>{randomTensor({2, 1, 2}, rng), ints({1, 3, 2})}), (std::set<size_t>{0}));
    }
    void pad_data()
    {
        QTest::addColumn<QString>("mode");
        QTest::newRow("reflect") << "reflect";
        QTest::newRow("edge") << "edge";
        QTest::newRow("wrap") << "wrap";
    }
    void pad()
    {
        QFETCH(QString, mode);
        // np.pad(arange(6).reshape(2, 3), ((1, 2), (4, 1)), mode) — pads wider than the dims.
        std::map<QString, std::vector<float>> want{
            {"reflect", {3, 4, 5, 4, 3, 4, 5, 4, 0, 1, 2, 1, 0, 1, 2, 1, 3, 4, 5, 4, 3, 4, 5, 4, 0, 1, 2, 1, 0, 1, 2, 1, 3, 4, 5, 4, 3, 4, 5, 4}},
            {"edge", {0, 0, 0, 0, 0, 1, 2, 2, 0, 0, 0, 0, 0, 1, 2, 2, 3, 3, 3, 3, 3, 4, 5, 5, 3, 3, 3, 3, 3, 4, 5, 5, 3, 3, 3, 3, 3, 4, 5, 5}},
            {"wrap", {}}};
        // wrap: the torus of ONNX's definition, y[i, j] = x[(i − 1) mod 2, (j − 4) mod 3] (numpy's
        // np.pad differs once a pad exceeds the dim on both sides).
        std::vector<float> wrapped;
        for (int i = 0; i < 5; ++i)
            for (int j = 0; j < 8; ++j)
                wrapped.push_back(static_cast<float>(((i + 1) % 2) * 3 + (j + 2) % 3));
        want["wrap"] = wrapped;
        Node n{"p", "Pad", {}, {}, {{"mode", mode.toStdString()}}};
        const Tensor y = runNode(n, {arange({2, 3}), ints({1, 4, 2, 1})});
        QCOMPARE(y.shape(), (Shape{5, 8}));
        QCOMPARE(values(y), want.at(mode));
        // Same for int32 data.
        const Tensor yi = runNode(n, {typed<int32_t>({2, 3}, DType::Int32, {0, 1, 2, 3, 4, 5}), ints({1, 4, 2, 1})});
        QCOMPARE(yi.dtype(), DType::Int32);
        for (int64_t i = 0; i < 40; ++i)
            QCOMPARE(static_cast<float>(yi.dataAs<int32_t>()[i]), want.at(mode)[i]);
        if (mode != "wrap") {
            Rng rng(2);
            NW_GRADCHECK(n, (std::vector<Tensor>{randomTensor({3, 4}, rng), ints({2, 1, 1, 3})}), (std::set<size_t>{0}));
        }
    }
    void padConstant()
    {
        Node n{"p", "Pad", {}, {}, {}};
        // np.pad(arange(6).reshape(2, 3), ((1, 0), (0, 2)), constant_values=7)
        Tensor y = runNode(n, {arange({2, 3}), ints({1, 0, 0, 2}), Tensor::full({}, 7.0f)});
        QCOMPARE(y.shape(), (Shape{3, 5}));
        QCOMPARE(values(y), (std::vector<float>{7, 7, 7, 7, 7, 0, 1, 2, 7, 7, 3, 4, 5, 7, 7}));
        // Negative pads crop; no constant_value means 0.
        y = runNode(n, {arange({2, 3}), ints({0, -1, -1, 1})});
        QCOMPARE(y.shape(), (Shape{1, 3}));
        QCOMPARE(values(y), (std::vector<float>{1, 2, 0}));
        // axes (opset 18): pad only the last axis.
        y = runNode(n, {arange({2, 3}), ints({1, 0}), Tensor(), ints({-1})});
        QCOMPARE(y.shape(), (Shape{2, 4}));
        QCOMPARE(values(y), (std::vector<float>{0, 0, 1, 2, 0, 3, 4, 5}));
        // Opset 2: pads and value as attributes; uint8 data.
        Node old{"p", "Pad", {}, {}, {{"pads", std::vector<int64_t>{0, 1, 0, 1}}, {"value", 9.0f}}};
        const Tensor yu = runNode(old, {typed<uint8_t>({1, 2}, DType::UInt8, {4, 5})});
        QCOMPARE(valuesOf<uint8_t>(yu), (std::vector<uint8_t>{9, 4, 5, 9}));
        const std::string m = errorOf([&] { runNode(n, {arange({2, 3}), ints({0, -4, 0, 0})}); }).toStdString();
        QVERIFY2(m.find("Node \"p\" (Pad)") != std::string::npos, m.c_str());
        const std::string big = errorOf([&] { runNode(n, {arange({2, 3}), ints({int64_t(1) << 40, 0, 0, 0})}); }).toStdString();
        QVERIFY2(big.find("Node \"p\" (Pad)") != std::string::npos, big.c_str());
        Rng rng(3);
        NW_GRADCHECK(n, (std::vector<Tensor>{randomTensor({2, 3, 2}, rng), ints({1, 0, -1, 0, 2, 1}), Tensor::full({}, 0.5f)}),
                     (std::set<size_t>{0}));
    }
    void depthToSpace_data()
    {
        QTest::addColumn<QString>("mode");
        QTest::newRow("DCR") << "DCR";
        QTest::newRow("CRD") << "CRD";
    }
    void depthToSpace()
    {
        QFETCH(QString, mode);
        Node n{"d", "DepthToSpace", {}, {}, {{"blocksize", int64_t(2)}, {"mode", mode.toStdString()}}};
        const Tensor y = runNode(n, {arange({2, 8, 2, 3})});
        QCOMPARE(y.shape(), (Shape{2, 2, 4, 6}));
        // numpy: x.reshape(n, b, b, c/b², h, w).transpose(0, 3, 4, 1, 5, 2) (DCR), or
        // x.reshape(n, c/b², b, b, h, w).transpose(0, 1, 4, 2, 5, 3) (CRD); row y[1, 1, 2].
        const std::vector<float> row(y.data() + ((1 * 2 + 1) * 4 + 2) * 6, y.data() + ((1 * 2 + 1) * 4 + 3) * 6);
        QCOMPARE(row, mode == "DCR" ? (std::vector<float>{57, 69, 58, 70, 59, 71}) : (std::vector<float>{75, 81, 76, 82, 77, 83}));
        const Tensor yb = runNode(n, {typed<int8_t>({1, 4, 1, 1}, DType::Int8, {1, 2, 3, 4})});
        QCOMPARE(valuesOf<int8_t>(yb), (std::vector<int8_t>{1, 2, 3, 4}));
        Rng rng(4);
        NW_GRADCHECK(n, (std::vector<Tensor>{randomTensor({1, 8, 2, 2}, rng)}), (std::set<size_t>{0}));
        const std::string m = errorOf([&] { runNode(n, {arange({1, 6, 2, 2})}); }).toStdString();
        QVERIFY2(m.find("Node \"d\" (DepthToSpace)") != std::string::npos, m.c_str());
    }
    void spaceToDepth()
    {
        Node n{"s", "SpaceToDepth", {}, {}, {{"blocksize", int64_t(2)}}};
        const Tensor x = arange({1, 2, 4, 6});
        const Tensor y = runNode(n, {x});
        QCOMPARE(y.shape(), (Shape{1, 8, 2, 3}));
        // numpy: x.reshape(1, 2, 2, 2, 3, 2).transpose(0, 3, 5, 1, 2, 4).reshape(1, 8, 2, 3)
        QCOMPARE(values(y), (std::vector<float>{0, 2, 4, 12, 14, 16, 24, 26, 28, 36, 38, 40, 1, 3, 5, 13, 15, 17, 25, 27, 29, 37, 39, 41,
                                                6, 8, 10, 18, 20, 22, 30, 32, 34, 42, 44, 46, 7, 9, 11, 19, 21, 23, 31, 33, 35, 43, 45, 47}));
        // DepthToSpace (DCR) undoes it.
        const Tensor back = runNode(Node{"d", "DepthToSpace", {}, {}, {{"blocksize", int64_t(2)}}}, {y});
        QCOMPARE(maxAbsDiff(back, x), 0.0);
        Rng rng(5);
        NW_GRADCHECK(n, (std::vector<Tensor>{randomTensor({2, 1, 4, 2}, rng)}), (std::set<size_t>{0}));
    }
    void trilu_data()
    {
        QTest::addColumn<int>("upper");
        QTest::addColumn<int>("k");
        for (int upper : {0, 1})
            for (int k : {-1, 0, 2}) {
                const QString name = QStringLiteral("%1 k=%2").arg(upper ? "triu" : "tril").arg(k);
                QTest::newRow(qPrintable(name)) << upper << k;
            }
    }
    void trilu()
    {
        QFETCH(int, upper);
        QFETCH(int, k);
        Node n{"tr", "Trilu", {}, {}, {{"upper", int64_t(upper)}}};
        const Tensor x = arange({2, 3, 4});
        const Tensor y = runNode(n, {x, Tensor::fromInt64({}, {k})});
        for (int64_t m = 0; m < 2; ++m)
            for (int64_t i = 0; i < 3; ++i)
                for (int64_t j = 0; j < 4; ++j) {
                    const int64_t at = (m * 3 + i) * 4 + j;
                    const bool keep = upper ? j - i >= k : j - i <= k; // np.triu / np.tril
                    QCOMPARE(y.data()[at], keep ? x.data()[at] : 0.0f);
                }
        const Tensor yi = runNode(n, {typed<int64_t>({2, 2}, DType::Int64, {1, 2, 3, 4}), Tensor::fromInt64({}, {k})});
        QCOMPARE(yi.dtype(), DType::Int64);
        Rng rng(6);
        NW_GRADCHECK(n, (std::vector<Tensor>{randomTensor({2, 3, 4}, rng), Tensor::fromInt64({}, {k})}), (std::set<size_t>{0}));
        // Without k: the main diagonal.
        const Tensor y0 = runNode(n, {arange({2, 2})});
        QCOMPARE(values(y0), upper ? (std::vector<float>{0, 1, 0, 3}) : (std::vector<float>{0, 0, 2, 3}));
    }
    void reverseSequence()
    {
        // time_axis 0, batch_axis 1: x[t, b] = 4t + b; lengths 4, 3, 2, 1.
        const Tensor x = arange({4, 4});
        Node n{"rs", "ReverseSequence", {}, {}, {{"time_axis", int64_t(0)}, {"batch_axis", int64_t(1)}}};
        Tensor y = runNode(n, {x, ints({4, 3, 2, 1})});
        QCOMPARE(values(y), (std::vector<float>{12, 9, 6, 3, 8, 5, 2, 7, 4, 1, 10, 11, 0, 13, 14, 15}));
        // batch_axis 0 with a trailing dim, int16 data.
        std::vector<int16_t> v(12);
        for (int i = 0; i < 12; ++i)
            v[i] = static_cast<int16_t>(i);
        Node nb{"rs", "ReverseSequence", {}, {}, {{"time_axis", int64_t(1)}, {"batch_axis", int64_t(0)}}};
        y = runNode(nb, {typed<int16_t>({2, 3, 2}, DType::Int16, v), ints({2, 3})});
        QCOMPARE(valuesOf<int16_t>(y), (std::vector<int16_t>{2, 3, 0, 1, 4, 5, 10, 11, 8, 9, 6, 7}));
        const std::string m = errorOf([&] { runNode(n, {x, ints({4, 5, 1, 1})}); }).toStdString();
        QVERIFY2(m.find("Node \"rs\" (ReverseSequence)") != std::string::npos, m.c_str());
    }
};

QTEST_GUILESS_MAIN(RearrangeTest)
#include "rearrange_test.moc"
