// SPDX-License-Identifier: Apache-2.0
#include "train/evaluation_report.h"

#include "core/error.h"

#include <algorithm>
#include <cmath>

namespace netwright {

EvaluationAccumulator::EvaluationAccumulator(std::string task, std::vector<std::string> names, std::string loss, double huberDelta)
    : m_task(std::move(task)), m_loss(loss.empty() ? "mse" : std::move(loss)), m_names(std::move(names)), m_huberDelta(huberDelta)
{
    check(m_task == "classification" || m_task == "regression" || m_task == "multilabel",
          "Evaluation reports classifications, regressions and multilabel tasks; the task \"" + m_task + "\" is not supported.");
    check(m_task != "regression" || m_loss == "mse" || m_loss == "l1" || m_loss == "huber", "Unknown regression loss \"" + m_loss + "\".");
}

void EvaluationAccumulator::add(const Tensor &deviceOutputs, const Tensor &deviceTargets)
{
    const Tensor out = deviceOutputs.to(Device::cpu()), y = deviceTargets.to(Device::cpu());
    check(out.rank() == 2, "The model's output is " + shapeToString(out.shape()) + "; evaluation needs [N, outputs].");
    const int64_t n = out.dim(0), c = out.dim(1);
    check(m_outputs < 0 || m_outputs == c, "The model's outputs changed width between minibatches.");
    m_outputs = c;
    const float *o = out.data();
    if (m_task == "classification") {
        check(y.dtype() == DType::Int64 && y.rank() == 1 && y.dim(0) == n, "The targets " + shapeToString(y.shape())
                                                                                  + " are not one class per sample.");
        const int64_t *labels = y.dataAs<int64_t>();
        for (int64_t i = 0; i < n; ++i) {
            const float *row = o + i * c;
            const int64_t label = labels[i];
            check(label >= 0 && label < c, "Sample " + std::to_string(m_class.size()) + " has class " + std::to_string(label)
                                               + ", but the model has " + std::to_string(c) + " outputs (classes 0–"
                                               + std::to_string(c - 1) + ").");
            int64_t best = 0, better = 0; // ties count for the earlier index, as the trainer's metrics
            for (int64_t k = 0; k < c; ++k) {
                if (row[k] > row[best])
                    best = k;
                if (row[k] > row[label] || (row[k] == row[label] && k < label))
                    ++better;
            }
            double sum = 0.0;
            for (int64_t k = 0; k < c; ++k)
                sum += std::exp(static_cast<double>(row[k]) - row[best]);
            const double logSum = std::log(sum) + row[best];
            ClassPrediction p;
            p.index = static_cast<int64_t>(m_class.size());
            p.trueClass = label;
            p.predicted = best;
            p.confidence = std::exp(static_cast<double>(row[best]) - logSum);
            p.loss = logSum - row[label];
            m_lossSum += p.loss;
            m_top5Correct += better < 5 ? 1 : 0;
            m_class.push_back(p);
        }
        return;
    }
    check(y.dtype() == DType::Float32 && y.rank() == 2 && y.dim(0) == n && y.dim(1) == c,
          "The model's outputs " + shapeToString(out.shape()) + " do not match the targets " + shapeToString(y.shape()) + ".");
    const float *t = y.data();
    if (m_task == "multilabel") {
        for (int64_t i = 0; i < n; ++i) {
            MultilabelPrediction p;
            p.index = static_cast<int64_t>(m_multilabel.size());
            double loss = 0.0;
            for (int64_t k = 0; k < c; ++k) {
                const double x = o[i * c + k], truth = t[i * c + k];
                check(truth == 0.0 || truth == 1.0, "Sample " + std::to_string(p.index) + " has the target " + std::to_string(truth)
                                                         + " for label " + std::to_string(k) + "; multilabel targets are 0 or 1.");
                p.truth.push_back(truth > 0.5 ? 1 : 0);
                p.predicted.push_back(x > 0.0 ? 1 : 0); // sigmoid(x) > 0.5, as the trainer's metrics
                p.probability.push_back(1.0 / (1.0 + std::exp(-x)));
                // −t·log σ(x) − (1 − t)·log(1 − σ(x)), written as the trainer's loss op writes it.
                loss += std::max(x, 0.0) - x * truth + std::log1p(std::exp(-std::abs(x)));
            }
            p.loss = loss / static_cast<double>(c);
            m_lossSum += p.loss;
            m_multilabel.push_back(std::move(p));
        }
        return;
    }
    for (int64_t i = 0; i < n; ++i) {
        RegressionPrediction p;
        p.index = static_cast<int64_t>(m_regression.size());
        double loss = 0.0;
        for (int64_t k = 0; k < c; ++k) {
            const double pred = o[i * c + k], truth = t[i * c + k], a = std::abs(pred - truth);
            p.truth.push_back(truth);
            p.predicted.push_back(pred);
            loss += m_loss == "mse" ? a * a : m_loss == "l1" ? a : (a < m_huberDelta ? 0.5 * a * a : m_huberDelta * (a - 0.5 * m_huberDelta));
        }
        p.loss = loss / static_cast<double>(c);
        m_lossSum += p.loss;
        m_regression.push_back(std::move(p));
    }
}

namespace {

ClassFigures figures(std::string name, int64_t tp, int64_t predicted, int64_t support)
{
    ClassFigures f;
    f.name = std::move(name);
    f.support = support;
    f.precision = predicted > 0 ? static_cast<double>(tp) / static_cast<double>(predicted) : 0.0;
    f.recall = support > 0 ? static_cast<double>(tp) / static_cast<double>(support) : 0.0;
    f.f1 = f.precision + f.recall > 0.0 ? 2.0 * f.precision * f.recall / (f.precision + f.recall) : 0.0;
    return f;
}

// scikit-learn's multilabel figures (classification_report, hamming_loss, accuracy_score,
// multilabel_confusion_matrix; zero_division=0) from every sample's true and predicted labels.
void multilabelFigures(EvaluationReport &r, const std::vector<MultilabelPrediction> &samples)
{
    const size_t c = r.classes.size();
    r.labelConfusion.assign(c, {{0, 0}, {0, 0}});
    int64_t exact = 0, wrong = 0;
    double samplePrecision = 0.0, sampleRecall = 0.0, sampleF1 = 0.0;
    for (const auto &p : samples) {
        int64_t tp = 0, predicted = 0, actual = 0;
        for (size_t k = 0; k < c; ++k) {
            ++r.labelConfusion[k][p.truth[k]][p.predicted[k]];
            tp += p.truth[k] && p.predicted[k] ? 1 : 0;
            predicted += p.predicted[k];
            actual += p.truth[k];
            wrong += p.truth[k] != p.predicted[k] ? 1 : 0;
        }
        exact += p.truth == p.predicted ? 1 : 0;
        const ClassFigures f = figures({}, tp, predicted, actual);
        samplePrecision += f.precision;
        sampleRecall += f.recall;
        sampleF1 += f.f1;
    }
    const double n = std::max<double>(1.0, static_cast<double>(samples.size()));
    r.accuracy = static_cast<double>(exact) / n;
    r.hammingLoss = static_cast<double>(wrong) / (n * static_cast<double>(std::max<size_t>(c, 1)));
    int64_t tp = 0, fp = 0, positives = 0;
    for (size_t k = 0; k < c; ++k) {
        const auto &m = r.labelConfusion[k];
        r.perClass.push_back(figures(r.classes[k], m[1][1], m[0][1] + m[1][1], m[1][0] + m[1][1]));
        tp += m[1][1];
        fp += m[0][1];
        positives += m[1][0] + m[1][1];
    }
    r.microAverage = figures("micro avg", tp, tp + fp, positives);
    r.macroAverage.name = "macro avg";
    r.weightedAverage.name = "weighted avg";
    for (const auto &f : r.perClass) {
        r.macroAverage.precision += f.precision / static_cast<double>(c);
        r.macroAverage.recall += f.recall / static_cast<double>(c);
        r.macroAverage.f1 += f.f1 / static_cast<double>(c);
        const double w = positives > 0 ? static_cast<double>(f.support) / static_cast<double>(positives) : 0.0;
        r.weightedAverage.precision += f.precision * w;
        r.weightedAverage.recall += f.recall * w;
        r.weightedAverage.f1 += f.f1 * w;
    }
    r.samplesAverage.name = "samples avg";
    r.samplesAverage.precision = samplePrecision / n;
    r.samplesAverage.recall = sampleRecall / n;
    r.samplesAverage.f1 = sampleF1 / n;
    r.microAverage.support = r.macroAverage.support = r.weightedAverage.support = r.samplesAverage.support = positives;
}

} // namespace

EvaluationReport EvaluationAccumulator::finish() const
{
    EvaluationReport r;
    r.task = m_task;
    const int64_t c = std::max<int64_t>(m_outputs, 0);
    auto nameOf = [&](int64_t k) { return k < static_cast<int64_t>(m_names.size()) ? m_names[static_cast<size_t>(k)] : std::to_string(k); };
    if (m_task == "classification") {
        r.samples = static_cast<int64_t>(m_class.size());
        const double n = std::max<double>(1.0, static_cast<double>(r.samples));
        r.loss = m_lossSum / n;
        for (int64_t k = 0; k < c; ++k)
            r.classes.push_back(nameOf(k));
        r.confusion.assign(static_cast<size_t>(c), std::vector<int64_t>(static_cast<size_t>(c), 0));
        int64_t correct = 0;
        for (const auto &p : m_class) {
            ++r.confusion[static_cast<size_t>(p.trueClass)][static_cast<size_t>(p.predicted)];
            correct += p.trueClass == p.predicted ? 1 : 0;
        }
        r.accuracy = static_cast<double>(correct) / n;
        if (c > 5)
            r.top5 = static_cast<double>(m_top5Correct) / n;
        r.macroAverage.name = "macro avg";
        r.weightedAverage.name = "weighted avg";
        for (int64_t k = 0; k < c; ++k) {
            int64_t predicted = 0, support = 0;
            for (int64_t j = 0; j < c; ++j) {
                predicted += r.confusion[static_cast<size_t>(j)][static_cast<size_t>(k)];
                support += r.confusion[static_cast<size_t>(k)][static_cast<size_t>(j)];
            }
            const ClassFigures f = figures(r.classes[static_cast<size_t>(k)], r.confusion[static_cast<size_t>(k)][static_cast<size_t>(k)], predicted, support);
            r.macroAverage.precision += f.precision / static_cast<double>(c);
            r.macroAverage.recall += f.recall / static_cast<double>(c);
            r.macroAverage.f1 += f.f1 / static_cast<double>(c);
            const double w = static_cast<double>(support) / n;
            r.weightedAverage.precision += f.precision * w;
            r.weightedAverage.recall += f.recall * w;
            r.weightedAverage.f1 += f.f1 * w;
            r.perClass.push_back(f);
        }
        r.macroAverage.support = r.weightedAverage.support = r.samples;
        r.predictions = m_class;
        return r;
    }
    if (m_task == "multilabel") {
        r.samples = static_cast<int64_t>(m_multilabel.size());
        r.loss = m_lossSum / std::max<double>(1.0, static_cast<double>(r.samples));
        for (int64_t k = 0; k < c; ++k)
            r.classes.push_back(nameOf(k));
        multilabelFigures(r, m_multilabel);
        r.multilabelPredictions = m_multilabel;
        return r;
    }
    r.samples = static_cast<int64_t>(m_regression.size());
    const double n = std::max<double>(1.0, static_cast<double>(r.samples));
    r.loss = m_lossSum / n;
    double abs = 0.0, sq = 0.0;
    for (int64_t k = 0; k < c; ++k) {
        std::vector<double> e;
        double sy = 0.0, syy = 0.0, sse = 0.0;
        for (const auto &p : m_regression) {
            const size_t j = static_cast<size_t>(k);
            e.push_back(p.predicted[j] - p.truth[j]);
            sy += p.truth[j];
            syy += p.truth[j] * p.truth[j];
            sse += e.back() * e.back();
            abs += std::abs(e.back());
        }
        sq += sse;
        const double total = syy - sy * sy / n; // Σ(y − ȳ)²
        r.r2 += (total > 0.0 ? 1.0 - sse / total : (sse == 0.0 ? 1.0 : 0.0)) / static_cast<double>(c);
        ResidualSummary s;
        s.target = nameOf(k);
        if (!e.empty()) {
            double sum = 0.0, sumAbs = 0.0;
            for (double v : e) {
                sum += v;
                sumAbs += std::abs(v);
            }
            s.mean = sum / n;
            double var = 0.0;
            for (double v : e)
                var += (v - s.mean) * (v - s.mean);
            s.std = std::sqrt(var / n);
            s.meanAbsolute = sumAbs / n;
            std::sort(e.begin(), e.end());
            s.min = e.front();
            s.max = e.back();
            const size_t m = e.size() / 2;
            s.median = e.size() % 2 ? e[m] : 0.5 * (e[m - 1] + e[m]);
        }
        r.residuals.push_back(s);
    }
    const double count = n * static_cast<double>(std::max<int64_t>(c, 1));
    r.mae = abs / count;
    r.rmse = std::sqrt(sq / count);
    r.regressionPredictions = m_regression;
    return r;
}

} // namespace netwright
