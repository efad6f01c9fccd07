// SPDX-License-Identifier: Apache-2.0
// The workbench window: one tab per open file; File ▸ Open, Open Recent, Close; View ▸ Find,
// zoom, fit, export the graph as PNG or SVG, next/previous tab (Ctrl+PageDown/PageUp, wrapping);
// files dropped on the window open too; a file that cannot be opened leaves no tab: a banner above
// the tabs names it and the problem. Help ▸ Documentation, About Netwright (the build), About Qt. The status bar shows what the current tab last said
// (each tab keeps its own message). The window's
// geometry, its dock/toolbar state and the recent files persist in QSettings. Thread affinity:
// UI thread. Layer: app.
#pragma once

#include "formats/mindspore/ms_encryption.h"

#include <QHash>
#include <QMainWindow>
#include <QStringList>

class QLabel;
class QListWidget;
class QMenu;
class QStackedWidget;
class QTabWidget;

namespace netwright::gui {

class ModelDocument;
class OpenErrorBanner;
class SweepView;
class TrainingPanel;
class EvaluationView;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    static constexpr int kMaxRecent = 10;

    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    // Opens a file in a new tab (or shows its tab when it is open already).
    // An encrypted MindSpore checkpoint or MindIR opened without `key` asks for its key file (raw
    // key bytes, as --key-file) and opens again with it; cancelled, the banner says a key is needed.
    ModelDocument *openFile(const QString &path, const mindspore::EncryptionKey &key = {});
    // A file (openFile), a run directory (its checkpoint history, live) or a sweep folder (openSweep).
    QWidget *openPath(const QString &path);
    // What `netwright PATH…` opens: each path (openPath); several run directories and nothing else,
    // as one comparison (compareRuns).
    void openPaths(const QStringList &paths);
    // Run directories, or folders of them, in one comparison tab (File ▸ Compare Runs…; several run
    // directories dropped together); one sweep folder opens as a sweep. Null when none was found
    // (the banner names what was not a run directory).
    QWidget *compareRuns(const QStringList &paths);
    // A sweep folder: its results and parallel coordinates (its tab again when it is open).
    SweepView *openSweep(const QString &folder);
    ModelDocument *currentDocument() const;
    // A training panel in a new tab (Run ▸ New Training).
    TrainingPanel *newTraining();
    // A training panel on the open model file (Run ▸ Train This Model); the one already open for
    // that file, shown again, when there is one.
    TrainingPanel *trainDocument(ModelDocument *document);
    // A stopped run continued in a training panel, as `netwright resume DIR` continues it.
    TrainingPanel *continueRun(const QString &runDirectory);
    // A checkpoint (or run directory, or model file) evaluated on its run's test split, in a new
    // tab: the figures, the confusion matrix, per-class bars and the samples of a clicked cell.
    EvaluationView *evaluateCheckpoint(const QString &source);
    // The current tab's status message, as the status bar shows it (the start page's without one).
    QString statusText() const;
    // Shows the next (or previous) tab, wrapping from the last to the first as browsers do.
    void nextTab();
    void previousTab();
    QTabWidget *tabs() const { return m_tabs; }
    OpenErrorBanner *openErrorBanner() const { return m_openError; }
    QStringList recentFiles() const { return m_recent; }

protected:
    void closeEvent(QCloseEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;

private:
    void askKeyAndOpen(const QString &path, const QString &problem);
    void createMenus();
    void openDialog();
    void closeTab(int index);
    void addRecent(const QString &path);
    void rebuildRecentMenu();
    void exportGraph(bool svg);
    // Remembers `text` as what `tab` says; shown when `tab` is the current tab.
    void setTabStatus(QWidget *tab, const QString &text);
    void showCurrentStatus();

    QTabWidget *m_tabs;
    QStackedWidget *m_pages = nullptr;
    QWidget *m_start = nullptr;
    QListWidget *m_recentList = nullptr;
    QMenu *m_recentMenu = nullptr;
    QStringList m_recent;
    OpenErrorBanner *m_openError = nullptr;   // why a file could not be opened
    QLabel *m_status = nullptr;                // the status bar's message (a widget: menus' status tips do not erase it)
    QHash<const QWidget *, QString> m_tabStatus; // tab → its last message
    QHash<const QWidget *, QString> m_trains;    // training panel → the model file it was opened on
};

} // namespace netwright::gui
