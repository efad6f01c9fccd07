// SPDX-License-Identifier: Apache-2.0
// Three real runs (mlp on a Fashion-MNIST slice, trained by `netwright train`, differing in learning
// rate and batch size) compared in the window as a user meets it: `netwright DIR1 DIR2 DIR3` opens
// one comparison tab; the runs table names the two differing keys as columns and shows the same
// best and final accuracy as `netwright compare --json`; it sorts numbers as numbers, filters by
// text, and a run's checkbox hides its curves and its legend entry; the curves draw one palette
// colour per run, the colour can be changed, and the epoch axis lines up runs of different batch
// sizes; the hover read-out names every shown run; two run directories dropped on the window open
// a comparison of their own. NETWRIGHT_SCREENSHOTS=DIR writes DIR/run-comparison.png (the docs').
#include "gui/main_window.h"
#include "gui/open_error_banner.h"
#include "gui/run_comparison.h"
#include "support/cli_support.h"
#include "training/training_curves.h"

#include <QApplication>
#include <QComboBox>
#include <QFile>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QMimeData>
#include <QSortFilterProxyModel>
#include <QStandardItemModel>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>
#include <qcustomplot.h>

using namespace netwright;
using namespace netwright::gui;

class RunComparisonGuiTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QStringList m_runs; // fast (lr 0.1, batch 128), slow (lr 0.01, batch 32), mid (lr 0.05, batch 64)

    QString train(const QString &name, double lr, int batch, const QString &data)
    {
        const QString config = m_dir.filePath(name + ".json");
        QFile f(config);
        if (!f.open(QIODevice::WriteOnly))
            return {};
        f.write(QStringLiteral(R"({"name": "%1", "model": {"name": "mlp"}, %2,
  "training": {"epochs": 2, "batch_size": %3, "threads": 1}, "optimizer": {"lr": %4},
  "schedule": {"warmup_steps": 0}, "checkpoint": {"save_checkpoint_steps": 20}})")
                    .arg(name, data)
                    .arg(batch)
                    .arg(lr)
                    .toUtf8());
        f.close();
        const QString dir = m_dir.filePath("runs/" + name);
        const test::RunResult r = test::runNetwright({"train", "--config", config, "--out", dir});
        return r.exitCode == 0 ? dir : QString("train failed: " + r.err);
    }

    static int column(const RunComparison &c, const QString &title) { return static_cast<int>(c.columnTitles().indexOf(title)); }

    static QStringList namesInView(const RunComparison &c)
    {
        QStringList out;
        for (int r = 0; r < c.proxy()->rowCount(); ++r)
            out << c.proxy()->index(r, 0).data().toString();
        return out;
    }

private slots:
    void initTestCase()
    {
        const QString data = test::fashionMnistSlice(m_dir.path(), 1280, 300);
        QVERIFY(!data.isEmpty());
        m_runs << train("fast", 0.1, 128, data) << train("slow", 0.01, 32, data) << train("mid", 0.05, 64, data);
        for (const QString &r : m_runs)
            QVERIFY2(QFile::exists(r + "/metrics.jsonl"), qPrintable(r));
    }

    void comparesThreeRuns()
    {
        MainWindow w;
        w.resize(1400, 950);
        w.show();
        w.openPaths(m_runs); // as `netwright fast slow mid` does
        QCOMPARE(w.tabs()->count(), 1);
        auto *c = qobject_cast<RunComparison *>(w.tabs()->currentWidget());
        QVERIFY(c);
        QCOMPARE(w.tabs()->tabText(0), QStringLiteral("Compare 3 runs"));
        QCOMPARE(c->messageText(), QString());

        // The table: the differing keys as columns (not the run's name), then the figures.
        const QStringList titles = c->columnTitles();
        QCOMPARE(titles.mid(0, 5), (QStringList{"run", "model", "data", "optimizer.lr", "training.batch_size"}));
        QCOMPARE(titles.mid(5), (QStringList{"best test acc.", "final test acc.", "best loss", "epochs", "time", "ckpts", "best checkpoint"}));
        // The same figures as `netwright compare --json`.
        const test::RunResult compare = test::runNetwright(QStringList{"compare", "--json"} + m_runs);
        QVERIFY2(compare.exitCode == 0, qPrintable(compare.err));
        const QJsonArray runs = QJsonDocument::fromJson(compare.out.toUtf8()).object()["runs"].toArray();
        QCOMPARE(runs.size(), 3);
        for (int i = 0; i < 3; ++i) {
            const QJsonObject r = runs[i].toObject();
            QCOMPARE(c->model()->item(i, 0)->text(), r["name"].toString());
            QCOMPARE(c->model()->item(i, 1)->text(), QStringLiteral("mlp"));
            QCOMPARE(c->model()->item(i, column(*c, "best test acc."))->text(),
                     QString::number(100 * r["eval_accuracy"].toDouble(), 'f', 2) + " %");
            QCOMPARE(c->model()->item(i, column(*c, "final test acc."))->text(),
                     QString::number(100 * r["final_eval_accuracy"].toDouble(), 'f', 2) + " %");
            QCOMPARE(c->model()->item(i, column(*c, "epochs"))->text(), QStringLiteral("2/2"));
            QCOMPARE(c->model()->item(i, column(*c, "best checkpoint"))->text(), r["best_checkpoint"].toString());
            QVERIFY(r["eval_accuracy"].toDouble() > 0.4);
        }
        QCOMPARE(c->model()->item(0, column(*c, "training.batch_size"))->text(), QStringLiteral("128"));

        // Sorting by batch size: numbers as numbers (32 < 64 < 128, where text would put 128 first).
        c->table()->horizontalHeader()->setSortIndicator(column(*c, "training.batch_size"), Qt::AscendingOrder);
        QCOMPARE(namesInView(*c), (QStringList{"slow", "mid", "fast"}));
        c->table()->horizontalHeader()->setSortIndicator(column(*c, "optimizer.lr"), Qt::DescendingOrder);
        QCOMPARE(namesInView(*c), (QStringList{"fast", "mid", "slow"}));
        // Filtering by text.
        QTest::keyClicks(c->filterField(), "SLO");
        QCOMPARE(namesInView(*c), QStringList{"slow"});
        c->filterField()->clear();
        QCOMPARE(c->proxy()->rowCount(), 3);

        // The curves: one run per row, in the palette's colours, every one in the legend.
        widgets::TrainingCurves *curves = c->curves();
        QCOMPARE(curves->runCount(), 3);
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(curves->runGraph(i, 0)->pen().color(), RunComparison::paletteColor(i));
            QCOMPARE(curves->runGraph(i, 2)->pen().color(), RunComparison::paletteColor(i));
            QCOMPARE(c->model()->item(i, 0)->data(Qt::DecorationRole).value<QColor>(), RunComparison::paletteColor(i));
        }
        QCOMPARE(curves->runGraph(0, 1)->dataCount(), 20); // fast: 2 epochs of 10 steps
        QCOMPARE(curves->runGraph(1, 1)->dataCount(), 80); // slow: 2 epochs of 40 steps
        QCOMPARE(curves->runGraph(1, 2)->dataCount(), 2);  // one test accuracy per epoch
        QCOMPARE(curves->plot()->legend->itemCount(), 3);

        // Aligned by epoch: every run ends at epoch 2, whatever its batch size.
        QVERIFY(curves->isAxisAvailable(widgets::CurveAxis::Epoch));
        curves->setXAxis(widgets::CurveAxis::Epoch);
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(curves->runGraph(i, 0)->data()->at(curves->runGraph(i, 0)->dataCount() - 1)->key, 2.0);
            QCOMPARE(curves->runGraph(i, 2)->data()->at(1)->key, 2.0);
        }
        // Aligned by samples seen: every run ends at 2 epochs × 1280 samples.
        QVERIFY(curves->isAxisAvailable(widgets::CurveAxis::Samples));
        curves->setXAxis(widgets::CurveAxis::Samples);
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(curves->runGraph(i, 0)->data()->at(curves->runGraph(i, 0)->dataCount() - 1)->key, 2560.0);
            QCOMPARE(curves->runGraph(i, 2)->data()->at(0)->key, 1280.0);
        }
        QCOMPARE(curves->runGraph(1, 0)->data()->at(0)->key, 32.0); // slow's first step: one batch of 32
        // Aligned by wall time since each run's first step (metrics.jsonl keeps no clock; the runs'
        // TensorBoard events do): every run starts at 0 and ends within its recorded duration.
        QVERIFY(curves->isAxisAvailable(widgets::CurveAxis::WallTime));
        curves->setXAxis(widgets::CurveAxis::WallTime);
        for (int i = 0; i < 3; ++i) {
            const auto *data = curves->runGraph(i, 0)->data().data();
            QCOMPARE(data->size(), QList<int>({20, 80, 40})[i]);
            QCOMPARE(data->at(0)->key, 0.0);
            for (int k = 1; k < data->size(); ++k)
                QVERIFY(data->at(k)->key >= data->at(k - 1)->key);
            const double seconds = runs[i].toObject()["seconds"].toDouble();
            QVERIFY2(data->at(data->size() - 1)->key > 0 && data->at(data->size() - 1)->key <= seconds,
                     qPrintable(QString("%1 s of %2 s").arg(data->at(data->size() - 1)->key).arg(seconds)));
        }
        curves->setXAxis(widgets::CurveAxis::Epoch);

        // The dashed lines show any metric the evaluations logged: the test loss, as `compare` has it.
        QCOMPARE(curves->runsMetric(), QStringLiteral("test accuracy"));
        QVERIFY2(curves->runsMetrics().contains("test loss") && curves->runsMetrics().contains("test top-5 accuracy"),
                 qPrintable(curves->runsMetrics().join(", ")));
        auto *metricChoice = curves->findChild<QComboBox *>("runMetric");
        QVERIFY(metricChoice && metricChoice->isVisible());
        metricChoice->setCurrentText("test loss");
        QCOMPARE(curves->runsMetric(), QStringLiteral("test loss"));
        QVERIFY(curves->plot()->yAxis2->label().startsWith("test loss"));
        for (int i = 0; i < 3; ++i) {
            const QJsonObject r = runs[i].toObject();
            QCOMPARE(curves->runGraph(i, 2)->dataCount(), 2);
            QCOMPARE(curves->runGraph(i, 2)->data()->at(1)->value, r["final_eval_loss"].toDouble());
            QVERIFY(curves->plot()->yAxis2->range().contains(r["final_eval_loss"].toDouble()));
        }
        curves->setRunsMetric("test accuracy");
        QCOMPARE(curves->runGraph(0, 2)->data()->at(1)->value, runs[0].toObject()["final_eval_accuracy"].toDouble());

        // Each run's series export as CSV, with their samples and wall times.
        QVERIFY(curves->seriesNames().contains("slow · train loss"));
        QVERIFY(curves->seriesNames().contains("mid · test accuracy"));
        QVERIFY(curves->seriesNames().contains("fast · learning rate"));
        QString error;
        const QString csv = m_dir.filePath("slow-loss.csv");
        QVERIFY2(curves->exportCsv("slow · train loss", csv, &error), qPrintable(error));
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = f.readAll().trimmed().split('\n');
        QCOMPARE(lines.size(), 81);
        QCOMPARE(lines[0], QByteArray("step,epoch,samples,wall_time,value"));
        const QList<QByteArray> last = lines[80].split(',');
        QCOMPARE(last[0], QByteArray("80"));
        QCOMPARE(last[1], QByteArray("2"));
        QCOMPARE(last[2], QByteArray("2560"));
        QVERIFY(last[3].toDouble() > 1.7e9);

        // The hover read-out names every shown run.
        QTest::qWait(200);
        QCPAxisRect *rect = curves->lossRect();
        const QPoint at = rect->rect().center();
        QMouseEvent move(QEvent::MouseMove, at, curves->plot()->mapToGlobal(at), Qt::NoButton, Qt::NoButton, Qt::NoModifier);
        QApplication::sendEvent(curves->plot(), &move);
        QVERIFY(curves->readout()->isVisible());
        for (const QString &name : {"fast", "slow", "mid"})
            QVERIFY2(curves->readout()->text().contains(name), qPrintable(curves->readout()->text()));

        // A run's colour, changed.
        c->setRunColor(2, QColor(Qt::magenta));
        QCOMPARE(curves->runGraph(2, 0)->pen().color(), QColor(Qt::magenta));
        QCOMPARE(c->model()->item(2, 0)->data(Qt::DecorationRole).value<QColor>(), QColor(Qt::magenta));
        c->setRunColor(2, RunComparison::paletteColor(2));

        const QString shots = qEnvironmentVariable("NETWRIGHT_SCREENSHOTS");
        if (!shots.isEmpty()) {
            curves->setXAxis(widgets::CurveAxis::Step);
            QMouseEvent leave(QEvent::MouseMove, QPoint(1, 1), curves->plot()->mapToGlobal(QPoint(1, 1)), Qt::NoButton, Qt::NoButton, Qt::NoModifier);
            QApplication::sendEvent(curves->plot(), &leave);
            QTest::qWait(300);
            QVERIFY(w.grab().save(shots + "/run-comparison.png"));
        }

        // Unticking a run hides its curves and its legend entry; ticking brings them back.
        c->model()->item(1, 0)->setCheckState(Qt::Unchecked);
        QVERIFY(!curves->isRunVisible(1));
        for (int g = 0; g < 4; ++g)
            QVERIFY(!curves->runGraph(1, g)->visible());
        QVERIFY(curves->runGraph(0, 0)->visible());
        QCOMPARE(curves->plot()->legend->itemCount(), 2);
        QApplication::sendEvent(curves->plot(), &move);
        QVERIFY(!curves->readout()->text().contains("slow"));
        c->model()->item(1, 0)->setCheckState(Qt::Checked);
        QVERIFY(curves->runGraph(1, 0)->visible());
        QCOMPARE(curves->plot()->legend->itemCount(), 3);

        // Two run directories dropped together: a comparison of those two.
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(m_runs[0]), QUrl::fromLocalFile(m_runs[2])});
        QDropEvent drop(QPointF(100, 100), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        static_cast<QObject &>(w).event(&drop); // as a drop arrives (QApplication routes drops only from a real drag)
        QCOMPARE(w.tabs()->count(), 2);
        auto *two = qobject_cast<RunComparison *>(w.tabs()->currentWidget());
        QVERIFY(two);
        QCOMPARE(two->curves()->runCount(), 2);
        QCOMPARE(two->columnTitles().mid(3, 2), (QStringList{"optimizer.lr", "training.batch_size"}));
    }

    void aFolderStandsForItsRunsAndABadPathIsNamed()
    {
        MainWindow w;
        QWidget *tab = w.compareRuns({m_dir.filePath("runs"), m_dir.filePath("nothing-here")});
        auto *c = qobject_cast<RunComparison *>(tab);
        QVERIFY(c);
        QCOMPARE(c->runDirectories().size(), 3); // fast, mid, slow: by name
        QVERIFY(c->runDirectories().first().endsWith("/fast"));
        QVERIFY(w.openErrorBanner()->isVisibleTo(&w));
    }
};

QTEST_MAIN(RunComparisonGuiTest)
#include "run_comparison_gui_test.moc"
