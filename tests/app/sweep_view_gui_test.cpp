// SPDX-License-Identifier: Apache-2.0
// A real sweep (`netwright sweep`: a 3×2 grid of learning rate × optimizer, mlp on a Fashion-MNIST
// slice) opened in the window: its tab lists the six trials sorted by test accuracy as
// results.json does, the best first and bold; the parallel-coordinates plot has a log axis for the
// learning rate (its values span more than two decades), a categorical axis for the optimizer and
// one for the metric, a line per trial coloured by its accuracy (the colour bar's range is the
// trials'), the best drawn thickest; hovering a line names its trial and values; Open Best Config
// puts best_config.json in a training panel. NETWRIGHT_SCREENSHOTS=DIR writes
// DIR/sweep-parallel-coordinates.png (the docs').
#include "gui/main_window.h"
#include "gui/sweep_view.h"
#include "gui/training_panel.h"
#include "support/cli_support.h"

#include <QApplication>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QMouseEvent>
#include <QPushButton>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <qcustomplot.h>

#include <cmath>

using namespace netwright;
using namespace netwright::gui;

class SweepViewGuiTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_sweep;

private slots:
    void initTestCase()
    {
        const QString data = test::fashionMnistSlice(m_dir.path(), 1280, 300);
        QVERIFY(!data.isEmpty());
        QFile f(m_dir.filePath("lr-optimizer.json"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QStringLiteral(R"({"base": {"model": {"name": "mlp"}, %1,
  "training": {"epochs": 1, "batch_size": 32, "threads": 1}, "schedule": {"warmup_steps": 0}},
 "grid": {"optimizer.lr": [0.0005, 0.005, 0.1], "optimizer.name": ["sgd", "adam"]}})")
                    .arg(data)
                    .toUtf8());
        f.close();
        m_sweep = m_dir.filePath("sweeps/lr-optimizer");
        const test::RunResult r = test::runNetwright({"sweep", f.fileName(), "--out", m_sweep, "--parallel", "2"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
    }

    void showsTheSweep()
    {
        MainWindow w;
        w.resize(1400, 950);
        w.show();
        auto *view = qobject_cast<SweepView *>(w.openPath(m_sweep));
        QVERIFY(view);
        QCOMPARE(w.tabs()->tabText(w.tabs()->currentIndex()), QStringLiteral("Sweep lr-optimizer"));
        QCOMPARE(view->metricName(), QStringLiteral("accuracy"));

        // The trials in results.json's order, best first.
        QFile results(m_sweep + "/results.json");
        QVERIFY(results.open(QIODevice::ReadOnly));
        const QJsonArray expected = QJsonDocument::fromJson(results.readAll()).object()["trials"].toArray();
        QCOMPARE(expected.size(), 6);
        QCOMPARE(static_cast<int>(view->trials().size()), 6);
        QTableWidget *table = view->table();
        QCOMPARE(table->rowCount(), 6);
        QStringList header;
        for (int c = 0; c < table->columnCount(); ++c)
            header << table->horizontalHeaderItem(c)->text();
        QCOMPARE(header, (QStringList{"rank", "trial", "lr", "name", "best accuracy", "status"}));
        for (int i = 0; i < 6; ++i) {
            const QJsonObject t = expected[i].toObject();
            QCOMPARE(table->item(i, 1)->text(), t["name"].toString());
            QCOMPARE(table->item(i, 4)->text(), QString::number(100 * t["best_eval_accuracy"].toDouble(), 'f', 2) + " %");
            QCOMPARE(table->item(i, 5)->text(), QStringLiteral("finished"));
            QCOMPARE(table->item(i, 0)->font().bold(), i == 0);
        }
        QVERIFY2(view->messageText().contains("best: " + expected[0].toObject()["name"].toString()), qPrintable(view->messageText()));

        // The axes: lr on a log axis (0.0005 … 0.1 spans more than two decades), the optimizer as
        // categories in the spec's order, the metric last.
        QCOMPARE(static_cast<int>(view->axes().size()), 3);
        QCOMPARE(view->axes()[0].key, QStringLiteral("optimizer.lr"));
        QCOMPARE(view->axes()[0].kind, SweepView::Axis::Kind::Log);
        QCOMPARE(view->axes()[1].kind, SweepView::Axis::Kind::Categorical);
        QCOMPARE(view->axes()[1].categories, (QStringList{"sgd", "adam"}));
        QCOMPARE(view->axes()[2].key, QStringLiteral("eval_accuracy"));
        for (size_t i = 0; i < view->trials().size(); ++i) {
            const SweepView::Trial &t = view->trials()[i];
            const double lr = t.values[0].toDouble();
            QVERIFY(std::abs(t.position[0] - std::log10(lr / 0.0005) / std::log10(0.1 / 0.0005)) < 1e-9);
            QCOMPARE(t.position[1], t.values[1] == "sgd" ? 0.0 : 1.0);
            // Every line crosses the axes where its values are.
            QCOMPARE(view->trialLine(static_cast<int>(i))->dataCount(), 3);
        }
        QCOMPARE(view->trials().front().position[2], 1.0); // the best on top of the metric axis
        QCOMPARE(view->trials().back().position[2], 0.0);
        // Coloured by the metric: the best and the worst differ; the best is drawn thickest.
        QVERIFY(view->trialLine(0)->pen().color() != view->trialLine(5)->pen().color());
        QCOMPARE(view->trialLine(0)->pen().widthF(), 4.0);
        for (int i = 1; i < 6; ++i)
            QVERIFY(view->trialLine(i)->pen().widthF() < 4.0);
        auto *bar = qobject_cast<QCPColorScale *>(view->plot()->plotLayout()->element(0, 1));
        QVERIFY(bar);
        QCOMPARE(bar->dataRange().upper, 100 * *view->trials().front().metric);
        QCOMPARE(bar->dataRange().lower, 100 * *view->trials().back().metric);

        // Hovering a line: the middle of its segment from the optimizer axis to the metric axis.
        QTest::qWait(200);
        view->plot()->replot();
        const int pick = 2;
        const QPointF a = view->vertexPixel(pick, 1), b = view->vertexPixel(pick, 2);
        const QPoint at = ((a + b) / 2).toPoint();
        QMouseEvent move(QEvent::MouseMove, at, view->plot()->mapToGlobal(at), Qt::NoButton, Qt::NoButton, Qt::NoModifier);
        QApplication::sendEvent(view->plot(), &move);
        QCOMPARE(view->hoveredTrial(), pick);
        QVERIFY(view->readout()->isVisible());
        const QString text = view->readout()->text();
        QVERIFY2(text.contains(view->trials()[pick].name) && text.contains(view->trials()[pick].metricText), qPrintable(text));

        const QString shots = qEnvironmentVariable("NETWRIGHT_SCREENSHOTS");
        if (!shots.isEmpty()) {
            QTest::qWait(300);
            QVERIFY(w.grab().save(shots + "/sweep-parallel-coordinates.png"));
        }

        // Open Best Config: a training panel on best_config.json.
        QVERIFY(view->openBestButton()->isEnabled());
        const int tabs = w.tabs()->count();
        QTest::mouseClick(view->openBestButton(), Qt::LeftButton);
        QCOMPARE(w.tabs()->count(), tabs + 1);
        auto *panel = qobject_cast<TrainingPanel *>(w.tabs()->currentWidget());
        QVERIFY(panel);
        const QJsonObject best = expected[0].toObject()["values"].toObject();
        QCOMPARE(panel->config().lr, best["optimizer.lr"].toDouble());
        QCOMPARE(QString::fromStdString(panel->config().optimizer.name), best["optimizer.name"].toString());
        QCOMPARE(panel->config().model, std::string("mlp"));

        // Opened again: the same tab.
        QCOMPARE(w.openPath(m_sweep), view);
    }
};

QTEST_MAIN(SweepViewGuiTest)
#include "sweep_view_gui_test.moc"
