// SPDX-License-Identifier: Apache-2.0
// Live training curves (QCustomPlot): the training loss of every step (raw, faint) with a
// smoothed line (TensorBoard's debiased exponential moving average, weight set by a slider), the
// evaluation loss and accuracy after every epoch (accuracy on the right axis), the learning rate
// below, and a marker at every checkpoint (a click on one emits checkpointClicked; a run's history
// also marks the deleted ones, hollow). Every point is
// kept at full resolution; zoom and pan with the wheel and by dragging; log scale for the loss.
// Replots are coalesced (at most ~10 per second) so that fast runs do not load the UI thread.
// Thread affinity: UI thread. Layer: widgets.
#pragma once

#include <QWidget>

#include <string>

#include <cstdint>
#include <vector>

class QCheckBox;
class QCustomPlot;
class QCPGraph;
class QSlider;
class QTimer;

namespace netwright::widgets {

class TrainingCurves : public QWidget {
    Q_OBJECT
public:
    explicit TrainingCurves(QWidget *parent = nullptr);

    void clear();
    void addStep(int64_t globalStep, double loss, double lr);
    // `figure` is the task's main test metric, on the right axis: accuracy (the default), R² for a
    // regression, F1 for a multilabel task — `figureName` is what the axis and the legend call it.
    void addEvaluation(int64_t globalStep, double loss, double figure, const QString &figureName = {});
    void addCheckpoint(int64_t globalStep);
    // A checkpoint that was saved and later deleted (a run's history): a hollow grey marker.
    void addDeletedCheckpoint(int64_t globalStep);

    // 0 (raw) … 0.99 (heavy), as the slider sets it.
    void setSmoothing(double weight);
    double smoothing() const { return m_smoothing; }
    void setLogScale(bool on);

    // What is drawn, for tests.
    int stepPoints() const { return static_cast<int>(m_steps.size()); }
    int evaluationPoints() const { return static_cast<int>(m_evalSteps.size()); }
    // The right axis's metric: "test accuracy", "test R²" …
    QString figureName() const;
    const std::vector<int64_t> &checkpointSteps() const { return m_checkpoints; }
    const std::vector<int64_t> &deletedCheckpointSteps() const { return m_deletedSteps; }
    // The smoothed value at step index i (debiased EMA of the raw losses up to i).
    double smoothedAt(int i) const;
    QCustomPlot *plot() const { return m_plot; }

signals:
    void checkpointClicked(qint64 globalStep);

private:
    void recomputeSmoothed();
    double curveAt(int64_t globalStep) const;
    void scheduleReplot();
    void replotNow();

    QCustomPlot *m_plot, *m_lrPlot;
    QCPGraph *m_raw, *m_smooth, *m_evalLoss, *m_evalAcc, *m_lr, *m_markers, *m_deleted;
    QSlider *m_slider;
    QCheckBox *m_log;
    QTimer *m_replot;
    double m_smoothing = 0.6;
    std::vector<double> m_steps, m_losses, m_smoothed;
    std::vector<double> m_evalSteps;
    std::vector<int64_t> m_checkpoints, m_deletedSteps;
    double m_ema = 0;
    bool m_autoRange = true;
};

// What the curves call a task's test metric: "test accuracy", "test R²", "test F1" …
QString testFigureName(const std::string &metric);

} // namespace netwright::widgets
