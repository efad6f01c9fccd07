// SPDX-License-Identifier: Apache-2.0
// ops/vector_math.h against double precision: every 4099th float bit pattern (about a million
// values spread over the whole range, both signs, subnormals included) and the edges where each
// function changes formula or saturates; NaN stays NaN, the infinities give the limits.
#include "ops/vector_math.h"

#include <QtTest>

#include <bit>
#include <cmath>

using namespace netwright;

class VectorMathTest : public QObject {
    Q_OBJECT

    template <typename F, typename G>
    static void sweep(const char *name, F ours, G reference, double relBound, double absBound, double minMagnitude)
    {
        double worstRel = 0, worstAbs = 0;
        int overflowsWrong = 0;
        float worstX = 0;
        auto visit = [&](float x) {
            if (!std::isfinite(x))
                return;
            const double want = reference(static_cast<double>(x));
            const double got = ours(x);
            if (std::abs(want) > 3.4028234663852886e38) { // beyond float: must be the infinity
                overflowsWrong += std::isinf(got) && (got > 0) == (want > 0) ? 0 : 1;
                return;
            }
            const double err = std::abs(got - want);
            if (std::abs(want) <= 1.0 && err > worstAbs) // absolute where the values are at most 1
                worstAbs = err;
            if (std::abs(want) >= minMagnitude && err / std::abs(want) > worstRel) {
                worstRel = err / std::abs(want);
                worstX = x;
            }
        };
        for (uint64_t b = 0; b <= 0xFFFFFFFFull; b += 4099)
            visit(std::bit_cast<float>(static_cast<uint32_t>(b)));
        for (float x : {0.0f, -0.0f, 0.0625f, -0.0625f, 0.5f, -0.5f, 4.0f, -4.0f, 87.3f, -87.3f, -87.33654f, 88.72f, 88.7228f, 17.0f, -17.0f})
            for (float y = x, k = 0; k < 8; ++k, y = std::nextafter(y, 1e30f))
                visit(y);
        qInfo("%s: worst relative error %.3g (at %g), worst absolute %.3g", name, worstRel, static_cast<double>(worstX), worstAbs);
        QCOMPARE(overflowsWrong, 0);
        QVERIFY2(worstRel <= relBound, name);
        QVERIFY2(worstAbs <= absBound, name);
    }

private slots:
    void exp()
    {
        // Relative over the normal results (e^x ≥ FLT_MIN), below them 0.
        sweep("exp", [](float x) { return vm::exp(x); }, [](double x) { return std::exp(x); }, 3e-7, 1e-7, 1.1754944e-38);
        QCOMPARE(vm::exp(-100.0f), 0.0f);
        QVERIFY(std::isinf(vm::exp(89.0f)));
        QVERIFY(std::isfinite(vm::exp(88.72f)));
        QCOMPARE(vm::exp(0.0f), 1.0f);
    }

    void sigmoid()
    {
        sweep("sigmoid", [](float x) { return vm::sigmoid(x); }, [](double x) { return 1.0 / (1.0 + std::exp(-x)); }, 3e-7, 1e-7, 1e-37);
        QCOMPARE(vm::sigmoid(-1000.0f), 0.0f);
        QCOMPARE(vm::sigmoid(1000.0f), 1.0f);
    }

    void tanh()
    {
        sweep("tanh", [](float x) { return vm::tanh(x); }, [](double x) { return std::tanh(x); }, 6e-7, 1e-7, 1e-30);
        QCOMPARE(vm::tanh(-50.0f), -1.0f);
        QCOMPARE(vm::tanh(50.0f), 1.0f);
    }

    void erf()
    {
        // Relative where |erf| ≥ 1e-30 (subnormal arguments round coarsely in any float code).
        sweep("erf", [](float x) { return vm::erf(x); }, [](double x) { return std::erf(x); }, 1e-6, 4e-7, 1e-30);
        QCOMPARE(vm::erf(10.0f), 1.0f);
        QCOMPARE(vm::erf(-10.0f), -1.0f);
    }

    void nanAndInfinities()
    {
        const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
        QVERIFY(std::isnan(vm::exp(nan)) && std::isnan(vm::sigmoid(nan)) && std::isnan(vm::tanh(nan)) && std::isnan(vm::erf(nan)));
        QVERIFY(std::isinf(vm::exp(inf)));
        QCOMPARE(vm::exp(-inf), 0.0f);
        QCOMPARE(vm::sigmoid(inf), 1.0f);
        QCOMPARE(vm::sigmoid(-inf), 0.0f);
        QCOMPARE(vm::tanh(inf), 1.0f);
        QCOMPARE(vm::tanh(-inf), -1.0f);
        QCOMPARE(vm::erf(inf), 1.0f);
        QCOMPARE(vm::erf(-inf), -1.0f);
    }
};

QTEST_GUILESS_MAIN(VectorMathTest)
#include "vector_math_test.moc"
