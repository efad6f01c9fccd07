// SPDX-License-Identifier: Apache-2.0
// Gemm: forward against a triple loop for every transA/transB, alpha/beta and C broadcast;
// gradients of A, B and C by finite differences.
#include "engine/ops/gradcheck.h"

#include "core/blas.h"
#include "core/error.h"
#include "core/parallel.h"

#include <QTest>

using namespace netwright;
using namespace netwright::testing;

class GemmTest : public QObject {
    Q_OBJECT
private slots:
    void forwardAndGradients_data()
    {
        QTest::addColumn<int>("ta");
        QTest::addColumn<int>("tb");
        QTest::addColumn<QString>("cShape");
        QTest::addColumn<float>("alpha");
        QTest::addColumn<float>("beta");
        QTest::newRow("plain, bias [N]") << 0 << 0 << "N" << 1.0f << 1.0f;
        QTest::newRow("transB, bias [N]") << 0 << 1 << "N" << 1.0f << 1.0f;
        QTest::newRow("transA, C [M,N]") << 1 << 0 << "MN" << 0.5f << 2.0f;
        QTest::newRow("both, C [M,1]") << 1 << 1 << "M1" << 1.5f << -1.0f;
        QTest::newRow("no C") << 0 << 1 << "" << 1.0f << 1.0f;
        QTest::newRow("scalar C") << 0 << 0 << "1" << 1.0f << 0.5f;
    }
    void forwardAndGradients()
    {
        QFETCH(int, ta);
        QFETCH(int, tb);
        QFETCH(QString, cShape);
        QFETCH(float, alpha);
        QFETCH(float, beta);
        setThreadCount(2);
        const int64_t M = 5, K = 7, N = 4;
        Rng rng(3);
        Tensor A = randomTensor(ta ? Shape{K, M} : Shape{M, K}, rng), B = randomTensor(tb ? Shape{N, K} : Shape{K, N}, rng);
        Tensor C;
        if (cShape == "N") C = randomTensor({N}, rng);
        if (cShape == "MN") C = randomTensor({M, N}, rng);
        if (cShape == "M1") C = randomTensor({M, 1}, rng);
        if (cShape == "1") C = randomTensor({}, rng);
        Node n{"fc", "Gemm", {}, {}, {{"transA", int64_t(ta)}, {"transB", int64_t(tb)}, {"alpha", alpha}, {"beta", beta}}};
        const Tensor y = runNode(n, {A, B, C});
        QCOMPARE(y.shape(), (Shape{M, N}));
        for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < N; ++j) {
                double s = 0;
                for (int64_t k = 0; k < K; ++k)
                    s += (ta ? A.data()[k * M + i] : A.data()[i * K + k]) * (tb ? B.data()[j * K + k] : B.data()[k * N + j]);
                s *= alpha;
                if (C.defined()) {
                    const int64_t ci = C.rank() == 2 && C.dim(0) == M ? i : 0;
                    const int64_t cj = C.rank() >= 1 && C.dim(-1) == N ? j : 0;
                    s += beta * C.data()[ci * (C.rank() >= 1 ? C.dim(-1) : 1) + cj];
                }
                QVERIFY(std::abs(s - y.data()[i * N + j]) < 1e-4);
            }
        std::set<size_t> wrt{0, 1};
        if (C.defined())
            wrt.insert(2);
        NW_GRADCHECK(n, (std::vector<Tensor>{A, B, C}), wrt);
    }

    void largeGemmSplitsAcrossThreadsDeterministically()
    {
        // Big enough to take the threaded path: 1 and 2 threads must agree with the reference.
        Rng rng(5);
        const Tensor A = randomTensor({96, 130}, rng), B = randomTensor({130, 200}, rng);
        Node n{"fc", "Gemm", {}, {}, {}};
        setThreadCount(1);
        const Tensor y1 = runNode(n, {A, B, Tensor()});
        setThreadCount(2);
        const Tensor y2 = runNode(n, {A, B, Tensor()});
        const Tensor y2b = runNode(n, {A, B, Tensor()});
        QCOMPARE(maxAbsDiff(y2, y2b), 0.0);
        QVERIFY(maxAbsDiff(y1, y2) < 1e-4);
        double s = 0;
        for (int k = 0; k < 130; ++k)
            s += A.data()[17 * 130 + k] * B.data()[k * 200 + 123];
        QVERIFY(std::abs(s - y2.data()[17 * 200 + 123]) < 1e-4);
    }

    void innerDimensionMismatchIsAnError()
    {
        Rng rng(1);
        Node n{"fc1", "Gemm", {}, {}, {{"transB", int64_t(1)}}};
        QVERIFY_THROWS_EXCEPTION(Error, runNode(n, {randomTensor({2, 5}, rng), randomTensor({3, 4}, rng), Tensor()}));
    }

    // The one matrix multiply every kernel uses (oneDNN's sgemm at the CPU's level, or its matmul
    // primitive for A·Bᵀ over a long inner dimension), against a double-precision loop: every
    // transpose, strided operands, alpha and beta, and beta == 0 over a C full of NaN (which must
    // not leak into the result), on 1 and 2 threads.
    void blasGemmAgainstReference()
    {
        QVERIFY(blas::fp32ByMatmulPrimitive(false, true, 19, 37, 520)); // the primitive's path is among these
        QVERIFY(!blas::fp32ByMatmulPrimitive(true, true, 19, 37, 520) && !blas::fp32ByMatmulPrimitive(false, false, 19, 37, 520));
        Rng rng(11);
        for (int threads : {1, 2})
            for (int ta = 0; ta < 2; ++ta)
                for (int tb = 0; tb < 2; ++tb)
                    for (const auto &[M, N, K] : {std::tuple<int64_t, int64_t, int64_t>{37, 53, 71}, {64, 784, 288}, {3, 5, 1}, {1, 300, 9}, {19, 37, 520}}) {
                        setThreadCount(threads);
                        const int64_t lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 2, ldc = N + 5;
                        const Tensor A = randomTensor({ta ? K : M, lda}, rng), B = randomTensor({tb ? N : K, ldb}, rng);
                        for (const float beta : {0.0f, 0.5f}) {
                            Tensor C = randomTensor({M, ldc}, rng);
                            if (beta == 0.0f)
                                std::fill(C.data(), C.data() + C.numel(), std::nanf(""));
                            const Tensor C0 = C.clone();
                            blas::gemm(ta, tb, M, N, K, 0.75f, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
                            double worst = 0.0;
                            for (int64_t i = 0; i < M; ++i)
                                for (int64_t j = 0; j < N; ++j) {
                                    double s = 0.0;
                                    for (int64_t k = 0; k < K; ++k)
                                        s += double(ta ? A.data()[k * lda + i] : A.data()[i * lda + k]) * double(tb ? B.data()[j * ldb + k] : B.data()[k * ldb + j]);
                                    const double want = 0.75 * s + (beta == 0.0f ? 0.0 : beta * double(C0.data()[i * ldc + j]));
                                    worst = std::max(worst, std::abs(double(C.data()[i * ldc + j]) - want));
                                }
                            QVERIFY2(worst < 1e-4, qPrintable(QStringLiteral("%1x%2x%3 ta %4 tb %5 beta %6 threads %7: off by %8")
                                                                 .arg(M).arg(N).arg(K).arg(ta).arg(tb).arg(beta).arg(threads).arg(worst)));
                            for (int64_t i = 0; i < M; ++i) // the padding between rows is not written
                                for (int64_t j = N; j < ldc; ++j)
                                    QVERIFY(std::memcmp(&C.data()[i * ldc + j], &C0.data()[i * ldc + j], sizeof(float)) == 0);
                        }
                    }
        setThreadCount(2);
        // K == 0: C = beta * C, and beta == 0 clears it.
        float c[4] = {1.0f, 2.0f, std::nanf(""), 4.0f};
        blas::gemm(false, false, 2, 2, 0, 1.0f, nullptr, 1, nullptr, 2, 0.5f, c, 2);
        QCOMPARE(c[1], 1.0f);
        blas::gemm(false, false, 2, 2, 0, 1.0f, nullptr, 1, nullptr, 2, 0.0f, c, 2);
        QCOMPARE(c[2], 0.0f);
    }
};

QTEST_GUILESS_MAIN(GemmTest)
#include "gemm_test.moc"
