// SPDX-License-Identifier: Apache-2.0
// The training curves as a user sees them (offscreen): a double-click never changes how a series
// looks (the raw loss keeps its legend colour, the checkpoint markers stay drawn); the legend sits
// outside both plots; the first and last points and their markers are drawn whole; the
// learning-rate plot lines up with the loss plot and follows its zoom and pan; hovering shows a
// cursor line and a read-out of every series in both plots; the smoothing is TensorBoard's
// debiased EMA up to 0.999 over every point (none dropped); the x-axis counts steps, epochs or
// wall time; any series exports as CSV, the plot as PNG and SVG, into the export directory.
// (The docs' screenshot of the read-out comes from a real run: training_panel_gui_test.)
#include "run/metrics_log.h"
#include "training/curve_data.h"
#include "training/training_curves.h"

#include <QApplication>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QMenu>
#include <QTimer>
#include <QToolButton>
#include <QImage>
#include <QLabel>
#include <QSignalSpy>
#include <QSlider>
#include <QStandardItemModel>
#include <QTemporaryDir>
#include <QTest>
#include <qcustomplot.h>

#include <cmath>

using namespace netwright::widgets;

namespace {

constexpr int kStepsPerEpoch = 25, kEpochs = 4, kSteps = kStepsPerEpoch * kEpochs;
const double kStart = 1.7e9; // the first step's wall time (s since the Unix epoch)

double lossAt(int step) { return 2.0 / (1 + 0.05 * step) + 0.05 * std::sin(step * 1.7); }
double lrAt(int step) { return 1e-3 * std::pow(0.5, (step - 1) / kStepsPerEpoch); }

// A run of 4 epochs × 25 steps, one step per 1.5 s, an evaluation and a checkpoint per epoch.
void fill(TrainingCurves &curves, bool withTimes = true)
{
    curves.clear();
    for (int s = 1; s <= kSteps; ++s) {
        TrainingStepPoint p;
        p.globalStep = s;
        p.loss = lossAt(s);
        p.lr = lrAt(s);
        if (withTimes) {
            p.epoch = (s - 1) / kStepsPerEpoch + double((s - 1) % kStepsPerEpoch + 1) / kStepsPerEpoch;
            p.wallTime = kStart + 1.5 * (s - 1);
            p.batchSize = 32;
        }
        p.figure = 0.5 + 0.4 * s / kSteps;
        curves.addStep(p);
        if (s % kStepsPerEpoch == 0) {
            curves.addEvaluation(s, lossAt(s) + 0.1, 0.55 + 0.1 * s / kStepsPerEpoch, testFigureName("accuracy"));
            curves.addCheckpoint(s);
        }
    }
}

void settle(TrainingCurves &curves)
{
    QTest::qWait(250); // the coalesced replot
    curves.plot()->replot();
}

QPoint pixelOf(QCPAxisRect *rect, double x, double y)
{
    return QPoint(static_cast<int>(std::lround(rect->axis(QCPAxis::atBottom)->coordToPixel(x))),
                  static_cast<int>(std::lround(rect->axis(QCPAxis::atLeft)->coordToPixel(y))));
}

// Whether a pixel within `radius` of `at` has `color` (±12 per channel).
bool hasColorNear(const QImage &image, QPoint at, const QColor &color, int radius = 3)
{
    for (int dy = -radius; dy <= radius; ++dy)
        for (int dx = -radius; dx <= radius; ++dx) {
            const QPoint p = at + QPoint(dx, dy);
            if (!image.rect().contains(p))
                continue;
            const QColor c = image.pixelColor(p);
            if (std::abs(c.red() - color.red()) <= 12 && std::abs(c.green() - color.green()) <= 12 && std::abs(c.blue() - color.blue()) <= 12)
                return true;
        }
    return false;
}

void leave(QWidget *w)
{
    QEvent e(QEvent::Leave);
    QApplication::sendEvent(w, &e);
}

} // namespace

class TrainingCurvesGuiTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void aDoubleClickChangesNothingDrawn()
    {
        TrainingCurves curves;
        curves.resize(900, 620);
        curves.show();
        QVERIFY(QTest::qWaitForWindowExposed(&curves));
        fill(curves);
        settle(curves);
        QCustomPlot *plot = curves.plot();
        const QImage before = plot->grab().toImage();
        // On the raw loss line (at a step where it is away from the smoothed one), then on a marker.
        const QPoint onRaw = pixelOf(curves.lossRect(), 37, lossAt(37));
        QTest::mouseDClick(plot, Qt::LeftButton, {}, onRaw);
        QTest::mouseClick(plot, Qt::LeftButton, {}, onRaw);
        leave(plot);
        settle(curves);
        const QImage after = plot->grab().toImage();
        QCOMPARE(after.size(), before.size());
        int changed = 0;
        for (int y = 0; y < after.height(); ++y)
            for (int x = 0; x < after.width(); ++x)
                changed += after.pixel(x, y) != before.pixel(x, y) ? 1 : 0;
        QCOMPARE(changed, 0);
        // The markers are still drawn in their colour, on top of the lines.
        const QCPGraph *markers = nullptr;
        for (int i = 0; i < plot->graphCount(); ++i)
            if (plot->graph(i)->name() == "checkpoint")
                markers = plot->graph(i);
        QVERIFY(markers);
        QCOMPARE(markers->dataCount(), kEpochs);
        const auto m = markers->data()->at(1);
        QVERIFY(hasColorNear(after, pixelOf(curves.lossRect(), m->key, m->value) + QPoint(0, -2), QColor(0x94, 0x67, 0xbd)));
        // A click on a marker selects its checkpoint, and draws it no differently.
        QSignalSpy clicked(&curves, &TrainingCurves::checkpointClicked);
        QTest::mouseClick(plot, Qt::LeftButton, {}, pixelOf(curves.lossRect(), m->key, m->value) + QPoint(0, -2));
        QCOMPARE(clicked.count(), 1);
        QCOMPARE(clicked.first().at(0).toLongLong(), 2 * kStepsPerEpoch);
    }

    void theLegendIsOutsideTheData()
    {
        TrainingCurves curves;
        curves.resize(700, 520);
        curves.show();
        fill(curves);
        settle(curves);
        const QRect legend = curves.plot()->legend->outerRect();
        QVERIFY(curves.plot()->legend->visible());
        QVERIFY(legend.height() > 0);
        QVERIFY2(!legend.intersects(curves.lossRect()->rect()), qPrintable(QStringLiteral("%1,%2 %3x%4").arg(legend.x()).arg(legend.y()).arg(legend.width()).arg(legend.height())));
        QVERIFY(!legend.intersects(curves.lrRect()->rect()));
        // Every series that holds points is listed.
        QStringList names;
        for (int i = 0; i < curves.plot()->legend->itemCount(); ++i)
            if (auto *item = qobject_cast<QCPPlottableLegendItem *>(curves.plot()->legend->item(i)))
                names << item->plottable()->name();
        for (const char *name : {"train loss", "train loss (smoothed)", "train accuracy", "test loss", "test accuracy", "learning rate", "checkpoint"})
            QVERIFY2(names.contains(name), qPrintable(names.join(", ")));
    }

    void theLegendListsASeriesOnceItHasPoints()
    {
        TrainingCurves curves;
        auto names = [&] {
            QStringList n;
            for (int i = 0; i < curves.plot()->legend->itemCount(); ++i)
                if (auto *item = qobject_cast<QCPPlottableLegendItem *>(curves.plot()->legend->item(i)))
                    n << item->plottable()->name();
            return n;
        };
        QCOMPARE(names(), QStringList());
        curves.addStep(1, 2.0, 0.1);
        QCOMPARE(names(), (QStringList{"train loss", "train loss (smoothed)", "learning rate"}));
        curves.addEvaluation(1, 1.5, 0.4, testFigureName("r2"));
        QCOMPARE(names(), (QStringList{"train loss", "train loss (smoothed)", "test loss", "test R²", "learning rate"}));
        curves.addCheckpoint(1);
        QCOMPARE(names().last(), QStringLiteral("checkpoint"));
        curves.clear();
        QCOMPARE(names(), QStringList());
    }

    void theFirstAndLastPointsAreWhole()
    {
        TrainingCurves curves;
        curves.resize(700, 520);
        curves.show();
        fill(curves);
        settle(curves);
        const QRect data = curves.lossRect()->rect();
        // The last step carries a checkpoint marker (9 px wide) and a test point: all inside.
        const double last = curves.plot()->xAxis->coordToPixel(kSteps);
        const double first = curves.plot()->xAxis->coordToPixel(1);
        QVERIFY2(last + 5 <= data.right(), qPrintable(QStringLiteral("%1 vs %2").arg(last).arg(data.right())));
        QVERIFY(first - 5 >= data.left());
        const QImage image = curves.plot()->grab().toImage();
        QVERIFY(hasColorNear(image, QPoint(static_cast<int>(last) + 3, static_cast<int>(curves.plot()->yAxis->coordToPixel(curves.smoothedAt(kSteps - 1))) - 2),
                             QColor(0x94, 0x67, 0xbd), 2));
    }

    void theLearningRatePlotLinesUp()
    {
        TrainingCurves curves;
        curves.resize(800, 560);
        curves.show();
        fill(curves);
        settle(curves);
        QCPAxisRect *loss = curves.lossRect(), *lr = curves.lrRect();
        QCOMPARE(lr->rect().left(), loss->rect().left());
        QCOMPARE(lr->rect().right(), loss->rect().right());
        QCOMPARE(lr->axis(QCPAxis::atBottom)->range(), loss->axis(QCPAxis::atBottom)->range());
        // Zoom with the wheel over the learning rate: the loss plot follows, and the other way round.
        const QPoint over = lr->rect().center();
        QWheelEvent wheel(over, curves.plot()->mapToGlobal(over), {}, QPoint(0, 120), Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
        QApplication::sendEvent(curves.plot(), &wheel);
        settle(curves);
        QVERIFY(lr->axis(QCPAxis::atBottom)->range().size() < kSteps);
        QCOMPARE(loss->axis(QCPAxis::atBottom)->range(), lr->axis(QCPAxis::atBottom)->range());
        loss->axis(QCPAxis::atBottom)->setRange(10, 30);
        QCOMPARE(lr->axis(QCPAxis::atBottom)->range(), QCPRange(10, 30));
        settle(curves);
        QCOMPARE(lr->rect().left(), loss->rect().left());
        QCOMPARE(lr->rect().right(), loss->rect().right());
    }

    void hoveringReadsEverySeries()
    {
        TrainingCurves curves;
        curves.resize(900, 620);
        curves.show();
        QVERIFY(QTest::qWaitForWindowExposed(&curves));
        fill(curves);
        curves.setSmoothing(0.6);
        settle(curves);
        QCustomPlot *plot = curves.plot();
        QVERIFY(!curves.readout()->isVisible());
        // Over the loss plot at step 50 (the end of epoch 2: a test point there too).
        QTest::mouseMove(plot, pixelOf(curves.lossRect(), 50, 1.0));
        QTRY_VERIFY(curves.readout()->isVisible());
        QCOMPARE(curves.cursorX(), 50.0);
        const QString text = curves.readout()->text();
        const QString time = QDateTime::fromMSecsSinceEpoch(static_cast<qint64>((kStart + 1.5 * 49) * 1000)).toString("HH:mm:ss");
        for (const QString &part : {QStringLiteral("step 50"), QStringLiteral("epoch 2.00"), time, QStringLiteral("+1:14)"), QStringLiteral("train loss"),
                                    QString::number(lossAt(50), 'g', 5), QStringLiteral("smoothed ") + QString::number(curves.smoothedAt(49), 'g', 5),
                                    QStringLiteral("train accuracy"), QStringLiteral("test loss"), QString::number(lossAt(50) + 0.1, 'g', 5),
                                    QStringLiteral("test accuracy"), QString::number(0.75, 'g', 5), QStringLiteral("learning rate"),
                                    QString::number(lrAt(50), 'g', 5)})
            QVERIFY2(text.contains(part), qPrintable(part + " not in " + text));
        // The box stays inside the plot, and the cursor line is drawn through both plots.
        QVERIFY(plot->rect().contains(curves.readout()->geometry()));
        settle(curves);
        const QImage image = plot->toPixmap().toImage();
        const int cx = static_cast<int>(std::lround(plot->xAxis->coordToPixel(50)));
        for (QCPAxisRect *rect : {curves.lossRect(), curves.lrRect()}) {
            int grey = 0;
            for (int y = rect->rect().top(); y <= rect->rect().bottom(); ++y) {
                bool dark = false; // a neutral grey darker than the grid's (antialiased over two columns)
                for (int x = cx - 1; x <= cx + 1; ++x) {
                    const QColor c = image.pixelColor(x, y);
                    dark = dark || (c.value() < 0xb0 && std::max({c.red(), c.green(), c.blue()}) - std::min({c.red(), c.green(), c.blue()}) < 16);
                }
                grey += dark ? 1 : 0;
            }
            QVERIFY2(grey > rect->rect().height() / 3, qPrintable(QString::number(grey)));
        }

        // Over the learning-rate plot at step 12: the same read-out, there.
        QTest::mouseMove(plot, pixelOf(curves.lrRect(), 12, lrAt(12)));
        QTRY_COMPARE(curves.cursorX(), 12.0);
        QVERIFY2(curves.readout()->text().contains("step 12") && curves.readout()->text().contains("at step 25"), qPrintable(curves.readout()->text()));
        leave(plot);
        QVERIFY(!curves.readout()->isVisible());
        QVERIFY(std::isnan(curves.cursorX()));
    }

    void smoothingIsTensorBoardsOverEveryPoint()
    {
        TrainingCurves curves;
        auto *slider = curves.findChild<QSlider *>("smoothing");
        QVERIFY(slider);
        QCOMPARE(slider->maximum(), 999);
        std::vector<double> losses;
        for (int s = 1; s <= 20000; ++s) {
            losses.push_back(lossAt(s));
            curves.addStep(s, losses.back(), 0.1);
        }
        slider->setValue(999);
        QCOMPARE(curves.smoothing(), 0.999);
        // Debiased: starts at the first value, then (1-w)·Σ w^(n-i) x_i / (1 - w^n).
        QCOMPARE(curves.smoothedAt(0), losses[0]);
        double num = 0;
        for (int i = 0; i < 3; ++i)
            num = 0.999 * num + 0.001 * losses[static_cast<size_t>(i)];
        QVERIFY(std::abs(curves.smoothedAt(2) - num / (1 - std::pow(0.999, 3))) < 1e-12);
        QCOMPARE(smoothDebiased({1.0, NAN, 3.0}, 0.5)[2], (0.25 * 1 + 0.5 * 3) / 0.75);
        // Every point is plotted (no downsampling, raw and smoothed), the raw line faint.
        for (int i = 0; i < curves.plot()->graphCount(); ++i) {
            QCPGraph *g = curves.plot()->graph(i);
            if (g->name().startsWith("train loss")) {
                QCOMPARE(g->dataCount(), 20000);
                QVERIFY(!g->adaptiveSampling());
                QCOMPARE(g->pen().color().alpha() < 100, g->name() == "train loss");
            }
        }
    }

    void theXAxisCountsStepsEpochsSamplesOrWallTime()
    {
        TrainingCurves curves;
        curves.resize(700, 520);
        curves.show();
        QVERIFY(QTest::qWaitForWindowExposed(&curves));
        auto *choice = curves.findChild<QComboBox *>("xAxis");
        QVERIFY(choice);
        QCOMPARE(choice->count(), 4); // step, epoch, samples, wall time
        auto *model = qobject_cast<QStandardItemModel *>(choice->model());
        // Steps without epochs, batch sizes or wall time: those choices are offered but disabled.
        fill(curves, false);
        QVERIFY(!model->item(1)->isEnabled());
        QVERIFY(!model->item(2)->isEnabled());
        QVERIFY(!model->item(3)->isEnabled());
        fill(curves);
        QVERIFY(model->item(1)->isEnabled());
        QVERIFY(model->item(2)->isEnabled());
        QVERIFY(model->item(3)->isEnabled());
        choice->setCurrentIndex(1);
        QCOMPARE(curves.xAxisKind(), CurveAxis::Epoch);
        QCOMPARE(curves.lrRect()->axis(QCPAxis::atBottom)->label(), QStringLiteral("epoch"));
        QCPGraph *raw = curves.plot()->graph(0);
        QCOMPARE(raw->data()->at(raw->dataCount() - 1)->key, double(kEpochs));
        QVERIFY(curves.plot()->xAxis->range().contains(kEpochs) && curves.plot()->xAxis->range().upper < kEpochs + 0.5);
        choice->setCurrentIndex(2);
        QCOMPARE(curves.xAxisKind(), CurveAxis::Samples);
        QCOMPARE(curves.lrRect()->axis(QCPAxis::atBottom)->label(), QStringLiteral("training samples seen"));
        QCOMPARE(raw->data()->at(raw->dataCount() - 1)->key, 32.0 * kSteps);
        choice->setCurrentIndex(3);
        settle(curves);
        QCOMPARE(curves.xAxisKind(), CurveAxis::WallTime);
        QVERIFY(curves.lrRect()->axis(QCPAxis::atBottom)->label().startsWith("wall time"));
        QCOMPARE(raw->data()->at(0)->key, 0.0);
        QCOMPARE(raw->data()->at(raw->dataCount() - 1)->key, 1.5 * (kSteps - 1));
        // The markers and test points move with the axis.
        QCOMPARE(curves.plot()->graph(5)->data()->at(0)->key, 1.5 * (kStepsPerEpoch - 1));
        QTest::mouseMove(curves.plot(), pixelOf(curves.lossRect(), 1.5 * 9, 1.0));
        QTRY_VERIFY2(curves.readout()->text().contains("step 10"), qPrintable(curves.readout()->text() + QString::number(curves.cursorX())));
        // The next run (or another run's history) keeps the user's choice once its steps allow it.
        fill(curves);
        QCOMPARE(curves.xAxisKind(), CurveAxis::WallTime);
        fill(curves, false);
        QCOMPARE(curves.xAxisKind(), CurveAxis::Step);
        // On a logarithmic loss axis the cursor line still crosses the whole plot.
        fill(curves);
        curves.setLogScale(true);
        settle(curves);
        QTest::mouseMove(curves.plot(), pixelOf(curves.lossRect(), 1.5 * 30, 1.0) + QPoint(1, 0));
        QTRY_VERIFY(curves.readout()->text().contains("step 31"));
        const QImage image = curves.plot()->grab().toImage();
        const int cx = static_cast<int>(std::lround(curves.plot()->xAxis->coordToPixel(1.5 * 30)));
        int dark = 0;
        for (int y = curves.lossRect()->rect().top(); y <= curves.lossRect()->rect().bottom(); ++y)
            dark += image.pixelColor(cx, y).value() < 0xb0 || image.pixelColor(cx + 1, y).value() < 0xb0 ? 1 : 0;
        QVERIFY2(dark > curves.lossRect()->rect().height() / 3, qPrintable(QString::number(dark)));
    }

    // A run's history: metrics.jsonl's records, with epochs and the training accuracy, no clock.
    void readsARunsMetricsLog()
    {
        TrainingCurves curves;
        std::vector<netwright::MetricsRecord> records;
        for (int e = 1; e <= 2; ++e) {
            for (int s = 1; s <= 10; ++s) {
                netwright::MetricsRecord r;
                r.epoch = e;
                r.step = s;
                r.globalStep = (e - 1) * 10 + s;
                r.loss = 1.0 / r.globalStep;
                r.accuracy = 0.5 + 0.02 * r.globalStep;
                r.lr = 0.01;
                records.push_back(r);
            }
            netwright::MetricsRecord eval;
            eval.type = netwright::MetricsRecord::Type::Eval;
            eval.epoch = e;
            eval.globalStep = e * 10;
            eval.loss = 0.3;
            eval.accuracy = 0.8;
            records.push_back(eval);
        }
        curves.addMetricsLog(records);
        QCOMPARE(curves.stepPoints(), 20);
        QCOMPARE(curves.evaluationPoints(), 2);
        QCOMPARE(curves.figureName(), QStringLiteral("test accuracy"));
        QVERIFY(curves.seriesNames().contains("train accuracy"));
        QVERIFY(curves.isAxisAvailable(CurveAxis::Epoch));
        QVERIFY(!curves.isAxisAvailable(CurveAxis::WallTime));
        curves.setXAxis(CurveAxis::Epoch);
        QCPGraph *raw = curves.plot()->graph(0);
        QCOMPARE(raw->data()->at(9)->key, 1.0);
        QCOMPARE(raw->data()->at(10)->key, 1.1);
        curves.setXAxis(CurveAxis::WallTime); // not offered: the step instead
        QCOMPARE(curves.xAxisKind(), CurveAxis::Step);
        QVERIFY(!curves.isAxisAvailable(CurveAxis::Samples)); // the records say no batch size

        // With batch sizes (the last step of an epoch shorter) and the events files' wall times.
        TrainingCurves::StepWallTimes wall;
        for (auto &r : records)
            if (r.type == netwright::MetricsRecord::Type::Step) {
                r.batchSize = r.step == 10 ? 8 : 64;
                wall[r.globalStep] = kStart + 2.0 * r.globalStep;
            }
        curves.clear();
        curves.addMetricsLog(records, wall);
        QVERIFY(curves.isAxisAvailable(CurveAxis::Samples));
        QVERIFY(curves.isAxisAvailable(CurveAxis::WallTime));
        curves.setXAxis(CurveAxis::Samples);
        QCOMPARE(curves.xAxisKind(), CurveAxis::Samples);
        QCOMPARE(raw->data()->at(0)->key, 64.0);
        QCOMPARE(raw->data()->at(9)->key, 9 * 64.0 + 8);
        QCOMPARE(raw->data()->at(10)->key, 10 * 64.0 + 8);
        QCPGraph *testAccuracy = curves.plot()->graph(5);
        QCOMPARE(testAccuracy->name(), QStringLiteral("test accuracy"));
        QCOMPARE(testAccuracy->data()->size(), 2);
        QCOMPARE(testAccuracy->data()->at(0)->key, 9 * 64.0 + 8); // at its epoch's last step
        curves.setXAxis(CurveAxis::WallTime);
        QCOMPARE(curves.xAxisKind(), CurveAxis::WallTime);
        QCOMPARE(raw->data()->at(0)->key, 0.0); // since the first step
        QCOMPARE(raw->data()->at(19)->key, 38.0);
    }

    void exportsCurvesAndThePlot()
    {
        TrainingCurves curves;
        curves.resize(700, 520);
        curves.show();
        fill(curves);
        settle(curves);
        // Not the program's working directory (where a source file may be): home, or the run's.
        QCOMPARE(curves.exportDirectory(), QDir::homePath());
        curves.setExportDirectory(m_dir.path());
        QCOMPARE(curves.exportDirectory(), m_dir.path());
        QCOMPARE(curves.seriesNames(), (QStringList{"train loss", "train accuracy", "test loss", "test accuracy", "learning rate"}));
        QString error;
        const QString csv = m_dir.filePath("loss.csv");
        QVERIFY2(curves.exportCsv("train loss", csv, &error), qPrintable(error));
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = f.readAll().trimmed().split('\n');
        QCOMPARE(lines.size(), kSteps + 1);
        QCOMPARE(lines[0], QByteArray("step,epoch,samples,wall_time,value"));
        const QList<QByteArray> row = lines[26].split(',');
        QCOMPARE(row[0].toInt(), 26);
        QCOMPARE(row[1].toDouble(), 1.04);
        QCOMPARE(row[2].toInt(), 26 * 32); // the batch sizes summed
        QCOMPARE(row[3].toDouble(), kStart + 1.5 * 25);
        QCOMPARE(row[4].toDouble(), lossAt(26)); // round-trip precision
        QVERIFY2(curves.exportCsv("test accuracy", m_dir.filePath("acc.csv"), &error), qPrintable(error));
        QFile a(m_dir.filePath("acc.csv"));
        QVERIFY(a.open(QIODevice::ReadOnly));
        const QList<QByteArray> test = a.readAll().split('\n').at(2).split(',');
        QCOMPARE(test.size(), 5);
        QCOMPARE(test[0], QByteArray("50"));
        QCOMPARE(test[1], QByteArray("2"));
        QCOMPARE(test[2], QByteArray("1600"));
        QCOMPARE(test[3], QByteArray("1700000073.5"));
        QCOMPARE(test[4].toDouble(), 0.55 + 0.1 * 2);
        QVERIFY(!curves.exportCsv("nothing", m_dir.filePath("x.csv"), &error));
        QVERIFY(error.contains("nothing"));
        QVERIFY(!curves.exportCsv("train loss", m_dir.filePath("missing/loss.csv"), &error));
        QVERIFY2(error.contains("missing/loss.csv"), qPrintable(error));

        QVERIFY2(curves.savePng(m_dir.filePath("curves.png"), &error), qPrintable(error));
        const QImage png(m_dir.filePath("curves.png"));
        QCOMPARE(png.size(), curves.plot()->size() * 2);
        QVERIFY2(curves.saveSvg(m_dir.filePath("curves.svg"), &error), qPrintable(error));
        QFile svg(m_dir.filePath("curves.svg"));
        QVERIFY(svg.open(QIODevice::ReadOnly));
        const QByteArray xml = svg.readAll();
        QVERIFY(xml.startsWith("<?xml") && xml.contains("<svg") && xml.contains("train loss"));
        QVERIFY(!curves.savePng(m_dir.filePath("missing/curves.png"), &error));
        QVERIFY2(error.contains("missing/curves.png"), qPrintable(error));

        // Export ▾ lists every series and the two images; its dialogs open in the export directory.
        auto *button = curves.findChild<QToolButton *>("exportCurves");
        QVERIFY(button && button->menu());
        emit button->menu()->aboutToShow();
        QStringList actions;
        for (QAction *a : button->menu()->actions())
            if (!a->isSeparator())
                actions << a->text();
        QCOMPARE(actions, (QStringList{"train loss as CSV…", "train accuracy as CSV…", "test loss as CSV…", "test accuracy as CSV…",
                                       "learning rate as CSV…", "Plot as PNG…", "Plot as SVG…"}));
        for (int i : {0, 6}) {
            QString proposed;
            QTimer::singleShot(200, [&] {
                if (auto *dialog = qobject_cast<QFileDialog *>(QApplication::activeModalWidget())) {
                    proposed = QDir(dialog->directory()).filePath(dialog->selectedFiles().value(0).section('/', -1));
                    dialog->reject();
                }
            });
            button->menu()->actions().at(i == 0 ? 0 : button->menu()->actions().size() - 1)->trigger();
            QCOMPARE(proposed, m_dir.filePath(i == 0 ? "train-loss.csv" : "training-curves.svg"));
        }
    }
};

QTEST_MAIN(TrainingCurvesGuiTest)
#include "training_curves_gui_test.moc"
