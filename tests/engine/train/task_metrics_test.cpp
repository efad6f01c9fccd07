// SPDX-License-Identifier: Apache-2.0
// The task metrics (train/task_metrics.h) against scikit-learn as the oracle: accuracy and
// top-k accuracy, r2_score / RMSE / MAE (several targets, uniform average), and per-label and
// macro F1, precision and recall (zero_division=0) — from sums added over uneven batches, as the
// trainer and its data-parallel ranks add them.
#include "core/rng.h"
#include "train/task_metrics.h"

#include <QProcess>
#include <QTest>

#include <cmath>
#include <sstream>

using namespace netwright;

namespace {

std::string list(const std::vector<float> &v)
{
    std::ostringstream s;
    s.precision(9);
    s << "[";
    for (size_t i = 0; i < v.size(); ++i)
        s << (i ? "," : "") << v[i];
    s << "]";
    return s.str();
}

// scikit-learn's figures for `code` (which prints them, one a line).
std::vector<double> sklearn(const std::string &code)
{
    QProcess py;
    py.start(QStringLiteral("/usr/bin/python3"), {QStringLiteral("-c"), QString::fromStdString("import numpy as np\nfrom sklearn import metrics as M\n" + code)});
    if (!py.waitForFinished(120000) || py.exitCode() != 0)
        return {};
    std::vector<double> out;
    for (const QByteArray &line : py.readAllStandardOutput().split('\n'))
        if (!line.trimmed().isEmpty())
            out.push_back(line.toDouble());
    return out;
}

// Adds (outputs, targets) to `sums` in batches of 7, 1 and the rest.
void addInBatches(MetricSums &sums, const Tensor &outputs, const Tensor &targets)
{
    const int64_t n = outputs.dim(0), c = outputs.dim(1);
    int64_t at = 0;
    for (int64_t size : {int64_t(7), int64_t(1), n - 8}) {
        Tensor o({size, c});
        std::memcpy(o.data(), outputs.data() + at * c, static_cast<size_t>(size * c) * sizeof(float));
        Shape ts = targets.shape();
        ts[0] = size;
        Tensor t(ts, targets.dtype());
        const size_t row = targets.byteSize() / static_cast<size_t>(n);
        std::memcpy(t.raw(), static_cast<const uint8_t *>(targets.raw()) + static_cast<size_t>(at) * row, static_cast<size_t>(size) * row);
        sums.add(o, t);
        at += size;
    }
}

double metric(const std::vector<Metric> &m, const std::string &name)
{
    for (const auto &x : m)
        if (x.name == name)
            return x.value;
    return NAN;
}

} // namespace

class TaskMetricsTest : public QObject {
    Q_OBJECT
private slots:
    void classification()
    {
        Rng rng(3);
        const int64_t n = 40, c = 8;
        std::vector<float> scores(n * c);
        std::vector<int64_t> labels(n);
        for (auto &v : scores)
            v = rng.normal();
        for (auto &l : labels)
            l = static_cast<int64_t>(rng.below(c));
        MetricSums sums("classification", c);
        addInBatches(sums, Tensor::fromVector({n, c}, scores), Tensor::fromInt64({n}, labels));
        std::vector<float> fl(labels.begin(), labels.end());
        const auto want = sklearn("s = np.array(" + list(scores) + ").reshape(40, 8); y = np.array(" + list(fl) + ").astype(int)\n"
                                  "print(M.accuracy_score(y, s.argmax(1))); print(M.top_k_accuracy_score(y, s, k=5, labels=range(8)))");
        QCOMPARE(want.size(), size_t(2));
        const auto got = sums.metrics();
        QCOMPARE(got.front().name, std::string("accuracy"));
        QCOMPARE(metric(got, "accuracy"), want[0]);
        QCOMPARE(metric(got, "top5"), want[1]);
        QCOMPARE(sums.samples(), n);
        QCOMPARE(sums.correct(), static_cast<int64_t>(std::lround(want[0] * n)));
        // five classes or fewer: no top-5
        QCOMPARE(MetricSums("classification", 5).metrics().size(), size_t(1));
    }

    void regression()
    {
        Rng rng(5);
        const int64_t n = 30, t = 2;
        std::vector<float> pred(n * t), truth(n * t);
        for (int64_t i = 0; i < n * t; ++i) {
            truth[i] = 100.0f + 50.0f * rng.normal();
            pred[i] = truth[i] + 20.0f * rng.normal();
        }
        MetricSums sums("regression", t);
        addInBatches(sums, Tensor::fromVector({n, t}, pred), Tensor::fromVector({n, t}, truth));
        const auto want = sklearn("p = np.array(" + list(pred) + ", np.float32).astype(np.float64).reshape(30, 2); "
                                  "y = np.array(" + list(truth) + ", np.float32).astype(np.float64).reshape(30, 2)\n"
                                  "print(M.r2_score(y, p)); print(np.sqrt(M.mean_squared_error(y, p))); print(M.mean_absolute_error(y, p))");
        QCOMPARE(want.size(), size_t(3));
        const auto got = sums.metrics();
        QCOMPARE(got[0].name, std::string("r2"));
        QVERIFY2(std::abs(metric(got, "r2") - want[0]) < 1e-9, qPrintable(QString::number(metric(got, "r2") - want[0])));
        QVERIFY(std::abs(metric(got, "rmse") - want[1]) < 1e-9 * want[1]);
        QVERIFY(std::abs(metric(got, "mae") - want[2]) < 1e-9 * want[2]);
        QCOMPARE(sums.stepMetric().name, std::string("mae"));
    }

    void multilabel()
    {
        Rng rng(9);
        const int64_t n = 50, t = 4;
        std::vector<float> logits(n * t), truth(n * t);
        for (int64_t i = 0; i < n * t; ++i) {
            truth[i] = rng.uniform() < 0.4f ? 1.0f : 0.0f;
            logits[i] = (truth[i] - 0.5f) + 1.2f * rng.normal();
        }
        for (int64_t i = 0; i < n; ++i) // label 3 is never predicted nor present: F1 0 (zero_division=0)
            logits[i * t + 3] = -5.0f, truth[i * t + 3] = 0.0f;
        MetricSums sums("multilabel", t, {"a", "b", "c", "d"});
        addInBatches(sums, Tensor::fromVector({n, t}, logits), Tensor::fromVector({n, t}, truth));
        const auto want = sklearn("z = np.array(" + list(logits) + ").reshape(50, 4) > 0; y = np.array(" + list(truth) + ").reshape(50, 4) > 0.5\n"
                                  "print(M.f1_score(y, z, average='macro', zero_division=0))\n"
                                  "print(M.precision_score(y, z, average='macro', zero_division=0))\n"
                                  "print(M.recall_score(y, z, average='macro', zero_division=0))\n"
                                  "for v in M.f1_score(y, z, average=None, zero_division=0): print(v)");
        QCOMPARE(want.size(), size_t(7));
        const auto got = sums.metrics();
        QVERIFY(std::abs(metric(got, "f1") - want[0]) < 1e-12);
        QVERIFY(std::abs(metric(got, "precision") - want[1]) < 1e-12);
        QVERIFY(std::abs(metric(got, "recall") - want[2]) < 1e-12);
        QVERIFY(std::abs(metric(got, "f1[a]") - want[3]) < 1e-12);
        QVERIFY(std::abs(metric(got, "f1[c]") - want[5]) < 1e-12);
        QCOMPARE(metric(got, "f1[d]"), 0.0);
    }

    void formatting()
    {
        QCOMPARE(formatMetric({"accuracy", 0.9123}), std::string("acc 91.23 %"));
        QCOMPARE(formatMetric({"r2", 0.4712}), std::string("R² 0.4712"));
        QCOMPARE(formatMetrics({{"f1", 0.5}, {"precision", 0.25}, {"f1[x]", 1.0}}), std::string("F1 0.5  precision 0.25"));
    }
};

QTEST_GUILESS_MAIN(TaskMetricsTest)
#include "task_metrics_test.moc"
