// SPDX-License-Identifier: Apache-2.0
// The Softmax/LogSoftmax and LayerNormalization row loops of every CPU level this machine runs
// (ops/rowwise_isa.h: the x86-64-v2 build always, -v3 with AVX2, -v4 with AVX-512), called
// directly, against the definitions computed in double: rows shorter than a vector, one vector
// (an attention head's 16), a vector and a tail, and long rows (197, a ViT-B/16's tokens), with
// values far from zero (stability) and a NaN. Each level twice gives the same bytes.
#include "core/cpu_level.h"
#include "core/rng.h"
#include "ops/rowwise_isa.h"

#include <QTest>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

using namespace netwright;

namespace {

struct Level {
    const char *name;
    rows::SoftmaxForward softmaxForward;
    rows::SoftmaxBackward softmaxBackward;
    rows::LayerNormForward layerNormForward;
    rows::LayerNormBackward layerNormBackward;
    rows::LayerNormParamGrads layerNormParamGrads;
    rows::ColumnSums columnSums;
};

std::vector<Level> levelsHere()
{
    std::vector<Level> out{{"x86-64-v2", &rows::isa_v2::softmaxForward, &rows::isa_v2::softmaxBackward, &rows::isa_v2::layerNormForward,
                            &rows::isa_v2::layerNormBackward, &rows::isa_v2::layerNormParamGrads, &rows::isa_v2::columnSums}};
    if (cpu::detectedLevel() >= cpu::Level::Avx2)
        out.push_back({"x86-64-v3", &rows::isa_v3::softmaxForward, &rows::isa_v3::softmaxBackward, &rows::isa_v3::layerNormForward,
                       &rows::isa_v3::layerNormBackward, &rows::isa_v3::layerNormParamGrads, &rows::isa_v3::columnSums});
    if (cpu::detectedLevel() >= cpu::Level::Avx512)
        out.push_back({"x86-64-v4", &rows::isa_v4::softmaxForward, &rows::isa_v4::softmaxBackward, &rows::isa_v4::layerNormForward,
                       &rows::isa_v4::layerNormBackward, &rows::isa_v4::layerNormParamGrads, &rows::isa_v4::columnSums});
    return out;
}

std::vector<float> uniform(size_t n, Rng &rng, float lo, float hi)
{
    std::vector<float> v(n);
    for (float &x : v)
        x = lo + (hi - lo) * static_cast<float>(rng.uniform());
    return v;
}

bool sameBytes(const std::vector<float> &a, const std::vector<float> &b)
{
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

const std::vector<int64_t> kLengths{1, 3, 15, 16, 17, 33, 64, 197};

} // namespace

class RowwiseLevelsTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        qInfo("levels checked on this CPU: %zu (%s detected)", levelsHere().size(), std::string(cpu::levelName(cpu::detectedLevel())).c_str());
    }

    void softmaxRowsMatchDefinition()
    {
        Rng rng(11);
        const int64_t rowsN = 6;
        for (const Level &level : levelsHere())
            for (int64_t n : kLengths)
                for (bool log : {false, true}) {
                    std::vector<float> x = uniform(static_cast<size_t>(rowsN * n), rng, -8.0f, 8.0f);
                    for (int64_t k = 0; k < n; ++k)
                        x[static_cast<size_t>(n + k)] += 1000.0f; // row 1: far from zero, e^x overflows unshifted
                    std::vector<float> y(x.size()), again(x.size());
                    level.softmaxForward(log, x.data(), y.data(), n, 0, rowsN);
                    level.softmaxForward(log, x.data(), again.data(), n, 0, rowsN);
                    QVERIFY2(sameBytes(y, again), level.name);
                    for (int64_t r = 0; r < rowsN; ++r) {
                        double mx = -1e300, sum = 0.0;
                        for (int64_t k = 0; k < n; ++k)
                            mx = std::max(mx, double(x[r * n + k]));
                        for (int64_t k = 0; k < n; ++k)
                            sum += std::exp(double(x[r * n + k]) - mx);
                        for (int64_t k = 0; k < n; ++k) {
                            const double e = double(x[r * n + k]) - mx;
                            const double want = log ? e - std::log(sum) : std::exp(e) / sum;
                            const double got = y[r * n + k];
                            const double err = log ? std::abs(got - want) : std::abs(got - want) / std::max(want, 1e-30);
                            QVERIFY2(err < (log ? 2e-6 * (1.0 + std::abs(want)) : 2e-6),
                                     qPrintable(QStringLiteral("%1 %2 n=%3 row %4 col %5: %6, want %7")
                                                    .arg(level.name, log ? "log-softmax" : "softmax").arg(n).arg(r).arg(k).arg(got).arg(want)));
                        }
                    }
                    // A NaN makes its row NaN and leaves the others alone.
                    x[static_cast<size_t>(2 * n + n / 2)] = std::numeric_limits<float>::quiet_NaN();
                    level.softmaxForward(log, x.data(), y.data(), n, 2, 4);
                    for (int64_t k = 0; k < n; ++k)
                        QVERIFY2(std::isnan(y[2 * n + k]), level.name);
                    for (int64_t k = 0; k < n; ++k)
                        QVERIFY2(!std::isnan(y[3 * n + k]), level.name);
                }
    }

    void softmaxGradientsMatchDefinition()
    {
        Rng rng(12);
        const int64_t rowsN = 5;
        for (const Level &level : levelsHere())
            for (int64_t n : kLengths)
                for (bool log : {false, true}) {
                    const std::vector<float> x = uniform(static_cast<size_t>(rowsN * n), rng, -4.0f, 4.0f);
                    const std::vector<float> dy = uniform(x.size(), rng, -1.0f, 1.0f);
                    std::vector<float> y(x.size()), dx(x.size()), again(x.size());
                    level.softmaxForward(log, x.data(), y.data(), n, 0, rowsN);
                    level.softmaxBackward(log, y.data(), dy.data(), dx.data(), n, 0, rowsN);
                    level.softmaxBackward(log, y.data(), dy.data(), again.data(), n, 0, rowsN);
                    QVERIFY2(sameBytes(dx, again), level.name);
                    for (int64_t r = 0; r < rowsN; ++r) {
                        double s = 0.0;
                        for (int64_t k = 0; k < n; ++k)
                            s += log ? double(dy[r * n + k]) : double(dy[r * n + k]) * double(y[r * n + k]);
                        for (int64_t k = 0; k < n; ++k) {
                            const size_t i = static_cast<size_t>(r * n + k);
                            const double want = log ? dy[i] - std::exp(double(y[i])) * s : double(y[i]) * (dy[i] - s);
                            QVERIFY2(std::abs(dx[i] - want) < 2e-6 * (1.0 + std::abs(s)),
                                     qPrintable(QStringLiteral("%1 %2 gradient n=%3: %4, want %5").arg(level.name, log ? "log-softmax" : "softmax").arg(n).arg(dx[i]).arg(want)));
                        }
                    }
                }
    }

    void layerNormMatchesDefinition()
    {
        Rng rng(13);
        const int64_t rowsN = 7;
        const float eps = 1e-5f;
        for (const Level &level : levelsHere())
            for (int64_t D : kLengths)
                for (bool withBias : {true, false}) {
                    std::vector<float> x = uniform(static_cast<size_t>(rowsN * D), rng, -3.0f, 3.0f);
                    for (int64_t k = 0; k < D; ++k)
                        x[static_cast<size_t>(D + k)] += 500.0f; // a row with a large mean
                    const std::vector<float> scale = uniform(static_cast<size_t>(D), rng, 0.5f, 1.5f);
                    const std::vector<float> bias = uniform(static_cast<size_t>(D), rng, -1.0f, 1.0f);
                    const std::vector<float> dy = uniform(x.size(), rng, -1.0f, 1.0f);
                    std::vector<float> y(x.size()), y2(x.size()), mean(rowsN), invStd(rowsN), mean2(rowsN), invStd2(rowsN);
                    const float *b = withBias ? bias.data() : nullptr;
                    level.layerNormForward(x.data(), scale.data(), b, eps, y.data(), mean.data(), invStd.data(), D, 0, rowsN);
                    level.layerNormForward(x.data(), scale.data(), b, eps, y2.data(), mean2.data(), invStd2.data(), D, 0, rowsN);
                    QVERIFY2(sameBytes(y, y2) && sameBytes(mean, mean2) && sameBytes(invStd, invStd2), level.name);
                    std::vector<float> dx(x.size()), dx2(x.size()), dScale(D), dBias(D), dScale2(D), dBias2(D);
                    level.layerNormBackward(x.data(), dy.data(), scale.data(), mean.data(), invStd.data(), dx.data(), D, 0, rowsN);
                    level.layerNormBackward(x.data(), dy.data(), scale.data(), mean.data(), invStd.data(), dx2.data(), D, 0, rowsN);
                    QVERIFY2(sameBytes(dx, dx2), level.name);
                    // the parameter gradients in two column ranges, as two threads split them
                    level.layerNormParamGrads(x.data(), dy.data(), mean.data(), invStd.data(), rowsN, D, 0, D / 2, dScale.data(), dBias.data());
                    level.layerNormParamGrads(x.data(), dy.data(), mean.data(), invStd.data(), rowsN, D, D / 2, D, dScale.data(), dBias.data());
                    level.layerNormParamGrads(x.data(), dy.data(), mean.data(), invStd.data(), rowsN, D, 0, D, dScale2.data(), nullptr);
                    level.layerNormParamGrads(x.data(), dy.data(), mean.data(), invStd.data(), rowsN, D, 0, D, nullptr, dBias2.data());
                    QVERIFY2(sameBytes(dScale, dScale2) && sameBytes(dBias, dBias2), level.name);

                    std::vector<double> wantScale(D, 0.0), wantBias(D, 0.0);
                    for (int64_t r = 0; r < rowsN; ++r) {
                        double m = 0.0, v = 0.0;
                        for (int64_t k = 0; k < D; ++k)
                            m += x[r * D + k];
                        m /= double(D);
                        for (int64_t k = 0; k < D; ++k)
                            v += (x[r * D + k] - m) * (x[r * D + k] - m);
                        v /= double(D);
                        const double inv = 1.0 / std::sqrt(v + eps);
                        const QString where = QStringLiteral("%1 D=%2 row %3").arg(level.name).arg(D).arg(r);
                        QVERIFY2(std::abs(mean[r] - m) <= 1e-6 * (1.0 + std::abs(m)), qPrintable(where + " mean"));
                        QVERIFY2(std::abs(invStd[r] - inv) <= 2e-4 * inv, qPrintable(where + QStringLiteral(" invStd %1, want %2").arg(invStd[r]).arg(inv)));
                        double sg = 0.0, sgx = 0.0;
                        for (int64_t k = 0; k < D; ++k) {
                            const size_t i = static_cast<size_t>(r * D + k);
                            const double xhat = (x[i] - m) * inv;
                            const double want = xhat * scale[k] + (withBias ? bias[k] : 0.0);
                            QVERIFY2(std::abs(y[i] - want) <= 2e-4 * (1.0 + std::abs(want)), qPrintable(where + QStringLiteral(" y %1, want %2").arg(y[i]).arg(want)));
                            sg += double(dy[i]) * scale[k];
                            sgx += double(dy[i]) * scale[k] * xhat;
                            wantScale[k] += double(dy[i]) * xhat;
                            wantBias[k] += dy[i];
                        }
                        for (int64_t k = 0; k < D; ++k) {
                            const size_t i = static_cast<size_t>(r * D + k);
                            const double xhat = (x[i] - m) * inv;
                            const double want = inv * (double(dy[i]) * scale[k] - sg / double(D) - xhat * sgx / double(D));
                            QVERIFY2(std::abs(dx[i] - want) <= 2e-4 * (inv + std::abs(want)), qPrintable(where + QStringLiteral(" dx %1, want %2").arg(dx[i]).arg(want)));
                        }
                    }
                    for (int64_t k = 0; k < D; ++k) {
                        QVERIFY2(std::abs(dScale[k] - wantScale[k]) <= 2e-4 * (1.0 + std::abs(wantScale[k])), level.name);
                        QVERIFY2(std::abs(dBias[k] - wantBias[k]) <= 1e-5 * (1.0 + std::abs(wantBias[k])), level.name);
                    }
                }
    }

    void columnSumsAreTheSerialSums()
    {
        // A bias gradient: the column sums of a block of rows, the bits of a plain float loop down
        // each column, at every level; blocks narrower than a band, a band and a tail, rows past the
        // block's columns untouched.
        Rng rng(17);
        const int64_t rowsN = 300, ld = 150;
        const std::vector<float> x = uniform(static_cast<size_t>(rowsN * ld), rng, -2.0f, 2.0f);
        for (const Level &level : levelsHere())
            for (const auto &[c0, c1] : {std::pair<int64_t, int64_t>{0, 1}, {3, 19}, {0, 64}, {5, 150}, {64, 128}}) {
                std::vector<float> sums(static_cast<size_t>(c1 - c0 + 1), 42.0f);
                level.columnSums(x.data(), rowsN, ld, c0, c1, sums.data());
                for (int64_t c = c0; c < c1; ++c) {
                    float want = 0.0f;
                    for (int64_t r = 0; r < rowsN; ++r)
                        want += x[static_cast<size_t>(r * ld + c)];
                    QVERIFY2(sums[static_cast<size_t>(c - c0)] == want, qPrintable(QStringLiteral("%1: column %2 of [%3, %4)")
                                                                                   .arg(level.name).arg(c).arg(c0).arg(c1)));
                }
                QCOMPARE(sums.back(), 42.0f);
            }
    }
};

QTEST_GUILESS_MAIN(RowwiseLevelsTest)
#include "rowwise_levels_test.moc"
