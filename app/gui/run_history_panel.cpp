// SPDX-License-Identifier: Apache-2.0
#include "gui/run_history_panel.h"

#include "checkpoint/training_state.h"
#include "core/error.h"
#include "core/file_io.h"
#include "formats/graph_formats.h"
#include "formats/inference_graph.h"
#include "formats/mindspore/ckpt_file.h"
#include "formats/onnx/onnx_reader.h"
#include "graph/graph_view.h"
#include "graph/visible_graph.h"
#include "gui/model_document.h"
#include "gui/training_run.h"
#include "graph/shape_analysis.h"
#include "run/run_directory.h"
#include "run/run_lock.h"
#include "run/run_model.h"
#include "run/tensorboard_log.h"
#include "training/training_curves.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QProcess>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QTabWidget>
#include <QtConcurrent>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <map>

namespace netwright::gui {

namespace {

// Optimizer slots and Netwright's own entries: compared, but not parameters of the model.
bool isSlot(const QString &n)
{
    for (const char *p : {"moments.", "moment1.", "moment2.", "beta1_power", "beta2_power", "learning_rate", "momentum", "netwright."})
        if (n.startsWith(QLatin1String(p)))
            return true;
    return false;
}

TrainingState readEntries(const QString &path)
{
    // Told apart by content; an encrypted checkpoint opens with the key its run's config names.
    TrainingStateReadOptions options;
    const RunDirectory run(QFileInfo(path).absolutePath().toStdString());
    if (mindspore::encryptedMode(readFilePrefix(path.toStdString(), 4)) && run.hasConfig())
        options.key = checkpointKey(run.readConfig().checkpoint);
    return readTrainingStateFile(path.toStdString(), options);
}

QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

} // namespace

std::vector<ParameterChange> compareCheckpoints(const QString &a, const QString &b)
{
    const auto ea = readEntries(a), eb = readEntries(b);
    std::map<std::string, const Tensor *> second;
    for (const auto &e : eb)
        if (!e.isString)
            second[e.name] = &e.tensor;
    std::vector<ParameterChange> out;
    for (const auto &e : ea) {
        if (e.isString || e.tensor.dtype() != DType::Float32)
            continue;
        const auto it = second.find(e.name);
        if (it == second.end() || it->second->shape() != e.tensor.shape() || it->second->dtype() != DType::Float32)
            continue;
        double diff = 0, norm = 0;
        const float *x = e.tensor.data(), *y = it->second->data();
        for (int64_t i = 0; i < e.tensor.numel(); ++i) {
            const double d = static_cast<double>(y[i]) - x[i];
            diff += d * d;
            norm += static_cast<double>(x[i]) * x[i];
        }
        ParameterChange c;
        c.name = QString::fromStdString(e.name);
        c.elements = e.tensor.numel();
        c.l2 = std::sqrt(diff);
        c.relative = norm > 0 ? c.l2 / std::sqrt(norm) : (diff > 0 ? INFINITY : 0.0);
        out.push_back(c);
    }
    // The model's parameters first, then the optimizer's slots (moments, Adam's moment1/2, powers).
    std::stable_sort(out.begin(), out.end(), [&](const ParameterChange &l, const ParameterChange &r) {
        const bool ls = isSlot(l.name), rs = isSlot(r.name);
        return ls != rs ? !ls : l.relative > r.relative;
    });
    return out;
}

std::shared_ptr<LoadedModel> loadRunModel(const QString &checkpoint)
{
    auto out = std::make_shared<LoadedModel>();
    try {
        const ExportSource source = loadExportSource(checkpoint.toStdString());
        const Graph &graph = source.graph();
        GraphExportOptions options;
        options.producerVersion = NETWRIGHT_VERSION;
        const std::string onnx = exportGraph(*graphFormat("onnx"), graph, options);
        out->model = onnx_format::describeOnnx(onnx, checkpoint.toStdString());
        // Every value's shape as the graph view labels it elsewhere (the engine's analysis, the
        // free batch kept as "?"): weights and edges read "32×1×3×3", not "[32,1,3,3]".
        for (const auto &[name, a] : analyseShapes(graph)) {
            if (!a.shapeKnown)
                continue;
            ValueDescription v;
            v.name = name;
            v.dtype = dtypeName(a.dtype);
            v.shape = a.shape;
            v.dimNames = a.dimNames;
            v.shapeKnown = true;
            if (const std::string label = widgets::shapeLabel(v); !label.empty())
                out->shapes.emplace(name, label);
            out->values.emplace(name, std::move(v));
        }
        for (const auto &[name, label] : widgets::describedShapes(out->model))
            out->shapes.emplace(name, label); // what the analysis left unknown, as the file states it
    } catch (const Error &e) {
        out->error = QObject::tr("The graph of %1 cannot be shown.").arg(QFileInfo(checkpoint).fileName());
        out->details = QString::fromUtf8(e.what());
    }
    return out;
}

std::map<int, widgets::NodeHeat> comparisonHeat(const ModelDescription &model, const std::vector<ParameterChange> &changes)
{
    std::map<std::string, const ParameterChange *> byName;
    double top = 0;
    for (const auto &c : changes)
        if (!isSlot(c.name) && std::isfinite(c.relative)) {
            byName[c.name.toStdString()] = &c;
            top = std::max(top, c.relative);
        }
    std::map<int, widgets::NodeHeat> heat;
    for (size_t i = 0; i < model.nodes.size(); ++i) {
        widgets::NodeHeat h;
        bool any = false;
        for (const auto &in : model.nodes[i].inputs) {
            const auto it = byName.find(in);
            if (it == byName.end())
                continue;
            const ParameterChange &c = *it->second;
            any = true;
            h.value = std::max(h.value, top > 0 ? c.relative / top : 0.0);
            h.note += (h.note.isEmpty() ? QString() : QStringLiteral("\n"))
                      + QObject::tr("%1: moved %2 %, L2 distance %3").arg(c.name, QString::number(100.0 * c.relative, 'f', 2), QString::number(c.l2, 'g', 4));
        }
        if (any)
            heat.emplace(static_cast<int>(i), h);
    }
    return heat;
}

RunHistoryPanel::RunHistoryPanel(const QString &runDirectory, QWidget *parent)
    : QWidget(parent), m_dir(QDir::cleanPath(runDirectory)), m_curves(new widgets::TrainingCurves(this)), m_table(new QTableWidget(this)),
      m_comparison(new QTableWidget(this)), m_compareTabs(new QTabWidget(this)), m_compareGraph(new widgets::GraphView(this)),
      m_graphStatus(new QLabel(this)), m_summary(new QLabel(this)), m_compareTitle(new QLabel(this)),
      m_inspect(new QPushButton(tr("Inspect"), this)), m_compare(new QPushButton(tr("Compare Two"), this)),
      m_evaluate(new QPushButton(tr("Evaluate"), this)),       m_export(new QPushButton(tr("Export…"), this)), m_delete(new QPushButton(tr("Delete"), this)),
      m_resume(new QPushButton(tr("Resume from Here"), this)), m_continue(new QPushButton(tr("Continue Training"), this)), m_program(QCoreApplication::applicationFilePath()),
      m_watcher(new QFileSystemWatcher(this)), m_poll(new QTimer(this))
{
    auto *layout = new QVBoxLayout(this);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_summary);
    auto *split = new QSplitter(Qt::Vertical, this);
    m_split = split;
    split->addWidget(m_curves);
    auto *bottom = new QWidget(split);
    auto *bl = new QVBoxLayout(bottom);
    auto *buttons = new QHBoxLayout;
    for (QPushButton *b : {m_continue, m_inspect, m_compare, m_evaluate, m_export, m_resume, m_delete})
        buttons->addWidget(b);
    buttons->addStretch();
    bl->addLayout(buttons);
    m_table->setColumnCount(8);
    m_table->setHorizontalHeaderLabels({tr("Checkpoint"), tr("Epoch"), tr("Step"), tr("Saved"), tr("Size"), tr("Test acc."), tr("Test loss"), tr("Status")});
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    bl->addWidget(m_table, 1);
    bl->addWidget(m_compareTitle);
    m_comparison->setColumnCount(4);
    m_comparison->setHorizontalHeaderLabels({tr("Parameter"), tr("Elements"), tr("L2 distance"), tr("Relative change")});
    m_comparison->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_comparison->verticalHeader()->hide();
    m_comparison->horizontalHeader()->setStretchLastSection(true);
    // The comparison as a table and on the run's graph (each node shaded by how far its
    // parameters moved; the tooltip gives the figures).
    m_compareTabs->addTab(m_comparison, tr("Parameters"));
    auto *graphPage = new QWidget(m_compareTabs);
    auto *gl = new QVBoxLayout(graphPage);
    gl->setContentsMargins(0, 0, 0, 0);
    m_graphStatus->setWordWrap(true);
    gl->addWidget(m_graphStatus);
    gl->addWidget(m_compareGraph, 1);
    m_compareTabs->addTab(graphPage, tr("On the Graph"));
    m_compareTabs->hide();
    bl->addWidget(m_compareTabs, 2);
    connect(&m_modelWatcher, &QFutureWatcher<std::shared_ptr<LoadedModel>>::finished, this, [this] {
        m_runModel = m_modelWatcher.result();
        if (!m_runModel->error.isEmpty()) {
            m_graphStatus->setText(m_runModel->error + QStringLiteral(" ") + m_runModel->details);
            return;
        }
        m_compareGraph->setModel(&m_runModel->model, m_runModel->shapes);
        showHeat();
    });
    split->addWidget(bottom);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setSizes({420, 300});
    layout->addWidget(split, 1);

    connect(m_table, &QTableWidget::itemSelectionChanged, this, &RunHistoryPanel::updateActions);
    // Each action checks again: the file may have gone since the buttons were last updated.
    connect(m_inspect, &QPushButton::clicked, this, [this] {
        if (const auto rows = selectedRows(); rows.size() == 1 && isAvailable(rows[0]))
            emit openFileRequested(pathOf(rows[0]));
        updateActions();
    });
    connect(m_export, &QPushButton::clicked, this, [this] {
        if (const auto rows = selectedRows(); rows.size() == 1 && isAvailable(rows[0]))
            emit exportRequested(pathOf(rows[0]));
        updateActions();
    });
    m_evaluate->setToolTip(tr("The checkpoint's accuracy, per-class figures and confusion matrix on the run's test split (netwright eval)"));
    connect(m_evaluate, &QPushButton::clicked, this, [this] {
        if (const auto rows = selectedRows(); rows.size() == 1 && isAvailable(rows[0]))
            emit evaluateRequested(pathOf(rows[0]));
        updateActions();
    });
    connect(m_compare, &QPushButton::clicked, this, [this] {
        const auto rows = selectedRows();
        QString error;
        if (rows.size() == 2 && !compareRows(rows[0], rows[1], &error))
            QMessageBox::warning(this, tr("Compare"), error);
    });
    connect(m_delete, &QPushButton::clicked, this, [this] {
        const auto rows = selectedRows();
        if (rows.size() != 1 || !isAvailable(rows[0])) {
            updateActions();
            return;
        }
        if (QMessageBox::question(this, tr("Delete"), tr("Delete %1?").arg(m_rows[static_cast<size_t>(rows[0])].file)) != QMessageBox::Yes)
            return;
        QString error;
        if (!deleteRow(rows[0], &error))
            QMessageBox::warning(this, tr("Delete"), error);
    });
    connect(m_curves, &widgets::TrainingCurves::checkpointClicked, this, [this](qint64 step) {
        for (size_t i = 0; i < m_rows.size(); ++i)
            if (m_rows[i].step == step && m_rows[i].status == QLatin1String("kept"))
                m_table->selectRow(static_cast<int>(i));
    });
    // Live: the logs change while another process trains; the watcher reacts at once, the poll
    // catches what a watcher misses (files replaced by rename, network file systems).
    connect(m_watcher, &QFileSystemWatcher::fileChanged, this, &RunHistoryPanel::reload);
    connect(m_watcher, &QFileSystemWatcher::directoryChanged, this, &RunHistoryPanel::reload);
    connect(m_poll, &QTimer::timeout, this, &RunHistoryPanel::reload);
    m_poll->start(1000);
    m_watcher->addPath(m_dir);
    const RunDirectory run(m_dir.toStdString());
    for (const std::string &f : {run.historyPath(), run.metricsPath()})
        if (QFileInfo::exists(q(f)))
            m_watcher->addPath(q(f));
    for (QPushButton *b : {m_inspect, m_compare, m_evaluate, m_export, m_resume, m_delete, m_continue})
        b->setEnabled(false);
    m_continue->setToolTip(tr("Continue this stopped run in the window as `netwright resume` does (from its newest checkpoint, in this "
                              "directory); with an older checkpoint selected, in a fork from that one"));
    connect(m_continue, &QPushButton::clicked, this, [this] {
        const auto rows = selectedRows();
        QString error;
        if (!canContinue() || rows.size() > 1 || (rows.size() == 1 && !isAvailable(rows[0]))) {
            updateActions();
            return;
        }
        if (continueTraining(rows.empty() ? -1 : rows[0], &error).isEmpty())
            QMessageBox::warning(this, tr("Continue Training"), error);
    });
    m_resume->setToolTip(tr("Continue the run from this checkpoint in a new run directory (a fork; this run is left as it is)"));
    connect(m_resume, &QPushButton::clicked, this, [this] {
        const auto rows = selectedRows();
        QString error;
        if (rows.size() != 1 || !isAvailable(rows[0])) {
            updateActions();
            return;
        }
        if (resumeFrom(rows[0], &error).isEmpty())
            QMessageBox::warning(this, tr("Resume"), error);
    });
    reload();
}

RunHistoryPanel::~RunHistoryPanel()
{
    m_modelWatcher.waitForFinished();
}

void RunHistoryPanel::showHeat()
{
    if (!m_runModel || !m_runModel->error.isEmpty())
        return;
    m_compareGraph->setNodeHeat(comparisonHeat(m_runModel->model, m_changes));
    m_graphStatus->setText(tr("Each node is shaded by the largest relative change of its parameters (white: none, red: the most "
                              "changed in this comparison); hover over a node for the figures."));
}

QString RunHistoryPanel::pathOf(int row) const
{
    return m_dir + QStringLiteral("/") + m_rows.at(static_cast<size_t>(row)).file;
}

bool RunHistoryPanel::isAvailable(int row) const
{
    return row >= 0 && row < static_cast<int>(m_rows.size()) && m_rows[static_cast<size_t>(row)].status == QLatin1String("kept")
           && QFileInfo::exists(pathOf(row));
}

void RunHistoryPanel::updateActions()
{
    const auto rows = selectedRows();
    const bool one = rows.size() == 1 && isAvailable(rows[0]);
    for (QPushButton *b : {m_inspect, m_evaluate, m_export, m_delete, m_resume})
        b->setEnabled(one);
    m_compare->setEnabled(rows.size() == 2 && isAvailable(rows[0]) && isAvailable(rows[1]));
    m_continue->setEnabled(canContinue() && (rows.empty() || one));
}

bool RunHistoryPanel::canContinue() const
{
    return QFileInfo::exists(m_dir + QStringLiteral("/") + QLatin1String(RunDirectory::kConfigFile)) && !TrainingRun::isClaimed(m_dir)
           && m_state != tr("training…") && m_state != tr("finished");
}

QString RunHistoryPanel::continueTraining(int row, QString *error)
{
    QString dir = m_dir;
    if (row >= 0) {
        // The checkpoint resume restores (the newest that reads back): continued in place; an
        // older one: in a fork, so that this run's later checkpoints stay as they are.
        std::string chosen;
        try {
            const RunDirectory run(m_dir.toStdString());
            chosen = run.restoreCheckpoint(run.readConfig());
        } catch (const Error &) {
            // none reads back: the selected one goes on in a fork
        }
        if (QFileInfo(q(chosen)).fileName() != m_rows.at(static_cast<size_t>(row)).file) {
            try {
                dir = q(RunDirectory(m_dir.toStdString()).fork(m_rows.at(static_cast<size_t>(row)).file.toStdString()).path());
            } catch (const Error &e) {
                *error = QString::fromUtf8(e.what());
                return {};
            }
        }
    }
    say(tr("Continuing %1 in the window (as netwright resume).").arg(dir));
    emit continueRequested(dir);
    return dir;
}

void RunHistoryPanel::say(const QString &text)
{
    m_status = text;
    emit statusMessage(text);
}

std::vector<int> RunHistoryPanel::selectedRows() const
{
    std::vector<int> rows;
    for (const auto &index : m_table->selectionModel()->selectedRows())
        rows.push_back(index.row());
    std::sort(rows.begin(), rows.end());
    return rows;
}

void RunHistoryPanel::reload()
{
    const RunDirectory run(m_dir.toStdString());
    const QString metricsPath = q(run.metricsPath()), historyPath = q(run.historyPath());
    const qint64 metricsSize = QFileInfo(metricsPath).size();
    const qint64 historySize = QFileInfo(historyPath).size();
    // A kept checkpoint whose file is gone (removed by hand, by another process) is shown as missing.
    bool gone = false;
    for (size_t i = 0; i < m_rows.size() && !gone; ++i)
        gone = m_rows[i].status == QLatin1String("kept") && !QFileInfo::exists(pathOf(static_cast<int>(i)));
    // Whether a process trains the run now (its training lock is held): a change is said at once.
    const bool live = RunLock::held(m_dir.toStdString());
    if (metricsSize == m_metricsSize && historySize == m_historySize && !gone && live == m_live)
        return; // nothing new
    m_metricsSize = metricsSize;
    m_historySize = historySize;
    m_live = live;
    for (const QString &f : {historyPath, metricsPath})
        if (QFileInfo::exists(f) && !m_watcher->files().contains(f))
            m_watcher->addPath(f);

    // The run is read through its owner, also while another process writes it (a line still
    // being written is left out); a damaged log is said in the summary line.
    QString model, problem;
    try {
        if (run.hasConfig())
            model = q(run.readConfig().model);
    } catch (const Error &) {
        // the summary shows no model name
    }
    m_rows.clear();
    try {
        for (const auto &r : run.history())
            m_rows.push_back({q(r.file), q(r.reason), q(r.status), q(r.rule), q(r.forkedFrom), r.epoch, r.step, r.bytes, r.time, r.accuracy, r.loss});
    } catch (const Error &e) {
        problem = QString::fromUtf8(e.what());
    }
    int kept = 0;
    for (const auto &r : m_rows)
        kept += r.status == QLatin1String("kept") ? 1 : 0;

    // Curves from the metrics log (every point), markers for the checkpoints still kept.
    m_curves->clear();
    m_curves->setExportDirectory(m_dir); // the curves' CSV, PNG and SVG go beside the run by default
    // The run's state: an end record says how it ended; without one, the run's training lock says
    // whether a process is training it (the window's, `netwright train`/`resume`, a fork).
    std::optional<MetricsRecord> last;
    try {
        const auto &records = run.metrics().records;
        if (!records.empty())
            last = records.back();
        // Every step (with its epoch, samples seen, training accuracy and, from the run's TensorBoard
        // events, its wall time) and evaluation.
        m_curves->addMetricsLog(records, TensorBoardLog::stepWallTimes(m_dir.toStdString()));
    } catch (const Error &e) {
        problem = QString::fromUtf8(e.what());
    }
    if (last && last->type == MetricsRecord::Type::End)
        m_state = last->stopped ? tr("stopped at step %1").arg(last->globalStep) : tr("finished");
    else if (live)
        m_state = tr("training…");
    else if (last)
        m_state = tr("not running: ended at step %1 without finishing (killed or crashed)").arg(last->globalStep);
    else
        m_state = tr("not started");
    QString forkNote;
    for (const auto &r : m_rows)
        if (!r.forkedFrom.isEmpty())
            forkNote = tr(" · forked from %1").arg(QDir::toNativeSeparators(r.forkedFrom).toHtmlEscaped());
    QString summary = tr("<b>%1</b> — %2 · <i>%3</i> · %4 checkpoints saved, %5 kept%6")
                          .arg(m_dir.toHtmlEscaped(), model, m_state.toHtmlEscaped())
                          .arg(m_rows.size())
                          .arg(kept)
                          .arg(forkNote);
    if (!problem.isEmpty())
        summary += QStringLiteral("<br><span style=\"color:#b00020\">%1</span>").arg(problem.toHtmlEscaped());
    m_summary->setText(summary);
    // The curve is the run's timeline: every checkpoint saved, filled while kept, hollow once deleted.
    for (const auto &r : m_rows) {
        if (r.status == QLatin1String("kept"))
            m_curves->addCheckpoint(r.step);
        else
            m_curves->addDeletedCheckpoint(r.step);
    }

    const auto selection = selectedRows();
    m_table->setRowCount(static_cast<int>(m_rows.size()));
    for (size_t i = 0; i < m_rows.size(); ++i) {
        const auto &r = m_rows[i];
        const int row = static_cast<int>(i);
        const QString when = QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(r.time * 1000)).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
        const QStringList cells{r.file,
                                QString::number(r.epoch),
                                QString::number(r.step),
                                when,
                                QLocale().formattedDataSize(r.bytes),
                                r.accuracy ? QString::number(100.0 * *r.accuracy, 'f', 2) + QStringLiteral(" %") : QStringLiteral("–"),
                                r.loss ? QString::number(*r.loss, 'f', 4) : QStringLiteral("–"),
                                !r.forkedFrom.isEmpty() ? r.status + tr(" (fork point, from %1)").arg(QFileInfo(QFileInfo(r.forkedFrom).absolutePath()).fileName())
                                : r.rule.isEmpty()      ? r.status
                                                        : r.status + QStringLiteral(" (") + r.rule + QStringLiteral(")")};
        for (int c = 0; c < cells.size(); ++c) {
            auto *item = new QTableWidgetItem(cells[c]);
            if (!r.forkedFrom.isEmpty())
                item->setToolTip(tr("The checkpoint this run was forked at: a copy of %1").arg(r.forkedFrom));
            if (r.status != QLatin1String("kept"))
                item->setForeground(QColor(0x90, 0x90, 0x90));
            m_table->setItem(row, c, item);
        }
    }
    m_table->resizeColumnsToContents();
    for (int r : selection)
        if (r < m_table->rowCount())
            m_table->selectRow(r);
    // The rows kept their selection, but a checkpoint in it may be deleted or gone now.
    updateActions();
    say(problem.isEmpty() ? tr("%1 (%3): %n checkpoints saved, %2 kept", nullptr, static_cast<int>(m_rows.size()))
                                .arg(QFileInfo(m_dir).fileName(), QString::number(kept), m_state)
                          : problem);
}

bool RunHistoryPanel::compareRows(int first, int second, QString *error)
{
    try {
        const auto changes = compareCheckpoints(pathOf(first), pathOf(second));
        m_comparison->setRowCount(static_cast<int>(changes.size()));
        for (size_t i = 0; i < changes.size(); ++i) {
            const auto &c = changes[i];
            const int row = static_cast<int>(i);
            m_comparison->setItem(row, 0, new QTableWidgetItem(c.name));
            m_comparison->setItem(row, 1, new QTableWidgetItem(QLocale().toString(c.elements)));
            m_comparison->setItem(row, 2, new QTableWidgetItem(QString::number(c.l2, 'g', 6)));
            auto *rel = new QTableWidgetItem(QString::number(100.0 * c.relative, 'f', 2) + QStringLiteral(" %"));
            // Colour by how much the parameter moved: white (none) to orange (the most).
            const double top = changes.empty() || !std::isfinite(changes.front().relative) || changes.front().relative <= 0 ? 1 : changes.front().relative;
            const int shade = static_cast<int>(std::clamp(c.relative / top, 0.0, 1.0) * 150);
            rel->setBackground(QColor(255, 255 - shade * 2 / 3, 255 - shade));
            m_comparison->setItem(row, 3, rel);
        }
        m_comparison->resizeColumnsToContents();
        if (m_compareTabs->isHidden()) { // the first comparison: room for it, the curves shrink
            const int h = m_split->height();
            m_split->setSizes({h * 3 / 10, h - h * 3 / 10});
        }
        m_compareTabs->show();
        m_changes = changes;
        // The run's graph, read once (every checkpoint of a run has the same one).
        if (m_runModel)
            showHeat();
        else if (!m_modelWatcher.isRunning()) {
            m_graphStatus->setText(tr("Reading the run's graph…"));
            m_modelWatcher.setFuture(QtConcurrent::run(loadRunModel, pathOf(second)));
        }
        m_compareTitle->setText(tr("%1 → %2: how far each parameter moved").arg(m_rows[static_cast<size_t>(first)].file, m_rows[static_cast<size_t>(second)].file));
        return true;
    } catch (const Error &e) {
        *error = QString::fromUtf8(e.what());
        return false;
    }
}

QString RunHistoryPanel::resumeFrom(int row, QString *error)
{
    const HistoryRow &r = m_rows.at(static_cast<size_t>(row));
    QString fork;
    try {
        // The config, the checkpoint (a CNTK pair whole), the model file and the metrics: resume
        // truncates them to the checkpoint's step, so the new run's curves start where this one was.
        fork = q(RunDirectory(m_dir.toStdString()).fork(r.file.toStdString()).path());
    } catch (const Error &e) {
        *error = QString::fromUtf8(e.what());
        return {};
    }
    if (!QProcess::startDetached(m_program, {QStringLiteral("resume"), fork}, QFileInfo(fork).absolutePath())) {
        *error = tr("Could not start %1 resume.").arg(m_program);
        return {};
    }
    say(tr("Resuming from %1 in %2 (netwright resume, in its own process).").arg(r.file, fork));
    emit runStarted(fork);
    return fork;
}

bool RunHistoryPanel::deleteRow(int row, QString *error)
{
    try {
        // Recorded like the policy's own deletions, in one append.
        RunDirectory(m_dir.toStdString()).deleteCheckpoint(m_rows.at(static_cast<size_t>(row)).file.toStdString(), "deleted by the user");
    } catch (const Error &e) {
        *error = QString::fromUtf8(e.what());
        return false;
    }
    m_historySize = -1;
    reload();
    say(tr("Deleted %1; the history records it.").arg(m_rows.at(static_cast<size_t>(row)).file));
    return true;
}

} // namespace netwright::gui
