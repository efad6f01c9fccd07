// SPDX-License-Identifier: Apache-2.0
// What `netwright eval` and the window's Evaluate report about a model on a dataset, gathered one
// minibatch at a time: for a classification the confusion matrix (rows = true class, columns =
// predicted), scikit-learn's classification_report figures per class and their macro and weighted
// means, accuracy, top-5 and the mean loss; for a regression MAE, RMSE, R² and the residuals; and
// every sample's prediction. Layer: engine/train. Plain data, no I/O.
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

// Per target: the residuals (predicted − true) summarised.
struct ResidualSummary {
    std::string target;
    double mean = 0.0, std = 0.0, min = 0.0, max = 0.0, median = 0.0, meanAbsolute = 0.0;
};

struct EvaluationReport {
    std::string task; // classification or regression
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
};

class EvaluationAccumulator {
public:
    // task: classification or regression (Error otherwise); classNames: one per model output for a
    // classification, one per target for a regression (empty: numbered). loss: regression's mse,
    // l1 or huber (with huberDelta); "" = mse.
    EvaluationAccumulator(std::string task, std::vector<std::string> names, std::string loss = {}, double huberDelta = 1.0);
    // One minibatch: the model's outputs [B, C] (host or device) and the targets ([B] int64
    // classes, or [B, T] float32). Throws Error when a label lies outside the model's outputs or
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
};

} // namespace netwright
