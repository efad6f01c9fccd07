// SPDX-License-Identifier: Apache-2.0
// Evaluate in the window: a checkpoint selected in a Fashion-MNIST run's history, Evaluate, and a
// tab with the figures `netwright eval` prints for it, the confusion matrix as a heat map (its
// counts, a well-predicted diagonal cell dark, an empty cell white), per-class bars, and the
// samples of a clicked cell as 28×28 images; a run without a checkpoint says why in the tab. A
// table's cell lists its samples as rows of values; a regression shows its figures and residuals.
// A multilabel run (scikit-learn's digits tagged even/large/prime/loop): per-label bars, the 2×2
// matrix of the label chosen from the list with the counts `netwright eval` reports, and a clicked
// cell's samples as rows of values. NETWRIGHT_SCREENSHOTS=DIR writes DIR/confusion-matrix.png and
// DIR/multilabel-evaluation.png (the docs').
#include "gui/evaluation_view.h"
#include "gui/main_window.h"
#include "gui/run_history_panel.h"
#include "run/evaluation.h"
#include "support/cli_support.h"
#include "support/digit_tags_run.h"
#include "support/fashion_run.h"
#include "support/find_button.h"

#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

using namespace netwright;
using namespace netwright::gui;
using netwright::test::button;

class EvaluationViewGuiTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void evaluatesACheckpointFromTheRunHistory()
    {
        const QString config = test::writeFashionRunConfig(m_dir.path(), 3000, 1000, "mlp", R"("epochs": 3, "batch_size": 50, "threads": 2)");
        QVERIFY(!config.isEmpty());
        const QString run = m_dir.filePath("run");
        const test::RunResult trained = test::runNetwright({"train", "--config", config, "--out", run});
        QVERIFY2(trained.exitCode == 0, qPrintable(trained.err));
        const test::RunResult cli = test::runNetwright({"eval", run, "--json"});
        QVERIFY2(cli.exitCode == 0, qPrintable(cli.err));
        const QJsonObject expected = QJsonDocument::fromJson(cli.out.toUtf8()).object();
        const QString best = QFileInfo(expected["checkpoint"].toString()).fileName();

        MainWindow w;
        w.resize(1280, 860);
        w.show();
        auto *panel = qobject_cast<RunHistoryPanel *>(w.openPath(run));
        QVERIFY(panel);
        QPushButton *evaluate = button(*panel, "Evaluate");
        QVERIFY(evaluate);
        QVERIFY(!evaluate->isEnabled()); // nothing selected
        int row = -1;
        for (size_t i = 0; i < panel->rows().size(); ++i)
            if (panel->rows()[i].file == best)
                row = static_cast<int>(i);
        QVERIFY(row >= 0);
        panel->table()->selectRow(row);
        QVERIFY(evaluate->isEnabled());
        evaluate->click();
        auto *view = qobject_cast<EvaluationView *>(w.tabs()->currentWidget());
        QVERIFY(view);
        QCOMPARE(w.tabs()->tabText(w.tabs()->currentIndex()), "Evaluate " + best);
        QSignalSpy done(view, &EvaluationView::finished);
        QVERIFY(done.wait(120000));
        QVERIFY2(view->errorText().isEmpty(), qPrintable(view->errorText()));

        // The figures the command prints.
        const QString accuracy = QString::number(100.0 * expected["accuracy"].toDouble(), 'f', 2) + " %";
        QVERIFY2(view->summary()->text().contains("Accuracy " + accuracy) && view->summary()->text().contains(best)
                     && view->summary()->text().contains("1000 samples"),
                 qPrintable(view->summary()->text()));
        const EvaluationReport &r = view->evaluation()->report;
        const QJsonArray matrix = expected["confusion_matrix"].toArray();
        for (int t = 0; t < 10; ++t)
            for (int p = 0; p < 10; ++p)
                QCOMPARE(r.confusion[t][p], matrix[t].toArray()[p].toInteger());
        QVERIFY(view->matrixView()->isVisible() && view->classBars()->isVisible());
        QVERIFY(view->classBars()->width() >= 250);

        // The heat map: the best-predicted class's diagonal cell is dark, an empty cell white.
        int bestClass = 0, emptyT = -1, emptyP = -1;
        for (int t = 0; t < 10; ++t) {
            if (r.confusion[t][t] > r.confusion[bestClass][bestClass])
                bestClass = t;
            for (int p = 0; p < 10; ++p)
                if (r.confusion[t][p] == 0 && emptyT < 0) {
                    emptyT = t;
                    emptyP = p;
                }
        }
        QVERIFY(emptyT >= 0);
        const QImage heat = view->matrixView()->grab().toImage();
        const QRect diagonal = view->cellRect(bestClass, bestClass), empty = view->cellRect(emptyT, emptyP);
        QVERIFY(diagonal.width() >= 20);
        const QColor dark = heat.pixelColor(diagonal.topLeft() + QPoint(3, 3)), white = heat.pixelColor(empty.topLeft() + QPoint(3, 3));
        QVERIFY2(dark.lightness() < 110 && dark.blue() > dark.red(), qPrintable(dark.name()));
        QVERIFY2(white.lightness() > 235, qPrintable(white.name()));

        // A click on the most confused off-diagonal cell: its samples, as images.
        int ct = 0, cp = 1;
        for (int t = 0; t < 10; ++t)
            for (int p = 0; p < 10; ++p)
                if (t != p && r.confusion[t][p] > r.confusion[ct][cp]) {
                    ct = t;
                    cp = p;
                }
        QTest::mouseClick(view->matrixView(), Qt::LeftButton, {}, view->cellRect(ct, cp).center());
        const qint64 count = r.confusion[ct][cp];
        QCOMPARE(view->gallery()->count(), count);
        QCOMPARE(view->galleryTitle()->text(), QString("True %1, predicted %2: %3 samples").arg(ct).arg(cp).arg(count));
        QListWidgetItem *first = view->gallery()->item(0);
        QVERIFY(!first->icon().isNull());
        QCOMPARE(first->icon().availableSizes().value(0), QSize(56, 56));
        const qint64 index = first->data(Qt::UserRole).toLongLong();
        QVERIFY2(first->toolTip().startsWith(QString("Sample %1: true %2, predicted %3 with ").arg(index).arg(ct).arg(cp)),
                 qPrintable(first->toolTip()));
        QCOMPARE(r.predictions[static_cast<size_t>(index)].trueClass, ct);
        QCOMPARE(r.predictions[static_cast<size_t>(index)].predicted, cp);
        // The image is the sample: its pixels are the IDX file's (uint8, 28×28, 16-byte header).
        const QImage image = first->icon().pixmap(56, 56).toImage();
        const QByteArray pixels = test::contents(m_dir.filePath("vi")).mid(16 + 784 * index, 784);
        int same = 0;
        for (int y = 0; y < 28; ++y)
            for (int x = 0; x < 28; ++x)
                same += std::abs(qGray(image.pixel(2 * x, 2 * y)) - static_cast<unsigned char>(pixels[y * 28 + x])) <= 1 ? 1 : 0;
        QVERIFY2(same == 784, qPrintable(QString::number(same)));

        const QString shots = qEnvironmentVariable("NETWRIGHT_SCREENSHOTS");
        if (!shots.isEmpty()) {
            QTest::qWait(300);
            QVERIFY(w.grab().save(shots + "/confusion-matrix.png"));
        }

        // A run with no checkpoint: the tab says so.
        QVERIFY(QDir().mkpath(m_dir.filePath("fresh")));
        QVERIFY(QFile::copy(run + "/config.json", m_dir.filePath("fresh/config.json")));
        EvaluationView *refused = w.evaluateCheckpoint(m_dir.filePath("fresh"));
        QSignalSpy refusedDone(refused, &EvaluationView::finished);
        QVERIFY(refusedDone.wait(60000));
        QVERIFY2(refused->summary()->text().contains("has no checkpoint to evaluate yet") && refused->summary()->text().contains("fresh"),
                 qPrintable(refused->summary()->text()));
        QCOMPARE(refused->gallery()->count(), 0);
    }

    void tabularSamplesAndRegression()
    {
        // A table of three features: a clicked cell lists its samples as rows of values.
        auto table = std::make_shared<Dataset>();
        table->name = "table.csv";
        table->features = Tensor::fromVector({3, 3}, {0.5f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f});
        table->labels = Tensor::fromInt64({3}, {0, 0, 1});
        table->classes = 2;
        table->featureNames = {"x1", "x2", "x3"};
        EvaluationAccumulator acc("classification", {"no", "yes"});
        acc.add(Tensor::fromVector({3, 2}, {2, 0, 0, 2, 0, 2}), table->labels);
        auto ev = std::make_shared<Evaluation>();
        ev->report = acc.finish();
        ev->source = "model.onnx";
        ev->data = "\"table.csv\"";
        ev->samples = table;
        EvaluationView view;
        view.resize(900, 700);
        view.show();
        view.setEvaluation(ev);
        QVERIFY2(view.summary()->text().contains("Accuracy 66.67 %"), qPrintable(view.summary()->text()));
        QTest::mouseClick(view.matrixView(), Qt::LeftButton, {}, view.cellRect(0, 1).center());
        QCOMPARE(view.galleryTitle()->text(), QStringLiteral("True no, predicted yes: 1 sample"));
        QCOMPARE(view.gallery()->count(), 1);
        QVERIFY2(view.gallery()->item(0)->text().startsWith("#1  x1 3, x2 4, x3 5"), qPrintable(view.gallery()->item(0)->text()));
        QVERIFY(view.gallery()->item(0)->icon().isNull());

        // A regression: the figures and the residuals, no matrix.
        EvaluationAccumulator reg("regression", {"price"});
        reg.add(Tensor::fromVector({2, 1}, {1.5f, 2.0f}), Tensor::fromVector({2, 1}, {1.0f, 3.0f}));
        auto r = std::make_shared<Evaluation>();
        r->report = reg.finish();
        r->source = "reg";
        view.setEvaluation(r);
        QVERIFY2(view.summary()->text().contains("R² ") && view.summary()->text().contains("MAE 0.75"), qPrintable(view.summary()->text()));
        QVERIFY(!view.matrixView()->isVisible());
        bool residuals = false;
        for (QLabel *l : view.findChildren<QLabel *>())
            residuals = residuals || (l->isVisible() && l->text().contains("Mean residual") && l->text().contains("price"));
        QVERIFY(residuals);
    }

    void multilabelRun()
    {
        const QString run = m_dir.filePath("tags");
        const test::RunResult trained = test::trainDigitTagsRun(m_dir.path(), run);
        QVERIFY2(trained.exitCode == 0, qPrintable(trained.err));
        const test::RunResult cli = test::runNetwright({"eval", run, "--json"});
        QVERIFY2(cli.exitCode == 0, qPrintable(cli.err));
        const QJsonObject expected = QJsonDocument::fromJson(cli.out.toUtf8()).object();
        const QJsonArray matrices = expected["multilabel_confusion_matrix"].toArray();

        MainWindow w;
        w.resize(1280, 860);
        w.show();
        EvaluationView *view = w.evaluateCheckpoint(run);
        QSignalSpy done(view, &EvaluationView::finished);
        QVERIFY(done.wait(120000));
        QVERIFY2(view->errorText().isEmpty(), qPrintable(view->errorText()));
        const EvaluationReport &r = view->evaluation()->report;
        QCOMPARE(r.task, std::string("multilabel"));
        const QString subset = QString::number(100.0 * expected["accuracy"].toDouble(), 'f', 2) + " %";
        QVERIFY2(view->summary()->text().contains("Subset accuracy " + subset) && view->summary()->text().contains("hamming loss ")
                     && view->summary()->text().contains("359 samples"),
                 qPrintable(view->summary()->text()));

        // The bars, one row per label, and the label list beside the matrix.
        QVERIFY(view->classBars()->isVisible() && view->matrixView()->isVisible());
        QCOMPARE(r.perClass.size(), size_t(4));
        QCOMPARE(r.perClass[3].name, std::string("loop"));
        QComboBox *labels = view->labelChooser();
        QVERIFY(labels->isVisible());
        QCOMPARE(labels->count(), 4);
        QCOMPARE(labels->itemText(2), QStringLiteral("prime"));
        QCOMPARE(view->currentLabel(), 0);

        // Choosing "prime": its 2×2 matrix, the counts eval reports; the true-positive cell dark, and
        // a cell with no samples (or the lightest) light.
        labels->setCurrentIndex(2);
        QCOMPARE(view->currentLabel(), 2);
        const QJsonArray prime = matrices[2].toArray();
        for (int t = 0; t < 2; ++t)
            for (int p = 0; p < 2; ++p)
                QCOMPARE(r.labelConfusion[2][t][p], prime[t].toArray()[p].toInteger());
        const QImage heat = view->matrixView()->grab().toImage();
        const QRect tp = view->cellRect(1, 1), fn = view->cellRect(1, 0);
        QVERIFY(tp.width() >= 60);
        const QColor dark = heat.pixelColor(tp.topLeft() + QPoint(3, 3)), light = heat.pixelColor(fn.topLeft() + QPoint(3, 3));
        QVERIFY2(dark.lightness() < 110 && dark.blue() > dark.red(), qPrintable(dark.name()));
        QVERIFY2(light.lightness() > 200, qPrintable(light.name()));

        // A click on the false negatives of "prime": the samples that have the label but were not given it.
        QTest::mouseClick(view->matrixView(), Qt::LeftButton, {}, fn.center());
        const qint64 missed = prime[1].toArray()[0].toInteger();
        QVERIFY(missed > 0);
        QCOMPARE(view->gallery()->count(), missed);
        QCOMPARE(view->galleryTitle()->text(),
                 missed == 1 ? QStringLiteral("prime: true prime, predicted not prime: 1 sample")
                             : QString("prime: true prime, predicted not prime: %1 samples").arg(missed));
        QListWidgetItem *first = view->gallery()->item(0);
        const qint64 index = first->data(Qt::UserRole).toLongLong();
        const MultilabelPrediction &sample = r.multilabelPredictions[static_cast<size_t>(index)];
        QVERIFY(sample.truth[2] == 1 && sample.predicted[2] == 0 && sample.probability[2] <= 0.5);
        QVERIFY2(first->text().startsWith(QString("#%1  p0 ").arg(index)) && first->text().contains("prime "), qPrintable(first->text()));
        QVERIFY(first->icon().isNull());
        // Rows of values one a line, not spaced out on the thumbnails' grid.
        QVERIFY(missed >= 2);
        const int gap = view->gallery()->visualItemRect(view->gallery()->item(1)).top() - view->gallery()->visualItemRect(first).bottom();
        QVERIFY2(gap <= 4, qPrintable(QString::number(gap)));

        const QString shots = qEnvironmentVariable("NETWRIGHT_SCREENSHOTS");
        if (!shots.isEmpty()) {
            QTest::qWait(300);
            QVERIFY(w.grab().save(shots + "/multilabel-evaluation.png"));
        }
    }
};

QTEST_MAIN(EvaluationViewGuiTest)
#include "evaluation_view_gui_test.moc"
