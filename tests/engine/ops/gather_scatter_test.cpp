// SPDX-License-Identifier: Apache-2.0
// Gather, GatherElements, GatherND, ScatterElements, ScatterND, Compress, NonZero, OneHot: values
// against numpy/PyTorch (torch.gather) and the ONNX definitions, other element types, indices out
// of range refused naming the node and the index, and float32 gradients by finite differences.
#include "engine/ops/gradcheck.h"
#include "engine/ops/op_test_util.h"
#include "support/error_of.h"

#include "core/error.h"
#include "ops/op.h"

#include <QTest>

using namespace netwright;
using namespace netwright::testing;

class GatherScatterTest : public QObject {
    Q_OBJECT
private slots:
    void gather()
    {
        const Tensor x = arange({3, 4});
        Node n{"g", "Gather", {}, {}, {{"axis", int64_t(1)}}};
        Tensor y = runNode(n, {x, ints({2, 2}, {0, -1, 2, 2})});
        QCOMPARE(y.shape(), (Shape{3, 2, 2}));
        QCOMPARE(values(y), (std::vector<float>{0, 3, 2, 2, 4, 7, 6, 6, 8, 11, 10, 10}));
        // Scalar indices drop the axis; int32 indices; axis 0 by default.
        Node n0{"g", "Gather", {}, {}, {}};
        y = runNode(n0, {x, typed<int32_t>({}, DType::Int32, {-2})});
        QCOMPARE(y.shape(), (Shape{4}));
        QCOMPARE(values(y), (std::vector<float>{4, 5, 6, 7}));
        // Other element types.
        y = runNode(n0, {typed<uint8_t>({3}, DType::Bool, {1, 0, 1}), ints({4}, {1, 2, 0, 1})});
        QCOMPARE(y.dtype(), DType::Bool);
        QCOMPARE(valuesOf<uint8_t>(y), (std::vector<uint8_t>{0, 1, 1, 0}));
        y = runNode(n0, {typed<int64_t>({2, 2}, DType::Int64, {10, 20, 30, 40}), ints({1}, {1})});
        QCOMPARE(valuesOf<int64_t>(y), (std::vector<int64_t>{30, 40}));
        // Out of range: refused, naming the node and the index.
        const std::string m = errorOf([&] { runNode(n, {x, ints({2}, {1, 7})}); }).toStdString();
        QVERIFY2(m.find("Node \"g\" (Gather)") != std::string::npos && m.find("index 7") != std::string::npos, m.c_str());
        const std::string neg = errorOf([&] { runNode(n, {x, ints({1}, {-5})}); }).toStdString();
        QVERIFY2(neg.find("Node \"g\" (Gather)") != std::string::npos && neg.find("index -5") != std::string::npos, neg.c_str());
        // Gradient: repeated indices add up.
        Rng rng(1);
        NW_GRADCHECK(n, (std::vector<Tensor>{randomTensor({3, 4, 2}, rng), ints({2, 3}, {0, 3, 0, -1, 1, 0})}), (std::set<size_t>{0}));
        NW_GRADCHECK(n0, (std::vector<Tensor>{randomTensor({3, 4}, rng), ints({3}, {2, 2, 0})}), (std::set<size_t>{0}));
    }
    void gatherElements()
    {
        // torch.gather(arange(12).reshape(3,4), 1, [[0,3,2],[1,0,3]]) (index −1 ≡ 3)
        const Tensor x = arange({3, 4});
        Node n{"ge", "GatherElements", {}, {}, {{"axis", int64_t(1)}}};
        const Tensor y = runNode(n, {x, ints({2, 3}, {0, -1, 2, 1, 0, 3})});
        QCOMPARE(y.shape(), (Shape{2, 3}));
        QCOMPARE(values(y), (std::vector<float>{0, 3, 2, 5, 4, 7}));
        const Tensor yi = runNode(Node{"ge", "GatherElements", {}, {}, {}}, {typed<int32_t>({2, 2}, DType::Int32, {1, 2, 3, 4}), ints({1, 2}, {1, 0})});
        QCOMPARE(valuesOf<int32_t>(yi), (std::vector<int32_t>{3, 2}));
        const std::string m = errorOf([&] { runNode(n, {x, ints({1, 1}, {4})}); }).toStdString();
        QVERIFY2(m.find("Node \"ge\" (GatherElements)") != std::string::npos && m.find("index 4") != std::string::npos, m.c_str());
        Rng rng(2);
        NW_GRADCHECK(n, (std::vector<Tensor>{randomTensor({3, 4}, rng), ints({3, 3}, {0, 0, 1, 3, 3, 3, 2, 1, 2})}), (std::set<size_t>{0}));
    }
    void gatherND()
    {
        const Tensor x = arange({2, 3, 4});
        Node n{"gn", "GatherND", {}, {}, {}};
        Tensor y = runNode(n, {x, ints({2, 2}, {1, 2, 0, -3})});
        QCOMPARE(y.shape(), (Shape{2, 4}));
        QCOMPARE(values(y), (std::vector<float>{20, 21, 22, 23, 0, 1, 2, 3}));
        y = runNode(n, {x, ints({1, 3}, {1, 0, 3})});
        QCOMPARE(values(y), (std::vector<float>{15}));
        // batch_dims 1: each batch element indexes its own 3×4 slice.
        Node b{"gn", "GatherND", {}, {}, {{"batch_dims", int64_t(1)}}};
        y = runNode(b, {x, ints({2, 1, 2}, {2, 3, 0, 1})});
        QCOMPARE(y.shape(), (Shape{2, 1}));
        QCOMPARE(values(y), (std::vector<float>{11, 13}));
        const Tensor yi = runNode(n, {typed<int32_t>({2, 2}, DType::Int32, {0, 1, 2, 3}), ints({2, 2}, {0, 0, 1, 1})});
        QCOMPARE(valuesOf<int32_t>(yi), (std::vector<int32_t>{0, 3}));
        const std::string m = errorOf([&] { runNode(n, {x, ints({1, 2}, {2, 0})}); }).toStdString();
        QVERIFY2(m.find("Node \"gn\" (GatherND)") != std::string::npos && m.find("index 2") != std::string::npos, m.c_str());
        Rng rng(3);
        NW_GRADCHECK(n, (std::vector<Tensor>{randomTensor({2, 3, 4}, rng), ints({3, 2}, {1, 2, 1, 2, 0, 0})}), (std::set<size_t>{0}));
        NW_GRADCHECK(b, (std::vector<Tensor>{randomTensor({2, 3, 4}, rng), ints({2, 2, 1}, {2, 2, 0, 1})}), (std::set<size_t>{0}));
    }
    void scatterElements_data()
    {
        QTest::addColumn<QString>("reduction");
        QTest::newRow("none") << "none";
        QTest::newRow("add") << "add";
        QTest::newRow("mul") << "mul";
    }
    void scatterElements()
    {
        QFETCH(QString, reduction);
        const Tensor data = arange({3, 4}, 1.0f);
        const Tensor idx = ints({3, 2}, {1, 0, 2, -2, 0, 1}); // −2 ≡ 2: row 1 writes column 2 twice
        const Tensor upd = Tensor::fromVector({3, 2}, {10, 20, 30, 40, 50, 60});
        Node n{"se", "ScatterElements", {}, {}, {{"axis", int64_t(1)}, {"reduction", reduction.toStdString()}}};
        const Tensor y = runNode(n, {data, idx, upd});
        // numpy loops (out[i, idx[i, j]] op= upd[i, j], in order)
        const std::vector<float> want = reduction == "none" ? std::vector<float>{20, 10, 3, 4, 5, 6, 40, 8, 50, 60, 11, 12}
                                        : reduction == "add" ? std::vector<float>{21, 12, 3, 4, 5, 6, 77, 8, 59, 70, 11, 12}
                                                             : std::vector<float>{20, 20, 3, 4, 5, 6, 8400, 8, 450, 600, 11, 12};
        QCOMPARE(values(y), want);
        Rng rng(4);
        // Gradients to data and updates (unique positions for "none": the last write wins).
        const Tensor gi = reduction == "none" ? ints({3, 2}, {1, 0, 2, 3, 0, 1}) : idx;
        NW_GRADCHECK(n, (std::vector<Tensor>{randomTensor({3, 4}, rng, 0.5f, 1.5f), gi, randomTensor({3, 2}, rng, 0.5f, 1.5f)}),
                     (std::set<size_t>{0, 2}));
    }
    void scatterElementsChecks()
    {
        Node n{"se", "ScatterElements", {}, {}, {}};
        const Tensor y = runNode(n, {typed<int64_t>({4}, DType::Int64, {1, 2, 3, 4}), ints({2}, {3, 0}), typed<int64_t>({2}, DType::Int64, {-7, 9})});
        QCOMPARE(y.dtype(), DType::Int64);
        QCOMPARE(valuesOf<int64_t>(y), (std::vector<int64_t>{9, 2, 3, -7}));
        const std::string m = errorOf([&] { runNode(n, {arange({4}), ints({1}, {4}), arange({1})}); }).toStdString();
        QVERIFY2(m.find("Node \"se\" (ScatterElements)") != std::string::npos && m.find("index 4") != std::string::npos, m.c_str());
    }
    void scatterND_data()
    {
        QTest::addColumn<QString>("reduction");
        QTest::newRow("none") << "none";
        QTest::newRow("add") << "add";
        QTest::newRow("mul") << "mul";
    }
    void scatterND()
    {
        QFETCH(QString, reduction);
        const Tensor data = arange({3, 2}, 1.0f); // [[1,2],[3,4],[5,6]]
        Node n{"sn", "ScatterND", {}, {}, {{"reduction", reduction.toStdString()}}};
        if (reduction == "none") {
            const Tensor y = runNode(n, {data, ints({2, 1}, {2, 0}), Tensor::fromVector({2, 2}, {7, 8, 9, 10})});
            QCOMPARE(values(y), (std::vector<float>{9, 10, 3, 4, 7, 8}));
        } else {
            // Duplicate tuples combine: rows 0 and 0 again, then element (2, 1).
            const Tensor y = runNode(n, {data, ints({3, 2}, {0, 0, 0, 0, -1, 1}), Tensor::fromVector({3}, {2, 3, 4})});
            QCOMPARE(values(y), reduction == "add" ? (std::vector<float>{6, 2, 3, 4, 5, 10}) : (std::vector<float>{6, 2, 3, 4, 5, 24}));
        }
        const std::string m = errorOf([&] { runNode(n, {data, ints({1, 2}, {0, 2}), Tensor::fromVector({1}, {1})}); }).toStdString();
        QVERIFY2(m.find("Node \"sn\" (ScatterND)") != std::string::npos && m.find("index 2") != std::string::npos, m.c_str());
        Rng rng(5);
        const Tensor idx = reduction == "none" ? ints({2, 2}, {0, 1, 2, 0}) : ints({3, 2}, {0, 1, 2, 0, 0, 1});
        const int64_t k = idx.dim(0);
        NW_GRADCHECK(n, (std::vector<Tensor>{randomTensor({3, 2}, rng, 0.5f, 1.5f), idx, randomTensor({k}, rng, 0.5f, 1.5f)}),
                     (std::set<size_t>{0, 2}));
        const Tensor rows = ints({2, 1}, {2, 0});
        NW_GRADCHECK(n, (std::vector<Tensor>{randomTensor({3, 2}, rng, 0.5f, 1.5f), rows, randomTensor({2, 2}, rng, 0.5f, 1.5f)}),
                     (std::set<size_t>{0, 2}));
    }
    void compress()
    {
        const Tensor x = arange({3, 2});
        const Tensor cond = typed<uint8_t>({3}, DType::Bool, {0, 1, 1});
        Tensor y = runNode(Node{"c", "Compress", {}, {}, {{"axis", int64_t(0)}}}, {x, cond});
        QCOMPARE(y.shape(), (Shape{2, 2}));
        QCOMPARE(values(y), (std::vector<float>{2, 3, 4, 5}));
        y = runNode(Node{"c", "Compress", {}, {}, {{"axis", int64_t(-1)}}}, {x, typed<uint8_t>({1}, DType::Bool, {1})});
        QCOMPARE(y.shape(), (Shape{3, 1}));
        QCOMPARE(values(y), (std::vector<float>{0, 2, 4}));
        // No axis: the flattened input.
        y = runNode(Node{"c", "Compress", {}, {}, {}}, {typed<int16_t>({2, 2}, DType::Int16, {5, 6, 7, 8}), typed<uint8_t>({4}, DType::Bool, {1, 0, 0, 1})});
        QCOMPARE(y.shape(), (Shape{2}));
        QCOMPARE(valuesOf<int16_t>(y), (std::vector<int16_t>{5, 8}));
    }
    void nonZero()
    {
        Tensor y = runNode(Node{"nz", "NonZero", {}, {}, {}}, {Tensor::fromVector({2, 3}, {0, 1.5f, 0, -2, 0, 3})});
        QCOMPARE(y.dtype(), DType::Int64);
        QCOMPARE(y.shape(), (Shape{2, 3}));
        QCOMPARE(valuesOf<int64_t>(y), (std::vector<int64_t>{0, 1, 1, 1, 0, 2}));
        y = runNode(Node{"nz", "NonZero", {}, {}, {}}, {typed<uint8_t>({4}, DType::Bool, {1, 0, 0, 1})});
        QCOMPARE(valuesOf<int64_t>(y), (std::vector<int64_t>{0, 3}));
        y = runNode(Node{"nz", "NonZero", {}, {}, {}}, {typed<int32_t>({3}, DType::Int32, {0, 0, 0})});
        QCOMPARE(y.shape(), (Shape{1, 0}));
    }
    void oneHot()
    {
        // indices [[1, −1], [5, 0]], depth 3, values (off 0, on 1): −1 ≡ 2; 5 is outside, all off.
        const Tensor idx = ints({2, 2}, {1, -1, 5, 0});
        Tensor y = runNode(Node{"oh", "OneHot", {}, {}, {}}, {idx, Tensor::full({}, 3.0f), Tensor::fromVector({2}, {0, 1})});
        QCOMPARE(y.shape(), (Shape{2, 2, 3}));
        QCOMPARE(values(y), (std::vector<float>{0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0}));
        // axis 0, int32 depth, int64 values.
        y = runNode(Node{"oh", "OneHot", {}, {}, {{"axis", int64_t(0)}}},
                    {Tensor::fromVector({2}, {2.7f, 0}), typed<int32_t>({1}, DType::Int32, {3}), typed<int64_t>({2}, DType::Int64, {-1, 9})});
        QCOMPARE(y.dtype(), DType::Int64);
        QCOMPARE(y.shape(), (Shape{3, 2}));
        QCOMPARE(valuesOf<int64_t>(y), (std::vector<int64_t>{-1, 9, -1, -1, 9, -1}));
        const std::string m = errorOf([&] { runNode(Node{"oh", "OneHot", {}, {}, {}}, {idx, Tensor::full({}, 1e12f), Tensor::fromVector({2}, {0, 1})}); }).toStdString();
        QVERIFY2(m.find("Node \"oh\" (OneHot)") != std::string::npos, m.c_str());
    }
};

QTEST_GUILESS_MAIN(GatherScatterTest)
#include "gather_scatter_test.moc"
