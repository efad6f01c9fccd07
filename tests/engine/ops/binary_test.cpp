// SPDX-License-Identifier: Apache-2.0
// Add, Sub, Mul, Div, Pow, Mod: values against the formula under ONNX broadcasting (same shape,
// scalar, trailing, leading and two-sided broadcasts) and gradients by finite differences; the
// integer forms (wrap-around, C division, Python and C remainders), Pow's mixed base/exponent
// types, and the refusal of float16 and of mixed types, naming the node.
#include "engine/ops/gradcheck.h"
#include "engine/ops/op_test_util.h"

#include "autodiff/executor.h"
#include "core/error.h"
#include "core/parallel.h"

#include <QTest>

#include <cmath>
#include <limits>

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
            QTest::newRow(qPrintable(QStringLiteral("%1 bias").arg(op))) << op << "2,3,20" << "20";
            QTest::newRow(qPrintable(QStringLiteral("%1 row bias").arg(op))) << op << "4,1,5" << "1,3,5";
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

    void largeBroadcastAcrossThreadChunks()
    {
        // Big enough for parallel chunks that start inside a broadcast row ([3,7,1001] with [7,1]:
        // rows of 1001), forward and the gradient summed into the repeated operand.
        setThreadCount(2);
        Rng rng(12);
        const Tensor A = randomTensor({3, 7, 1001}, rng), B = randomTensor({7, 1}, rng, 0.5f, 1.5f);
        for (const char *op : {"Add", "Mul", "Div"}) {
            Node n{"big", op, {}, {}, {}};
            const Tensor y = runNode(n, {A, B});
            for (int64_t i = 0; i < y.numel(); ++i) {
                const float x = A.data()[i], z = B.data()[(i / 1001) % 7];
                const float want = QString(op) == "Add" ? x + z : QString(op) == "Mul" ? x * z : x / z;
                QCOMPARE(y.data()[i], want);
            }
            NW_GRADCHECK(n, (std::vector<Tensor>{A, B}), (std::set<size_t>{1}));
        }
    }

    void broadcastGradientsSameBitsAtAnyThreadCount()
    {
        // A bias [D] added over [R,D] rows and a scale [R,1] multiplied along them: their
        // gradients are sums over the broadcast dims, split over the threads by the elements they
        // sum into, each formed in index order — the bits of the serial sum at 1 and 2 threads.
        const int64_t R = 3000, D = 96;
        Rng rng(31);
        const Tensor A = randomTensor({R, D}, rng), bias = randomTensor({D}, rng), scale = randomTensor({R, 1}, rng, 0.5f, 1.5f);
        std::vector<float> wantBias(D, 0.0f), wantScale(R, 0.0f);
        for (int64_t r = 0; r < R; ++r)
            for (int64_t j = 0; j < D; ++j)
                wantBias[j] += scale.data()[r]; // d loss / d (A + bias) = scale, summed down the rows
        for (int64_t r = 0; r < R; ++r) {
            float sum = 0.0f;
            for (int64_t j = 0; j < D; ++j)
                sum += A.data()[r * D + j] + bias.data()[j];
            wantScale[r] = sum;
        }
        for (int threads : {1, 2}) {
            setThreadCount(threads);
            Graph g;
            g.name = "bias_scale";
            g.addParameter("A", A.clone(), false);
            g.addParameter("bias", bias.clone(), true);
            g.addParameter("scale", scale.clone(), true);
            g.addNode("Add", "add", {"A", "bias"}, {"y"});
            g.addNode("Mul", "mul", {"y", "scale"}, {"z"});
            g.addNode("ReduceSum", "sum", {"z"}, {"loss"}, {{"keepdims", int64_t(0)}});
            Executor exec(g);
            exec.forward({}, true);
            exec.backward("loss");
            const Tensor &gb = exec.gradient("bias"), &gs = exec.gradient("scale");
            for (int64_t j = 0; j < D; ++j) // exactly (QCOMPARE on floats is fuzzy)
                QVERIFY2(gb.data()[j] == wantBias[static_cast<size_t>(j)], qPrintable(QStringLiteral("bias %1").arg(j)));
            for (int64_t r = 0; r < R; ++r)
                QVERIFY2(gs.data()[r] == wantScale[static_cast<size_t>(r)], qPrintable(QStringLiteral("scale %1").arg(r)));
        }
        setThreadCount(2);
    }

    void powAndModValuesAndGradients_data()
    {
        QTest::addColumn<QString>("op");
        QTest::addColumn<int>("fmod");
        QTest::addColumn<QString>("a");
        QTest::addColumn<QString>("b");
        for (const char *op : {"Pow", "Mod"})
            for (int fmod : {0, 1}) {
                if (QString(op) == "Pow" && fmod == 1)
                    continue;
                const QString tag = QStringLiteral("%1 fmod=%2").arg(op).arg(fmod);
                QTest::newRow(qPrintable(tag + " same")) << op << fmod << "2,3,4" << "2,3,4";
                QTest::newRow(qPrintable(tag + " scalar")) << op << fmod << "2,3" << "";
                QTest::newRow(qPrintable(tag + " two-sided")) << op << fmod << "3,1" << "1,4";
            }
    }
    void powAndModValuesAndGradients()
    {
        QFETCH(QString, op);
        QFETCH(int, fmod);
        QFETCH(QString, a);
        QFETCH(QString, b);
        auto parse = [](const QString &s) { Shape r; if (!s.isEmpty()) for (const auto &p : s.split(',')) r.push_back(p.toLongLong()); return r; };
        setThreadCount(2);
        Rng rng(8);
        Tensor A, B;
        if (op == "Pow") { // a positive base keeps both partial derivatives smooth
            A = randomTensor(parse(a), rng, 0.5f, 2.0f);
            B = randomTensor(parse(b), rng, -2.0f, 2.0f);
        } else { // divisors of both signs, and every quotient away from the integers where the remainder jumps
            bool smooth = false;
            for (int attempt = 0; attempt < 200 && !smooth; ++attempt) {
                A = randomTensor(parse(a), rng, -5.0f, 5.0f);
                B = randomTensor(parse(b), rng, 0.7f, 1.3f);
                for (int64_t i = 0; i < B.numel(); ++i)
                    if (rng.uniform() < 0.5f)
                        B.data()[i] = -B.data()[i];
                const Tensor q = runNode(Node{"d", "Div", {}, {}, {}}, {A, B});
                smooth = true;
                for (int64_t i = 0; i < q.numel(); ++i) {
                    const float frac = q.data()[i] - std::floor(q.data()[i]);
                    smooth = smooth && frac > 0.05f && frac < 0.95f;
                }
            }
            QVERIFY(smooth);
        }
        Node n{"op", op.toStdString(), {}, {}, {}};
        if (op == "Mod")
            n.attributes["fmod"] = int64_t(fmod);
        const Tensor y = runNode(n, {A, B});
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
                return static_cast<double>(t.data()[off]);
            };
            const double x = at(A), z = at(B);
            double want = op == "Pow" ? std::pow(x, z) : std::fmod(x, z);
            if (op == "Mod" && !fmod && want != 0.0 && ((want < 0) != (z < 0)))
                want += z;
            QVERIFY2(std::abs(want - y.data()[i]) < 1e-5 * std::max(1.0, std::abs(want)),
                     qPrintable(QStringLiteral("%1(%2, %3) = %4, expected %5").arg(op).arg(x).arg(z).arg(y.data()[i]).arg(want)));
        }
        NW_GRADCHECK(n, (std::vector<Tensor>{A, B}), (std::set<size_t>{0, 1}), false, op == "Mod" ? 1e-3 : 1e-2);
    }

    void powGradientAtNonPositiveBase()
    {
        // x² with negative bases: the base's gradient is 2x; the exponent's is 0 where x ≤ 0
        // (the real power is defined there only at integer exponents) instead of NaN.
        const Tensor A = Tensor::fromVector({3}, {-1.5f, 0.0f, 2.0f}), B = Tensor::fromVector({1}, {2.0f});
        Node n{"sq", "Pow", {}, {}, {}};
        const Tensor y = runNode(n, {A, B});
        QCOMPARE(y.data()[0], 2.25f);
        QCOMPARE(y.data()[1], 0.0f);
        QCOMPARE(y.data()[2], 4.0f);
        NW_GRADCHECK(n, (std::vector<Tensor>{A, B}), (std::set<size_t>{0}));
        // The exponent's gradient of Σ x^b: only x = 2 contributes, 2² · ln 2.
        Graph g;
        g.name = "pow";
        g.addParameter("a", A, true);
        g.addParameter("b", B, true);
        g.addParameter("r", Tensor::full({3, 1}, 1.0f), false);
        g.addNode("Pow", "p", {"a", "b"}, {"y"});
        g.addNode("Flatten", "flat", {"y"}, {"yflat"}, {{"axis", int64_t(0)}});
        g.addNode("Gemm", "dot", {"yflat", "r"}, {"loss"});
        Executor ex(g);
        ex.forward({}, true);
        ex.backward("loss");
        QVERIFY(std::abs(ex.gradient("b").data()[0] - 4.0f * std::log(2.0f)) < 1e-5f);
        QVERIFY(std::abs(ex.gradient("a").data()[0] - (-3.0f)) < 1e-5f);
    }

    void integerArithmetic()
    {
        const int32_t big = std::numeric_limits<int32_t>::max(), small = std::numeric_limits<int32_t>::min();
        const Tensor a = typed<int32_t>({6}, DType::Int32, {7, -7, 7, -7, big, small});
        const Tensor b = typed<int32_t>({6}, DType::Int32, {2, 2, -2, -2, 1, -1});
        auto run = [](const char *op, const Tensor &x, const Tensor &z, std::map<std::string, Attribute> attrs = {}) {
            return runNode(Node{op, op, {}, {}, std::move(attrs)}, {x, z});
        };
        const Tensor sum = run("Add", a, b), diff = run("Sub", a, b), prod = run("Mul", a, b), quot = run("Div", a, b);
        QCOMPARE(sum.dtype(), DType::Int32);
        QCOMPARE(quot.dtype(), DType::Int32);
        QCOMPARE(valuesOf<int32_t>(sum), (std::vector<int32_t>{9, -5, 5, -9, small, big})); // wraps around
        QCOMPARE(valuesOf<int32_t>(diff), (std::vector<int32_t>{5, -9, 9, -5, big - 1, small + 1}));
        QCOMPARE(valuesOf<int32_t>(prod), (std::vector<int32_t>{14, -14, -14, 14, big, small}));
        QCOMPARE(valuesOf<int32_t>(quot), (std::vector<int32_t>{3, -3, -3, 3, big, small})); // truncated like C; INT_MIN / -1 wraps

        const Tensor m0 = run("Mod", a, b), m1 = run("Mod", a, b, {{"fmod", int64_t(1)}});
        QCOMPARE(valuesOf<int32_t>(m0), (std::vector<int32_t>{1, 1, -1, -1, 0, 0})); // sign of the divisor (Python)
        QCOMPARE(valuesOf<int32_t>(m1), (std::vector<int32_t>{1, -1, 1, -1, 0, 0})); // sign of the dividend (C)

        const Tensor u = typed<uint8_t>({4}, DType::UInt8, {250, 3, 17, 0}), v = typed<uint8_t>({1}, DType::UInt8, {10});
        QCOMPARE(valuesOf<uint8_t>(run("Add", u, v)), (std::vector<uint8_t>{4, 13, 27, 10}));
        QCOMPARE(valuesOf<uint8_t>(run("Sub", u, v)), (std::vector<uint8_t>{240, 249, 7, 246}));
        QCOMPARE(valuesOf<uint8_t>(run("Mul", u, v)), (std::vector<uint8_t>{196, 30, 170, 0}));
        QCOMPARE(valuesOf<uint8_t>(run("Div", u, v)), (std::vector<uint8_t>{25, 0, 1, 0}));
        QCOMPARE(valuesOf<uint8_t>(run("Mod", u, v)), (std::vector<uint8_t>{0, 3, 7, 0}));

        const Tensor d = typed<double>({2}, DType::Float64, {1.0, -3.0}), e = typed<double>({2}, DType::Float64, {3.0, 4.0});
        const Tensor dq = run("Div", d, e);
        QCOMPARE(dq.dtype(), DType::Float64);
        QCOMPARE(dq.dataAs<double>()[0], 1.0 / 3.0);
        QCOMPARE(valuesOf<double>(run("Mod", d, e)), (std::vector<double>{1.0, 1.0}));

        try {
            run("Div", a, typed<int32_t>({1}, DType::Int32, {0}));
            QFAIL("integer division by zero accepted");
        } catch (const Error &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains("\"Div\""), e.what());
        }
    }

    void powTypes()
    {
        auto pow = [](const Tensor &x, const Tensor &z) { return runNode(Node{"p", "Pow", {}, {}, {}}, {x, z}); };
        const Tensor f = Tensor::fromVector({3}, {1.0f, 2.0f, 3.0f});
        const Tensor i64 = typed<int64_t>({3}, DType::Int64, {4, 5, 6}), i32 = typed<int32_t>({3}, DType::Int32, {4, 5, 6});
        const Tensor u64 = typed<uint64_t>({3}, DType::UInt64, {4, 5, 6});
        for (const Tensor *e : {&i64, &i32, &u64}) {
            const Tensor y = pow(f, *e);
            QCOMPARE(y.dtype(), DType::Float32);
            QCOMPARE(valuesOf<float>(y), (std::vector<float>{1.0f, 32.0f, 729.0f}));
        }
        const Tensor base = typed<int64_t>({3}, DType::Int64, {1, 2, 3});
        const Tensor yi = pow(base, i64);
        QCOMPARE(yi.dtype(), DType::Int64);
        QCOMPARE(valuesOf<int64_t>(yi), (std::vector<int64_t>{1, 32, 729}));
        const Tensor yf = pow(base, Tensor::fromVector({3}, {4.0f, 0.5f, -1.0f}));
        QCOMPARE(yf.dtype(), DType::Int64);
        QCOMPARE(valuesOf<int64_t>(yf), (std::vector<int64_t>{1, 1, 0})); // 2^0.5 and 3^-1 truncate
        const Tensor neg = typed<int32_t>({3}, DType::Int32, {-1, 2, -1}), negExp = typed<int32_t>({3}, DType::Int32, {-3, -1, -2});
        QCOMPARE(valuesOf<int32_t>(pow(neg, negExp)), (std::vector<int32_t>{-1, 0, 1}));
    }

    void refusedTypesNameTheNode()
    {
        Node n{"half_add", "Add", {}, {}, {}};
        try {
            runNode(n, {Tensor({2}, DType::Float16), Tensor({2}, DType::Float16)});
            QFAIL("Add accepted float16");
        } catch (const Error &e) {
            const QString m = QString::fromUtf8(e.what());
            QVERIFY2(m.contains("half_add") && m.contains("float16"), e.what());
        }
        try {
            runNode(Node{"mixed", "Mul", {}, {}, {}}, {Tensor::fromVector({1}, {1.0f}), typed<int64_t>({1}, DType::Int64, {2})});
            QFAIL("Mul accepted float32 × int64");
        } catch (const Error &e) {
            const QString m = QString::fromUtf8(e.what());
            QVERIFY2(m.contains("mixed") && m.contains("int64"), e.what());
        }
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
