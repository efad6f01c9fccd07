// SPDX-License-Identifier: Apache-2.0
// bf16 mixed precision in blas::gemm (core/blas.h): inside a PrecisionScope(Bf16) every shape the
// kernels use (transposes, leading dimensions, alpha, beta) that runsInBf16 matches a double-precision
// reference within bf16's tolerance, and is measurably less exact than fp32 — proof that bf16 ran;
// the rest give fp32's bits. The
// rounding to bf16 is round-to-nearest-even; the scope ends with its block and reaches the
// threads of parallelFor. Skipped, with the reason, on a CPU without AVX512-BF16 or AMX.
#include "core/blas.h"
#include "core/cpu_level.h"
#include "support/bf16_skip.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"

#include <QCoreApplication>
#include <QTest>

#include <string>

#include <cmath>
#include <cstring>
#include <vector>

using namespace netwright;

namespace {

struct Case {
    bool ta, tb;
    int64_t M, N, K, lda, ldb, ldc;
    float alpha, beta;
};

float bits(uint16_t h)
{
    const uint32_t u = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

// Largest |C - Cref| / (|alpha| * sum_k |a||b| + |beta C0|): the error relative to the products'
// magnitude, which is what input rounding bounds (bf16: 2^-8 per factor).
double relativeError(const Case &c, const std::vector<float> &A, const std::vector<float> &B, const std::vector<float> &C0,
                     const std::vector<float> &C)
{
    double worst = 0.0;
    for (int64_t i = 0; i < c.M; ++i)
        for (int64_t j = 0; j < c.N; ++j) {
            double s = 0.0, mag = 0.0;
            for (int64_t k = 0; k < c.K; ++k) {
                const double a = c.ta ? A[k * c.lda + i] : A[i * c.lda + k];
                const double b = c.tb ? B[j * c.ldb + k] : B[k * c.ldb + j];
                s += a * b;
                mag += std::abs(a * b);
            }
            const double c0 = C0[i * c.ldc + j];
            const double ref = c.alpha * s + c.beta * c0;
            const double scale = std::abs(c.alpha) * mag + std::abs(c.beta * c0) + 1e-30;
            worst = std::max(worst, std::abs(C[i * c.ldc + j] - ref) / scale);
        }
    return worst;
}

// The precision each of 64 parallelFor iterations saw (as ints), over the worker threads.
std::vector<int> precisionOnWorkers()
{
    std::vector<int> seen(64, -1);
    parallelFor(64, [&](int64_t b, int64_t e, int) {
        for (int64_t i = b; i < e; ++i)
            seen[static_cast<size_t>(i)] = static_cast<int>(blas::precision());
    });
    return seen;
}

} // namespace

class BlasBf16Test : public QObject {
    Q_OBJECT

private slots:
    void roundsToNearestEven()
    {
        // 1 + 2^-8 lies halfway between bf16's 1 and 1 + 2^-7: ties go to the even one (1);
        // 1 + 3·2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: to 1 + 2^-6.
        const std::vector<float> in{1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f, 1.0f + 0x1p-8f + 0x1p-20f, -2.5f, 0.0f, 65504.0f, 3.0e38f};
        std::vector<uint16_t> out(in.size());
        blas::toBf16(in.data(), out.data(), static_cast<int64_t>(in.size()));
        QCOMPARE(bits(out[0]), 1.0f);
        QCOMPARE(bits(out[1]), 1.0f + 0x1p-6f);
        QCOMPARE(bits(out[2]), 1.0f + 0x1p-7f);
        QCOMPARE(bits(out[3]), -2.5f);
        QCOMPARE(bits(out[4]), 0.0f);
        QCOMPARE(bits(out[5]), 65536.0f);
        QVERIFY(std::isfinite(bits(out[6])));
        // A long run (the vector loop and its tail) agrees with the rounding of each value alone.
        Rng rng(7);
        std::vector<float> many(1000);
        for (float &f : many)
            f = rng.normal() * 100.0f;
        std::vector<uint16_t> all(many.size()), one(1);
        blas::toBf16(many.data(), all.data(), static_cast<int64_t>(many.size()));
        for (size_t i = 0; i < many.size(); ++i) {
            blas::toBf16(&many[i], one.data(), 1);
            QCOMPARE(all[i], one[0]);
            QVERIFY(std::abs(bits(all[i]) - many[i]) <= std::abs(many[i]) * 0x1p-8f);
        }
    }

    void gemmMatchesDoubleReference_data()
    {
        QTest::addColumn<int>("index");
        const char *names[] = {"NN", "NT", "TN", "TT", "NN ld>cols", "alpha 0.5 beta 1", "beta 0.25 TN", "dense layer 64x784x128",
                               "conv 32x784x288 NT", "tall thin 1x300x7", "wide NN 256x320x24", "wide NT 256x320x24",
                               "wide TN 320x256x24", "wide TT 256x320x24", "wide NN ld>cols alpha 0.5 beta 1",
                               "wide TN beta 0.25", "conv 256x784x72 NT", "threaded conversion NT ld>cols 1024x512x128",
                               "long inner NT 64x128x3136 beta 1"};
        for (int i = 0; i < 19; ++i)
            QTest::newRow(names[i]) << i;
    }

    // Each product runs where runsInBf16 says: in bf16 (within bf16's tolerance of a double
    // reference, and measurably less exact than fp32 — proof that bf16 ran), or else in fp32
    // (the same bits as outside the scope). The wide cases run in bf16 on every bf16 CPU.
    void gemmMatchesDoubleReference()
    {
        QFETCH(int, index);
        const Case cases[] = {
            {false, false, 13, 17, 19, 19, 17, 17, 1.0f, 0.0f},       {false, true, 13, 17, 19, 19, 19, 17, 1.0f, 0.0f},
            {true, false, 13, 17, 19, 13, 17, 17, 1.0f, 0.0f},        {true, true, 13, 17, 19, 13, 19, 17, 1.0f, 0.0f},
            {false, false, 9, 11, 33, 40, 15, 20, 1.0f, 0.0f},        {false, false, 16, 24, 48, 48, 24, 24, 0.5f, 1.0f},
            {true, false, 20, 30, 10, 20, 30, 30, 1.0f, 0.25f},       {false, false, 64, 128, 784, 784, 128, 128, 1.0f, 0.0f},
            {false, true, 32, 784, 288, 288, 288, 784, 1.0f, 1.0f},   {false, false, 1, 300, 7, 7, 300, 300, 1.0f, 0.0f},
            {false, false, 256, 320, 24, 24, 320, 320, 1.0f, 0.0f},   {false, true, 256, 320, 24, 24, 24, 320, 1.0f, 0.0f},
            {true, false, 320, 256, 24, 320, 256, 256, 1.0f, 0.0f},   {true, true, 256, 320, 24, 256, 24, 320, 1.0f, 0.0f},
            {false, false, 256, 320, 24, 30, 333, 340, 0.5f, 1.0f},   {true, false, 256, 320, 24, 260, 320, 320, 1.0f, 0.25f},
            {false, true, 256, 784, 72, 72, 72, 784, 1.0f, 1.0f},     {false, true, 1024, 512, 128, 136, 136, 512, 1.0f, 0.0f},
            {false, true, 64, 128, 3136, 3136, 3136, 128, 1.0f, 1.0f},
        };
        const Case &c = cases[index];
        const bool wide = index >= 10;
        const bool inBf16 = blas::runsInBf16(c.M, c.N, c.K, c.ta);
        if (wide)
            QVERIFY2(inBf16, "a product with M·N/(M+N) ≥ 128, or a long inner dimension, runs in bf16");
        Rng rng(100 + static_cast<uint64_t>(index));
        auto fill = [&rng](int64_t n) {
            std::vector<float> v(static_cast<size_t>(n));
            for (float &f : v)
                f = rng.normal();
            return v;
        };
        const std::vector<float> A = fill((c.ta ? c.K : c.M) * c.lda), B = fill((c.tb ? c.N : c.K) * c.ldb), C0 = fill(c.M * c.ldc);
        std::vector<float> fp32 = C0, bf16 = C0;
        blas::gemm(c.ta, c.tb, c.M, c.N, c.K, c.alpha, A.data(), c.lda, B.data(), c.ldb, c.beta, fp32.data(), c.ldc);
        {
            const blas::PrecisionScope scope(blas::Precision::Bf16);
            blas::gemm(c.ta, c.tb, c.M, c.N, c.K, c.alpha, A.data(), c.lda, B.data(), c.ldb, c.beta, bf16.data(), c.ldc);
        }
        if (inBf16) {
            const double e32 = relativeError(c, A, B, C0, fp32), e16 = relativeError(c, A, B, C0, bf16);
            qInfo("bf16 ran; relative error: fp32 %.2e, bf16 %.2e", e32, e16);
            QVERIFY2(e16 <= 2 * 0x1p-8, qPrintable(QString::number(e16))); // two inputs rounded, fp32 sums
            QVERIFY2(e16 > 10 * e32, qPrintable(QStringLiteral("bf16 %1 vs fp32 %2: bf16 did not run").arg(e16).arg(e32)));
        } else {
            qInfo("runs in fp32 on this CPU (M·N/(M+N) = %.1f)", double(c.M) * double(c.N) / double(c.M + c.N));
            QVERIFY(bf16 == fp32);
        }
        // Outside the leading dimension C is untouched.
        for (int64_t i = 0; i < c.M; ++i)
            for (int64_t j = c.N; j < c.ldc; ++j)
                QCOMPARE(bf16[i * c.ldc + j], C0[i * c.ldc + j]);
        // Deterministic: the same call again gives the same bits.
        std::vector<float> again = C0;
        {
            const blas::PrecisionScope scope(blas::Precision::Bf16);
            blas::gemm(c.ta, c.tb, c.M, c.N, c.K, c.alpha, A.data(), c.lda, B.data(), c.ldb, c.beta, again.data(), c.ldc);
        }
        QVERIFY(again == bf16);
    }

    void bf16OnlyWhereItPays()
    {
        if (cpu::activeLevel() >= cpu::Level::Amx) {
            QVERIFY(blas::runsInBf16(13, 17, 19, false)); // AMX: every product
            QVERIFY(blas::runsInBf16(13, 17, 19, true));
            return;
        }
        QVERIFY(blas::runsInBf16(2176, 256, 64, false));  // a transformer's feed-forward layer
        QVERIFY(blas::runsInBf16(8192, 256, 256, false));
        QVERIFY(!blas::runsInBf16(64, 256, 2176, true));  // its weight gradient (A = the input, transposed)
        QVERIFY(!blas::runsInBf16(17, 17, 16, false));    // one attention head
        QVERIFY(blas::runsInBf16(2176, 64, 256, false));  // a 64-wide output over many rows
        QVERIFY(!blas::runsInBf16(512, 64, 64, false));   // ... over few
        QVERIFY(!blas::runsInBf16(2048, 32, 64, false));  // a 32-wide output
        QVERIFY(!blas::runsInBf16(64, 3136, 128, false)); // a wide data gradient of 64 rows
        QVERIFY(blas::runsInBf16(64, 128, 3136, false));  // cnn-small's fc1 forward: a long inner dimension
        QVERIFY(!blas::runsInBf16(128, 3136, 64, true));  // its weight gradient
        QVERIFY(!blas::runsInBf16(64, 10, 3136, false));  // ... but not into 10 outputs
        QVERIFY(blas::runsInBf16(64, 576, 1024, false));  // ConvTranspose's per-image weight gradient, A its input
        QVERIFY(!blas::runsInBf16(64, 576, 1024, true));  // the same read transposed
    }

    void scopeEndsWithItsBlockAndReachesWorkers()
    {
        QCOMPARE(blas::precision(), blas::Precision::Fp32);
        {
            const blas::PrecisionScope scope(blas::Precision::Bf16);
            QCOMPARE(blas::precision(), blas::Precision::Bf16);
            setThreadCount(2);
            for (int s : precisionOnWorkers())
                QCOMPARE(s, static_cast<int>(blas::Precision::Bf16));
            {
                const blas::PrecisionScope inner(blas::Precision::Fp32);
                QCOMPARE(blas::precision(), blas::Precision::Fp32);
            }
            QCOMPARE(blas::precision(), blas::Precision::Bf16);
        }
        QCOMPARE(blas::precision(), blas::Precision::Fp32);
        for (int s : precisionOnWorkers())
            QCOMPARE(s, static_cast<int>(blas::Precision::Fp32));
    }
};

// Without bf16 on this CPU (or under a NETWRIGHT_CPU_LEVEL cap below it) nothing here can run: the
// test says why and exits 77, which ctest reports as "Skipped" — never as passed.
int main(int argc, char **argv)
{
    if (!cpu::hasBf16())
        return netwright::test::skipWithoutBf16("bf16 cannot run");
    QCoreApplication app(argc, argv);
    BlasBf16Test test;
    return QTest::qExec(&test, argc, argv);
}
#include "blas_bf16_test.moc"
