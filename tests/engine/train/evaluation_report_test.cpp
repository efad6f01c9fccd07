// SPDX-License-Identifier: Apache-2.0
// The evaluation figures (train/evaluation_report.h) on cases worked by hand: the confusion matrix
// (rows true, columns predicted), ties predicted as the first top score, a class never predicted
// (precision 0, as scikit-learn's zero_division=0), macro and weighted means, confidence and
// cross-entropy per sample, top-5 only past five classes, a label outside the outputs refused;
// regression MAE, RMSE, R² averaged over targets, the huber loss and the residuals' median;
// multilabel subset accuracy, hamming loss, per-label 2×2 matrices and the four averages.
#include "core/error.h"
#include "train/evaluation_report.h"

#include <QTest>

#include <cmath>

using namespace netwright;

namespace {

Tensor logits(int64_t n, int64_t c, std::vector<float> v)
{
    return Tensor::fromVector({n, c}, std::move(v));
}

Tensor classes(std::vector<int64_t> v)
{
    const auto n = static_cast<int64_t>(v.size());
    return Tensor::fromInt64({n}, std::move(v));
}

bool near(double a, double b)
{
    return std::abs(a - b) <= 1e-9;
}

} // namespace

class EvaluationReportTest : public QObject {
    Q_OBJECT
private slots:
    void classification()
    {
        EvaluationAccumulator acc("classification", {"cat", "dog", "eel"});
        // Two batches. Sample 2 ties classes 0 and 1: the first wins. Nothing is predicted as eel.
        acc.add(logits(3, 3, {2, 0, 0, /**/ 0, 3, 0, /**/ 1, 1, 0}), classes({0, 1, 1}));
        acc.add(logits(2, 3, {0, 1, 0, /**/ 5, 0, 0}), classes({2, 2}));
        const EvaluationReport r = acc.finish();
        QCOMPARE(r.samples, 5);
        QCOMPARE(r.classes, (std::vector<std::string>{"cat", "dog", "eel"}));
        const std::vector<std::vector<int64_t>> expected{{1, 0, 0}, {1, 1, 0}, {1, 1, 0}};
        QCOMPARE(r.confusion, expected);
        QVERIFY(near(r.accuracy, 2.0 / 5.0));
        QVERIFY(!r.top5); // three classes
        QCOMPARE(r.predictions[2].predicted, 0);
        // cat: tp 1, predicted 3, support 1; dog: tp 1, predicted 2, support 2; eel: never predicted.
        QVERIFY(near(r.perClass[0].precision, 1.0 / 3.0) && near(r.perClass[0].recall, 1.0) && near(r.perClass[0].f1, 0.5));
        QVERIFY(near(r.perClass[1].precision, 0.5) && near(r.perClass[1].recall, 0.5) && near(r.perClass[1].f1, 0.5));
        QVERIFY(r.perClass[2].precision == 0.0 && r.perClass[2].recall == 0.0 && r.perClass[2].f1 == 0.0);
        QCOMPARE(r.perClass[2].support, 2);
        QVERIFY(near(r.macroAverage.f1, 1.0 / 3.0));
        QVERIFY(near(r.weightedAverage.recall, (1 * 1.0 + 2 * 0.5 + 2 * 0.0) / 5));
        QCOMPARE(r.macroAverage.support, 5);
        // Sample 0: softmax of (2, 0, 0).
        const double z = std::exp(2.0) + 2.0;
        QVERIFY(near(r.predictions[0].confidence, std::exp(2.0) / z));
        QVERIFY(near(r.predictions[0].loss, std::log(z) - 2.0));
        // Sample 3 (eel, logits 0 1 0): loss −log(1 / (2 + e)).
        QVERIFY(near(r.predictions[3].loss, std::log(2.0 + std::exp(1.0))));
        double mean = 0;
        for (const auto &p : r.predictions)
            mean += p.loss / 5;
        QVERIFY(near(r.loss, mean));
    }

    void topFiveAndBadLabels()
    {
        EvaluationAccumulator acc("classification", {});
        // Seven classes; the label's score is the 6th highest in row 0, the 5th in row 1.
        acc.add(logits(2, 7, {7, 6, 5, 4, 3, 2, 1, /**/ 7, 6, 5, 4, 3, 2, 1}), classes({5, 4}));
        const EvaluationReport r = acc.finish();
        QVERIFY(r.top5 && near(*r.top5, 0.5));
        QCOMPARE(r.classes.front(), std::string("0")); // numbered without names
        EvaluationAccumulator bad("classification", {});
        QVERIFY_THROWS_EXCEPTION(Error, bad.add(logits(1, 3, {0, 0, 1}), classes({3})));
        QVERIFY_THROWS_EXCEPTION(Error, EvaluationAccumulator("ranking", {}));
    }

    void multilabel()
    {
        EvaluationAccumulator acc("multilabel", {"a", "b"}, "bce");
        // Logits against 0/1 targets: sample 0 exactly right, 1 predicts a too many, 2 predicts nothing.
        const std::vector<float> x{2, -1, /**/ 1, 1, /**/ -3, -2}, t{1, 0, /**/ 0, 1, /**/ 1, 1};
        acc.add(logits(2, 2, {x.begin(), x.begin() + 4}), Tensor::fromVector({2, 2}, std::vector<float>{t.begin(), t.begin() + 4}));
        acc.add(logits(1, 2, {x.begin() + 4, x.end()}), Tensor::fromVector({1, 2}, std::vector<float>{t.begin() + 4, t.end()}));
        const EvaluationReport r = acc.finish();
        QCOMPARE(r.task, std::string("multilabel"));
        QCOMPARE(r.samples, 3);
        QVERIFY(near(r.accuracy, 1.0 / 3) && near(r.hammingLoss, 0.5));
        using M = std::vector<std::vector<int64_t>>;
        QCOMPARE(r.labelConfusion.size(), size_t(2));
        QVERIFY(r.labelConfusion[0] == (M{{0, 1}, {1, 1}}) && r.labelConfusion[1] == (M{{1, 0}, {1, 1}}));
        QVERIFY(near(r.perClass[0].precision, 0.5) && near(r.perClass[0].recall, 0.5) && r.perClass[0].support == 2);
        QVERIFY(near(r.perClass[1].precision, 1.0) && near(r.perClass[1].f1, 2.0 / 3) && r.perClass[1].support == 2);
        QVERIFY(near(r.microAverage.precision, 2.0 / 3) && near(r.microAverage.recall, 0.5) && near(r.microAverage.f1, 4.0 / 7));
        QVERIFY(near(r.macroAverage.precision, 0.75) && near(r.macroAverage.f1, 7.0 / 12));
        QVERIFY(near(r.weightedAverage.f1, 7.0 / 12) && r.weightedAverage.support == 4);
        QVERIFY(near(r.samplesAverage.precision, 0.5) && near(r.samplesAverage.recall, 2.0 / 3) && near(r.samplesAverage.f1, 5.0 / 9));
        double loss = 0;
        for (size_t i = 0; i < x.size(); ++i)
            loss -= t[i] * std::log(1 / (1 + std::exp(-double(x[i])))) + (1 - t[i]) * std::log(1 - 1 / (1 + std::exp(-double(x[i]))));
        QVERIFY(std::abs(r.loss - loss / 6) <= 1e-12);
        QCOMPARE(r.multilabelPredictions[1].predicted, (std::vector<uint8_t>{1, 1}));
        QVERIFY(near(r.multilabelPredictions[0].probability[0], 1 / (1 + std::exp(-2.0))));
        EvaluationAccumulator bad("multilabel", {});
        QVERIFY_THROWS_EXCEPTION(Error, bad.add(logits(1, 2, {0, 0}), Tensor::fromVector({1, 2}, std::vector<float>{0, 2})));
    }

    void regression()
    {
        EvaluationAccumulator acc("regression", {"a", "b"}, "huber", 1.0);
        // Predictions against targets; residuals a: 1, −1, 2, 0; b: 0, 0, 0, 4.
        acc.add(logits(2, 2, {2, 1, /**/ 0, 2}), Tensor::fromVector({2, 2}, std::vector<float>{1, 1, 1, 2}));
        acc.add(logits(2, 2, {5, 3, /**/ 4, 9}), Tensor::fromVector({2, 2}, std::vector<float>{3, 3, 4, 5}));
        const EvaluationReport r = acc.finish();
        QCOMPARE(r.samples, 4);
        QVERIFY(near(r.mae, (1 + 1 + 2 + 0 + 0 + 0 + 0 + 4) / 8.0));
        QVERIFY(near(r.rmse, std::sqrt((1 + 1 + 4 + 0 + 0 + 0 + 0 + 16) / 8.0)));
        // R² per target: a: y = 1 1 3 4 (mean 2.25, SS 6.75), SSE 6; b: y = 1 2 3 5 (mean 2.75, SS 8.75), SSE 16.
        QVERIFY(near(r.r2, ((1 - 6 / 6.75) + (1 - 16 / 8.75)) / 2));
        QCOMPARE(r.residuals[0].target, std::string("a"));
        QVERIFY(near(r.residuals[0].median, 0.5) && near(r.residuals[0].min, -1) && near(r.residuals[0].max, 2));
        QVERIFY(near(r.residuals[1].mean, 1.0) && near(r.residuals[1].std, std::sqrt(3.0)));
        // Huber (delta 1) per element: 0.5 0 | 0.5 0 | 1.5 0 | 0 3.5, averaged over the targets.
        QVERIFY(near(r.regressionPredictions[0].loss, 0.25));
        QVERIFY(near(r.regressionPredictions[2].loss, 0.75));
        QVERIFY(near(r.loss, (0.25 + 0.25 + 0.75 + 1.75) / 4));
    }
};

QTEST_APPLESS_MAIN(EvaluationReportTest)
#include "evaluation_report_test.moc"
