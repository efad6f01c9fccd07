// SPDX-License-Identifier: Apache-2.0
// A run directory in the window: its curves (every step of the metrics log, evaluations, a marker
// per checkpoint) and its checkpoint history (epoch, step, time, size, metrics, kept or deleted
// and by which rule), kept up to date while another process is still writing the run. Actions on
// the selected checkpoints: inspect (opens the file), compare two (per-parameter L2 distance and
// relative change), evaluate (gui/evaluation_view.h), export (the export wizard), delete (recorded in the history), resume from it
// (a fork of the run, trained on by `netwright resume` in its own process), continue training
// (a stopped or killed run, in the window's training panel, as `netwright resume` does). The
// summary says the run's state (training…, finished, stopped, not running) and, for a fork, the
// run it was forked from; the fork point is the fork's first row. Thread affinity: UI thread.
// Layer: app.
#pragma once

#include "formats/model_description.h"

#include <QString>

#include <optional>

#include <QFutureWatcher>
#include <QWidget>

#include <map>
#include <memory>
#include <vector>

class QFileSystemWatcher;
class QLabel;
class QPushButton;
class QSplitter;
class QTableWidget;
class QTabWidget;
class QTimer;

namespace netwright::widgets {
class GraphView;
class TrainingCurves;
struct NodeHeat;
} // namespace netwright::widgets

namespace netwright::gui {

struct LoadedModel;

// A checkpoint of the run as the table shows it (the run owner's history row).
struct HistoryRow {
    QString file, reason, status, rule; // status: kept, replaced, deleted, missing
    QString forkedFrom;                 // a forked run's fork point: the parent run's checkpoint
    qint64 epoch = 0, step = 0, bytes = 0;
    double time = 0; // seconds since the Unix epoch
    std::optional<double> accuracy, loss;
};

struct ParameterChange {
    QString name;
    qint64 elements = 0;
    double l2 = 0, relative = 0; // ‖b − a‖₂ and ‖b − a‖₂ / ‖a‖₂
};

// Per-parameter change between two checkpoints (MindSpore .ckpt or CNTK pair), float tensors
// present in both with the same shape: the model's parameters first, then the optimizer's state,
// each by largest relative change. Throws Error.
std::vector<ParameterChange> compareCheckpoints(const QString &a, const QString &b);

// The graph of the model a run's checkpoint belongs to (its inference graph, the nodes and
// parameter names as its ONNX export has them, shapes inferred by the engine), for colouring a
// comparison on it. Runs on any thread; errors come back in LoadedModel::error/details.
std::shared_ptr<LoadedModel> loadRunModel(const QString &checkpoint);

// Each node of `model` that reads a parameter in `changes` (the model's own, not the optimizer's
// slots), shaded by its parameters' largest relative change over the largest of all (1: the most
// changed), with the figures for the tooltip.
std::map<int, widgets::NodeHeat> comparisonHeat(const ModelDescription &model, const std::vector<ParameterChange> &changes);

class RunHistoryPanel : public QWidget {
    Q_OBJECT
public:
    explicit RunHistoryPanel(const QString &runDirectory, QWidget *parent = nullptr);
    ~RunHistoryPanel() override; // waits for a graph still being read

    QString runDirectory() const { return m_dir; }
    const std::vector<HistoryRow> &rows() const { return m_rows; }
    QTableWidget *table() const { return m_table; }
    QTableWidget *comparison() const { return m_comparison; }
    // The comparison on the run's graph (laid out after the first comparison).
    widgets::GraphView *comparisonGraph() const { return m_compareGraph; }
    QTabWidget *comparisonTabs() const { return m_compareTabs; }
    widgets::TrainingCurves *curves() const { return m_curves; }

    // Re-reads the run's logs (also done on its own when they change).
    void reload();
    // Compares the checkpoints in two table rows; false with the reason in *error.
    bool compareRows(int first, int second, QString *error);
    bool deleteRow(int row, QString *error);
    // Forks the run at the checkpoint in `row`: a new run directory beside this one with the
    // config, that checkpoint and the metrics up to it, continued by `netwright resume` in its
    // own process (it keeps training if the window closes). Returns the new directory, or an
    // empty string with the reason in *error.
    QString resumeFrom(int row, QString *error);
    // Continue Training: a stopped or killed run goes on in the window (a training panel) exactly
    // as `netwright resume` continues it: in this run directory when no checkpoint is selected or
    // the selected one is the one resume restores (the newest valid), else in a fork at the
    // selected checkpoint (resumeFrom's directory). Emits continueRequested(directory); returns
    // it, or an empty string with the reason in *error.
    QString continueTraining(int row, QString *error);
    // Whether Continue Training applies: the run has a config, is not being trained (by this
    // window or, as its training lock says, another process) and has not finished.
    bool canContinue() const;
    // The netwright program that resume runs (default: this program).
    void setProgram(const QString &program) { m_program = program; }
    // What this panel last said for the status bar (the window shows the current tab's).
    QString statusText() const { return m_status; }
    // The run's state as the summary line says it: "training…" (a process holds the run's
    // training lock), "finished", "stopped at step N", "not running: …" (no end record and no
    // process training it: killed or crashed), "not started".
    QString runState() const { return m_state; }

signals:
    void statusMessage(const QString &text);
    void openFileRequested(const QString &path);
    void exportRequested(const QString &checkpoint);
    void evaluateRequested(const QString &checkpoint);
    void runStarted(const QString &runDirectory);
    void continueRequested(const QString &runDirectory);

private:
    QString pathOf(int row) const;
    std::vector<int> selectedRows() const;
    // Whether the checkpoint in `row` can be inspected, exported, resumed from or deleted: kept
    // by the history and still on disk (not deleted, replaced or gone).
    bool isAvailable(int row) const;
    void updateActions();
    void showHeat();
    void say(const QString &text);

    QString m_dir;
    std::vector<HistoryRow> m_rows;
    qint64 m_metricsSize = -1, m_historySize = -1;
    bool m_live = false; // a process held the run's training lock at the last reload
    widgets::TrainingCurves *m_curves;
    QTableWidget *m_table, *m_comparison;
    QTabWidget *m_compareTabs;
    QSplitter *m_split;
    widgets::GraphView *m_compareGraph;
    QLabel *m_graphStatus;
    std::shared_ptr<LoadedModel> m_runModel;            // what m_compareGraph shows
    QFutureWatcher<std::shared_ptr<LoadedModel>> m_modelWatcher;
    std::vector<ParameterChange> m_changes;             // the last comparison
    QLabel *m_summary, *m_compareTitle;
    QPushButton *m_inspect, *m_compare, *m_evaluate, *m_export, *m_delete, *m_resume, *m_continue;
    QString m_program, m_status, m_state;
    QFileSystemWatcher *m_watcher;
    QTimer *m_poll;
};

} // namespace netwright::gui
