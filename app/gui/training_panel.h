// SPDX-License-Identifier: Apache-2.0
// The training panel: the run config as a validated form — model, data (your folder or file,
// Fashion-MNIST, or IDX/CSV files; see data_section.h) and task, optimizer and schedule, epochs,
// batch size, seed, and the checkpoint policy with its retention preview (the same dry run as
// `netwright train --plan`) — then Start, Pause, Resume and Stop for a TrainingRun on a worker
// thread. On the right, the data preview (what the samples are, their classes, the split) and the
// live curves with checkpoint markers, a progress bar with ETA. A model that does not fit the
// data is the form's error, named while the form is edited. "Save Run Config…" writes the JSON
// `netwright train --config` runs.
// Thread affinity: UI thread. Layer: app.
#pragma once

#include "config/run_config.h"
#include "train/observer.h"

#include <QElapsedTimer>
#include <QWidget>

#include <vector>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTabWidget;
class QTimer;

namespace netwright::widgets {
class DataPreview;
class TrainingCurves;
} // namespace netwright::widgets

namespace netwright::gui {

class DataSection;
class TrainingRun;

class TrainingPanel : public QWidget {
    Q_OBJECT
public:
    explicit TrainingPanel(QWidget *parent = nullptr);
    ~TrainingPanel() override;

    // The form as a run config, and back.
    RunConfig config() const;
    void setConfig(const RunConfig &config);
    // Trains a model file (ONNX, MindIR, AIR, CNTK model-v2) instead of a zoo model; the run is
    // named after it unless the user named it.
    void setModelFile(const QString &path);
    // Empty when the form holds a valid config, else the problem (naming the setting).
    QString validationError() const { return m_error; }
    QString retentionPreview() const;
    // Where runs go (default: runs/ under the working directory).
    void setRunsDirectory(const QString &dir) { m_runsDir = dir; }

    void start();
    // Continues a stopped (or killed) run in its own directory as `netwright resume` does; the
    // form shows the run's config, the curves start with the run's history up to the checkpoint.
    void continueRun(const QString &runDirectory);
    void pause();
    void resume();
    void stop();
    bool saveConfig(const QString &path, QString *error) const;

    TrainingRun *run() const { return m_run; }
    widgets::TrainingCurves *curves() const { return m_curves; }
    widgets::DataPreview *dataPreview() const { return m_dataPreview; }
    DataSection *dataSection() const { return m_data; }
    // The line under the progress bar: the step, the loss, the ETA; at the end, the final test
    // metrics and the best ones with the epoch and step they were reached at.
    QString statusText() const;
    QListWidget *checkpointList() const { return m_checkpoints; }
    QProgressBar *progressBar() const { return m_progress; }

signals:
    // The run has its directory and trains (from `startGlobalStep`: a continued run).
    void runBegun(const QString &runDirectory, int64_t startGlobalStep);
    void runFinished(const QString &runDirectory, bool stopped, const QString &error);

private:
    void buildForm();
    void revalidate();
    void updatePreview();
    void updateButtons();
    void updateVisibleRows();
    void followModel();
    // The run's logged steps, evaluations and kept checkpoints up to `globalStep` (a continued run).
    void showHistoryUpTo(const QString &runDirectory, int64_t globalStep);

    TrainingRun *m_run;
    widgets::TrainingCurves *m_curves;
    widgets::DataPreview *m_dataPreview;
    DataSection *m_data = nullptr;
    QTabWidget *m_views = nullptr;
    QComboBox *m_model, *m_optimizer, *m_schedule, *m_format;
    QLineEdit *m_name, *m_modelFile;
    QDoubleSpinBox *m_lr, *m_momentum, *m_weightDecay;
    QSpinBox *m_topK, *m_keepPeriod, *m_cntkFrequency;
    QComboBox *m_monitor, *m_cntkUnit, *m_device, *m_precision;
    QCheckBox *m_saveAtEnd, *m_asyncSave, *m_exceptionSave, *m_crcCheck, *m_preserveAll;
    QFormLayout *m_checkpointForm = nullptr;
    QSpinBox *m_epochs, *m_batch, *m_seed, *m_saveSteps, *m_saveSeconds, *m_keepMax, *m_keepMinutes, *m_warmup;
    QCheckBox *m_checkpointing, *m_everyEpoch, *m_saveLast;
    QPlainTextEdit *m_preview;
    QLabel *m_errorLabel, *m_eta, *m_runDir;
    QPushButton *m_start, *m_pause, *m_stop, *m_save;
    QProgressBar *m_progress;
    QListWidget *m_checkpoints;
    QFormLayout *m_modelForm = nullptr;
    QWidget *m_modelFileRow = nullptr;
    QString m_error, m_runsDir;
    bool m_nameFollowsModel = true; // the run name is the model's until the user names the run
    RunConfig m_base;
    QElapsedTimer m_clock;
    int64_t m_totalSteps = 0, m_startStep = 0, m_lastStep = 0;
    std::vector<EvalInfo> m_evals; // this run's, in order
};

} // namespace netwright::gui
