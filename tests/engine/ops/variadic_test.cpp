// SPDX-License-Identifier: Apache-2.0
// Min, Max, Mean, Sum over one to three broadcast inputs: values against the formula, gradients
// by finite differences, Min/Max's tie rule (the first input holding the extreme value takes the
// gradient), NaN propagation, integer Min/Max, and refusals that name the node.
#include "engine/ops/gradcheck.h"
#include "engine/ops/op_test_util.h"

#include "autodiff/executor.h"
#include "core/error.h"
#include "core/parallel.h"

#include <QTest>

#include <cmath>

using namespace netwright;
using namespace netwright::testing;

namespace {

Shape parse(const QString &s)
{
    Shape r;
    if (!s.isEmpty())
        for (const auto &p : s.split(','))
            r.push_back(p.toLongLong());
    return r;
}

// Element i of t broadcast to `out`.
float at(const Tensor &t, const Shape &out, int64_t i)
{
    int64_t off = 0, stride = 1;
    for (int d = static_cast<int>(out.size()) - 1, k = t.rank() - 1; d >= 0; --d, --k) {
        const int64_t idx = i % out[d];
        i /= out[d];
        if (k >= 0) {
            off += (t.dim(k) == 1 ? 0 : idx) * stride;
            stride *= t.dim(k);
        }
    }
    return t.data()[off];
}

} // namespace

class VariadicTest : public QObject {
    Q_OBJECT
private slots:
    void valuesAndGradients_data()
    {
        QTest::addColumn<QString>("op");
        QTest::addColumn<QStringList>("shapes");
        for (const char *op : {"Min", "Max", "Mean", "Sum"}) {
            QTest::newRow(qPrintable(QStringLiteral("%1 one").arg(op))) << op << QStringList{"2,3"};
            QTest::newRow(qPrintable(QStringLiteral("%1 two same").arg(op))) << op << QStringList{"2,3,4", "2,3,4"};
            QTest::newRow(qPrintable(QStringLiteral("%1 three broadcast").arg(op))) << op << QStringList{"2,1,4", "3,1", ""};
        }
    }
    void valuesAndGradients()
    {
        QFETCH(QString, op);
        QFETCH(QStringList, shapes);
        setThreadCount(2);
        Rng rng(17);
        std::vector<Tensor> inputs;
        for (const QString &s : shapes)
            inputs.push_back(randomTensor(parse(s), rng, -2.0f, 2.0f));
        Node n{"v", op.toStdString(), {}, {}, {}};
        const Tensor y = runNode(n, inputs);
        QCOMPARE(y.dtype(), DType::Float32);
        for (int64_t i = 0; i < y.numel(); ++i) {
            double want = at(inputs[0], y.shape(), i);
            for (size_t k = 1; k < inputs.size(); ++k) {
                const double v = at(inputs[k], y.shape(), i);
                want = op == "Min" ? std::min(want, v) : op == "Max" ? std::max(want, v) : want + v;
            }
            if (op == "Mean")
                want /= static_cast<double>(inputs.size());
            QVERIFY(std::abs(want - y.data()[i]) < 1e-6);
        }
        // Random values: no ties, so Min/Max are smooth at the finite-difference step.
        std::set<size_t> wrt;
        for (size_t k = 0; k < inputs.size(); ++k)
            wrt.insert(k);
        NW_GRADCHECK(n, inputs, wrt);
    }

    void tiesGoToTheFirstInput()
    {
        // Max(a, b, c) with a tie between b and c at element 0 and between all three at element 1:
        // the gradient goes to the first input holding the maximum, once.
        Graph g;
        g.name = "ties";
        g.addParameter("a", Tensor::fromVector({3}, {1.0f, 5.0f, 0.0f}), true);
        g.addParameter("b", Tensor::fromVector({3}, {2.0f, 5.0f, 7.0f}), true);
        g.addParameter("c", Tensor::fromVector({1}, {2.0f}), true);
        g.addParameter("r", Tensor::fromVector({3, 1}, {1.0f, 10.0f, 100.0f}), false);
        g.addNode("Max", "max", {"a", "b", "c"}, {"y"});
        g.addNode("Flatten", "flat", {"y"}, {"yflat"}, {{"axis", int64_t(0)}});
        g.addNode("Gemm", "dot", {"yflat", "r"}, {"loss"});
        Executor ex(g);
        ex.forward({}, true);
        QCOMPARE(valuesOf<float>(ex.value("y")), (std::vector<float>{2.0f, 5.0f, 7.0f}));
        ex.backward("loss");
        QCOMPARE(valuesOf<float>(ex.gradient("a")), (std::vector<float>{0.0f, 10.0f, 0.0f}));
        QCOMPARE(valuesOf<float>(ex.gradient("b")), (std::vector<float>{1.0f, 0.0f, 100.0f}));
        QCOMPARE(valuesOf<float>(ex.gradient("c")), (std::vector<float>{0.0f}));
    }

    void nanPropagatesAndIntegersCompareExactly()
    {
        const Tensor a = Tensor::fromVector({3}, {1.0f, std::nanf(""), 3.0f}), b = Tensor::fromVector({3}, {std::nanf(""), 2.0f, 1.0f});
        for (const char *op : {"Min", "Max"}) {
            const Tensor y = runNode(Node{op, op, {}, {}, {}}, {a, b});
            QVERIFY(std::isnan(y.data()[0]));
            QVERIFY(std::isnan(y.data()[1]));
            QCOMPARE(y.data()[2], QString(op) == "Min" ? 1.0f : 3.0f);
        }
        const int64_t big = int64_t(1) << 60;
        const Tensor i = typed<int64_t>({3}, DType::Int64, {big + 1, -4, 7}), j = typed<int64_t>({1}, DType::Int64, {big});
        const Tensor mn = runNode(Node{"mn", "Min", {}, {}, {}}, {i, j}), mx = runNode(Node{"mx", "Max", {}, {}, {}}, {i, j});
        QCOMPARE(mn.dtype(), DType::Int64);
        QCOMPARE(valuesOf<int64_t>(mn), (std::vector<int64_t>{big, -4, 7}));
        QCOMPARE(valuesOf<int64_t>(mx), (std::vector<int64_t>{big + 1, big, big}));
        const Tensor u = typed<uint8_t>({2}, DType::UInt8, {200, 3}), v = typed<uint8_t>({2}, DType::UInt8, {100, 4});
        QCOMPARE(valuesOf<uint8_t>(runNode(Node{"mx8", "Max", {}, {}, {}}, {u, v})), (std::vector<uint8_t>{200, 4}));
        const Tensor d = typed<double>({2}, DType::Float64, {1.0, 2.0}), e = typed<double>({2}, DType::Float64, {2.0, 2.0});
        const Tensor mean = runNode(Node{"mean", "Mean", {}, {}, {}}, {d, e, e});
        QCOMPARE(mean.dtype(), DType::Float64);
        QCOMPARE(valuesOf<double>(mean), (std::vector<double>{5.0 / 3.0, 2.0}));
    }

    void refusedTypesNameTheNode()
    {
        try {
            runNode(Node{"int_sum", "Sum", {}, {}, {}}, {typed<int32_t>({1}, DType::Int32, {1}), typed<int32_t>({1}, DType::Int32, {2})});
            QFAIL("Sum accepted int32");
        } catch (const Error &e) {
            const QString m = QString::fromUtf8(e.what());
            QVERIFY2(m.contains("int_sum") && m.contains("int32"), e.what());
        }
        try {
            runNode(Node{"mixed_max", "Max", {}, {}, {}}, {Tensor::fromVector({1}, {1.0f}), typed<double>({1}, DType::Float64, {2.0})});
            QFAIL("Max accepted float32 with float64");
        } catch (const Error &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains("mixed_max"), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(VariadicTest)
#include "variadic_test.moc"
