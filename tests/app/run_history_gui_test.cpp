// SPDX-License-Identifier: Apache-2.0
// A run directory in the window, while `netwright train` is still writing it: the history panel
// follows the run live (rows, curves, markers), shows which checkpoint the keep rule deleted,
// compares two checkpoints parameter by parameter (the L2 distance checked against the files),
// resumes from one as a fork that ends bit-identical to the original, and deletes one — recorded
// so that `netwright history` agrees; with the run's data moved away, it still compares checkpoints
// on the run's graph. A deleted checkpoint, or one whose file is gone, cannot be inspected,
// exported, resumed from or deleted: its buttons are disabled and a click does nothing.
#include "formats/mindspore/ckpt_file.h"
#include "graph/graph_view.h"
#include "gui/main_window.h"
#include "gui/model_document.h"
#include "graph/visible_graph.h"
#include "gui/run_history_panel.h"
#include "gui/training_panel.h"
#include "gui/training_run.h"
#include "support/cli_support.h"
#include "support/fashion_run.h"
#include "support/find_button.h"
#include "training/training_curves.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>

using namespace netwright;
using namespace netwright::gui;
using netwright::test::button;

class RunHistoryGuiTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void followsARunLiveComparesAndDeletes()
    {
        const QString config = test::writeFashionRunConfig(m_dir.path(), 1280, 300, "lenet5", R"("epochs": 3, "batch_size": 64, "threads": 1)",
                                                           R"("checkpoint": {"keep_checkpoint_max": 2})");
        QVERIFY(!config.isEmpty());
        const QString run = m_dir.filePath("run");
        // The panel is open before the run has written anything.
        RunHistoryPanel panel(run);
        panel.show();
        QCOMPARE(panel.rows().size(), size_t(0));
        QProcess train;
        train.setStandardOutputFile(QProcess::nullDevice()); // never blocks on a full pipe
        train.start(qEnvironmentVariable("NETWRIGHT_BINARY"), {"train", "--config", config, "--out", run});
        QVERIFY(train.waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(panel.rows().size() >= 1, 120000); // live, while the process runs
        if (train.state() != QProcess::NotRunning) // it may have ended while the panel was being watched
            QVERIFY(train.waitForFinished(300000));
        QCOMPARE(train.exitCode(), 0);
        QTRY_COMPARE_WITH_TIMEOUT(panel.rows().size(), size_t(3), 10000);
        QTRY_COMPARE_WITH_TIMEOUT(panel.curves()->stepPoints(), 60, 10000); // 3 epochs × 20 steps
        QCOMPARE(panel.curves()->evaluationPoints(), 3);
        // metrics.jsonl keeps no clock: the wall-time axis reads the run's TensorBoard events.
        QVERIFY(panel.curves()->isAxisAvailable(widgets::CurveAxis::WallTime));
        QVERIFY(panel.curves()->isAxisAvailable(widgets::CurveAxis::Samples));
        // keep_checkpoint_max 2: the first was deleted, by that rule.
        QVERIFY2(panel.table()->item(0, 7)->text().startsWith("deleted (keep_checkpoint_max"), qPrintable(panel.table()->item(0, 7)->text()));
        QCOMPARE(panel.table()->item(2, 7)->text(), QStringLiteral("kept"));
        QCOMPARE(panel.curves()->checkpointSteps(), (std::vector<int64_t>{40, 60}));
        QCOMPARE(panel.curves()->deletedCheckpointSteps(), (std::vector<int64_t>{20}));

        // Compare epoch 2 with epoch 3: conv1.weight's distance, recomputed from the files.
        QString error;
        QVERIFY2(panel.compareRows(1, 2, &error), qPrintable(error));
        QTableWidget *cmp = panel.comparison();
        QVERIFY(cmp->rowCount() >= 10);
        int row = -1;
        for (int r = 0; r < cmp->rowCount(); ++r)
            if (cmp->item(r, 0)->text() == "conv1.weight")
                row = r;
        QVERIFY(row >= 0);
        const auto a = mindspore::readCkpt((run + "/" + panel.rows()[1].file).toStdString());
        const auto b = mindspore::readCkpt((run + "/" + panel.rows()[2].file).toStdString());
        double d2 = 0;
        for (size_t i = 0; i < a.entries.size(); ++i)
            if (a.entries[i].name == "conv1.weight")
                for (int64_t k = 0; k < a.entries[i].tensor.numel(); ++k) {
                    const double d = static_cast<double>(b.entries[i].tensor.data()[k]) - a.entries[i].tensor.data()[k];
                    d2 += d * d;
                }
        QVERIFY(std::sqrt(d2) > 0);
        QVERIFY(std::abs(cmp->item(row, 2)->text().toDouble() - std::sqrt(d2)) <= 1e-5 * std::sqrt(d2));

        // The same comparison on the run's graph: lenet5's five nodes with weights (two Conv, three
        // Gemm) are shaded, none else; the one reading the most-moved parameter (the table's first
        // row) at full strength, with its figures in the tooltip.
        QTRY_VERIFY_WITH_TIMEOUT(panel.comparisonGraph()->isLaidOut(), 60000);
        // Its shapes read as the graph view's do (the engine's analysis): "?×1×28×28" into conv1,
        // its weights "32×1×3×3"-style inside the boxes, never the file's "[…]" lists.
        const widgets::VisibleGraph &drawn = panel.comparisonGraph()->visibleGraph();
        int labelled = 0;
        for (const auto &e : drawn.edges) {
            QVERIFY2(e.label.find('[') == std::string::npos, e.label.c_str());
            labelled += e.label.empty() ? 0 : 1;
        }
        QVERIFY(labelled >= 8);
        QVERIFY(std::any_of(drawn.edges.begin(), drawn.edges.end(), [](const auto &e) { return e.label == "?×1×28×28"; }));
        for (const auto &n : drawn.nodes)
            for (const auto &r : n.rows)
                QVERIFY2(r.shape.find('[') == std::string::npos && !r.shape.empty(), (n.title + " " + r.label + " " + r.shape).c_str());
        const auto &heat = panel.comparisonGraph()->nodeHeat();
        QCOMPARE(heat.size(), size_t(5));
        const QString top = cmp->item(0, 0)->text();
        int strongest = 0;
        for (const auto &[node, h] : heat) {
            QVERIFY(h.value >= 0 && h.value <= 1);
            if (h.value == 1.0) {
                ++strongest;
                QVERIFY2(h.note.contains(top + ": moved " + cmp->item(0, 3)->text()), qPrintable(h.note));
            }
        }
        QCOMPARE(strongest, 1);

        // Resume from epoch 2: a fork trained on by `netwright resume` in its own process ends with
        // the same epoch-3 checkpoint as the original run, byte for byte (exact resume).
        panel.setProgram(qEnvironmentVariable("NETWRIGHT_BINARY"));
        const QString fork = panel.resumeFrom(1, &error);
        QVERIFY2(!fork.isEmpty(), qPrintable(error));
        RunHistoryPanel forked(fork);
        // Its table starts with the checkpoint it was forked at, marked as such, from this run;
        // and it says it is training (its own process), not this run's end.
        QVERIFY(!forked.rows().empty());
        QCOMPARE(forked.rows()[0].file, panel.rows()[1].file);
        QCOMPARE(forked.rows()[0].forkedFrom, run + "/" + panel.rows()[1].file);
        QCOMPARE(forked.table()->item(0, 0)->text(), panel.rows()[1].file);
        QCOMPARE(forked.table()->item(0, 2)->text(), QString::number(panel.rows()[1].step));
        QCOMPARE(forked.table()->item(0, 7)->text(), QStringLiteral("kept (fork point, from run)"));
        // Training from the moment its `netwright resume` opens the run (it holds the run's lock).
        QTRY_COMPARE_WITH_TIMEOUT(forked.runState(), QStringLiteral("training…"), 30000);
        QVERIFY2(forked.statusText().contains("(training…)"), qPrintable(forked.statusText()));
        QTRY_VERIFY_WITH_TIMEOUT(forked.rows().size() == 2 && forked.rows()[1].epoch == 3, 120000);
        QTRY_COMPARE_WITH_TIMEOUT(forked.runState(), QStringLiteral("finished"), 60000);
        QCOMPARE(panel.runState(), QStringLiteral("finished"));
        const QString last = panel.rows()[2].file;
        QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(fork + "/" + last), 60000);
        QFile x(run + "/" + last), y(fork + "/" + last);
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo(fork + "/" + last).size() == QFileInfo(run + "/" + last).size(), 60000);
        QVERIFY(x.open(QIODevice::ReadOnly) && y.open(QIODevice::ReadOnly));
        QVERIFY(x.readAll() == y.readAll());
        QTRY_COMPARE_WITH_TIMEOUT(forked.curves()->stepPoints(), 60, 60000); // the metrics up to epoch 2, then epoch 3

        // Delete epoch 2's checkpoint: gone, and recorded as the history command reads it.
        const QString doomed = panel.rows()[1].file;
        QVERIFY2(panel.deleteRow(1, &error), qPrintable(error));
        QVERIFY(!QFile::exists(run + "/" + doomed));
        QCOMPARE(panel.table()->item(1, 7)->text(), QStringLiteral("deleted (deleted by the user)"));
        QProcess history;
        history.start(qEnvironmentVariable("NETWRIGHT_BINARY"), {"history", "--json", run});
        QVERIFY(history.waitForFinished(60000));
        const QJsonArray rows = QJsonDocument::fromJson(history.readAllStandardOutput()).object()["checkpoints"].toArray();
        QCOMPARE(rows.size(), 3);
        QCOMPARE(rows[1].toObject()["status"].toString(), QStringLiteral("deleted"));
        QCOMPARE(rows[1].toObject()["rule"].toString(), QStringLiteral("deleted by the user"));
    }

    // The actions on one checkpoint follow whether it is still there: after Delete (the row stays
    // selected) and after its file is removed behind the panel's back.
    void deletedCheckpointsDisableTheirActions()
    {
        QTemporaryDir own;
        const QString data = test::fashionMnistSlice(own.path(), 256, 64);
        QVERIFY(!data.isEmpty());
        QFile f(m_dir.filePath("small.json"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QStringLiteral(R"({"model": {"name": "mlp"}, %1, "training": {"epochs": 3, "batch_size": 64, "threads": 1}})").arg(data).toUtf8());
        f.close();
        const QString run = m_dir.filePath("small");
        const test::RunResult trained = test::runNetwright({"train", "--config", m_dir.filePath("small.json"), "--out", run});
        QVERIFY2(trained.exitCode == 0, qPrintable(trained.err));
        RunHistoryPanel panel(run);
        panel.show();
        QCOMPARE(panel.rows().size(), size_t(3));
        QVERIFY2(panel.statusText().contains("3 checkpoints saved, 3 kept"), qPrintable(panel.statusText()));
        const QList<QPushButton *> actions{button(panel, "Inspect"), button(panel, "Export…"), button(panel, "Resume from Here"), button(panel, "Delete")};
        for (QPushButton *b : actions)
            QVERIFY(b);
        auto enabled = [&] {
            QStringList on;
            for (QPushButton *b : actions)
                if (b->isEnabled())
                    on << b->text();
            return on.join(", ");
        };
        panel.table()->selectRow(0);
        QCOMPARE(enabled(), QStringLiteral("Inspect, Export…, Resume from Here, Delete"));

        // Deleted from the panel: the row is still selected, its actions are off, and Inspect does
        // not open the (missing) file.
        QString error;
        QVERIFY2(panel.deleteRow(0, &error), qPrintable(error));
        QCOMPARE(panel.table()->selectionModel()->selectedRows().size(), 1);
        QCOMPARE(panel.table()->item(0, 7)->text(), QStringLiteral("deleted (deleted by the user)"));
        QCOMPARE(enabled(), QString());
        QSignalSpy opened(&panel, &RunHistoryPanel::openFileRequested), exported(&panel, &RunHistoryPanel::exportRequested);
        actions[0]->click();
        actions[1]->click();
        QCOMPARE(opened.count() + exported.count(), 0);
        QVERIFY(panel.statusText().startsWith("Deleted " + panel.rows()[0].file));
        // Compare needs two checkpoints that are there.
        QPushButton *compare = button(panel, "Compare Two");
        QVERIFY(compare);
        auto selectTwo = [&](int a, int b) {
            panel.table()->clearSelection();
            for (int r : {a, b})
                panel.table()->selectionModel()->select(panel.table()->model()->index(r, 0), QItemSelectionModel::Select | QItemSelectionModel::Rows);
        };
        selectTwo(0, 2);
        QVERIFY(!compare->isEnabled());
        selectTwo(1, 2);
        QVERIFY(compare->isEnabled());
        panel.table()->selectRow(1);
        QCOMPARE(enabled(), QStringLiteral("Inspect, Export…, Resume from Here, Delete"));

        // Removed by hand while selected: the panel notices (its poll), says "missing", turns the actions off.
        QVERIFY(QFile::remove(run + "/" + panel.rows()[1].file));
        QTRY_COMPARE_WITH_TIMEOUT(panel.table()->item(1, 7)->text(), QStringLiteral("missing"), 5000);
        QCOMPARE(enabled(), QString());
        actions[0]->click();
        QCOMPARE(opened.count(), 0);
        // The last one is still there.
        panel.table()->selectRow(2);
        QCOMPARE(enabled(), QStringLiteral("Inspect, Export…, Resume from Here, Delete"));
        actions[0]->click();
        QCOMPARE(opened.count(), 1);
        QCOMPARE(opened.first().first().toString(), run + "/" + panel.rows()[2].file);
    }

    // A run stopped by a signal goes on from the window: Continue Training opens a training panel
    // that resumes it in its own directory as `netwright resume` does — its curves start with the
    // run's steps up to the checkpoint, and it ends with the same last checkpoint, byte for byte,
    // as `netwright resume` of a copy of the stopped run.
    void continuesAStoppedRunInTheWindow()
    {
        QCoreApplication::setOrganizationName("NetwrightRunHistoryTest");
        QSettings::setDefaultFormat(QSettings::IniFormat);
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_dir.filePath("settings"));
        QTemporaryDir own;
        const QString data = test::fashionMnistSlice(own.path(), 1280, 128);
        QVERIFY(!data.isEmpty());
        QFile f(m_dir.filePath("stop.json"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        // Long enough (30 epochs × 20 steps, several seconds even on a fast core) that the stop
        // lands well before the end: the first checkpoint comes after one epoch.
        constexpr int epochs = 30, steps = epochs * 20;
        f.write(QStringLiteral(R"({"model": {"name": "lenet5"}, %1, "training": {"epochs": %2, "batch_size": 64, "threads": 1}})").arg(data).arg(epochs).toUtf8());
        f.close();
        const QString run = m_dir.filePath("stopped");
        QProcess train;
        train.setStandardOutputFile(QProcess::nullDevice());
        train.start(qEnvironmentVariable("NETWRIGHT_BINARY"), {"train", "--config", m_dir.filePath("stop.json"), "--out", run});
        QVERIFY(train.waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo(run + "/checkpoints.jsonl").size() > 0 || train.state() == QProcess::NotRunning, 120000);
        train.terminate(); // SIGTERM: stops at the next step with a checkpoint, as Ctrl+C does
        QVERIFY(train.waitForFinished(120000));
        QVERIFY2(train.exitCode() == 130, "the run finished before it was stopped: make it longer");

        MainWindow w;
        w.show();
        auto *history = qobject_cast<RunHistoryPanel *>(w.openPath(run));
        QVERIFY(history);
        QVERIFY2(history->runState().startsWith("stopped at step "), qPrintable(history->runState()));
        const int64_t stoppedAt = history->runState().section(' ', 3).toLongLong();
        QVERIFY(stoppedAt > 0 && stoppedAt < steps);
        QPushButton *cont = button(*history, "Continue Training");
        QVERIFY(cont);
        QVERIFY(cont->isEnabled());
        // The same run continued by `netwright resume`, from a copy, for comparison.
        const QString copy = m_dir.filePath("stopped-copy");
        QVERIFY(QDir().mkpath(copy));
        for (const QString &name : QDir(run).entryList(QDir::Files))
            QVERIFY(QFile::copy(run + "/" + name, copy + "/" + name));
        const test::RunResult resumed = test::runNetwright({"resume", copy});
        QVERIFY2(resumed.exitCode == 0, qPrintable(resumed.err));

        cont->click();
        auto *panel = qobject_cast<TrainingPanel *>(w.tabs()->currentWidget());
        QVERIFY(panel);
        QCOMPARE(w.tabs()->tabText(w.tabs()->currentIndex()), QStringLiteral("Training stopped"));
        QSignalSpy finished(panel, &TrainingPanel::runFinished);
        // At its start the curves hold the run's steps up to the checkpoint (then grow from there).
        QTRY_VERIFY_WITH_TIMEOUT(panel->curves()->stepPoints() >= stoppedAt, 120000);
        QVERIFY(finished.wait(300000) || finished.count() == 1);
        QCOMPARE(finished.first().at(0).toString(), run);
        QCOMPARE(finished.first().at(2).toString(), QString());
        QCOMPARE(panel->curves()->stepPoints(), steps); // every step once
        QCOMPARE(panel->run()->runDirectory(), run);  // in place, as resume does
        QTRY_COMPARE_WITH_TIMEOUT(history->runState(), QStringLiteral("finished"), 10000);
        QVERIFY(!cont->isEnabled());
        // The same files as `netwright resume` wrote: every checkpoint, byte for byte.
        QStringList ckpts = QDir(copy).entryList({"*.ckpt"}, QDir::Files);
        QVERIFY(!ckpts.isEmpty());
        QCOMPARE(QDir(run).entryList({"*.ckpt"}, QDir::Files), ckpts);
        for (const QString &c : ckpts) {
            QFile a(run + "/" + c), b(copy + "/" + c);
            QVERIFY(a.open(QIODevice::ReadOnly) && b.open(QIODevice::ReadOnly));
            QVERIFY2(a.readAll() == b.readAll(), qPrintable(c));
        }
        QFile ma(run + "/metrics.jsonl"), mb(copy + "/metrics.jsonl");
        QVERIFY(ma.open(QIODevice::ReadOnly) && mb.open(QIODevice::ReadOnly));
        QVERIFY(ma.readAll() == mb.readAll());
    }

    // Restoring needs no data: with the run's IDX files moved away, two of its checkpoints still
    // compare, and the comparison is drawn on the run's graph.
    void comparesAfterTheDataMovedAway()
    {
        QTemporaryDir own;
        const QString data = test::fashionMnistSlice(own.path(), 320, 100);
        QVERIFY(!data.isEmpty());
        QFile f(m_dir.filePath("moved.json"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QStringLiteral(R"({"model": {"name": "lenet5"}, %1, "training": {"epochs": 2, "batch_size": 32, "threads": 1}})").arg(data).toUtf8());
        f.close();
        const QString run = m_dir.filePath("moved");
        const test::RunResult trained = test::runNetwright({"train", "--config", m_dir.filePath("moved.json"), "--out", run});
        QVERIFY2(trained.exitCode == 0, qPrintable(trained.err));
        QVERIFY(QDir(own.path()).removeRecursively());
        RunHistoryPanel panel(run);
        panel.show();
        QCOMPARE(panel.rows().size(), size_t(2));
        QString error;
        QVERIFY2(panel.compareRows(0, 1, &error), qPrintable(error));
        QVERIFY(panel.comparison()->rowCount() >= 8);
        const auto model = loadRunModel(run + "/" + panel.rows()[1].file);
        QVERIFY2(model->error.isEmpty(), qPrintable(model->error + ": " + model->details));
        QVERIFY(model->model.nodes.size() >= 8);
    }
};

QTEST_MAIN(RunHistoryGuiTest)
#include "run_history_gui_test.moc"
