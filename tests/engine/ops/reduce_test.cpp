// SPDX-License-Identifier: Apache-2.0
// Reduce*, ArgMax/ArgMin, CumSum: values against a direct computation of each formula (every
// axes setting, keepdims, axes as input or attribute, noop_with_empty_axes), integer and double
// types, gradients by finite differences, Max/Min's gradient to the first extreme element, and
// thread-count independence of the fast paths.
#include "engine/ops/gradcheck.h"
#include "engine/ops/op_test_util.h"

#include "autodiff/executor.h"
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

Node reduceNode(const QString &op, const std::vector<int64_t> &axes, bool keepdims, bool axesAttr = true)
{
    Node n{"r", op.toStdString(), {}, {}, {}};
    if (axesAttr && !axes.empty())
        n.attributes["axes"] = axes;
    n.attributes["keepdims"] = int64_t(keepdims ? 1 : 0);
    return n;
}

// The reduction by its definition: gather each output's values, then apply the formula.
std::vector<double> reference(const QString &op, const Tensor &x, std::vector<int64_t> axes)
{
    const int rank = x.rank();
    if (axes.empty())
        for (int d = 0; d < rank; ++d)
            axes.push_back(d);
    std::vector<char> red(rank, 0);
    for (int64_t a : axes)
        red[a < 0 ? a + rank : a] = 1;
    Shape outShape;
    for (int d = 0; d < rank; ++d)
        outShape.push_back(red[d] ? 1 : x.dim(d));
    std::vector<std::vector<double>> groups(shapeNumel(outShape));
    for (int64_t i = 0; i < x.numel(); ++i) {
        int64_t rest = i, o = 0, stride = 1;
        for (int d = rank - 1; d >= 0; --d) {
            const int64_t idx = rest % x.dim(d);
            rest /= x.dim(d);
            if (!red[d]) {
                o += idx * stride;
                stride *= x.dim(d);
            }
        }
        groups[o].push_back(x.data()[i]);
    }
    std::vector<double> out;
    for (const auto &g : groups) {
        double s = 0, s1 = 0, s2 = 0, p = 1, mx = -INFINITY, mn = INFINITY, e = 0;
        for (double v : g) {
            s += v;
            s1 += std::abs(v);
            s2 += v * v;
            p *= v;
            mx = std::max(mx, v);
            mn = std::min(mn, v);
            e += std::exp(v);
        }
        out.push_back(op == "ReduceSum" ? s : op == "ReduceMean" ? s / g.size() : op == "ReduceMax" ? mx : op == "ReduceMin" ? mn
                      : op == "ReduceProd" ? p : op == "ReduceL1" ? s1 : op == "ReduceL2" ? std::sqrt(s2)
                      : op == "ReduceLogSum" ? std::log(s) : op == "ReduceLogSumExp" ? std::log(e) : s2);
    }
    return out;
}

// Distinct values (spaced 0.1 apart, shuffled): Max/Min never meet a near-tie in the difference step.
Tensor distinctTensor(const Shape &s, uint64_t seed)
{
    Tensor t(s);
    std::vector<int64_t> perm(t.numel());
    std::iota(perm.begin(), perm.end(), 0);
    Rng rng(seed);
    for (int64_t i = t.numel() - 1; i > 0; --i)
        std::swap(perm[i], perm[static_cast<int64_t>(rng.uniform() * (i + 1)) % (i + 1)]);
    for (int64_t i = 0; i < t.numel(); ++i)
        t.data()[i] = 0.5f + 0.1f * static_cast<float>(perm[i]) / 4.0f;
    return t;
}

const char *kReduceOps[] = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
                            "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"};

std::vector<Tensor> eval(const Node &n, const std::vector<Tensor> &inputs) { return evalNode(n, inputs); }

} // namespace

class ReduceTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { setThreadCount(2); }

    void values_data()
    {
        QTest::addColumn<QString>("op");
        QTest::addColumn<QString>("axes");
        QTest::addColumn<bool>("keepdims");
        for (const char *op : kReduceOps)
            for (const char *axes : {"", "1", "-1", "0,2", "0,1,2"})
                for (bool keep : {true, false})
                    QTest::newRow(qPrintable(QStringLiteral("%1 [%2] keep %3").arg(op, axes).arg(keep))) << op << axes << keep;
    }
    void values()
    {
        QFETCH(QString, op);
        QFETCH(QString, axes);
        QFETCH(bool, keepdims);
        std::vector<int64_t> ax;
        for (const auto &p : axes.split(',', Qt::SkipEmptyParts))
            ax.push_back(p.toLongLong());
        Rng rng(5);
        const Tensor x = randomTensor({2, 3, 4}, rng, 0.5f, 1.5f);
        const Tensor y = runNode(reduceNode(op, ax, keepdims), {x});
        const auto want = reference(op, x, ax);
        QCOMPARE(y.numel(), static_cast<int64_t>(want.size()));
        int expectRank = 3;
        if (!keepdims)
            expectRank = ax.empty() ? 0 : 3 - static_cast<int>(ax.size());
        QCOMPARE(y.rank(), expectRank);
        for (int64_t i = 0; i < y.numel(); ++i)
            QVERIFY2(std::abs(y.data()[i] - want[i]) <= 1e-5 * (1 + std::abs(want[i])), qPrintable(QString::number(i)));
        // The same through the axes input (ONNX's opset-18 form; ReduceSum's from opset 13).
        if (!ax.empty()) {
            const Tensor y2 = runNode(reduceNode(op, ax, keepdims, false), {x, Tensor::fromInt64({int64_t(ax.size())}, ax)});
            QCOMPARE(y2.shape(), y.shape());
            QCOMPARE(maxAbsDiff(y, y2), 0.0);
        }
    }

    void gradients_data()
    {
        QTest::addColumn<QString>("op");
        QTest::addColumn<QString>("axes");
        for (const char *op : kReduceOps)
            for (const char *axes : {"1", "", "0,2,3", "-1"})
                QTest::newRow(qPrintable(QStringLiteral("%1 [%2]").arg(op, axes))) << op << axes;
    }
    void gradients()
    {
        QFETCH(QString, op);
        QFETCH(QString, axes);
        std::vector<int64_t> ax;
        for (const auto &p : axes.split(',', Qt::SkipEmptyParts))
            ax.push_back(p.toLongLong());
        const Tensor x = distinctTensor({2, 3, 2, 2}, 17);
        NW_GRADCHECK(reduceNode(op, ax, false), (std::vector<Tensor>{x}), (std::set<size_t>{0}));
        NW_GRADCHECK(reduceNode(op, ax, true), (std::vector<Tensor>{x}), (std::set<size_t>{0}));
    }

    void prodGradientWithZeros()
    {
        // One zero: only it gets the product of the others; two zeros: all zero.
        const Tensor x = Tensor::fromVector({2, 3}, {2.0f, 0.0f, 3.0f, 0.0f, 0.0f, 4.0f});
        NW_GRADCHECK(reduceNode("ReduceProd", {1}, false), (std::vector<Tensor>{x}), (std::set<size_t>{0}));
    }

    void maxGradientGoesToFirstExtreme()
    {
        for (const char *op : {"ReduceMax", "ReduceMin"}) {
            Graph g;
            const bool mx = std::strcmp(op, "ReduceMax") == 0;
            g.addParameter("x", Tensor::fromVector({2, 4}, mx ? std::vector<float>{1, 3, 3, 2, 5, 5, 5, 0}
                                                              : std::vector<float>{1, -3, -3, 2, -5, -5, 0, -5}));
            g.addNode(op, "r", {"x"}, {"y"}, {{"keepdims", int64_t(0)}, {"axes", std::vector<int64_t>{1}}});
            g.addNode("ReduceSum", "s", {"y"}, {"loss"}, {{"keepdims", int64_t(0)}});
            Executor ex(g);
            ex.forward({}, true);
            QCOMPARE(ex.value("y").data()[0], mx ? 3.0f : -3.0f);
            QCOMPARE(ex.value("y").data()[1], mx ? 5.0f : -5.0f);
            ex.backward("loss");
            const Tensor &d = ex.gradient("x");
            const std::vector<float> want{0, 1, 0, 0, 1, 0, 0, 0};
            for (int i = 0; i < 8; ++i)
                QCOMPARE(d.data()[i], want[i]);
        }
    }

    void sumAxesInputAndNoop()
    {
        Rng rng(3);
        const Tensor x = randomTensor({3, 2, 2}, rng);
        Node n = reduceNode("ReduceSum", {}, true, false);
        // Empty axes input: every axis.
        Tensor y = runNode(n, {x, Tensor::fromInt64({0}, {})});
        QCOMPARE(y.shape(), (Shape{1, 1, 1}));
        QVERIFY(std::abs(y.data()[0] - reference("ReduceSum", x, {})[0]) < 1e-5);
        // No axes input at all: every axis too.
        y = runNode(n, {x});
        QCOMPARE(y.shape(), (Shape{1, 1, 1}));
        // noop_with_empty_axes: the input unchanged, and its gradient passes straight through.
        n.attributes["noop_with_empty_axes"] = int64_t(1);
        y = runNode(n, {x, Tensor::fromInt64({0}, {})});
        QCOMPARE(y.shape(), x.shape());
        QCOMPARE(maxAbsDiff(y, x), 0.0);
        NW_GRADCHECK(n, (std::vector<Tensor>{x, Tensor::fromInt64({0}, {})}), (std::set<size_t>{0}));
    }

    void integerAndDoubleTypes()
    {
        const Tensor xi = typed<int32_t>({2, 3}, DType::Int32, {1, 2, 4, -7, 0, 100});
        Tensor y = eval(reduceNode("ReduceSum", {1}, false), {xi})[0];
        QCOMPARE(y.dtype(), DType::Int32);
        QCOMPARE(y.dataAs<int32_t>()[0], 7);
        QCOMPARE(y.dataAs<int32_t>()[1], 93);
        y = eval(reduceNode("ReduceMean", {1}, false), {xi})[0]; // 7/3 and 93/3, truncated as numpy's astype
        QCOMPARE(y.dataAs<int32_t>()[0], 2);
        QCOMPARE(y.dataAs<int32_t>()[1], 31);
        y = eval(reduceNode("ReduceMin", {}, true), {xi})[0];
        QCOMPARE(y.shape(), (Shape{1, 1}));
        QCOMPARE(y.dataAs<int32_t>()[0], -7);
        y = eval(reduceNode("ReduceL1", {0}, false), {xi})[0];
        QCOMPARE(y.dataAs<int32_t>()[0], 8);
        const Tensor xl = typed<int64_t>({4}, DType::Int64, {3, -2, 5, 1});
        y = eval(reduceNode("ReduceProd", {}, false), {xl})[0];
        QCOMPARE(y.dtype(), DType::Int64);
        QCOMPARE(y.dataAs<int64_t>()[0], int64_t(-30));
        const Tensor xu = typed<uint8_t>({3}, DType::UInt8, {200, 100, 10});
        y = eval(reduceNode("ReduceSum", {}, false), {xu})[0]; // wraps like numpy's astype(uint8)
        QCOMPARE(y.dataAs<uint8_t>()[0], uint8_t(310 % 256));
        y = eval(reduceNode("ReduceMax", {}, false), {xu})[0];
        QCOMPARE(y.dataAs<uint8_t>()[0], uint8_t(200));
        // Double LogSumExp stays finite where exp overflows.
        const Tensor xd = typed<double>({2, 2}, DType::Float64, {1000.0, 1000.0, -1000.0, -1001.0});
        y = eval(reduceNode("ReduceLogSumExp", {1}, false), {xd})[0];
        QCOMPARE(y.dtype(), DType::Float64);
        QVERIFY(std::abs(y.dataAs<double>()[0] - (1000.0 + std::log(2.0))) < 1e-9);
        QVERIFY(std::abs(y.dataAs<double>()[1] - (-1000.0 + std::log(1.0 + std::exp(-1.0)))) < 1e-9);
    }

    void fastPathsIndependentOfThreads()
    {
        // Last axis and all-but-channel: the same bits with 1 and 2 threads.
        Rng rng(8);
        const Tensor x = randomTensor({8, 16, 9, 31}, rng);
        for (const std::vector<int64_t> &ax : {std::vector<int64_t>{3}, std::vector<int64_t>{0, 2, 3}, std::vector<int64_t>{1}}) {
            for (const char *op : {"ReduceMean", "ReduceSum", "ReduceMax"}) {
                setThreadCount(1);
                const Tensor a = runNode(reduceNode(op, ax, true), {x});
                setThreadCount(2);
                const Tensor b = runNode(reduceNode(op, ax, true), {x});
                QCOMPARE(maxAbsDiff(a, b), 0.0);
                const auto want = reference(op, x, ax);
                for (int64_t i = 0; i < b.numel(); ++i)
                    QVERIFY(std::abs(b.data()[i] - want[i]) < 1e-4);
            }
        }
    }

    void argMaxArgMin()
    {
        const Tensor x = Tensor::fromVector({2, 3}, {1, 5, 5, 4, 4, -2});
        struct Case {
            const char *op;
            int64_t axis, keep, last;
            Shape shape;
            std::vector<int64_t> want;
        };
        const Case cases[] = {
            {"ArgMax", 1, 1, 0, {2, 1}, {1, 0}}, {"ArgMax", -1, 0, 1, {2}, {2, 1}}, {"ArgMax", 0, 1, 0, {1, 3}, {1, 0, 0}},
            {"ArgMin", 1, 0, 0, {2}, {0, 2}},    {"ArgMin", 0, 0, 1, {3}, {0, 1, 1}},
        };
        for (const Case &c : cases) {
            Node n{"a", c.op, {}, {}, {{"axis", c.axis}, {"keepdims", c.keep}, {"select_last_index", c.last}}};
            const Tensor y = eval(n, {x})[0];
            QCOMPARE(y.dtype(), DType::Int64);
            QCOMPARE(y.shape(), c.shape);
            for (size_t i = 0; i < c.want.size(); ++i)
                QCOMPARE(y.dataAs<int64_t>()[i], c.want[i]);
        }
        // Integer input, default axis 0.
        Node n{"a", "ArgMax", {}, {}, {}};
        const Tensor y = eval(n, {typed<int32_t>({3, 1}, DType::Int32, {-4, 9, 9})})[0];
        QCOMPARE(y.shape(), (Shape{1, 1}));
        QCOMPARE(y.dataAs<int64_t>()[0], int64_t(1));
    }

    void cumSum_data()
    {
        QTest::addColumn<int>("axis");
        QTest::addColumn<int>("exclusive");
        QTest::addColumn<int>("reverse");
        for (int axis : {0, 1, -1})
            for (int ex : {0, 1})
                for (int rev : {0, 1})
                    QTest::newRow(qPrintable(QStringLiteral("axis %1 excl %2 rev %3").arg(axis).arg(ex).arg(rev))) << axis << ex << rev;
    }
    void cumSum()
    {
        QFETCH(int, axis);
        QFETCH(int, exclusive);
        QFETCH(int, reverse);
        Rng rng(11);
        const Tensor x = randomTensor({3, 4}, rng);
        Node n{"c", "CumSum", {}, {}, {{"exclusive", int64_t(exclusive)}, {"reverse", int64_t(reverse)}}};
        const Tensor ax = Tensor::fromInt64({}, {axis});
        const Tensor y = runNode(n, {x, ax});
        const int a = axis < 0 ? axis + 2 : axis;
        for (int64_t r = 0; r < 3; ++r)
            for (int64_t c = 0; c < 4; ++c) {
                double want = 0;
                const int64_t pos = a == 0 ? r : c, len = a == 0 ? 3 : 4;
                for (int64_t k = 0; k < len; ++k) {
                    const bool in = reverse ? (exclusive ? k > pos : k >= pos) : (exclusive ? k < pos : k <= pos);
                    if (in)
                        want += x.data()[a == 0 ? k * 4 + c : r * 4 + k];
                }
                QVERIFY(std::abs(y.data()[r * 4 + c] - want) < 1e-5);
            }
        NW_GRADCHECK(n, (std::vector<Tensor>{x, ax}), (std::set<size_t>{0}));
        // int64 keeps its type.
        const Tensor yi = eval(n, {Tensor::fromInt64({2, 2}, {1, 2, 3, 4}), ax})[0];
        QCOMPARE(yi.dtype(), DType::Int64);
    }

    void errorsNameTheNode()
    {
        Rng rng(1);
        try {
            runNode(reduceNode("ReduceMean", {3}, true), {randomTensor({2, 3}, rng)});
            QFAIL("an axis out of range was accepted");
        } catch (const Error &e) {
            QVERIFY2(QString(e.what()).contains("\"r\"") && QString(e.what()).contains("out of range"), e.what());
        }
        QVERIFY_THROWS_EXCEPTION(Error, runNode(reduceNode("ReduceSum", {0, -2}, true), {randomTensor({2, 3}, rng)}));
    }
};

QTEST_GUILESS_MAIN(ReduceTest)
#include "reduce_test.moc"
