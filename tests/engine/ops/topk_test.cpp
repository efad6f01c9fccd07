// SPDX-License-Identifier: Apache-2.0
// TopK: values against PyTorch (torch.topk), indices in ONNX's tie order (equal values by
// smaller index), k as input or attribute, integer types, the Values gradient scattered back
// to X by finite differences, and an error naming the node.
#include "engine/ops/gradcheck.h"
#include "engine/ops/op_test_util.h"

#include "core/error.h"
#include "core/parallel.h"
#include "ops/op.h"

#include <QTest>

#include <cmath>
#include <cstring>
#include <numeric>

using namespace netwright;
using namespace netwright::testing;

namespace {

std::vector<Tensor> eval(const Node &n, const std::vector<Tensor> &inputs) { return evalNode(n, inputs, {"values", "indices"}); }

Node topk(int64_t axis, int64_t largest)
{
    return Node{"t", "TopK", {}, {}, {{"axis", axis}, {"largest", largest}, {"sorted", int64_t(1)}}};
}

} // namespace

class TopKTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { setThreadCount(2); }

    void valuesAndTieOrder()
    {
        const Tensor x = Tensor::fromVector({2, 6}, {3, 1, 3, 2, 7, 1, 0, 5, 5, 5, -1, 2});
        struct Case {
            int64_t axis, largest, k;
            Shape shape;
            std::vector<float> values;    // torch.topk
            std::vector<int64_t> indices; // ONNX: equal values by smaller index
        };
        const Case cases[] = {
            {1, 1, 3, {2, 3}, {7, 3, 3, 5, 5, 5}, {4, 0, 2, 1, 2, 3}},
            {-1, 0, 3, {2, 3}, {1, 1, 2, -1, 0, 2}, {1, 5, 3, 4, 0, 5}},
            {0, 1, 1, {1, 6}, {3, 5, 5, 5, 7, 2}, {0, 1, 1, 1, 0, 1}},
            {1, 1, 0, {2, 0}, {}, {}},
        };
        for (const Case &c : cases) {
            const auto out = eval(topk(c.axis, c.largest), {x, Tensor::fromInt64({1}, {c.k})});
            QCOMPARE(out[0].shape(), c.shape);
            QCOMPARE(out[1].shape(), c.shape);
            QCOMPARE(out[1].dtype(), DType::Int64);
            for (size_t i = 0; i < c.values.size(); ++i) {
                QCOMPARE(out[0].data()[i], c.values[i]);
                QCOMPARE(out[1].dataAs<int64_t>()[i], c.indices[i]);
            }
        }
    }

    void kAsAttributeAndIntegers()
    {
        // Before opset 10 k is an attribute.
        Node n = topk(-1, 1);
        n.attributes["k"] = int64_t(2);
        Tensor x(Shape{2, 3}, DType::Int32);
        const int32_t v[] = {4, -1, 9, 2, 2, 1};
        std::memcpy(x.raw(), v, sizeof v);
        const auto out = eval(n, {x});
        QCOMPARE(out[0].dtype(), DType::Int32);
        const int32_t wantV[] = {9, 4, 2, 2};
        const int64_t wantI[] = {2, 0, 0, 1};
        for (int i = 0; i < 4; ++i) {
            QCOMPARE(out[0].dataAs<int32_t>()[i], wantV[i]);
            QCOMPARE(out[1].dataAs<int64_t>()[i], wantI[i]);
        }
    }

    void nanCountsAsLargest()
    {
        const Tensor x = Tensor::fromVector({4}, {1.0f, NAN, 3.0f, 2.0f});
        auto out = eval(topk(0, 1), {x, Tensor::fromInt64({1}, {2})});
        QVERIFY(std::isnan(out[0].data()[0]));
        QCOMPARE(out[1].dataAs<int64_t>()[1], int64_t(2));
        out = eval(topk(0, 0), {x, Tensor::fromInt64({1}, {2})});
        QCOMPARE(out[1].dataAs<int64_t>()[0], int64_t(0));
        QCOMPARE(out[1].dataAs<int64_t>()[1], int64_t(3));
    }

    void gradients_data()
    {
        QTest::addColumn<int>("axis");
        QTest::addColumn<int>("largest");
        for (int axis : {0, 1, 2})
            for (int largest : {0, 1})
                QTest::newRow(qPrintable(QStringLiteral("axis %1 largest %2").arg(axis).arg(largest))) << axis << largest;
    }
    void gradients()
    {
        QFETCH(int, axis);
        QFETCH(int, largest);
        // Distinct values 0.05 apart: the finite-difference step never reorders them.
        Tensor x({3, 4, 5});
        std::vector<int64_t> perm(x.numel());
        std::iota(perm.begin(), perm.end(), 0);
        for (int64_t i = 0; i < x.numel(); ++i)
            x.data()[i] = 0.05f * static_cast<float>((perm[i] * 37) % x.numel());
        NW_GRADCHECK(topk(axis, largest), (std::vector<Tensor>{x, Tensor::fromInt64({1}, {2})}), (std::set<size_t>{0}));
        // k along the axis.
        const Tensor y = runNode(topk(axis, largest), {x, Tensor::fromInt64({1}, {2})});
        QCOMPARE(y.dim(axis), int64_t(2));
    }

    void errorsNameTheNode()
    {
        Rng rng(1);
        try {
            eval(topk(1, 1), {randomTensor({2, 3}, rng), Tensor::fromInt64({1}, {4})});
            QFAIL("k beyond the axis was accepted");
        } catch (const Error &e) {
            QVERIFY2(QString(e.what()).contains("\"t\"") && QString(e.what()).contains("k = 4"), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TopKTest)
#include "topk_test.moc"
