// SPDX-License-Identifier: Apache-2.0
// The unary math ops: float32 and float64 values against the C library in double, gradients by
// finite differences for every differentiable op (zero for Sign/Floor/Ceil/Round), the integer
// forms of Neg/Abs/Sign/Erf, Round half to even, Not/IsNaN/IsInf with bool outputs, and the
// refusal of a type an op does not compute with.
#include "engine/ops/gradcheck.h"
#include "engine/ops/op_test_util.h"

#include "core/error.h"
#include "core/parallel.h"

#include <QTest>

#include <cmath>
#include <limits>

using namespace netwright;
using namespace netwright::testing;

namespace {

double reference(const QString &op, double x)
{
    if (op == "Neg") return -x;
    if (op == "Abs") return std::fabs(x);
    if (op == "Sign") return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0;
    if (op == "Exp") return std::exp(x);
    if (op == "Log") return std::log(x);
    if (op == "Sqrt") return std::sqrt(x);
    if (op == "Reciprocal") return 1.0 / x;
    if (op == "Erf") return std::erf(x);
    if (op == "Sin") return std::sin(x);
    if (op == "Cos") return std::cos(x);
    if (op == "Tan") return std::tan(x);
    if (op == "Asin") return std::asin(x);
    if (op == "Acos") return std::acos(x);
    if (op == "Atan") return std::atan(x);
    if (op == "Sinh") return std::sinh(x);
    if (op == "Cosh") return std::cosh(x);
    if (op == "Asinh") return std::asinh(x);
    if (op == "Acosh") return std::acosh(x);
    if (op == "Atanh") return std::atanh(x);
    if (op == "Floor") return std::floor(x);
    if (op == "Ceil") return std::ceil(x);
    if (op == "Round") return std::nearbyint(x); // the default rounding mode: half to even
    return std::nan("");
}

// A domain where the op and its finite differences are smooth.
std::pair<float, float> domain(const QString &op)
{
    if (op == "Log" || op == "Sqrt" || op == "Reciprocal") return {0.5f, 2.0f};
    if (op == "Asin" || op == "Acos" || op == "Atanh") return {-0.8f, 0.8f};
    if (op == "Acosh") return {1.5f, 3.0f};
    if (op == "Tan") return {-1.0f, 1.0f};
    return {-2.0f, 2.0f};
}

} // namespace

class UnaryMathTest : public QObject {
    Q_OBJECT
private slots:
    void floatValuesAndGradients_data()
    {
        QTest::addColumn<QString>("op");
        for (const char *op : {"Neg", "Abs", "Sign", "Exp", "Log", "Sqrt", "Reciprocal", "Erf", "Sin", "Cos", "Tan", "Asin", "Acos",
                               "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Floor", "Ceil", "Round"})
            QTest::newRow(op) << op;
    }
    void floatValuesAndGradients()
    {
        QFETCH(QString, op);
        setThreadCount(2);
        Rng rng(21);
        const auto [lo, hi] = domain(op);
        Tensor x = randomTensor({3, 4, 5}, rng, lo, hi);
        // Keep the kinks and steps of Abs, Sign, Floor, Ceil, Round away from the finite differences.
        const bool stepped = op == "Abs" || op == "Sign" || op == "Floor" || op == "Ceil" || op == "Round";
        for (int64_t i = 0; stepped && i < x.numel(); ++i) {
            float &v = x.data()[i];
            const float frac = v - std::floor(v);
            if (frac < 0.05f || frac > 0.95f || std::abs(frac - 0.5f) < 0.05f)
                v += 0.2f;
        }
        Node n{"u", op.toStdString(), {}, {}, {}};
        const Tensor y = runNode(n, {x});
        QCOMPARE(y.dtype(), DType::Float32);
        QCOMPARE(y.shape(), x.shape());
        for (int64_t i = 0; i < x.numel(); ++i) {
            const double want = reference(op, x.data()[i]);
            QVERIFY2(std::abs(y.data()[i] - want) <= 1e-6 + 1e-6 * std::abs(want),
                     qPrintable(QStringLiteral("%1(%2) = %3, expected %4").arg(op).arg(x.data()[i]).arg(y.data()[i]).arg(want)));
        }
        NW_GRADCHECK(n, (std::vector<Tensor>{x}), (std::set<size_t>{0}));

        // float64 forward: the same function at double precision.
        Tensor xd(x.shape(), DType::Float64);
        for (int64_t i = 0; i < x.numel(); ++i)
            xd.dataAs<double>()[i] = x.data()[i];
        const Tensor yd = runNode(n, {xd});
        QCOMPARE(yd.dtype(), DType::Float64);
        for (int64_t i = 0; i < x.numel(); ++i) {
            const double want = reference(op, xd.dataAs<double>()[i]);
            QVERIFY(std::abs(yd.dataAs<double>()[i] - want) <= 1e-14 * std::max(1.0, std::abs(want)));
        }
    }

    void zeroGradientOps()
    {
        // Sign, Floor, Ceil, Round: differentiable with a zero gradient (the chain continues).
        Rng rng(3);
        Tensor x = randomTensor({6}, rng, 0.1f, 0.4f);
        for (const char *op : {"Sign", "Floor", "Ceil", "Round"}) {
            Node n{"z", op, {}, {}, {}};
            const auto r = gradCheck(n, {x}, {0});
            QCOMPARE(r.checked, 6);
            QCOMPARE(r.maxError, 0.0);
        }
    }

    void roundHalfToEven()
    {
        const Tensor x = Tensor::fromVector({10}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 2.4999f, 2.5001f, 1e9f, -0.2f});
        Node n{"r", "Round", {}, {}, {}};
        const Tensor y = runNode(n, {x});
        const std::vector<float> want{0.0f, 2.0f, 2.0f, 0.0f, -2.0f, -2.0f, 2.0f, 3.0f, 1e9f, 0.0f};
        for (int i = 0; i < 10; ++i)
            QCOMPARE(y.data()[i], want[static_cast<size_t>(i)]);
        const Tensor inf = Tensor::fromVector({2}, {std::numeric_limits<float>::infinity(), std::nanf("")});
        const Tensor yi = runNode(n, {inf});
        QVERIFY(std::isinf(yi.data()[0]));
        QVERIFY(std::isnan(yi.data()[1]));
    }

    void integerForms()
    {
        const int32_t minInt = std::numeric_limits<int32_t>::min();
        const Tensor xi = typed<int32_t>({5}, DType::Int32, {-7, 0, 3, minInt, 100});
        Node neg{"neg", "Neg", {}, {}, {}}, abs{"abs", "Abs", {}, {}, {}}, sign{"sign", "Sign", {}, {}, {}};
        const Tensor yn = runNode(neg, {xi}), ya = runNode(abs, {xi}), ys = runNode(sign, {xi});
        QCOMPARE(yn.dtype(), DType::Int32);
        QCOMPARE(ya.dtype(), DType::Int32);
        QCOMPARE(ys.dtype(), DType::Int32);
        const std::vector<int32_t> wantNeg{7, 0, -3, minInt, -100}, wantAbs{7, 0, 3, minInt, 100}, wantSign{-1, 0, 1, -1, 1};
        for (int i = 0; i < 5; ++i) {
            QCOMPARE(yn.dataAs<int32_t>()[i], wantNeg[static_cast<size_t>(i)]); // INT_MIN wraps, as two's complement
            QCOMPARE(ya.dataAs<int32_t>()[i], wantAbs[static_cast<size_t>(i)]);
            QCOMPARE(ys.dataAs<int32_t>()[i], wantSign[static_cast<size_t>(i)]);
        }
        const Tensor xu = typed<uint8_t>({3}, DType::UInt8, {0, 5, 255});
        const Tensor yau = runNode(abs, {xu}), ysu = runNode(sign, {xu});
        QCOMPARE(yau.dtype(), DType::UInt8);
        QCOMPARE(yau.dataAs<uint8_t>()[2], uint8_t(255));
        QCOMPARE(ysu.dataAs<uint8_t>()[0], uint8_t(0));
        QCOMPARE(ysu.dataAs<uint8_t>()[2], uint8_t(1));
        const Tensor xl = typed<int64_t>({3}, DType::Int64, {-5, 0, 9});
        const Tensor ynl = runNode(neg, {xl});
        QCOMPARE(ynl.dtype(), DType::Int64);
        QCOMPARE(ynl.dataAs<int64_t>()[0], int64_t(5));
        QCOMPARE(ynl.dataAs<int64_t>()[2], int64_t(-9));
        Node erf{"erf", "Erf", {}, {}, {}};
        const Tensor ye = runNode(erf, {xl}); // erf in double, truncated toward zero
        QCOMPARE(ye.dtype(), DType::Int64);
        QCOMPARE(ye.dataAs<int64_t>()[0], static_cast<int64_t>(std::erf(-5.0)));
        QCOMPARE(ye.dataAs<int64_t>()[1], int64_t(0));
        QCOMPARE(ye.dataAs<int64_t>()[2], static_cast<int64_t>(std::erf(9.0)));
    }

    void logicalAndPredicates()
    {
        Node notNode{"not", "Not", {}, {}, {}};
        const Tensor b = typed<uint8_t>({3}, DType::Bool, {1, 0, 1});
        const Tensor nb = runNode(notNode, {b});
        QCOMPARE(nb.dtype(), DType::Bool);
        QCOMPARE(nb.dataAs<uint8_t>()[0], uint8_t(0));
        QCOMPARE(nb.dataAs<uint8_t>()[1], uint8_t(1));

        const float inf = std::numeric_limits<float>::infinity();
        const Tensor x = Tensor::fromVector({5}, {-1.5f, std::nanf(""), inf, -inf, 0.0f});
        Node isnan{"isnan", "IsNaN", {}, {}, {}};
        const Tensor yn = runNode(isnan, {x});
        QCOMPARE(yn.dtype(), DType::Bool);
        const std::vector<uint8_t> wantNan{0, 1, 0, 0, 0};
        for (int i = 0; i < 5; ++i)
            QCOMPARE(yn.dataAs<uint8_t>()[i], wantNan[static_cast<size_t>(i)]);

        const std::vector<std::pair<std::pair<int64_t, int64_t>, std::vector<uint8_t>>> cases{
            {{1, 1}, {0, 0, 1, 1, 0}}, {{0, 1}, {0, 0, 1, 0, 0}}, {{1, 0}, {0, 0, 0, 1, 0}}, {{0, 0}, {0, 0, 0, 0, 0}}};
        for (const auto &[flags, want] : cases) {
            Node isinf{"isinf", "IsInf", {}, {}, {{"detect_negative", flags.first}, {"detect_positive", flags.second}}};
            const Tensor yi = runNode(isinf, {x});
            QCOMPARE(yi.dtype(), DType::Bool);
            for (int i = 0; i < 5; ++i)
                QCOMPARE(yi.dataAs<uint8_t>()[i], want[static_cast<size_t>(i)]);
        }
    }

    void unsupportedTypeNamesTheNode()
    {
        Node n{"root_of_ints", "Sqrt", {}, {}, {}};
        try {
            runNode(n, {typed<int32_t>({2}, DType::Int32, {4, 9})});
            QFAIL("Sqrt accepted int32");
        } catch (const Error &e) {
            const QString m = QString::fromUtf8(e.what());
            QVERIFY2(m.contains("root_of_ints") && m.contains("int32"), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(UnaryMathTest)
#include "unary_math_test.moc"
