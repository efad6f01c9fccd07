// SPDX-License-Identifier: Apache-2.0
// The metrics of a task, from sums that add up over minibatches and over data-parallel ranks:
// classification accuracy (and top-5 where there are more than 5 classes); regression R²
// (scikit-learn's r2_score, averaged over the targets), RMSE and MAE; multilabel F1, precision
// and recall (macro means over the labels) and each label's F1. Layer: engine/train.
#pragma once

#include "core/tensor.h"
#include "train/observer.h"

#include <string>
#include <vector>

namespace netwright {

// How a metric reads in progress lines and the window: "acc 91.20 %", "top-5 99.10 %", "R² 0.472",
// "RMSE 53.08", "MAE 42.91", "F1 0.813".
std::string formatMetric(const Metric &metric);
// The task's overall metrics (per-label ones left out), two spaces apart.
std::string formatMetrics(const std::vector<Metric> &metrics);

class MetricSums {
public:
    // task: classification, regression or multilabel; outputs: classes, or targets per sample.
    MetricSums(std::string task, int64_t outputs, std::vector<std::string> labelNames = {});
    // One batch: the model's outputs [B, outputs] and the targets ([B] int64 or [B, T] float32),
    // on any device.
    void add(const Tensor &outputs, const Tensor &targets);
    void reset();
    // The sums, to add up across ranks in place (every rank's layout is the same).
    std::vector<double> &sums() { return m_sums; }
    int64_t samples() const { return static_cast<int64_t>(m_sums[0]); }
    // Classification: the rows classified right.
    int64_t correct() const { return m_task == "classification" ? static_cast<int64_t>(m_sums[1]) : 0; }
    // The task's metrics, its main one first (the names of taskMetricNames), then per-label ones.
    std::vector<Metric> metrics() const;
    // The one number a progress line shows for a step: accuracy, MAE or F1.
    Metric stepMetric() const;

private:
    std::string m_task;
    int64_t m_outputs;
    std::vector<std::string> m_labelNames;
    std::vector<double> m_sums;
};

} // namespace netwright
