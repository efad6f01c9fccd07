// SPDX-License-Identifier: Apache-2.0
// Slice and Split: values against numpy's slicing (negative steps, clamped bounds, the opset-1
// attribute form), other element types, and gradients by finite differences (Split's later
// outputs through the Executor).
#include "engine/ops/gradcheck.h"
#include "engine/ops/op_test_util.h"

#include "autodiff/executor.h"
#include "core/error.h"
#include "ops/op.h"

#include <QTest>

#include <limits>
#include <numeric>

using namespace netwright;
using namespace netwright::testing;

class SliceSplitTest : public QObject {
    Q_OBJECT
private slots:
    void sliceValues()
    {
        const Tensor x = arange({3, 4, 5});
        Node n{"s", "Slice", {}, {}, {}};
        // x[1:3, :, -1:-5:-2]
        Tensor y = runNode(n, {x, ints({1, -1}), ints({3, -5}), ints({0, 2}), ints({1, -2})});
        QCOMPARE(y.shape(), (Shape{2, 4, 2}));
        QCOMPARE(values(y), (std::vector<float>{24, 22, 29, 27, 34, 32, 39, 37, 44, 42, 49, 47, 54, 52, 59, 57}));
        // x[:, ::3] with bounds far outside the dim (clamped)
        y = runNode(n, {x, ints({-1000}), ints({1000}), ints({1}), ints({3})});
        QCOMPARE(y.shape(), (Shape{3, 2, 5}));
        QCOMPARE(values(y), (std::vector<float>{0, 1, 2, 3, 4, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
                                                35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 55, 56, 57, 58, 59}));
        // x[:, :, ::-1] with ends at INT64_MIN, and the default axes (0..n-1)
        y = runNode(n, {x, ints({-1}), ints({std::numeric_limits<int64_t>::min()}), ints({-1}), ints({-1})});
        QCOMPARE(y.shape(), (Shape{3, 4, 5}));
        for (int64_t i = 0; i < 60; ++i)
            QCOMPARE(y.data()[i], static_cast<float>(i / 5 * 5 + 4 - i % 5));
        y = runNode(n, {x, ints({2, 1}), ints({3, 2})});
        QCOMPARE(y.shape(), (Shape{1, 1, 5}));
        QCOMPARE(values(y), (std::vector<float>{45, 46, 47, 48, 49}));
        // An empty slice (start past end).
        QCOMPARE(runNode(n, {x, ints({3}), ints({1}), ints({1})}).shape(), (Shape{3, 0, 5}));
        // Opset 1: starts, ends, axes as attributes.
        Node old{"s1", "Slice", {}, {}, {{"starts", std::vector<int64_t>{0, 1}}, {"ends", std::vector<int64_t>{2, 3}}}};
        y = runNode(old, {x});
        QCOMPARE(y.shape(), (Shape{2, 2, 5}));
        QCOMPARE(values(y), (std::vector<float>{5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34}));
        // A zero step is refused, naming the node.
        try {
            runNode(n, {x, ints({0}), ints({2}), ints({0}), ints({0})});
            QFAIL("a zero step was accepted");
        } catch (const Error &e) {
            QVERIFY(std::string(e.what()).find("Node \"s\" (Slice)") != std::string::npos);
        }
    }
    void sliceOtherTypes()
    {
        Node n{"s", "Slice", {}, {}, {}};
        std::vector<int64_t> v(12);
        std::iota(v.begin(), v.end(), -5);
        Tensor y = runNode(n, {typed<int64_t>({3, 4}, DType::Int64, v), ints({-1, 3}), ints({-4, 0}), ints({0, 1}), ints({-1, -2})});
        QCOMPARE(y.dtype(), DType::Int64);
        QCOMPARE(y.shape(), (Shape{3, 2}));
        QCOMPARE(std::vector<int64_t>(y.dataAs<int64_t>(), y.dataAs<int64_t>() + 6), (std::vector<int64_t>{6, 4, 2, 0, -2, -4}));
        const Tensor b = typed<uint8_t>({6}, DType::Bool, {1, 0, 0, 1, 1, 0});
        y = runNode(n, {b, ints({1}), ints({6}), ints({0}), ints({2})});
        QCOMPARE(y.dtype(), DType::Bool);
        QCOMPARE(std::vector<uint8_t>(y.dataAs<uint8_t>(), y.dataAs<uint8_t>() + 3), (std::vector<uint8_t>{0, 1, 0}));
        y = runNode(n, {typed<uint16_t>({4}, DType::Float16, {1, 2, 3, 4}), ints({3}), ints({0}), ints({0}), ints({-1})});
        QCOMPARE(std::vector<uint16_t>(y.dataAs<uint16_t>(), y.dataAs<uint16_t>() + 3), (std::vector<uint16_t>{4, 3, 2}));
    }
    void sliceGradients()
    {
        Rng rng(3);
        const Tensor x = randomTensor({3, 4, 5}, rng);
        Node n{"s", "Slice", {}, {}, {}};
        NW_GRADCHECK(n, (std::vector<Tensor>{x, ints({1, -1}), ints({3, -5}), ints({0, 2}), ints({1, -2})}), (std::set<size_t>{0}));
        NW_GRADCHECK(n, (std::vector<Tensor>{x, ints({0}), ints({4}), ints({1}), ints({3})}), (std::set<size_t>{0}));
    }
    void splitValues()
    {
        const Tensor x = arange({2, 6, 3});
        auto split = [](Node n, const std::vector<const Tensor *> &in) { return evaluateNode(n, in); };
        Node eq{"sp", "Split", {"x"}, {"a", "b", "c"}, {{"axis", int64_t(1)}}};
        auto out = split(eq, {&x});
        QCOMPARE(out.size(), size_t(3));
        for (int k = 0; k < 3; ++k) {
            QCOMPARE(out[k].shape(), (Shape{2, 2, 3}));
            QCOMPARE(out[k].data()[0], static_cast<float>(k * 6));
            QCOMPARE(out[k].data()[11], static_cast<float>(18 + k * 6 + 5));
        }
        const Tensor sizes = ints({1, 2, 3});
        Node var{"sp", "Split", {"x", "split"}, {"a", "b", "c"}, {{"axis", int64_t(-2)}}};
        out = split(var, {&x, &sizes});
        QCOMPARE(out[0].shape(), (Shape{2, 1, 3}));
        QCOMPARE(out[1].shape(), (Shape{2, 2, 3}));
        QCOMPARE(out[2].shape(), (Shape{2, 3, 3}));
        QCOMPARE(values(out[2]), (std::vector<float>{9, 10, 11, 12, 13, 14, 15, 16, 17, 27, 28, 29, 30, 31, 32, 33, 34, 35}));
        // Opset 11: split as an attribute; uneven equal parts (7 into 3: 3, 3, 1); zero-size parts.
        Node attr{"sp", "Split", {"x"}, {"a", "b"}, {{"axis", int64_t(1)}, {"split", std::vector<int64_t>{5, 1}}}};
        out = split(attr, {&x});
        QCOMPARE(out[1].shape(), (Shape{2, 1, 3}));
        QCOMPARE(out[1].data()[0], 15.0f);
        const Tensor seven = arange({7});
        Node uneven{"sp", "Split", {"x"}, {"a", "b", "c"}, {}};
        out = split(uneven, {&seven});
        QCOMPARE(out[0].shape(), (Shape{3}));
        QCOMPARE(out[2].shape(), (Shape{1}));
        QCOMPARE(out[2].data()[0], 6.0f);
        const Tensor zero = ints({0, 7});
        Node zeros{"sp", "Split", {"x", "split"}, {"a", "b"}, {}};
        out = split(zeros, {&seven, &zero});
        QCOMPARE(out[0].shape(), (Shape{0}));
        QCOMPARE(out[1].shape(), (Shape{7}));
        // Sizes that do not sum to the dim name the node.
        const Tensor bad = ints({2, 2});
        try {
            split(zeros, {&seven, &bad});
            QFAIL("a bad split was accepted");
        } catch (const Error &e) {
            QVERIFY(std::string(e.what()).find("Node \"sp\" (Split)") != std::string::npos);
        }
        // Other element types move as they are.
        const Tensor i8 = typed<int8_t>({4}, DType::Int8, {-1, 2, -3, 4});
        out = split(Node{"sp", "Split", {"x"}, {"a", "b"}, {}}, {&i8});
        QCOMPARE(out[1].dtype(), DType::Int8);
        QCOMPARE(out[1].dataAs<int8_t>()[0], int8_t(-3));
    }
    void splitGradients()
    {
        Rng rng(4);
        const Tensor x = randomTensor({2, 6, 3}, rng);
        Node n{"sp", "Split", {}, {"a", "b"}, {{"axis", int64_t(1)}}};
        NW_GRADCHECK(n, (std::vector<Tensor>{x, ints({4, 2})}), (std::set<size_t>{0}));
        // A gradient through the second output only: the first part's gradient is zero.
        Graph g;
        g.name = "split";
        g.addParameter("x", x.clone(), true);
        g.addParameter("split", ints({4, 2}), false);
        const Tensor r = randomTensor({12, 1}, rng);
        g.addParameter("r", r.clone(), false);
        g.addNode("Split", "sp", {"x", "split"}, {"a", "b"}, {{"axis", int64_t(1)}});
        g.addNode("Flatten", "f", {"b"}, {"bf"}, {{"axis", int64_t(0)}});
        g.addNode("Gemm", "dot", {"bf", "r"}, {"loss"});
        Executor ex(g);
        ex.forward({}, true);
        ex.backward("loss");
        const Tensor &dx = ex.gradient("x");
        int64_t k = 0;
        for (int64_t i = 0; i < 2; ++i)
            for (int64_t j = 0; j < 6; ++j)
                for (int64_t c = 0; c < 3; ++c) {
                    const float got = dx.data()[(i * 6 + j) * 3 + c];
                    QCOMPARE(got, j < 4 ? 0.0f : r.data()[k++]);
                }
    }
};

QTEST_GUILESS_MAIN(SliceSplitTest)
#include "slice_split_test.moc"
