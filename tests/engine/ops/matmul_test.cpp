// SPDX-License-Identifier: Apache-2.0
// MatMul: numpy semantics (2-D, batched, broadcast batch dims of size 1, 1-D promotion on
// either side, [B,S,D]×[D,E] as one GEMM, attention's [B,H,S,D]×[B,H,D,T]) against a direct
// loop; gradients by finite differences, broadcast batch dims included; many small batches in
// parallel give the same bits as one thread; the batched GEMM on strided operands; int64/double forward; MatMulInteger; an error.
#include "engine/ops/gradcheck.h"

#include "core/blas.h"
#include "core/cpu_level.h"
#include "core/small_gemm_isa.h"
#include "core/error.h"
#include "core/parallel.h"
#include "ops/op.h"

#include <QTest>

#include <algorithm>
#include <cstring>

using namespace netwright;
using namespace netwright::testing;

namespace {

Shape parse(const QString &s)
{
    Shape r;
    for (const auto &p : s.split(',', Qt::SkipEmptyParts))
        r.push_back(p.toLongLong());
    return r;
}

// numpy.matmul by its definition, in double.
std::vector<double> reference(const Tensor &A, const Tensor &B)
{
    Shape sa = A.shape(), sb = B.shape();
    if (sa.size() == 1)
        sa.insert(sa.begin(), 1);
    if (sb.size() == 1)
        sb.push_back(1);
    const int64_t M = sa[sa.size() - 2], K = sa.back(), N = sb.back();
    const size_t r = std::max(sa.size(), sb.size()) - 2;
    Shape ba(r, 1), bb(r, 1), batch(r);
    for (size_t i = 0; i < sa.size() - 2; ++i)
        ba[r - (sa.size() - 2) + i] = sa[i];
    for (size_t i = 0; i < sb.size() - 2; ++i)
        bb[r - (sb.size() - 2) + i] = sb[i];
    int64_t batches = 1;
    for (size_t i = 0; i < r; ++i)
        batches *= (batch[i] = std::max(ba[i], bb[i]));
    std::vector<double> y;
    for (int64_t bi = 0; bi < batches; ++bi) {
        int64_t rest = bi, oa = 0, ob = 0, stA = 1, stB = 1;
        for (int d = static_cast<int>(r) - 1; d >= 0; --d) {
            const int64_t idx = rest % batch[d];
            rest /= batch[d];
            oa += (ba[d] == 1 ? 0 : idx) * stA;
            ob += (bb[d] == 1 ? 0 : idx) * stB;
            stA *= ba[d];
            stB *= bb[d];
        }
        for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < N; ++j) {
                double s = 0;
                for (int64_t k = 0; k < K; ++k)
                    s += double(A.data()[oa * M * K + i * K + k]) * B.data()[ob * K * N + k * N + j];
                y.push_back(s);
            }
    }
    return y;
}

Node matmul()
{
    return Node{"mm", "MatMul", {}, {}, {}};
}

} // namespace

class MatMulTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { setThreadCount(2); }

    void shapesAndValues_data()
    {
        QTest::addColumn<QString>("a");
        QTest::addColumn<QString>("b");
        QTest::addColumn<QString>("out");
        QTest::newRow("2d") << "3,4" << "4,5" << "3,5";
        QTest::newRow("batched") << "2,3,4" << "2,4,5" << "2,3,5";
        QTest::newRow("[B,S,D]x[D,E]: one GEMM") << "2,3,4" << "4,5" << "2,3,5";
        QTest::newRow("[D,E]x[B,E,F]") << "3,4" << "2,4,5" << "2,3,5";
        QTest::newRow("broadcast A batch") << "1,3,4" << "2,4,2" << "2,3,2";
        QTest::newRow("broadcast both batch dims") << "2,1,3,4" << "1,3,4,2" << "2,3,3,2";
        QTest::newRow("attention [B,H,S,D]x[B,H,D,T]") << "2,3,4,5" << "2,3,5,4" << "2,3,4,4";
        QTest::newRow("vector x matrix") << "4" << "4,3" << "3";
        QTest::newRow("matrix x vector") << "3,4" << "4" << "3";
        QTest::newRow("vector x batch") << "4" << "2,4,3" << "2,3";
        QTest::newRow("batch x vector") << "2,3,4" << "4" << "2,3";
        QTest::newRow("vector x vector") << "4" << "4" << "";
    }
    void shapesAndValues()
    {
        QFETCH(QString, a);
        QFETCH(QString, b);
        QFETCH(QString, out);
        Rng rng(21);
        const Tensor A = randomTensor(parse(a), rng), B = randomTensor(parse(b), rng);
        const Tensor y = runNode(matmul(), {A, B});
        QCOMPARE(y.shape(), parse(out));
        const auto want = reference(A, B);
        QCOMPARE(y.numel(), static_cast<int64_t>(want.size()));
        for (int64_t i = 0; i < y.numel(); ++i)
            QVERIFY2(std::abs(want[i] - y.data()[i]) < 1e-5, qPrintable(QString::number(i)));
        NW_GRADCHECK(matmul(), (std::vector<Tensor>{A, B}), (std::set<size_t>{0, 1}));
    }

    void manySmallBatchesMatchOneThread()
    {
        // Attention-like: many small matrices run parallel over batches; the broadcast operand's
        // gradient sums its batches per target. Same bits with one thread and with two.
        Rng rng(4);
        const Tensor A = randomTensor({4, 8, 16, 8}, rng), B = randomTensor({1, 8, 8, 16}, rng);
        setThreadCount(1);
        const Tensor y1 = runNode(matmul(), {A, B});
        setThreadCount(2);
        const Tensor y2 = runNode(matmul(), {A, B});
        QCOMPARE(maxAbsDiff(y1, y2), 0.0);
        const auto want = reference(A, B);
        for (int64_t i = 0; i < y2.numel(); ++i)
            QVERIFY(std::abs(want[i] - y2.data()[i]) < 1e-4);
        const Tensor sa = randomTensor({2, 2, 3, 2}, rng), sb = randomTensor({1, 2, 2, 3}, rng);
        NW_GRADCHECK(matmul(), (std::vector<Tensor>{sa, sb}), (std::set<size_t>{0, 1}));
    }

    void integerAndDouble()
    {
        Node n = matmul();
        n.inputs = {"a", "b"};
        n.outputs = {"y"};
        const Tensor a = Tensor::fromInt64({2, 2}, {1, 2, 3, 4}), b = Tensor::fromInt64({2}, {5, -6});
        auto y = evaluateNode(n, {&a, &b});
        QCOMPARE(y[0].dtype(), DType::Int64);
        QCOMPARE(y[0].shape(), (Shape{2}));
        QCOMPARE(y[0].dataAs<int64_t>()[0], int64_t(5 - 12));
        QCOMPARE(y[0].dataAs<int64_t>()[1], int64_t(15 - 24));
        Tensor da(Shape{1, 2}, DType::Float64), db(Shape{2, 1}, DType::Float64);
        da.dataAs<double>()[0] = 0.5;
        da.dataAs<double>()[1] = 1e-9;
        db.dataAs<double>()[0] = 2.0;
        db.dataAs<double>()[1] = 3.0;
        y = evaluateNode(n, {&da, &db});
        QCOMPARE(y[0].dtype(), DType::Float64);
        QCOMPARE(y[0].dataAs<double>()[0], 1.0 + 3e-9);
    }

    void matMulInteger()
    {
        // ONNX's example: uint8 with zero points 12 and 0.
        Tensor a(Shape{4, 3}, DType::UInt8), b(Shape{3, 2}, DType::UInt8), za(Shape{}, DType::UInt8), zb(Shape{}, DType::UInt8);
        const uint8_t av[] = {11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0}, bv[] = {1, 4, 2, 5, 3, 6};
        std::memcpy(a.raw(), av, sizeof av);
        std::memcpy(b.raw(), bv, sizeof bv);
        *za.dataAs<uint8_t>() = 12;
        *zb.dataAs<uint8_t>() = 0;
        Node n{"mi", "MatMulInteger", {"a", "b", "za", "zb"}, {"y"}, {}};
        const auto y = evaluateNode(n, {&a, &b, &za, &zb});
        QCOMPARE(y[0].dtype(), DType::Int32);
        const int32_t want[] = {-38, -83, -44, -98, -50, -113, -56, -128};
        for (int i = 0; i < 8; ++i)
            QCOMPARE(y[0].dataAs<int32_t>()[i], want[i]);
    }

    void batchedProductsAgainstTheDefinition_data()
    {
        QTest::addColumn<bool>("transA");
        QTest::addColumn<bool>("transB");
        QTest::addColumn<float>("beta");
        QTest::addColumn<int>("batch");
        QTest::addColumn<QString>("mnk");
        // Ragged tiles and panels, whole 16-column panels read in place, the 64 limit, and past it.
        const std::pair<int, const char *> shapes[] = {{40, "5,7,6"}, {512, "16,16,16"}, {24, "13,48,64"},
                                                       {9, "64,40,33"}, {6, "64,64,64"}, {7, "80,16,16"}, {5, "9,65,3"}};
        for (const auto &[batch, mnk] : shapes)
            for (const bool ta : {false, true})
                for (const bool tb : {false, true})
                    for (const float beta : {0.0f, 0.25f})
                        QTest::addRow("%s%s beta %g batch %d of %s", ta ? "T" : "N", tb ? "T" : "N", double(beta), batch, mnk)
                            << ta << tb << beta << batch << QString::fromLatin1(mnk);
    }
    void batchedProductsAgainstTheDefinition()
    {
        // blas::gemmBatched (the small-matrix kernel up to 64 in every dimension, one oneDNN
        // primitive for the batch above) on padded rows and padded batch strides, both
        // orientations, alpha and beta: every C_i as its definition, the padding untouched, the
        // same bits run after run and with one thread as with two.
        QFETCH(bool, transA);
        QFETCH(bool, transB);
        QFETCH(float, beta);
        QFETCH(int, batch);
        QFETCH(QString, mnk);
        const Shape dims = parse(mnk);
        const int64_t M = dims[0], N = dims[1], K = dims[2];
        const int64_t aRows = transA ? K : M, aCols = transA ? M : K, bRows = transB ? N : K, bCols = transB ? K : N;
        const int64_t lda = aCols + 3, ldb = bCols + 2, ldc = N + 1;
        const int64_t sA = aRows * lda + 5, sB = bRows * ldb + 1, sC = M * ldc + 4;
        Rng rng(33);
        const Tensor A = randomTensor({batch * sA}, rng), B = randomTensor({batch * sB}, rng);
        const Tensor C0 = randomTensor({batch * sC}, rng);
        const float alpha = 0.5f;
        auto run = [&] {
            Tensor C = C0.clone();
            blas::gemmBatched(transA, transB, batch, M, N, K, alpha, A.data(), lda, sA, B.data(), ldb, sB, beta, C.data(), ldc, sC);
            return C;
        };
        const Tensor C = run();
        for (int64_t i = 0; i < batch; ++i)
            for (int64_t r = 0; r < M; ++r)
                for (int64_t c = 0; c < ldc; ++c) {
                    const int64_t at = i * sC + r * ldc + c;
                    if (c >= N) {
                        QVERIFY2(C.data()[at] == C0.data()[at], "a padding element of C was written");
                        continue;
                    }
                    double s = 0;
                    for (int64_t k = 0; k < K; ++k)
                        s += double(A.data()[i * sA + (transA ? k * lda + r : r * lda + k)])
                             * B.data()[i * sB + (transB ? c * ldb + k : k * ldb + c)];
                    const double want = alpha * s + beta * C0.data()[at];
                    QVERIFY2(std::abs(want - C.data()[at]) < 1e-5, qPrintable(QString("batch %1 [%2,%3]: %4, want %5")
                                                                                  .arg(i).arg(r).arg(c).arg(C.data()[at]).arg(want)));
                }
        QCOMPARE(maxAbsDiff(run(), C), 0.0);
        setThreadCount(1);
        const Tensor one = run();
        setThreadCount(2);
        QCOMPARE(maxAbsDiff(one, C), 0.0);
    }

    void smallKernelAtEveryLevel()
    {
        // The small-matrix kernel as each level this CPU supports compiles it (x86-64-v2, -v3, -v4,
        // whatever level the process runs): every orientation and a ragged shape, against the
        // definition in double.
        const int64_t batch = 3, M = 11, N = 21, K = 19, lda = 24, ldb = 25, ldc = 23;
        const int64_t sA = 24 * 24, sB = 25 * 25, sC = M * ldc;
        Rng rng(5);
        const Tensor A = randomTensor({batch * sA}, rng), B = randomTensor({batch * sB}, rng);
        const Tensor C0 = randomTensor({batch * sC}, rng);
        std::vector<std::pair<const char *, blas::SmallGemmBatch>> levels{{"x86-64-v2", &blas::isa_v2::smallGemmBatch}};
        const auto supported = cpu::supportedLevels();
        if (std::find(supported.begin(), supported.end(), cpu::Level::Avx2) != supported.end())
            levels.emplace_back("x86-64-v3", &blas::isa_v3::smallGemmBatch);
        if (std::find(supported.begin(), supported.end(), cpu::Level::Avx512) != supported.end())
            levels.emplace_back("x86-64-v4", &blas::isa_v4::smallGemmBatch);
        for (const auto &[name, kernel] : levels)
            for (const bool ta : {false, true})
                for (const bool tb : {false, true})
                    for (const float beta : {0.0f, -1.5f}) {
                        Tensor C = C0.clone();
                        kernel(ta, tb, M, N, K, 0.75f, A.data(), lda, sA, B.data(), ldb, sB, beta, C.data(), ldc, sC, 0, batch);
                        double worst = 0;
                        for (int64_t i = 0; i < batch; ++i)
                            for (int64_t r = 0; r < M; ++r)
                                for (int64_t c = 0; c < ldc; ++c) {
                                    const int64_t at = i * sC + r * ldc + c;
                                    if (c >= N) {
                                        QVERIFY2(C.data()[at] == C0.data()[at], name);
                                        continue;
                                    }
                                    double sum = 0;
                                    for (int64_t k = 0; k < K; ++k)
                                        sum += double(A.data()[i * sA + (ta ? k * lda + r : r * lda + k)])
                                               * B.data()[i * sB + (tb ? c * ldb + k : k * ldb + c)];
                                    worst = std::max(worst, std::abs(0.75 * sum + beta * C0.data()[at] - C.data()[at]));
                                }
                        QVERIFY2(worst < 1e-5, qPrintable(QString("%1 %2%3 beta %4: off by %5").arg(name).arg(ta ? "T" : "N")
                                                              .arg(tb ? "T" : "N").arg(beta).arg(worst)));
                    }
    }

    void errorsNameTheNode()
    {
        Rng rng(2);
        try {
            runNode(matmul(), {randomTensor({2, 3, 4}, rng), randomTensor({5, 2}, rng)});
            QFAIL("mismatched inner dims were accepted");
        } catch (const Error &e) {
            QVERIFY2(QString(e.what()).contains("\"mm\"") && QString(e.what()).contains("inner dimensions"), e.what());
        }
        QVERIFY_THROWS_EXCEPTION(Error, runNode(matmul(), {randomTensor({2, 3, 4}, rng), randomTensor({3, 4, 2}, rng)}));
    }
};

QTEST_GUILESS_MAIN(MatMulTest)
#include "matmul_test.moc"
