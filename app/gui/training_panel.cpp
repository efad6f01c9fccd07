// SPDX-License-Identifier: Apache-2.0
#include "gui/training_panel.h"

#include "checkpoint/checkpoint_plan.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "data/data_preview.h"
#include "formats/graph_formats.h"
#include "gui/data_section.h"
#include "gui/training_run.h"
#include "gui/wrapping_label.h"
#include "run/run_directory.h"
#include "run/tensorboard_log.h"
#include "training/training_curves.h"
#include "zoo/model_zoo.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGroupBox>
#include <QJsonDocument>
#include <QJsonObject>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QVBoxLayout>

#include <cmath>

namespace netwright::gui {

namespace {

QSpinBox *spin(QWidget *parent, int lo, int hi, int value)
{
    auto *s = new QSpinBox(parent);
    s->setRange(lo, hi);
    s->setValue(value);
    return s;
}

QDoubleSpinBox *real(QWidget *parent, double lo, double hi, int decimals, double value)
{
    auto *s = new QDoubleSpinBox(parent);
    s->setRange(lo, hi);
    s->setDecimals(decimals);
    s->setValue(value);
    return s;
}

QString eta(double seconds)
{
    if (!std::isfinite(seconds) || seconds < 0)
        return QStringLiteral("–");
    const int s = static_cast<int>(seconds + 0.5);
    return s >= 3600 ? QStringLiteral("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60)
           : s >= 60 ? QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60)
                     : QStringLiteral("%1 s").arg(s);
}

QString figure(double v)
{
    return QString::number(v, 'f', 4);
}

// What a finished (or stopped) run's evaluations say: the last one (the task's metrics, its main
// one first, then the test loss, with its epoch and step), and the best main metric and the lowest
// test loss over the run, with where they were reached. Empty without an evaluation.
QString evaluationSummary(const std::vector<EvalInfo> &evals)
{
    if (evals.empty())
        return {};
    const EvalInfo &last = evals.back();
    QStringList finals;
    for (const Metric &m : last.metrics)
        if (m.name.find('[') == std::string::npos && m.name != "top5")
            finals << TrainingPanel::tr("test %1 %2").arg(QString::fromStdString(m.name), figure(m.value));
    finals << TrainingPanel::tr("test loss %1").arg(figure(last.loss));
    QString text = TrainingPanel::tr(" · final (epoch %1, step %2): %3").arg(last.epoch).arg(last.globalStep).arg(finals.join(QStringLiteral(", ")));
    if (evals.size() < 2)
        return text;
    auto where = [](const EvalInfo &e) { return TrainingPanel::tr("at epoch %1 (step %2)").arg(e.epoch).arg(e.globalStep); };
    QStringList best;
    if (!last.metrics.empty()) {
        // Error figures are best when lowest; accuracy, R², F1 … when highest.
        const std::string name = last.metrics.front().name;
        const bool lower = name == "rmse" || name == "mae";
        const EvalInfo *top = nullptr;
        for (const EvalInfo &e : evals)
            if (const auto v = e.metric(name); v && std::isfinite(*v) && (!top || (lower ? *v < *top->metric(name) : *v > *top->metric(name))))
                top = &e;
        if (top)
            best << TrainingPanel::tr("test %1 %2 %3").arg(QString::fromStdString(name), figure(*top->metric(name)), where(*top));
    }
    const EvalInfo *lowest = nullptr;
    for (const EvalInfo &e : evals)
        if (std::isfinite(e.loss) && (!lowest || e.loss < lowest->loss))
            lowest = &e;
    if (lowest)
        best << TrainingPanel::tr("test loss %1 %2").arg(figure(lowest->loss), where(*lowest));
    return best.isEmpty() ? text : text + TrainingPanel::tr(" · best: %1").arg(best.join(QStringLiteral(", ")));
}

} // namespace

TrainingPanel::TrainingPanel(QWidget *parent)
    : QWidget(parent), m_run(new TrainingRun(this)), m_curves(new widgets::TrainingCurves(this)), m_dataPreview(new widgets::DataPreview(this)),
      m_base(defaultRunConfig())
{
    buildForm();
    setConfig(m_base);

    connect(m_run, &TrainingRun::begun, this, [this](const TrainBeginInfo &info, const QString &dir) {
        m_totalSteps = info.epochs * info.stepsPerEpoch;
        m_startStep = info.startGlobalStep;
        m_progress->setRange(0, static_cast<int>(std::min<int64_t>(m_totalSteps, INT32_MAX)));
        m_progress->setValue(static_cast<int>(info.startGlobalStep));
        if (info.startGlobalStep > 0 && m_curves->stepPoints() == 0)
            showHistoryUpTo(dir, info.startGlobalStep); // a continued run: its curves go on from there
        setWrappedText(m_runDir, tr("Run directory: %1 · on %2").arg(QDir::toNativeSeparators(dir), QString::fromStdString(info.device.toString())));
        m_curves->setExportDirectory(dir); // the curves' CSV, PNG and SVG go beside the run by default
        m_clock.start();
        emit runBegun(dir, info.startGlobalStep);
    });
    connect(m_run, &TrainingRun::stepped, this, [this](const std::vector<StepInfo> &steps, const std::vector<double> &wallTimes) {
        for (size_t i = 0; i < steps.size(); ++i) {
            const StepInfo &s = steps[i];
            widgets::TrainingStepPoint p;
            p.globalStep = s.globalStep;
            p.loss = s.loss;
            p.lr = s.lr;
            p.batchSize = s.batchSize;
            // Fractional epochs: the last step of the first epoch is at 1.0.
            if (s.stepsPerEpoch > 0)
                p.epoch = static_cast<double>(s.epoch - 1) + static_cast<double>(s.step) / static_cast<double>(s.stepsPerEpoch);
            if (i < wallTimes.size())
                p.wallTime = wallTimes[i];
            // The minibatch's accuracy (or F1), on the metric axis; a regression's MAE is not drawn there.
            if (s.metric.name == "accuracy" || s.metric.name == "f1") {
                p.figure = s.metric.value;
                p.figureName = s.metric.name == "f1" ? tr("train F1") : tr("train accuracy");
            }
            m_curves->addStep(p);
        }
        const StepInfo &last = steps.back();
        m_lastStep = last.globalStep;
        m_progress->setValue(static_cast<int>(std::min<int64_t>(last.globalStep, INT32_MAX)));
        const double done = static_cast<double>(last.globalStep - m_startStep);
        const double rate = done / std::max(1e-3, m_clock.elapsed() / 1000.0);
        m_eta->setText(tr("epoch %1/%2 · step %3/%4 · loss %5 · %6 steps/s · ETA %7")
                           .arg(last.epoch)
                           .arg(last.epochs)
                           .arg(last.globalStep)
                           .arg(m_totalSteps)
                           .arg(last.loss, 0, 'f', 4)
                           .arg(rate, 0, 'f', 1)
                           .arg(eta((m_totalSteps - last.globalStep) / std::max(rate, 1e-9))));
    });
    connect(m_run, &TrainingRun::evaluated, this, [this](const EvalInfo &e) {
        const Metric main = e.metrics.empty() ? Metric{"accuracy", e.accuracy} : e.metrics.front();
        m_curves->addEvaluation(e.globalStep, e.loss, main.value, widgets::testFigureName(main.name));
        m_evals.push_back(e);
    });
    connect(m_run, &TrainingRun::checkpointSaved, this, [this](const CheckpointEvent &c) {
        m_curves->addCheckpoint(c.globalStep);
        auto *item = new QListWidgetItem(tr("step %1 · %2").arg(c.globalStep).arg(QFileInfo(c.file).fileName()), m_checkpoints);
        item->setData(Qt::UserRole, c.file);
        item->setData(Qt::UserRole + 1, static_cast<qlonglong>(c.globalStep));
    });
    connect(m_curves, &widgets::TrainingCurves::checkpointClicked, this, [this](qint64 step) {
        for (int i = 0; i < m_checkpoints->count(); ++i)
            if (m_checkpoints->item(i)->data(Qt::UserRole + 1).toLongLong() == step)
                m_checkpoints->setCurrentRow(i);
    });
    connect(m_run, &TrainingRun::finished, this, [this](bool stopped, const QString &error) {
        updateButtons();
        if (!error.isEmpty()) {
            setWrappedText(m_eta, tr("The run failed: %1").arg(error));
            if (!QFileInfo::exists(m_run->runDirectory()))
                m_runDir->setText(tr("Nothing was written (the run stopped before its directory was made)."));
            auto *box = new QMessageBox(QMessageBox::Warning, tr("Training"), tr("The run failed."), QMessageBox::Ok, this);
            box->setObjectName(QStringLiteral("runError"));
            box->setAttribute(Qt::WA_DeleteOnClose);
            box->setInformativeText(error);
            box->open();
        } else {
            const QString figures = evaluationSummary(m_evals);
            if (stopped && !QFileInfo::exists(m_run->runDirectory())) {
                m_eta->setText(tr("Stopped before training began; nothing was written."));
                m_runDir->clear();
            } else {
                m_eta->setText(stopped ? tr("Stopped at step %1%2; Run history's Continue Training (or `netwright resume`) continues the run.").arg(m_lastStep).arg(figures)
                                       : tr("Finished: %1 steps%2.").arg(m_lastStep).arg(figures));
            }
        }
        emit runFinished(m_run->runDirectory(), stopped, error);
    });
}

TrainingPanel::~TrainingPanel() = default;

void TrainingPanel::buildForm()
{
    auto *outer = new QHBoxLayout(this);
    auto *splitter = new QSplitter(Qt::Horizontal, this);
    outer->addWidget(splitter);

    auto *scroll = new QScrollArea(splitter);
    scroll->setWidgetResizable(true);
    auto *formHost = new QWidget(scroll);
    auto *column = new QVBoxLayout(formHost);
    scroll->setWidget(formHost);

    auto *modelBox = new QGroupBox(tr("Model"), formHost);
    auto *mf = new QFormLayout(modelBox);
    m_name = new QLineEdit(modelBox);
    m_name->setObjectName(QStringLiteral("runName"));
    m_model = new QComboBox(modelBox);
    m_model->setObjectName(QStringLiteral("model"));
    for (const auto &n : zooModelNames())
        m_model->addItem(QString::fromStdString(n), QString::fromStdString(n));
    m_model->insertSeparator(m_model->count());
    m_model->addItem(tr("Model file (ONNX, MindIR, AIR, CNTK)…"), QStringLiteral("file"));
    m_modelFile = new QLineEdit(modelBox);
    m_modelFile->setPlaceholderText(tr("a model with one input and one output (the logits)"));
    auto *modelFileRow = new QWidget(modelBox);
    auto *mfl = new QHBoxLayout(modelFileRow);
    mfl->setContentsMargins(0, 0, 0, 0);
    mfl->addWidget(m_modelFile, 1);
    auto *browse = new QPushButton(tr("Browse…"), modelFileRow);
    mfl->addWidget(browse);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Model File"), m_modelFile->text(),
                                                          tr("Models (%1);;All files (*)").arg(QString::fromStdString(fileNamePatterns(true))));
        if (!path.isEmpty())
            setModelFile(path);
    });
    mf->addRow(tr("Run name"), m_name);
    mf->addRow(tr("Model"), m_model);
    mf->addRow(tr("Model file"), modelFileRow);
    m_modelFileRow = modelFileRow;
    m_modelForm = mf;
    column->addWidget(modelBox);
    // The data: where the samples come from, the split and the task (data_section.h); what they
    // are shows on the right, in the Data tab.
    m_data = new DataSection(m_dataPreview, formHost);
    column->addWidget(m_data);

    auto *optBox = new QGroupBox(tr("Optimization"), formHost);
    auto *of = new QFormLayout(optBox);
    m_optimizer = new QComboBox(optBox);
    m_optimizer->addItems({QStringLiteral("sgd"), QStringLiteral("adam"), QStringLiteral("adamw")});
    m_lr = real(optBox, 1e-6, 10, 6, 0.01);
    m_momentum = real(optBox, 0, 0.999, 3, 0.9);
    m_weightDecay = real(optBox, 0, 1, 6, 0);
    m_schedule = new QComboBox(optBox);
    m_schedule->addItems({QStringLiteral("constant"), QStringLiteral("step"), QStringLiteral("cosine")});
    m_warmup = spin(optBox, 0, 1000000, 0);
    m_epochs = spin(optBox, 1, 10000, 5);
    m_batch = spin(optBox, 1, 65536, 64);
    m_seed = spin(optBox, 0, INT32_MAX, 1);
    // Where the kernels run, as `--device`: the GPU is tried when the run starts, which says
    // why it cannot be used (no backend in this build, no device, no driver).
    m_device = new QComboBox(optBox);
    m_device->setObjectName(QStringLiteral("device"));
    m_device->addItem(tr("CPU"), QStringLiteral("cpu"));
    m_device->addItem(tr("CUDA GPU 0"), QStringLiteral("cuda"));
    m_device->setToolTip(tr("Where the run trains (training.device). Checkpoints do not depend on it: "
                            "a run saved on the GPU resumes on the CPU and the other way round."));
    // As `--precision`: bf16 is refused when the run starts on a CPU without AVX512-BF16 or AMX.
    m_precision = new QComboBox(optBox);
    m_precision->setObjectName(QStringLiteral("precision"));
    m_precision->addItem(tr("fp32"), QStringLiteral("fp32"));
    m_precision->addItem(tr("bf16 mixed (fp32 weights)"), QStringLiteral("bf16"));
    m_precision->setToolTip(tr("training.precision: bf16 runs the training step's matrix multiplies and convolutions with "
                               "bfloat16 inputs and fp32 accumulation (CPUs with AVX512-BF16 or AMX); weights, optimizer "
                               "state and checkpoints stay fp32, evaluation runs fp32."));
    of->addRow(tr("Optimizer"), m_optimizer);
    of->addRow(tr("Learning rate"), m_lr);
    of->addRow(tr("Momentum (SGD)"), m_momentum);
    of->addRow(tr("Weight decay"), m_weightDecay);
    of->addRow(tr("Schedule"), m_schedule);
    of->addRow(tr("Warm-up steps"), m_warmup);
    of->addRow(tr("Epochs"), m_epochs);
    of->addRow(tr("Batch size"), m_batch);
    of->addRow(tr("Seed"), m_seed);
    of->addRow(tr("Device"), m_device);
    of->addRow(tr("Precision"), m_precision);
    column->addWidget(optBox);

    auto *ckBox = new QGroupBox(tr("Checkpoints"), formHost);
    auto *cf = new QFormLayout(ckBox);
    m_checkpointing = new QCheckBox(tr("Save checkpoints"), ckBox);
    m_format = new QComboBox(ckBox);
    m_format->addItem(tr("MindSpore .ckpt"), QStringLiteral("mindspore"));
    m_format->addItem(tr("safetensors"), QStringLiteral("safetensors"));
    m_format->addItem(tr("CNTK model + .ckp"), QStringLiteral("cntk"));
    m_everyEpoch = new QCheckBox(tr("After every epoch"), ckBox);
    m_saveSteps = spin(ckBox, 0, INT32_MAX, 0);
    m_saveSteps->setSpecialValueText(tr("off"));
    m_saveSeconds = spin(ckBox, 0, INT32_MAX, 0);
    m_saveSeconds->setSpecialValueText(tr("off"));
    m_keepMax = spin(ckBox, 0, 100000, 5);
    m_keepMax->setSpecialValueText(tr("all"));
    m_keepMinutes = spin(ckBox, 0, 100000, 0);
    m_keepMinutes->setSpecialValueText(tr("off"));
    m_saveLast = new QCheckBox(tr("Keep a -last.ckpt link"), ckBox);
    m_saveAtEnd = new QCheckBox(tr("At the end (and when stopped)"), ckBox);
    // Best-K by a test metric, MindSpore's keep_period, the writer's options.
    m_monitor = new QComboBox(ckBox);
    m_monitor->addItem(tr("the task's test metric (accuracy, R², F1)"), QStringLiteral("auto:auto"));
    m_monitor->addItem(tr("test accuracy (higher is better)"), QStringLiteral("eval_accuracy:max"));
    m_monitor->addItem(tr("test loss (lower is better)"), QStringLiteral("eval_loss:min"));
    m_topK = spin(ckBox, 0, 100000, 1);
    m_topK->setSpecialValueText(tr("off"));
    m_keepPeriod = spin(ckBox, 0, INT32_MAX, 0);
    m_keepPeriod->setSpecialValueText(tr("off"));
    m_asyncSave = new QCheckBox(tr("Write in the background"), ckBox);
    m_exceptionSave = new QCheckBox(tr("Save a breakpoint checkpoint if training fails"), ckBox);
    m_crcCheck = new QCheckBox(tr("Append a CRC-32 trailer"), ckBox);
    // CNTK's CheckpointConfig.
    m_cntkFrequency = spin(ckBox, 0, INT32_MAX, 1);
    m_cntkFrequency->setSpecialValueText(tr("only the final one"));
    m_cntkUnit = new QComboBox(ckBox);
    for (const char *u : {"sweeps", "minibatches", "samples"})
        m_cntkUnit->addItem(QString::fromLatin1(u), QString::fromLatin1(u));
    m_preserveAll = new QCheckBox(tr("Preserve all (<file>0, <file>1, …)"), ckBox);
    m_preview = new QPlainTextEdit(ckBox);
    m_preview->setReadOnly(true);
    m_preview->setMinimumHeight(120);
    m_preview->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    cf->addRow(m_checkpointing);
    cf->addRow(tr("Format"), m_format);
    cf->addRow(m_everyEpoch);
    cf->addRow(tr("Every N steps"), m_saveSteps);
    cf->addRow(tr("Every N seconds"), m_saveSeconds);
    cf->addRow(tr("Keep at most"), m_keepMax);
    cf->addRow(tr("Also keep one per N minutes"), m_keepMinutes);
    cf->addRow(m_saveAtEnd);
    cf->addRow(tr("Also keep the best"), m_topK);
    cf->addRow(tr("… by"), m_monitor);
    cf->addRow(tr("Never delete steps that are multiples of"), m_keepPeriod);
    cf->addRow(m_saveLast);
    cf->addRow(m_asyncSave);
    cf->addRow(m_exceptionSave);
    cf->addRow(m_crcCheck);
    cf->addRow(tr("CNTK: a checkpoint every"), m_cntkFrequency);
    cf->addRow(tr("CNTK: counted in"), m_cntkUnit);
    cf->addRow(m_preserveAll);
    m_checkpointForm = cf;
    cf->addRow(new QLabel(tr("What the run will write and keep:"), ckBox));
    cf->addRow(m_preview);
    column->addWidget(ckBox);

    m_errorLabel = new QLabel(formHost);
    m_errorLabel->setObjectName(QStringLiteral("formError"));
    wrapWithinWidth(m_errorLabel);
    m_errorLabel->setStyleSheet(QStringLiteral("color: #b00020"));
    column->addWidget(m_errorLabel);
    column->addStretch();

    auto *right = new QWidget(splitter);
    auto *rv = new QVBoxLayout(right);
    auto *buttons = new QHBoxLayout;
    m_start = new QPushButton(tr("Start"), right);
    m_pause = new QPushButton(tr("Pause"), right);
    m_stop = new QPushButton(tr("Stop"), right);
    m_save = new QPushButton(tr("Save Run Config…"), right);
    buttons->addWidget(m_start);
    buttons->addWidget(m_pause);
    buttons->addWidget(m_stop);
    buttons->addStretch();
    buttons->addWidget(m_save);
    rv->addLayout(buttons);
    m_progress = new QProgressBar(right);
    m_eta = new QLabel(tr("Set up the run on the left, then Start."), right);
    m_eta->setObjectName(QStringLiteral("runStatus"));
    m_runDir = new QLabel(right);
    m_runDir->setObjectName(QStringLiteral("runDirectory"));
    for (QLabel *l : {m_eta, m_runDir})
        wrapWithinWidth(l);
    rv->addWidget(m_progress);
    rv->addWidget(m_eta);
    rv->addWidget(m_runDir);
    m_views = new QTabWidget(right);
    m_views->setObjectName(QStringLiteral("views"));
    auto *dataScroll = new QScrollArea(m_views);
    dataScroll->setWidgetResizable(true);
    dataScroll->setFrameShape(QFrame::NoFrame);
    dataScroll->setWidget(m_dataPreview);
    m_views->addTab(dataScroll, tr("Data"));
    m_views->addTab(m_curves, tr("Curves"));
    rv->addWidget(m_views, 1);
    rv->addWidget(new QLabel(tr("Checkpoints saved (click a marker on the curve to select one):"), right));
    m_checkpoints = new QListWidget(right);
    m_checkpoints->setMaximumHeight(110);
    rv->addWidget(m_checkpoints);
    splitter->addWidget(scroll);
    splitter->addWidget(right);
    splitter->setStretchFactor(1, 1);
    // The form whole, without a horizontal scroll bar.
    scroll->setMinimumWidth(formHost->minimumSizeHint().width() + scroll->verticalScrollBar()->sizeHint().width() + 2 * scroll->frameWidth());

    connect(m_start, &QPushButton::clicked, this, &TrainingPanel::start);
    connect(m_pause, &QPushButton::clicked, this, [this] { m_run->isPaused() ? resume() : pause(); });
    connect(m_stop, &QPushButton::clicked, this, &TrainingPanel::stop);
    connect(m_save, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save Run Config"), m_name->text() + QStringLiteral(".json"), tr("Run configs (*.json)"));
        QString error;
        if (!path.isEmpty() && !saveConfig(path, &error))
            QMessageBox::warning(this, tr("Save Run Config"), error);
    });
    // The user names the run: the name stops following the model (until it is cleared, or set
    // back to the model's).
    connect(m_name, &QLineEdit::textEdited, this, [this](const QString &text) {
        m_nameFollowsModel = text.trimmed().isEmpty() || text == QString::fromStdString(config().model);
    });
    // Every edit revalidates and refreshes the preview.
    for (QLineEdit *e : {m_name, m_modelFile})
        connect(e, &QLineEdit::textChanged, this, &TrainingPanel::revalidate);
    connect(m_data, &DataSection::edited, this, [this] {
        if (!m_run->isRunning()) // what the data are, while they are chosen
            m_views->setCurrentIndex(0);
        revalidate();
    });
    connect(m_data, &DataSection::checked, this, &TrainingPanel::revalidate);
    for (QComboBox *c : {m_model, m_optimizer, m_schedule, m_format, m_monitor, m_cntkUnit, m_device, m_precision})
        connect(c, &QComboBox::currentIndexChanged, this, &TrainingPanel::revalidate);
    for (QSpinBox *s : {m_epochs, m_batch, m_seed, m_saveSteps, m_saveSeconds, m_keepMax, m_keepMinutes, m_warmup, m_topK, m_keepPeriod,
                         m_cntkFrequency})
        connect(s, &QSpinBox::valueChanged, this, &TrainingPanel::revalidate);
    for (QDoubleSpinBox *s : {m_lr, m_momentum, m_weightDecay})
        connect(s, &QDoubleSpinBox::valueChanged, this, &TrainingPanel::revalidate);
    for (QCheckBox *c : {m_checkpointing, m_everyEpoch, m_saveLast, m_saveAtEnd, m_asyncSave, m_exceptionSave, m_crcCheck, m_preserveAll})
        connect(c, &QCheckBox::toggled, this, &TrainingPanel::revalidate);
}

RunConfig TrainingPanel::config() const
{
    RunConfig c = m_base;
    c.name = m_name->text().toStdString();
    if (m_model->currentData().toString() == QLatin1String("file")) {
        c.modelFile = m_modelFile->text().trimmed().toStdString();
        c.model = c.modelFile.empty() ? std::string() : modelNameOfFile(c.modelFile);
    } else {
        c.modelFile.clear();
        c.model = m_model->currentData().toString().toStdString();
    }
    m_data->applyTo(c);
    c.optimizer.name = m_optimizer->currentText().toStdString();
    c.lr = m_lr->value();
    c.optimizer.momentum = m_momentum->value();
    c.optimizer.weightDecay = m_weightDecay->value();
    c.schedule.name = m_schedule->currentText().toStdString();
    c.schedule.warmupSteps = m_warmup->value();
    c.training.epochs = m_epochs->value();
    c.training.batchSize = m_batch->value();
    c.training.seed = static_cast<uint32_t>(m_seed->value());
    c.training.device = m_device->currentData().toString().toStdString();
    c.training.precision = m_precision->currentData().toString().toStdString();
    c.checkpoint.enabled = m_checkpointing->isChecked();
    c.checkpoint.format = m_format->currentData().toString().toStdString();
    c.checkpoint.saveEveryEpoch = m_everyEpoch->isChecked();
    c.checkpoint.saveCheckpointSteps = m_saveSteps->value();
    c.checkpoint.saveCheckpointSeconds = m_saveSeconds->value();
    c.checkpoint.keepCheckpointMax = m_keepMax->value();
    c.checkpoint.keepCheckpointPerNMinutes = m_keepMinutes->value();
    c.checkpoint.saveLast = m_saveLast->isChecked();
    c.checkpoint.saveAtEnd = m_saveAtEnd->isChecked();
    const QStringList monitor = m_monitor->currentData().toString().split(':');
    c.checkpoint.monitor = monitor.at(0).toStdString();
    c.checkpoint.mode = monitor.at(1).toStdString();
    c.checkpoint.saveTopK = m_topK->value();
    c.checkpoint.keepPeriod = m_keepPeriod->value();
    c.checkpoint.asyncSave = m_asyncSave->isChecked();
    c.checkpoint.exceptionSave = m_exceptionSave->isChecked();
    c.checkpoint.crcCheck = m_crcCheck->isChecked();
    c.checkpoint.cntk.frequency = m_cntkFrequency->value();
    c.checkpoint.cntk.unit = m_cntkUnit->currentData().toString().toStdString();
    c.checkpoint.cntk.preserveAll = m_preserveAll->isChecked();
    if (c.checkpoint.format == "cntk") { // MindSpore's triggers do not apply (their rows are hidden)
        c.checkpoint.saveCheckpointSteps = 0;
        c.checkpoint.saveCheckpointSeconds = 0;
    }
    return c;
}

void TrainingPanel::setConfig(const RunConfig &c)
{
    m_base = c;
    const QSignalBlocker blockers[] = {QSignalBlocker(m_name), QSignalBlocker(m_model), QSignalBlocker(m_modelFile), QSignalBlocker(m_optimizer),
                                       QSignalBlocker(m_schedule), QSignalBlocker(m_lr), QSignalBlocker(m_epochs), QSignalBlocker(m_batch),
                                       QSignalBlocker(m_device), QSignalBlocker(m_precision)};
    m_name->setText(QString::fromStdString(c.name));
    m_nameFollowsModel = c.name.empty() || c.name == c.model;
    m_modelFile->setText(QString::fromStdString(c.modelFile));
    m_model->setCurrentIndex(std::max(0, m_model->findData(c.modelFile.empty() ? QString::fromStdString(c.model) : QStringLiteral("file"))));
    m_data->setFrom(c);
    m_optimizer->setCurrentText(QString::fromStdString(c.optimizer.name));
    m_lr->setValue(c.lr);
    m_momentum->setValue(c.optimizer.momentum);
    m_weightDecay->setValue(c.optimizer.weightDecay);
    m_schedule->setCurrentText(QString::fromStdString(c.schedule.name));
    m_warmup->setValue(static_cast<int>(c.schedule.warmupSteps));
    m_epochs->setValue(c.training.epochs);
    m_batch->setValue(c.training.batchSize);
    m_seed->setValue(static_cast<int>(c.training.seed));
    // "cuda" is GPU 0 (as "cuda:0"); another GPU the config names is listed as it is.
    QString device = QString::fromStdString(c.training.device);
    if (device == QLatin1String("cuda:0"))
        device = QStringLiteral("cuda");
    if (m_device->findData(device) < 0)
        m_device->addItem(device.startsWith(QLatin1String("cuda:")) ? tr("CUDA GPU %1").arg(device.mid(5)) : device, device);
    m_device->setCurrentIndex(m_device->findData(device));
    m_precision->setCurrentIndex(std::max(0, m_precision->findData(QString::fromStdString(c.training.precision))));
    m_checkpointing->setChecked(c.checkpoint.enabled);
    m_format->setCurrentIndex(std::max(0, m_format->findData(QString::fromStdString(c.checkpoint.format))));
    m_everyEpoch->setChecked(c.checkpoint.saveEveryEpoch);
    m_saveSteps->setValue(c.checkpoint.saveCheckpointSteps);
    m_saveSeconds->setValue(c.checkpoint.saveCheckpointSeconds);
    m_keepMax->setValue(c.checkpoint.keepCheckpointMax);
    m_keepMinutes->setValue(c.checkpoint.keepCheckpointPerNMinutes);
    m_saveLast->setChecked(c.checkpoint.saveLast);
    m_saveAtEnd->setChecked(c.checkpoint.saveAtEnd);
    // A monitor/mode pair the form does not list (eval_accuracy with min) is added as it is.
    const QString pair = QString::fromStdString(c.checkpoint.monitor + ":" + c.checkpoint.mode);
    if (m_monitor->findData(pair) < 0)
        m_monitor->addItem(QString::fromStdString(c.checkpoint.monitor + " (" + c.checkpoint.mode + ")"), pair);
    m_monitor->setCurrentIndex(m_monitor->findData(pair));
    m_topK->setValue(c.checkpoint.saveTopK);
    m_keepPeriod->setValue(c.checkpoint.keepPeriod);
    m_asyncSave->setChecked(c.checkpoint.asyncSave);
    m_exceptionSave->setChecked(c.checkpoint.exceptionSave);
    m_crcCheck->setChecked(c.checkpoint.crcCheck);
    m_cntkFrequency->setValue(static_cast<int>(std::min<int64_t>(c.checkpoint.cntk.frequency, INT32_MAX)));
    m_cntkUnit->setCurrentIndex(std::max(0, m_cntkUnit->findData(QString::fromStdString(c.checkpoint.cntk.unit))));
    m_preserveAll->setChecked(c.checkpoint.cntk.preserveAll);
    revalidate();
}

void TrainingPanel::setModelFile(const QString &path)
{
    m_modelFile->setText(QFileInfo(path).absoluteFilePath());
    m_model->setCurrentIndex(m_model->findData(QStringLiteral("file")));
    followModel();
}

void TrainingPanel::followModel()
{
    // A name the user did not choose is the model's (the zoo name, or the model file's base name).
    const QString model = QString::fromStdString(config().model);
    if (m_nameFollowsModel && !model.isEmpty() && m_name->text() != model) {
        const QSignalBlocker blocker(m_name);
        m_name->setText(model);
    }
}

void TrainingPanel::updateVisibleRows()
{
    // The rows of the other checkpoint format are hidden (their keys stay in the config).
    const bool cntk = m_format->currentData().toString() == QLatin1String("cntk");
    for (QWidget *w : std::initializer_list<QWidget *>{m_everyEpoch, m_saveSteps, m_saveSeconds, m_keepMax, m_keepMinutes, m_saveAtEnd, m_topK,
                                                       m_monitor, m_keepPeriod, m_saveLast, m_asyncSave, m_exceptionSave, m_crcCheck})
        m_checkpointForm->setRowVisible(w, !cntk);
    for (QWidget *w : std::initializer_list<QWidget *>{m_cntkFrequency, m_cntkUnit, m_preserveAll})
        m_checkpointForm->setRowVisible(w, cntk);
    m_modelForm->setRowVisible(m_modelFileRow, m_model->currentData().toString() == QLatin1String("file"));
}

void TrainingPanel::revalidate()
{
    followModel();
    updateVisibleRows();
    m_error = m_data->formError();
    try {
        const RunConfig c = config();
        if (!m_error.isEmpty())
            throw Error(m_error.toStdString());
        if (m_model->currentData().toString() == QLatin1String("file")) {
            check(!c.modelFile.empty(), "Choose a model file (ONNX, MindIR, AIR or CNTK model-v2).");
            // By content, as everywhere: a checkpoint or a picture is named for what it is.
            if (!detectGraphFormat(c.modelFile))
                throw Error("\"" + c.modelFile + "\" holds no graph to train (it is a checkpoint or a graph dump).");
        }
        validateRunConfig(c);
    } catch (const Error &e) {
        m_error = QString::fromUtf8(e.what());
    }
    // What the data show (read and checked off the UI thread): no test split, or a model that
    // does not fit them, naming both shapes.
    m_data->update(config(), m_error.isEmpty());
    if (m_error.isEmpty())
        m_error = m_data->problem();
    setWrappedText(m_errorLabel, m_error);
    updatePreview();
    updateButtons();
}

QString TrainingPanel::statusText() const
{
    return m_eta->text();
}

QString TrainingPanel::retentionPreview() const
{
    return m_preview->toPlainText();
}

void TrainingPanel::updatePreview()
{
    if (!m_error.isEmpty()) {
        m_preview->setPlainText(tr("(fix the settings above first)"));
        return;
    }
    const RunConfig c = config();
    if (!c.checkpoint.enabled) {
        m_preview->setPlainText(tr("No checkpoints."));
        return;
    }
    // Fashion-MNIST's 60,000 training images, else the number the files will turn out to hold:
    // the preview says which it assumes.
    PlanShape shape;
    shape.epochs = c.training.epochs;
    shape.batchSize = c.training.batchSize;
    shape.dropLast = c.data.dropLast;
    shape.trainSamples = m_data->trainSamples() > 0 ? m_data->trainSamples() : 60000;
    try {
        QStringList lines;
        if (c.data.dataset != "fashion-mnist" && m_data->trainSamples() <= 0)
            lines << tr("(assuming 60,000 training samples)");
        for (const auto &line : planCheckpoints(c.checkpoint, QDir::currentPath().toStdString(), c.model, shape)) {
            const QJsonObject o = QJsonDocument::fromJson(QByteArray::fromStdString(line)).object();
            const QString event = o.value(QStringLiteral("event")).toString();
            const QString file = o.value(QStringLiteral("file")).toString();
            if (event == QLatin1String("saved"))
                lines << tr("save   %1").arg(file);
            else if (event == QLatin1String("deleted"))
                lines << tr("delete %1  (%2)").arg(file, o.value(QStringLiteral("rule")).toString());
            else if (event == QLatin1String("linked"))
                lines << tr("link   %1").arg(file);
        }
        m_preview->setPlainText(lines.join('\n'));
    } catch (const Error &e) {
        m_preview->setPlainText(QString::fromUtf8(e.what()));
    }
}

void TrainingPanel::updateButtons()
{
    const bool running = m_run->isRunning();
    m_start->setEnabled(!running && m_error.isEmpty());
    m_pause->setEnabled(running);
    m_pause->setText(m_run->isPaused() ? tr("Resume") : tr("Pause"));
    m_stop->setEnabled(running);
    m_save->setEnabled(m_error.isEmpty());
}

void TrainingPanel::start()
{
    if (!m_error.isEmpty() || m_run->isRunning())
        return;
    m_curves->clear();
    m_checkpoints->clear();
    m_lastStep = 0;
    m_evals.clear();
    try {
        QString out;
        if (!m_runsDir.isEmpty()) {
            // <name>-<time>, and -2, -3 … for runs started within the same second
            const QString base = QDir(m_runsDir).filePath(m_name->text() + QDateTime::currentDateTime().toString(QStringLiteral("-yyyyMMdd-HHmmss")));
            out = base;
            for (int k = 2; QFileInfo::exists(out) || TrainingRun::isClaimed(out); ++k)
                out = base + QStringLiteral("-%1").arg(k);
        }
        m_run->start(config(), out);
        setWrappedText(m_eta, tr("Loading the data…"));
        setWrappedText(m_runDir, tr("Run directory: %1 (made once the data are read and the model is built)").arg(QDir::toNativeSeparators(m_run->runDirectory())));
        m_views->setCurrentWidget(m_curves);
    } catch (const Error &e) {
        // On the heap: open() returns at once, and the box must outlive this function.
        auto *box = new QMessageBox(QMessageBox::Warning, tr("Training"), tr("The run could not start."), QMessageBox::Ok, this);
        box->setObjectName(QStringLiteral("startError"));
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->setInformativeText(QString::fromUtf8(e.what()));
        box->open();
    }
    updateButtons();
}

void TrainingPanel::continueRun(const QString &runDirectory)
{
    if (m_run->isRunning())
        return;
    try {
        setConfig(RunDirectory::open(runDirectory.toStdString()).readConfig()); // what the run trains
    } catch (const Error &) {
        // the run's own start says what is wrong with it
    }
    m_curves->clear();
    m_checkpoints->clear();
    m_lastStep = 0;
    m_evals.clear(); // the run's earlier evaluations come back with its history (showHistoryUpTo)
    m_run->continueRun(runDirectory);
    setWrappedText(m_eta, tr("Restoring the newest checkpoint and loading the data…"));
    setWrappedText(m_runDir, tr("Run directory: %1 (continued as `netwright resume` does)").arg(QDir::toNativeSeparators(m_run->runDirectory())));
    m_views->setCurrentWidget(m_curves);
    updateButtons();
}

void TrainingPanel::showHistoryUpTo(const QString &runDirectory, int64_t globalStep)
{
    try {
        const RunDirectory run(runDirectory.toStdString());
        std::vector<MetricsRecord> upTo;
        for (const auto &r : run.metrics().records) {
            if (r.globalStep > globalStep)
                continue;
            upTo.push_back(r);
            if (r.type == MetricsRecord::Type::Eval) { // counted for the final and best figures at the end
                EvalInfo e;
                e.epoch = r.epoch;
                e.globalStep = r.globalStep;
                e.samples = r.samples;
                e.correct = r.correct;
                e.loss = r.loss;
                e.accuracy = r.accuracy;
                if (r.hasAccuracy)
                    e.metrics.push_back({"accuracy", r.accuracy});
                e.metrics.insert(e.metrics.end(), r.metrics.begin(), r.metrics.end());
                m_evals.push_back(std::move(e));
            }
        }
        m_curves->addMetricsLog(upTo, TensorBoardLog::stepWallTimes(runDirectory.toStdString()));
        for (const auto &c : run.history())
            if (c.status == "kept" && c.step <= globalStep) {
                m_curves->addCheckpoint(c.step);
                auto *item = new QListWidgetItem(tr("step %1 · %2").arg(c.step).arg(QString::fromStdString(c.file)), m_checkpoints);
                item->setData(Qt::UserRole, QString::fromStdString(run.file(c.file)));
                item->setData(Qt::UserRole + 1, static_cast<qlonglong>(c.step));
            }
    } catch (const Error &) {
        // a damaged log: the curves start at the restored step
    }
    m_lastStep = globalStep;
}

void TrainingPanel::pause()
{
    m_run->pause();
    m_eta->setText(m_eta->text() + tr(" · paused"));
    updateButtons();
}

void TrainingPanel::resume()
{
    m_run->resume();
    updateButtons();
}

void TrainingPanel::stop()
{
    m_run->stop();
    updateButtons();
}

bool TrainingPanel::saveConfig(const QString &path, QString *error) const
{
    try {
        const RunConfig c = config();
        validateRunConfig(c);
        writeFileAtomically(path.toStdString(), runConfigToJson(c) + "\n");
        return true;
    } catch (const Error &e) {
        *error = QString::fromUtf8(e.what());
        return false;
    }
}

} // namespace netwright::gui
