// SPDX-License-Identifier: Apache-2.0
// What `netwright eval` and the window's Evaluate report about a model on a dataset, gathered one
// minibatch at a time: for a classification the confusion matrix (rows = true class, columns =
// predicted), scikit-learn's classification_report figures per class and their macro and weighted
// means, accuracy, top-5 and the mean loss; for a regression MAE, RMSE, R² and the residuals; for
// a multilabel task scikit-learn's multilabel figures (subset accuracy, hamming loss, per label
// precision/recall/F1/support with micro, macro, weighted and samples means, and per label the
// 2×2 multilabel_confusion_matrix); and every sample's prediction. Layer: engine/train. Plain data,
// no I/O.
#pragma once

#include "core/tensor.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace netwright {

struct ClassFigures {
    std::string name;
    double precision = 0.0, recall = 0.0, f1 = 0.0; // 0 where undefined (scikit-learn's zero_division=0)
    int64_t support = 0;                             // samples of this true class
};

// One sample of a classification: its index in the evaluated data, the true and the predicted
// class (the first of equal top scores), the softmax probability of the prediction and the
// sample's cross-entropy loss.
struct ClassPrediction {
    int64_t index = 0, trueClass = 0, predicted = 0;
    double confidence = 0.0, loss = 0.0;
};

// One sample of a regression: per target, the true and the predicted value; its loss.
struct RegressionPrediction {
    int64_t index = 0;
    std::vector<double> truth, predicted;
    double loss = 0.0;
};

// One sample of a multilabel task: per label its true 0/1, the predicted 0/1 (sigmoid probability
// above the threshold, 0.5: logit > 0, as the trainer's F1 decides) and the probability; its loss
// (binary cross-entropy, the mean over the labels).
struct MultilabelPrediction {
    int64_t index = 0;
    std::vector<uint8_t> truth, predicted;
    std::vector<double> probability;
    double loss = 0.0;
};

// Per target: the residuals (predicted − true) summarised.
struct ResidualSummary {
    std::string target;
    double mean = 0.0, std = 0.0, min = 0.0, max = 0.0, median = 0.0, meanAbsolute = 0.0;
};

struct EvaluationReport {
    std::string task; // classification, regression or multilabel
    int64_t samples = 0;
    double loss = 0.0; // the mean over the samples of the task's loss (the trainer's eval_loss)
    // Classification:
    double accuracy = 0.0;
    std::optional<double> top5;                  // where there are more than 5 classes
    std::vector<std::string> classes;            // names, one per model output
    std::vector<std::vector<int64_t>> confusion; // [true][predicted], classes × classes
    std::vector<ClassFigures> perClass;
    ClassFigures macroAverage, weightedAverage; // name "macro avg" / "weighted avg"
    std::vector<ClassPrediction> predictions;
    // Regression (per target figures averaged over the targets, as the trainer's metrics):
    double mae = 0.0, rmse = 0.0, r2 = 0.0;
    std::vector<ResidualSummary> residuals;
    std::vector<RegressionPrediction> regressionPredictions;
    // Multilabel: classes names the labels, perClass holds each label's figures (support = its
    // positives), accuracy is the subset accuracy (every label right), the averages' support is the
    // positives of all labels.
    double threshold = 0.5; // a label is predicted where its probability is above this
    double hammingLoss = 0.0;
    ClassFigures microAverage, samplesAverage; // "micro avg" / "samples avg"
    // Per label [[tn, fp], [fn, tp]] (rows: true 0/1, columns: predicted 0/1), as scikit-learn's
    // multilabel_confusion_matrix.
    std::vector<std::vector<std::vector<int64_t>>> labelConfusion;
    std::vector<MultilabelPrediction> multilabelPredictions;
};

class EvaluationAccumulator {
public:
    // task: classification, regression or multilabel (Error otherwise); names: one per model output
    // for a classification, one per target (label) for a regression or multilabel task (empty:
    // numbered). loss: regression's mse, l1 or huber (with huberDelta); "" = mse.
    EvaluationAccumulator(std::string task, std::vector<std::string> names, std::string loss = {}, double huberDelta = 1.0);
    // One minibatch: the model's outputs [B, C] (host or device; multilabel: logits) and the
    // targets ([B] int64 classes, or [B, T] float32: values, or 0/1 labels). Throws Error when a label lies outside the model's outputs or
    // the targets do not match the outputs.
    void add(const Tensor &outputs, const Tensor &targets);
    EvaluationReport finish() const;

private:
    std::string m_task, m_loss;
    std::vector<std::string> m_names;
    double m_huberDelta;
    int64_t m_outputs = -1;
    int64_t m_top5Correct = 0;
    double m_lossSum = 0.0;
    std::vector<ClassPrediction> m_class;
    std::vector<RegressionPrediction> m_regression;
    std::vector<MultilabelPrediction> m_multilabel;
};

} // namespace netwright
