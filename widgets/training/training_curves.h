// SPDX-License-Identifier: Apache-2.0
// Live training curves (QCustomPlot), as TensorBoard draws them: the training loss of every step
// (raw, faint) behind its smoothed line (TensorBoard's debiased exponential moving average, weight
// 0–0.999 on a slider), the training accuracy (the minibatches', raw and smoothed) when the task
// has one, the evaluation loss and test metric after every epoch (metric on the right axis), the
// learning rate in a second plot below that shares the x-axis (same margins, range, zoom and pan),
// and a marker at every checkpoint (a click on one emits checkpointClicked; a run's history also
// marks the deleted ones, hollow). The x-axis counts steps, epochs, samples seen or wall time. Hovering shows a
// cursor line through both plots and a read-out of every series at that x. Every point is kept
// and drawn (no downsampling); the legend sits above the data, never on it; a click never changes
// how a series looks. Any series exports as CSV, the plot as PNG or SVG (atomic writes, into the
// export directory by default). Several runs overlay in one plot (a run comparison: addRun), one
// colour per run, each shown or hidden on its own (training_curves_runs.cpp). Replots are coalesced (at most ~10 per second) so that fast runs
// do not load the UI thread. Thread affinity: UI thread. Layer: widgets.
#pragma once

#include "training/curve_data.h"

#include <QColor>
#include <QString>
#include <QStringList>
#include <QWidget>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace netwright {
struct MetricsRecord;
}

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QCPAxisRect;
class QCPGraph;
class QCPItemStraightLine;
class QLabel;
class QSlider;
class QTimer;
class QToolButton;

namespace netwright::widgets {

// One training step as the curves take it. figure: the task's step figure in [0, 1] (the
// minibatch's accuracy or F1) named figureName ("train accuracy"), NaN when there is none.
struct TrainingStepPoint {
    int64_t globalStep = 0;
    double epoch = kUnknown;    // fractional: 1.0 is the end of the first epoch
    double wallTime = kUnknown; // seconds since the Unix epoch
    int64_t batchSize = 0;      // the step's samples (0: unknown); the samples axis sums them
    double loss = 0, lr = 0;
    double figure = kUnknown;
    QString figureName;
};

class TrainingCurves : public QWidget {
    Q_OBJECT
    struct RunSeries;

public:
    // Wall time (seconds since the Unix epoch) by global step.
    using StepWallTimes = std::map<int64_t, double>;

    explicit TrainingCurves(QWidget *parent = nullptr);
    ~TrainingCurves() override;

    void clear();
    void addStep(const TrainingStepPoint &step);
    void addStep(int64_t globalStep, double loss, double lr);
    // `figure` is the task's main test metric, on the right axis: accuracy (the default), R² for a
    // regression, F1 for a multilabel task — `figureName` is what the axis and the legend call it.
    // Its epoch and wall time are those of the training step with the same global step.
    void addEvaluation(int64_t globalStep, double loss, double figure, const QString &figureName = {});
    // A run's metrics log (metrics.jsonl, run/metrics_log.h), every record in order: its steps with
    // their fractional epoch and training accuracy (or F1), its evaluations with the task's main
    // metric, and the samples seen (the batch sizes summed). The log keeps no clock: `wallTimes`
    // gives each step's wall time by global step (the run's TensorBoard events,
    // TensorBoardLog::stepWallTimes); without them the wall-time axis is not offered.
    void addMetricsLog(const std::vector<MetricsRecord> &records, const StepWallTimes &wallTimes = {});
    void addCheckpoint(int64_t globalStep);
    // A checkpoint that was saved and later deleted (a run's history): a hollow grey marker.
    void addDeletedCheckpoint(int64_t globalStep);

    // A run overlaid on the others (a run comparison), from its metrics log as addMetricsLog reads
    // it: its smoothed training loss (the raw steps faint behind), its test metric after every
    // epoch (dashed, with markers, on the right axis) and its learning rate below, all in `color`;
    // the legend names the run. Returns the run's index. Its steps carry their fractional epoch and
    // the samples seen, so runs of other batch sizes line up by epoch or by samples; with
    // `wallTimes` (as addMetricsLog) they line up by the time since each run's first step, as
    // TensorBoard's "relative" axis.
    int addRun(const QString &name, const QColor &color, const std::vector<MetricsRecord> &records, const StepWallTimes &wallTimes = {});
    int runCount() const { return static_cast<int>(m_runs.size()); }
    void setRunColor(int run, const QColor &color);
    QColor runColor(int run) const;
    // A hidden run draws nothing and leaves the legend and the read-out.
    void setRunVisible(int run, bool visible);
    bool isRunVisible(int run) const;
    // What the runs' dashed lines show on the right axis: any evaluation series the runs logged
    // ("test accuracy", "test loss", "test top-5" …; the first run's main metric at first), as the
    // selector above the plot sets it. A run without that series draws no dashed line.
    QStringList runsMetrics() const;
    QString runsMetric() const;
    void setRunsMetric(const QString &figure);
    // Its graphs (tests: 0 smoothed loss, 1 raw loss, 2 test metric, 3 learning rate).
    QCPGraph *runGraph(int run, int which) const;

    // 0 (raw) … 0.999 (heavy), as the slider sets it.
    void setSmoothing(double weight);
    double smoothing() const { return m_smoothing; }
    void setLogScale(bool on);
    // Epoch, samples and wall time are offered once the steps (of one run shown) carry them; an
    // axis that is not falls back to the step. The user's choice in the selector holds across clear() (the next run).
    void setXAxis(CurveAxis axis);
    CurveAxis xAxisKind() const { return m_axis; }
    bool isAxisAvailable(CurveAxis axis) const;

    // Where the export dialogs open (the run's directory); the home folder until it is set.
    void setExportDirectory(const QString &dir) { m_exportDir = dir; }
    QString exportDirectory() const;
    // The series that hold points: "train loss", "train accuracy", "test loss", "test accuracy",
    // "learning rate" …; with runs overlaid, each run's "<run> · train loss", "<run> · test
    // accuracy" (its metric), "<run> · learning rate".
    QStringList seriesNames() const;
    // step,epoch,samples,wall_time,value (curve_data.h); false with the sentence naming the file otherwise.
    bool exportCsv(const QString &series, const QString &path, QString *error) const;
    bool savePng(const QString &path, QString *error);
    bool saveSvg(const QString &path, QString *error);

    // What is drawn, for tests.
    int stepPoints() const { return static_cast<int>(m_loss.size()); }
    int evaluationPoints() const { return static_cast<int>(m_testLoss.size()); }
    // The right axis's metric: "test accuracy", "test R²" …
    QString figureName() const;
    const std::vector<int64_t> &checkpointSteps() const { return m_checkpoints; }
    const std::vector<int64_t> &deletedCheckpointSteps() const { return m_deletedSteps; }
    // The smoothed value at step index i (debiased EMA of the raw losses up to i).
    double smoothedAt(int i) const;
    QCustomPlot *plot() const { return m_plot; }
    QCPAxisRect *lossRect() const { return m_lossRect; }
    QCPAxisRect *lrRect() const { return m_lrRect; }
    // The hover read-out: shown while the mouse is over a plot; its text as the user reads it.
    QLabel *readout() const { return m_readout; }
    // The x (in the current axis's unit) the cursor line marks, NaN when none is shown.
    double cursorX() const;

signals:
    void checkpointClicked(qint64 globalStep);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    double keyOf(const CurvePoint &p) const;
    // The series that hold points, by the name seriesNames() gives.
    std::vector<std::pair<QString, const std::vector<CurvePoint> *>> namedSeries() const;
    // keyOf for an overlaid run: its wall time counts from its own first step.
    double runKeyOf(const RunSeries &run, const CurvePoint &p) const;
    CurvePoint locate(int64_t globalStep) const;
    void rebuild();
    void rebuildSmoothed();
    void updateAxisChoices();
    void updateLegend();
    void scheduleReplot();
    void replotNow();
    void showReadout(const QPoint &pos);
    void hideReadout();
    void exportDialog(const QString &series);
    void imageDialog(bool svg);
    QString formatX(const CurvePoint &p) const;
    void rebuildRuns();
    bool showRunsReadout(const QPoint &pos, QCPAxisRect *rect);

    QCustomPlot *m_plot;
    QCPAxisRect *m_lossRect, *m_lrRect;
    QCPGraph *m_raw, *m_smooth, *m_trainFig, *m_trainFigSmooth, *m_evalLoss, *m_evalAcc, *m_lr, *m_markers, *m_deleted;
    QCPItemStraightLine *m_cursor, *m_lrCursor;
    QLabel *m_readout, *m_runMetricLabel;
    QSlider *m_slider;
    QCheckBox *m_log;
    QComboBox *m_axisChoice, *m_runMetric;
    QToolButton *m_export;
    QTimer *m_replot;
    double m_smoothing = 0.6;
    CurveAxis m_axis = CurveAxis::Step, m_preferredAxis = CurveAxis::Step; // drawn; chosen by the user
    // Every point, by step. m_smoothed and m_figSmoothed follow m_loss and m_figure.
    std::vector<CurvePoint> m_loss, m_lrPoints, m_figure, m_testLoss, m_testFigure;
    std::vector<double> m_smoothed, m_figSmoothed;
    DebiasedEma m_lossEma, m_figEma;
    std::vector<int64_t> m_checkpoints, m_deletedSteps;
    double m_wall0 = kUnknown; // the first step's wall time: the wall-time axis starts there
    double m_cursorX = kUnknown;
    QString m_exportDir;
    bool m_autoRange = true;
    std::vector<std::unique_ptr<RunSeries>> m_runs; // overlaid runs (a comparison), in the order added
};

// What the curves call a task's test metric: "test accuracy", "test R²", "test F1" …
QString testFigureName(const std::string &metric);

} // namespace netwright::widgets
