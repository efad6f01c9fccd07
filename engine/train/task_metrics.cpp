// SPDX-License-Identifier: Apache-2.0
#include "train/task_metrics.h"

#include "core/error.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace netwright {

namespace {
// Layout of the sums: [0] samples; classification [1] correct, [2] top-5 correct; regression per
// target (|e|, e², y, y²); multilabel per label (tp, fp, fn).
constexpr int kRegressionPer = 4, kMultilabelPer = 3;
} // namespace

std::string formatMetric(const Metric &m)
{
    char buf[96];
    const bool percent = m.name == "accuracy" || m.name == "top5";
    const char *label = m.name == "accuracy" ? "acc"
                        : m.name == "top5"   ? "top-5"
                        : m.name == "r2"     ? "R²"
                        : m.name == "rmse"   ? "RMSE"
                        : m.name == "mae"    ? "MAE"
                        : m.name == "f1"     ? "F1"
                                             : m.name.c_str();
    if (percent)
        std::snprintf(buf, sizeof buf, "%s %.2f %%", label, 100.0 * m.value);
    else
        std::snprintf(buf, sizeof buf, "%s %.4g", label, m.value);
    return buf;
}

std::string formatMetrics(const std::vector<Metric> &metrics)
{
    std::string out;
    for (const auto &m : metrics)
        if (m.name.find('[') == std::string::npos)
            out += (out.empty() ? "" : "  ") + formatMetric(m);
    return out;
}

MetricSums::MetricSums(std::string task, int64_t outputs, std::vector<std::string> labelNames)
    : m_task(std::move(task)), m_outputs(outputs), m_labelNames(std::move(labelNames))
{
    check(m_task == "classification" || m_task == "regression" || m_task == "multilabel", "Unknown task \"" + m_task + "\".");
    reset();
}

void MetricSums::reset()
{
    const size_t per = m_task == "classification" ? 2 : static_cast<size_t>(m_outputs) * (m_task == "regression" ? kRegressionPer : kMultilabelPer);
    m_sums.assign(1 + per, 0.0);
}

void MetricSums::add(const Tensor &deviceOutputs, const Tensor &deviceTargets)
{
    const Tensor out = deviceOutputs.to(Device::cpu()), y = deviceTargets.to(Device::cpu());
    const int64_t n = out.dim(0), c = out.dim(1);
    const float *o = out.data();
    m_sums[0] += static_cast<double>(n);
    if (m_task == "classification") {
        const int64_t *labels = y.dataAs<int64_t>();
        for (int64_t i = 0; i < n; ++i) {
            const float *row = o + i * c;
            const int64_t label = labels[i];
            int64_t better = 0, best = 0; // scores above the label's (ties count for the earlier index)
            for (int64_t k = 0; k < c; ++k) {
                if (row[k] > row[best])
                    best = k;
                if (label >= 0 && label < c && (row[k] > row[label] || (row[k] == row[label] && k < label)))
                    ++better;
            }
            m_sums[1] += best == label ? 1.0 : 0.0;
            m_sums[2] += better < 5 ? 1.0 : 0.0;
        }
        return;
    }
    check(c == m_outputs && y.rank() == 2 && y.dim(1) == c, "The model's outputs " + shapeToString(out.shape())
                                                                + " do not match the targets " + shapeToString(y.shape()) + ".");
    const float *t = y.data();
    for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < c; ++k) {
            const double p = o[i * c + k], v = t[i * c + k];
            if (m_task == "regression") {
                double *s = &m_sums[1 + static_cast<size_t>(k) * kRegressionPer];
                s[0] += std::abs(p - v);
                s[1] += (p - v) * (p - v);
                s[2] += v;
                s[3] += v * v;
            } else {
                double *s = &m_sums[1 + static_cast<size_t>(k) * kMultilabelPer];
                const bool predicted = p > 0.0; // logit > 0 ⇔ sigmoid > 0.5
                const bool actual = v > 0.5;
                s[0] += predicted && actual ? 1.0 : 0.0;
                s[1] += predicted && !actual ? 1.0 : 0.0;
                s[2] += !predicted && actual ? 1.0 : 0.0;
            }
        }
}

std::vector<Metric> MetricSums::metrics() const
{
    const double n = std::max(1.0, m_sums[0]);
    if (m_task == "classification") {
        std::vector<Metric> m{{"accuracy", m_sums[1] / n}};
        if (m_outputs > 5)
            m.push_back({"top5", m_sums[2] / n});
        return m;
    }
    const auto t = static_cast<size_t>(m_outputs);
    if (m_task == "regression") {
        double r2 = 0.0, abs = 0.0, sq = 0.0;
        for (size_t k = 0; k < t; ++k) {
            const double *s = &m_sums[1 + k * kRegressionPer];
            const double total = s[3] - s[2] * s[2] / n; // Σ(y − ȳ)²
            r2 += total > 0.0 ? 1.0 - s[1] / total : (s[1] == 0.0 ? 1.0 : 0.0);
            abs += s[0];
            sq += s[1];
        }
        const double count = n * static_cast<double>(t);
        return {{"r2", r2 / static_cast<double>(t)}, {"rmse", std::sqrt(sq / count)}, {"mae", abs / count}};
    }
    double f1 = 0.0, precision = 0.0, recall = 0.0;
    std::vector<Metric> perLabel;
    for (size_t k = 0; k < t; ++k) {
        const double *s = &m_sums[1 + k * kMultilabelPer];
        const double tp = s[0], fp = s[1], fn = s[2];
        const double f = 2 * tp + fp + fn > 0 ? 2 * tp / (2 * tp + fp + fn) : 0.0; // scikit-learn's zero_division=0
        f1 += f;
        precision += tp + fp > 0 ? tp / (tp + fp) : 0.0;
        recall += tp + fn > 0 ? tp / (tp + fn) : 0.0;
        perLabel.push_back({"f1[" + (k < m_labelNames.size() ? m_labelNames[k] : std::to_string(k)) + "]", f});
    }
    std::vector<Metric> m{{"f1", f1 / static_cast<double>(t)},
                          {"precision", precision / static_cast<double>(t)},
                          {"recall", recall / static_cast<double>(t)}};
    m.insert(m.end(), perLabel.begin(), perLabel.end());
    return m;
}

Metric MetricSums::stepMetric() const
{
    const auto all = metrics();
    if (m_task == "regression")
        return all[2]; // MAE: R² of one small batch says little
    return all[0];
}

} // namespace netwright
