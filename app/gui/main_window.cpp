// SPDX-License-Identifier: Apache-2.0
#include "gui/main_window.h"

#include "core/error.h"
#include "formats/graph_formats.h"
#include "graph/graph_view.h"
#include "config/run_config.h"
#include "run/run_directory.h"
#include "gui/about_dialog.h"
#include "gui/evaluation_view.h"
#include "gui/export_location.h"
#include "gui/export_wizard.h"
#include "gui/model_document.h"
#include "gui/open_error_banner.h"
#include "gui/run_comparison.h"
#include "gui/run_history_panel.h"
#include "gui/sweep_view.h"
#include "gui/training_panel.h"

#include <QAbstractItemView>
#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDesktopServices>
#include <QDir>
#include <QFileDialog>
#include <QTimer>
#include <QFileInfo>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QStackedWidget>
#include <QVBoxLayout>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QUrl>

#include <algorithm>

namespace netwright::gui {

namespace {

const char *kGeometry = "window/geometry";
const char *kState = "window/state";
const char *kRecent = "files/recent";
const char *kLastDir = "files/lastDirectory";

} // namespace

MainWindow::MainWindow(QWidget *parent) : QMainWindow(parent), m_tabs(new QTabWidget(this))
{
    setWindowTitle(tr("Netwright"));
    setAcceptDrops(true);
    m_tabs->setTabsClosable(true);
    m_tabs->setMovable(true);
    m_tabs->setDocumentMode(true);
    // No tab open: a start page with what one can do first.
    m_start = new QWidget(this);
    auto *startLayout = new QVBoxLayout(m_start);
    auto *title = new QLabel(tr("<h2>Netwright</h2><p>Train, inspect and export neural-network models.</p>"), m_start);
    title->setAlignment(Qt::AlignCenter);
    auto *open = new QPushButton(tr("Open a Model or Checkpoint…"), m_start);
    auto *train = new QPushButton(tr("New Training…"), m_start);
    m_recentList = new QListWidget(m_start);
    m_recentList->setMinimumWidth(560);
    m_recentList->setMaximumWidth(760);
    startLayout->addStretch();
    startLayout->addWidget(title);
    startLayout->addWidget(open, 0, Qt::AlignHCenter);
    startLayout->addWidget(train, 0, Qt::AlignHCenter);
    startLayout->addWidget(new QLabel(tr("Recent files:"), m_start), 0, Qt::AlignHCenter);
    startLayout->addWidget(m_recentList, 0, Qt::AlignHCenter);
    startLayout->addStretch();
    connect(open, &QPushButton::clicked, this, &MainWindow::openDialog);
    connect(train, &QPushButton::clicked, this, &MainWindow::newTraining);
    connect(m_recentList, &QListWidget::itemActivated, this, [this](QListWidgetItem *item) { openPath(item->data(Qt::UserRole).toString()); });
    m_pages = new QStackedWidget(this);
    m_pages->addWidget(m_start);
    m_pages->addWidget(m_tabs);
    // Above the tabs: why a file could not be opened (no tab is kept for it).
    m_openError = new OpenErrorBanner(this);
    auto *central = new QWidget(this);
    auto *centralLayout = new QVBoxLayout(central);
    centralLayout->setContentsMargins(0, 0, 0, 0);
    centralLayout->setSpacing(0);
    centralLayout->addWidget(m_openError);
    centralLayout->addWidget(m_pages, 1);
    setCentralWidget(central);
    connect(m_tabs, &QTabWidget::currentChanged, this, [this] { m_pages->setCurrentWidget(m_tabs->count() ? static_cast<QWidget *>(m_tabs) : m_start); });
    connect(m_tabs, &QTabWidget::tabCloseRequested, this, &MainWindow::closeTab);
    connect(m_tabs, &QTabWidget::currentChanged, this, [this] {
        const ModelDocument *d = currentDocument();
        setWindowTitle(d ? tr("%1 — Netwright").arg(QFileInfo(d->path()).fileName()) : tr("Netwright"));
        showCurrentStatus();
    });
    createMenus();
    // The current tab's message. Ignored width: a long message never widens the window.
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("tabStatus"));
    m_status->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    statusBar()->addWidget(m_status, 1);
    showCurrentStatus();

    QSettings settings;
    m_recent = settings.value(kRecent).toStringList();
    rebuildRecentMenu();
    if (!restoreGeometry(settings.value(kGeometry).toByteArray()))
        resize(1280, 800);
    restoreState(settings.value(kState).toByteArray());
}

MainWindow::~MainWindow() = default;

void MainWindow::createMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&Open…"), QKeySequence::Open, this, &MainWindow::openDialog);
    file->addAction(tr("Open Run &Directory…"), this, [this] {
        const QString d = QFileDialog::getExistingDirectory(this, tr("Open Run Directory"), QSettings().value(kLastDir, QDir::homePath()).toString());
        if (!d.isEmpty())
            openPath(d);
    });
    file->addAction(tr("&Compare Runs…"), this, [this] {
        // Several run directories (Ctrl/Shift-click), or one folder of them (a sweep, a batch's runs).
        QFileDialog dialog(this, tr("Compare Runs: choose run directories or a sweep folder"), QSettings().value(kLastDir, QDir::homePath()).toString());
        dialog.setFileMode(QFileDialog::Directory);
        dialog.setOption(QFileDialog::DontUseNativeDialog);
        for (auto *view : dialog.findChildren<QAbstractItemView *>())
            view->setSelectionMode(QAbstractItemView::ExtendedSelection);
        if (dialog.exec() == QDialog::Accepted)
            compareRuns(dialog.selectedFiles());
    });
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    file->addSeparator();
    file->addAction(tr("&Export Model…"), QKeySequence(Qt::CTRL | Qt::Key_E), this, [this] {
        auto *wizard = new ExportWizard(currentDocument() ? currentDocument()->path() : QString(), this);
        wizard->setAttribute(Qt::WA_DeleteOnClose);
        wizard->open();
    });
    file->addAction(tr("Export Graph as &PNG…"), this, [this] { exportGraph(false); });
    file->addAction(tr("Export Graph as &SVG…"), this, [this] { exportGraph(true); });
    file->addSeparator();
    file->addAction(tr("&Close"), QKeySequence::Close, this, [this] {
        if (m_tabs->currentIndex() >= 0)
            closeTab(m_tabs->currentIndex());
    });
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    QMenu *view = menuBar()->addMenu(tr("&View"));
    auto onGraph = [this](auto fn) {
        return [this, fn] {
            if (ModelDocument *d = currentDocument())
                fn(d);
        };
    };
    view->addAction(tr("&Find…"), QKeySequence::Find, this, onGraph([](ModelDocument *d) { d->focusSearch(); }));
    view->addAction(tr("Find &Next"), QKeySequence::FindNext, this, onGraph([](ModelDocument *d) { d->findNext(); }));
    view->addAction(tr("Find &Previous"), QKeySequence::FindPrevious, this, onGraph([](ModelDocument *d) { d->findPrevious(); }));
    view->addSeparator();
    view->addAction(tr("Zoom &In"), QKeySequence::ZoomIn, this, onGraph([](ModelDocument *d) { d->graphView()->zoomIn(); }));
    view->addAction(tr("Zoom &Out"), QKeySequence::ZoomOut, this, onGraph([](ModelDocument *d) { d->graphView()->zoomOut(); }));
    view->addAction(tr("&Fit to Window"), QKeySequence(Qt::CTRL | Qt::Key_0), this, onGraph([](ModelDocument *d) { d->graphView()->fitGraph(); }));
    view->addSeparator();
    // As in browsers: Ctrl+PageDown/PageUp (and Ctrl+Tab/Ctrl+Shift+Tab), wrapping at the ends.
    QAction *next = view->addAction(tr("Ne&xt Tab"), this, &MainWindow::nextTab);
    next->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_PageDown), QKeySequence(Qt::CTRL | Qt::Key_Tab)});
    QAction *previous = view->addAction(tr("Pre&vious Tab"), this, &MainWindow::previousTab);
    previous->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_PageUp), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Backtab)});

    QMenu *run = menuBar()->addMenu(tr("&Run"));
    run->addAction(tr("&New Training…"), QKeySequence(Qt::CTRL | Qt::Key_T), this, &MainWindow::newTraining);
    QAction *trainThis = run->addAction(tr("&Train This Model…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_T), this, [this] {
        if (ModelDocument *d = currentDocument())
            trainDocument(d);
    });
    QAction *runThis = run->addAction(tr("Run This Model on &Inputs…"), QKeySequence(Qt::CTRL | Qt::Key_R), this, [this] {
        if (ModelDocument *d = currentDocument())
            d->runOnInputs();
    });
    // Only for a model the engine can train and run: an open ONNX, MindIR, AIR or CNTK model file.
    connect(run, &QMenu::aboutToShow, this, [this, trainThis, runThis] {
        ModelDocument *d = currentDocument();
        bool trainable = false;
        try {
            trainable = d && d->isLoaded() && detectGraphFormat(d->path().toStdString()).has_value();
        } catch (const Error &) {
        }
        trainThis->setEnabled(trainable);
        runThis->setEnabled(trainable);
    });

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&Documentation"), QKeySequence::HelpContents, this, [this] {
        const QString docs = documentationPath();
        if (docs.isEmpty() || !QDesktopServices::openUrl(QUrl::fromLocalFile(docs)))
            statusBar()->showMessage(docs.isEmpty() ? tr("The documentation is not installed; see `netwright --help`.")
                                                    : tr("No program is set to open %1.").arg(docs),
                                     8000);
    });
    help->addSeparator();
    help->addAction(tr("&About Netwright"), this, [this] {
        auto *about = new AboutDialog(this);
        about->setAttribute(Qt::WA_DeleteOnClose);
        about->open();
    });
    help->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt);
}

ModelDocument *MainWindow::currentDocument() const
{
    return qobject_cast<ModelDocument *>(m_tabs->currentWidget());
}

QWidget *MainWindow::openPath(const QString &path)
{
    if (!QFileInfo(path).isDir())
        return openFile(path);
    if (SweepView::isSweepFolder(path))
        return openSweep(path);
    // A run directory: its history, live.
    const QString absolute = QFileInfo(path).absoluteFilePath();
    for (int i = 0; i < m_tabs->count(); ++i)
        if (auto *r = qobject_cast<RunHistoryPanel *>(m_tabs->widget(i)); r && r->runDirectory() == QDir::cleanPath(absolute)) {
            m_tabs->setCurrentIndex(i);
            return r;
        }
    auto *panel = new RunHistoryPanel(absolute, m_tabs);
    const int index = m_tabs->addTab(panel, QFileInfo(absolute).fileName());
    m_tabs->setTabToolTip(index, absolute);
    setTabStatus(panel, panel->statusText());
    m_tabs->setCurrentIndex(index);
    connect(panel, &RunHistoryPanel::statusMessage, this, [this, panel](const QString &text) { setTabStatus(panel, text); });
    connect(panel, &RunHistoryPanel::openFileRequested, this, [this](const QString &f) { openFile(f); });
    connect(panel, &RunHistoryPanel::runStarted, this, [this](const QString &dir) { openPath(dir); });
    connect(panel, &RunHistoryPanel::continueRequested, this, [this](const QString &dir) { continueRun(dir); });
    connect(panel, &RunHistoryPanel::evaluateRequested, this, [this](const QString &f) { evaluateCheckpoint(f); });
    connect(panel, &RunHistoryPanel::exportRequested, this, [this](const QString &f) {
        auto *wizard = new ExportWizard(f, this);
        wizard->setAttribute(Qt::WA_DeleteOnClose);
        wizard->open();
    });
    addRecent(absolute);
    return panel;
}

void MainWindow::openPaths(const QStringList &paths)
{
    const bool runs = paths.size() >= 2 && std::all_of(paths.begin(), paths.end(), [](const QString &p) {
        return RunDirectory::isRunDirectory(p.toStdString());
    });
    if (runs) {
        compareRuns(paths);
        return;
    }
    for (const QString &path : paths)
        openPath(path);
}

QWidget *MainWindow::compareRuns(const QStringList &paths)
{
    // A sweep folder alone opens as a sweep; otherwise every run directory named or held.
    if (paths.size() == 1 && SweepView::isSweepFolder(paths.front()))
        return openSweep(paths.front());
    QStringList dirs, problems;
    for (const QString &p : paths) {
        const QString path = QDir::cleanPath(QFileInfo(p).absoluteFilePath());
        if (RunDirectory::isRunDirectory(path.toStdString())) {
            dirs << path;
            continue;
        }
        int found = 0;
        for (const QString &d : QDir(path).entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name))
            if (RunDirectory::isRunDirectory(QDir(path).filePath(d).toStdString())) {
                dirs << QDir(path).filePath(d);
                ++found;
            }
        if (!found)
            problems << path;
    }
    for (const QString &p : problems)
        m_openError->addFailure(p, tr("\"%1\" is neither a run directory nor a folder of them (a sweep, a batch's runs).").arg(p));
    if (dirs.isEmpty())
        return nullptr;
    auto *view = new RunComparison(m_tabs);
    view->setRuns(dirs);
    const int index = m_tabs->addTab(view, view->runDirectories().size() == 1 ? tr("Compare 1 run") : tr("Compare %1 runs").arg(view->runDirectories().size()));
    m_tabs->setTabToolTip(index, dirs.join(QLatin1Char('\n')));
    m_tabs->setCurrentIndex(index);
    connect(view, &RunComparison::openRunRequested, this, [this](const QString &d) { openPath(d); });
    return view;
}

SweepView *MainWindow::openSweep(const QString &folder)
{
    const QString absolute = QDir::cleanPath(QFileInfo(folder).absoluteFilePath());
    for (int i = 0; i < m_tabs->count(); ++i)
        if (auto *s = qobject_cast<SweepView *>(m_tabs->widget(i)); s && s->folder() == absolute) {
            m_tabs->setCurrentIndex(i);
            s->reload();
            return s;
        }
    auto *view = new SweepView(absolute, m_tabs);
    const int index = m_tabs->addTab(view, tr("Sweep %1").arg(QFileInfo(absolute).fileName()));
    m_tabs->setTabToolTip(index, absolute);
    m_tabs->setCurrentIndex(index);
    setTabStatus(view, view->messageText().section(QLatin1Char('\n'), 0, 0));
    connect(view, &SweepView::openRunRequested, this, [this](const QString &d) { openPath(d); });
    connect(view, &SweepView::openConfigRequested, this, [this](const QString &file) {
        try {
            const RunConfig config = loadRunConfigFile(file.toStdString(), defaultRunConfig());
            newTraining()->setConfig(config);
        } catch (const Error &e) {
            QMessageBox::warning(this, tr("Open Best Config"), QString::fromUtf8(e.what()));
        }
    });
    addRecent(absolute);
    return view;
}

ModelDocument *MainWindow::openFile(const QString &path, const mindspore::EncryptionKey &key)
{
    const QString absolute = QFileInfo(path).absoluteFilePath();
    for (int i = 0; i < m_tabs->count(); ++i)
        if (auto *d = qobject_cast<ModelDocument *>(m_tabs->widget(i)); d && d->path() == absolute) {
            m_tabs->setCurrentIndex(i);
            return d;
        }
    auto *doc = new ModelDocument(absolute, m_tabs, key);
    const int index = m_tabs->addTab(doc, QFileInfo(absolute).fileName());
    m_tabs->setTabToolTip(index, absolute);
    setTabStatus(doc, doc->statusText());
    m_tabs->setCurrentIndex(index);
    connect(doc, &ModelDocument::statusMessage, this, [this, doc](const QString &text) { setTabStatus(doc, text); });
    connect(doc, &ModelDocument::loaded, this, [this, doc] {
        if (doc->isLoaded()) {
            addRecent(doc->path());
            return;
        }
        // Not opened: the reason at once (the reader's sentence names the file and the problem, as
        // the CLI says it), no tab left behind, and not in Open Recent (a recent entry that no
        // longer opens leaves the list). An encrypted file asks for its key first (once the
        // document is gone: the dialog's event loop must not run inside its signal).
        const QString problem = doc->errorDetails().isEmpty() ? doc->errorText() : doc->errorDetails();
        if (doc->needsKey())
            QTimer::singleShot(0, this, [this, path = doc->path(), problem] { askKeyAndOpen(path, problem); });
        else
            m_openError->addFailure(doc->path(), problem);
        if (m_recent.removeAll(doc->path()) > 0) {
            QSettings().setValue(kRecent, m_recent);
            rebuildRecentMenu();
        }
        if (const int index = m_tabs->indexOf(doc); index >= 0) {
            m_tabStatus.remove(doc);
            m_tabs->removeTab(index);
            doc->deleteLater(); // in its own signal: deleted once it has returned
        }
    });
    QSettings().setValue(kLastDir, QFileInfo(absolute).absolutePath());
    return doc;
}

void MainWindow::askKeyAndOpen(const QString &path, const QString &problem)
{
    QFileDialog dialog(this, tr("Key File for the Encrypted %1").arg(QFileInfo(path).fileName()), QFileInfo(path).absolutePath());
    dialog.setObjectName(QStringLiteral("keyFileDialog"));
    dialog.setFileMode(QFileDialog::ExistingFile);
    dialog.setOption(QFileDialog::DontUseNativeDialog);
    dialog.setLabelText(QFileDialog::Accept, tr("Open with This Key"));
    if (dialog.exec() != QDialog::Accepted || dialog.selectedFiles().isEmpty()) {
        m_openError->addFailure(path, problem);
        return;
    }
    try {
        openFile(path, mindspore::readKeyFile(dialog.selectedFiles().first().toStdString()));
    } catch (const Error &e) {
        m_openError->addFailure(path, QString::fromUtf8(e.what()));
    }
}

TrainingPanel *MainWindow::newTraining()
{
    auto *panel = new TrainingPanel(m_tabs);
    const int index = m_tabs->addTab(panel, tr("Training"));
    setTabStatus(panel, tr("New training: choose the model, the data and the checkpoint policy, then Start."));
    m_tabs->setCurrentIndex(index);
    connect(panel, &TrainingPanel::runBegun, this, [this, panel](const QString &dir, int64_t startGlobalStep) {
        setTabStatus(panel, startGlobalStep > 0 ? tr("Training (continued from step %1): %2").arg(startGlobalStep).arg(dir)
                                                : tr("Training: %1").arg(dir));
    });
    connect(panel, &TrainingPanel::runFinished, this, [this, panel](const QString &dir, bool stopped, const QString &error) {
        setTabStatus(panel, !error.isEmpty()              ? tr("The run failed: %1").arg(error)
                            : !QFileInfo::exists(dir) ? tr("Run stopped before it began; nothing was written.")
                            : stopped                 ? tr("Run stopped: %1").arg(dir)
                                                      : tr("Run finished: %1").arg(dir));
    });
    return panel;
}

EvaluationView *MainWindow::evaluateCheckpoint(const QString &source)
{
    auto *view = new EvaluationView(m_tabs);
    const int index = m_tabs->addTab(view, tr("Evaluate %1").arg(QFileInfo(source).fileName()));
    m_tabs->setTabToolTip(index, source);
    m_tabs->setCurrentIndex(index);
    view->evaluate(source);
    return view;
}

TrainingPanel *MainWindow::continueRun(const QString &runDirectory)
{
    TrainingPanel *panel = newTraining();
    const QString name = QFileInfo(runDirectory).fileName();
    m_tabs->setTabText(m_tabs->indexOf(panel), tr("Training %1").arg(name));
    m_tabs->setTabToolTip(m_tabs->indexOf(panel), runDirectory);
    panel->continueRun(runDirectory);
    setTabStatus(panel, tr("Continuing %1 from its newest checkpoint (as netwright resume).").arg(runDirectory));
    return panel;
}

TrainingPanel *MainWindow::trainDocument(ModelDocument *document)
{
    // One training panel per model file: Ctrl+Shift+T again shows the one already open.
    for (int i = 0; i < m_tabs->count(); ++i)
        if (auto *p = qobject_cast<TrainingPanel *>(m_tabs->widget(i)); p && m_trains.value(p) == document->path()) {
            m_tabs->setCurrentIndex(i);
            return p;
        }
    TrainingPanel *panel = newTraining();
    panel->setModelFile(document->path());
    m_trains.insert(panel, document->path());
    m_tabs->setTabText(m_tabs->indexOf(panel), tr("Training %1").arg(QFileInfo(document->path()).fileName()));
    setTabStatus(panel, tr("Training %1: choose the data and the checkpoint policy, then Start.").arg(QFileInfo(document->path()).fileName()));
    return panel;
}

QString MainWindow::statusText() const
{
    return m_status->text();
}

void MainWindow::setTabStatus(QWidget *tab, const QString &text)
{
    m_tabStatus.insert(tab, text);
    if (tab == m_tabs->currentWidget())
        showCurrentStatus();
}

void MainWindow::showCurrentStatus()
{
    const QWidget *tab = m_tabs->currentWidget();
    const QString text = tab ? m_tabStatus.value(tab) : tr("Open a model or checkpoint file (File ▸ Open, or drop it here).");
    m_status->setText(text);
    m_status->setToolTip(text); // the whole message where the bar cuts it
    statusBar()->clearMessage(); // a transient message belongs to the tab it was said on
}

void MainWindow::nextTab()
{
    if (m_tabs->count() > 1)
        m_tabs->setCurrentIndex((m_tabs->currentIndex() + 1) % m_tabs->count());
}

void MainWindow::previousTab()
{
    if (m_tabs->count() > 1)
        m_tabs->setCurrentIndex((m_tabs->currentIndex() + m_tabs->count() - 1) % m_tabs->count());
}

void MainWindow::openDialog()
{
    const QString dir = QSettings().value(kLastDir, QDir::homePath()).toString();
    const QStringList files = QFileDialog::getOpenFileNames(
        this, tr("Open"), dir,
        tr("Models and checkpoints (%1);;All files (*)").arg(QString::fromStdString(fileNamePatterns(false))));
    for (const QString &f : files)
        openFile(f);
}

void MainWindow::closeTab(int index)
{
    QWidget *w = m_tabs->widget(index);
    m_tabStatus.remove(w);
    m_trains.remove(w);
    m_tabs->removeTab(index);
    delete w;
}

void MainWindow::addRecent(const QString &path)
{
    m_recent.removeAll(path);
    m_recent.prepend(path);
    while (m_recent.size() > kMaxRecent)
        m_recent.removeLast();
    QSettings().setValue(kRecent, m_recent);
    rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu()
{
    m_recentList->clear();
    for (const QString &path : m_recent) {
        auto *item = new QListWidgetItem(QFileInfo(path).fileName() + QStringLiteral("  —  ") + QFileInfo(path).absolutePath(), m_recentList);
        item->setData(Qt::UserRole, path);
    }
    m_recentMenu->clear();
    for (const QString &path : m_recent)
        m_recentMenu->addAction(QFileInfo(path).fileName() + QStringLiteral("  —  ") + QFileInfo(path).absolutePath(), this,
                                [this, path] { openPath(path); });
    m_recentMenu->setEnabled(!m_recent.isEmpty());
    if (!m_recent.isEmpty()) {
        m_recentMenu->addSeparator();
        m_recentMenu->addAction(tr("Clear"), this, [this] {
            m_recent.clear();
            QSettings().setValue(kRecent, m_recent);
            rebuildRecentMenu();
        });
    }
}

void MainWindow::exportGraph(bool svg)
{
    ModelDocument *d = currentDocument();
    if (!d || !d->graphView()->isLaidOut()) {
        statusBar()->showMessage(tr("There is no laid-out graph to export."), 5000);
        return;
    }
    const QString base = QFileInfo(d->path()).completeBaseName() + (svg ? QStringLiteral(".svg") : QStringLiteral(".png"));
    // The folder last exported to, else the documents folder: the model's own folder is often
    // read-only (node_modules, /usr/share).
    const QString path = QFileDialog::getSaveFileName(this, svg ? tr("Export Graph as SVG") : tr("Export Graph as PNG"), defaultExportPath(base),
                                                      svg ? tr("SVG images (*.svg)") : tr("PNG images (*.png)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!(svg ? d->graphView()->exportSvg(path, &error) : d->graphView()->exportPng(path, &error)))
        QMessageBox::warning(this, tr("Export Graph"), error);
    else {
        rememberExportDirectory(path);
        setTabStatus(d, tr("Wrote %1").arg(path));
    }
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    QSettings settings;
    settings.setValue(kGeometry, saveGeometry());
    settings.setValue(kState, saveState());
    event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent *event)
{
    if (event->mimeData()->hasUrls())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent *event)
{
    // Several run directories dropped together: one comparison.
    QStringList runs;
    for (const QUrl &url : event->mimeData()->urls())
        if (url.isLocalFile() && RunDirectory::isRunDirectory(url.toLocalFile().toStdString()))
            runs << url.toLocalFile();
    if (runs.size() >= 2 && runs.size() == event->mimeData()->urls().size()) {
        compareRuns(runs);
        event->acceptProposedAction();
        return;
    }
    for (const QUrl &url : event->mimeData()->urls())
        if (url.isLocalFile())
            openPath(url.toLocalFile());
    event->acceptProposedAction();
}

} // namespace netwright::gui
