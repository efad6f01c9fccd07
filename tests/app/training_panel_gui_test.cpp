// SPDX-License-Identifier: Apache-2.0
// The training panel driven as a user would (offscreen): fill the form (lenet5 on a slice of
// Fashion-MNIST as IDX files), see the retention preview, Start — curve points arrive for every
// step, an evaluation point per epoch and a checkpoint marker per saved checkpoint, all matching
// what the run directory records; Pause holds the run, Resume continues it, Stop ends it with a
// checkpoint; the event loop never spends 100 ms of UI-thread time between two ticks while the run goes; an invalid form names
// the setting and cannot start; the Device row is training.device and an unusable GPU is said at
// Start, with nothing written; the saved run config is the
// one `netwright train --config` reads; Run ▸ Train This Model trains an open ONNX file; the breakpoint
// option saves the failed step's state. The smoothing is TensorBoard's debiased EMA; the end states
// the final and best test metrics; hovering the curves reads every series.
// NETWRIGHT_SCREENSHOTS=DIR writes DIR/training-curves-readout.png (the docs').
#include "core/device.h"
#include "core/error.h"
#include "formats/mindspore/ckpt_file.h"
#include "gui/main_window.h"
#include "gui/model_document.h"
#include "gui/training_panel.h"
#include "gui/training_run.h"
#include "support/cli_support.h"
#include "training/training_curves.h"

#include <ctime>

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QListWidget>
#include <QMessageBox>
#include <QProcess>
#include <QProgressBar>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace netwright;
using namespace netwright::gui;

class TrainingPanelGuiTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    RunConfig m_config;

private slots:
    void initTestCase()
    {
        QVERIFY(!test::fashionMnistSlice(m_dir.path(), 1280, 300).isEmpty());
        m_config = defaultRunConfig();
        m_config.name = "gui-lenet5";
        m_config.model = "lenet5";
        m_config.data.dataset = "idx";
        m_config.data.trainImages = m_dir.filePath("ti").toStdString();
        m_config.data.trainLabels = m_dir.filePath("tl").toStdString();
        m_config.data.testImages = m_dir.filePath("vi").toStdString();
        m_config.data.testLabels = m_dir.filePath("vl").toStdString();
        m_config.training.epochs = 2;
        m_config.training.batchSize = 64;
        m_config.training.threads = 2;
        m_config.schedule.warmupSteps = 0;
    }

    static qint64 threadCpuMs()
    {
        timespec t{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
        return static_cast<qint64>(t.tv_sec) * 1000 + t.tv_nsec / 1000000;
    }

    void trainsWithLiveCurvesAndCheckpoints()
    {
        TrainingPanel panel;
        panel.setRunsDirectory(m_dir.filePath("runs"));
        panel.setConfig(m_config);
        panel.show();
        QVERIFY2(panel.validationError().isEmpty(), qPrintable(panel.validationError()));
        QVERIFY2(panel.retentionPreview().contains("save   lenet5-1_"), qPrintable(panel.retentionPreview()));
        QSignalSpy finished(&panel, &TrainingPanel::runFinished);
        // Watch the event loop while the run goes: the longest gap between two 5 ms ticks, in wall
        // time and in the UI thread's own CPU time. The CPU figure is what the panel's work costs
        // the event loop (repaints, curve updates); the wall figure adds the scheduler's choices on
        // a loaded machine (two training threads and the other tests on two cores), so the check
        // is on the CPU figure.
        QElapsedTimer clock;
        qint64 last = 0, worst = 0, lastCpu = threadCpuMs(), worstCpu = 0;
        QTimer tick;
        tick.setInterval(5);
        connect(&tick, &QTimer::timeout, [&] {
            worst = std::max(worst, clock.elapsed() - last);
            last = clock.elapsed();
            const qint64 cpu = threadCpuMs();
            worstCpu = std::max(worstCpu, cpu - lastCpu);
            lastCpu = cpu;
        });
        clock.start();
        tick.start();
        panel.start();
        QVERIFY(panel.run()->isRunning());
        QVERIFY(finished.wait(240000));
        tick.stop();
        qInfo("training from the panel: %lld ms, longest UI-thread stall %lld ms (%lld ms of its CPU time)",
              static_cast<long long>(clock.elapsed()), static_cast<long long>(worst), static_cast<long long>(worstCpu));
        QVERIFY2(worstCpu < 100, qPrintable(QString::number(worstCpu)));
        QCOMPARE(finished.first().at(1).toBool(), false);
        QVERIFY2(finished.first().at(2).toString().isEmpty(), qPrintable(finished.first().at(2).toString()));
        const QString dir = finished.first().at(0).toString();
        QVERIFY(QFile::exists(dir + "/config.json"));

        // 1,280 samples / 64 = 20 steps per epoch, 2 epochs.
        auto *curves = panel.curves();
        QCOMPARE(curves->stepPoints(), 40);
        QCOMPARE(curves->evaluationPoints(), 2);
        QCOMPARE(panel.progressBar()->value(), 40);
        // The run directory agrees: every step's loss in metrics.jsonl is a point on the curve.
        QFile metrics(dir + "/metrics.jsonl");
        QVERIFY(metrics.open(QIODevice::ReadOnly));
        int steps = 0, evals = 0;
        for (const QByteArray &line : metrics.readAll().split('\n')) {
            const QJsonObject o = QJsonDocument::fromJson(line).object();
            steps += o["type"] == "step" ? 1 : 0;
            evals += o["type"] == "eval" ? 1 : 0;
        }
        QCOMPARE(steps, 40);
        QCOMPARE(evals, 2);
        // A checkpoint per epoch: listed, and marked on the curve at its step.
        QCOMPARE(panel.checkpointList()->count(), 2);
        QCOMPARE(curves->checkpointSteps(), (std::vector<int64_t>{20, 40}));
        for (int i = 0; i < panel.checkpointList()->count(); ++i)
            QVERIFY(QFile::exists(panel.checkpointList()->item(i)->data(Qt::UserRole).toString()));
        // The end states the final test metrics and the best ones, each with its epoch and step.
        const QString status = panel.statusText();
        QVERIFY2(status.startsWith("Finished: 40 steps · final (epoch 2, step 40): test accuracy 0."), qPrintable(status));
        QVERIFY2(QRegularExpression(R"(best: test accuracy 0\.\d{4} at epoch ([12]) \(step (20|40)\), test loss \d+\.\d{4} at epoch [12] \(step (20|40)\)\.$)")
                     .match(status)
                     .hasMatch(),
                 qPrintable(status));
        // The steps bring the training accuracy, their epoch and wall time; exports go beside the run.
        QVERIFY2(curves->seriesNames().contains("train accuracy"), qPrintable(curves->seriesNames().join(", ")));
        QVERIFY(curves->isAxisAvailable(widgets::CurveAxis::Epoch));
        QVERIFY(curves->isAxisAvailable(widgets::CurveAxis::WallTime));
        QCOMPARE(curves->exportDirectory(), dir);
        QString error;
        QVERIFY2(curves->exportCsv("train accuracy", dir + "/train-accuracy.csv", &error), qPrintable(error));
        QFile accuracy(dir + "/train-accuracy.csv");
        QVERIFY(accuracy.open(QIODevice::ReadOnly));
        const QList<QByteArray> rows = accuracy.readAll().trimmed().split('\n');
        QCOMPARE(rows.size(), 41);
        // Step 20 ends epoch 1, after 20 batches of 64 samples; then its wall time.
        QVERIFY2(rows[20].startsWith("20,1,1280,17") || rows[20].startsWith("20,1,1280,18"), rows[20].constData());
        QVERIFY(curves->isAxisAvailable(widgets::CurveAxis::Samples));
        // Smoothing: 0 shows the raw loss, and the debiased EMA starts at the first raw value.
        curves->setSmoothing(0.9);
        const double first = curves->smoothedAt(0);
        curves->setSmoothing(0.0);
        QCOMPARE(curves->smoothedAt(0), first);
        const double a = curves->smoothedAt(1);
        curves->setSmoothing(0.5);
        QVERIFY(std::abs(curves->smoothedAt(1) - (0.25 * first + 0.5 * a) / 0.75) < 1e-9);

        // Hovering the plot reads every series at the cursor (the docs' screenshot).
        curves->setSmoothing(0.6);
        panel.resize(1700, 900);
        QTest::qWait(300);
        QWidget *plot = curves->readout()->parentWidget();
        QTest::mouseMove(plot, QPoint(plot->width() * 11 / 20, plot->height() * 2 / 5));
        QTRY_VERIFY(curves->readout()->isVisible());
        const QString readout = curves->readout()->text();
        for (const char *part : {"step ", "epoch ", "train loss", "smoothed ", "train accuracy", "test loss", "test accuracy", "learning rate"})
            QVERIFY2(readout.contains(part), qPrintable(readout));
        const QString shots = qEnvironmentVariable("NETWRIGHT_SCREENSHOTS");
        QTest::qWait(150); // the cursor line's replot
        if (!shots.isEmpty())
            QVERIFY(curves->grab().save(shots + "/training-curves-readout.png"));
        qInfo("at the end: %s", qPrintable(status));
    }

    // Run ▸ Train This Model on an open ONNX file (a LeNet-5 exported by PyTorch): the panel takes
    // the file as its model, trains it from its own weights, and the checkpoints carry its names.
    void trainsTheOpenDocument()
    {
        QProcess py;
        py.start("/usr/bin/python3", {qEnvironmentVariable("NETWRIGHT_SOURCE_DIR") + "/tests/support/export_torch_models.py", m_dir.path(), "lenet5"});
        QVERIFY(py.waitForFinished(300000));
        QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
        const QString onnx = m_dir.filePath("lenet5_13.onnx");
        MainWindow window;
        window.show();
        ModelDocument *doc = window.openFile(onnx);
        QTRY_VERIFY_WITH_TIMEOUT(doc->isLoaded(), 30000);
        TrainingPanel *panel = window.trainDocument(doc);
        RunConfig c = panel->config();
        QCOMPARE(QString::fromStdString(c.modelFile), onnx);
        QCOMPARE(QString::fromStdString(c.model), QStringLiteral("lenet5_13"));
        QCOMPARE(QString::fromStdString(c.name), QStringLiteral("lenet5_13"));
        // The data and schedule of the other tests; the model stays the file.
        RunConfig settings = m_config;
        settings.name = c.name;
        settings.model = c.model;
        settings.modelFile = c.modelFile;
        settings.training.epochs = 1;
        panel->setConfig(settings);
        QVERIFY2(panel->validationError().isEmpty(), qPrintable(panel->validationError()));
        QVERIFY2(panel->retentionPreview().contains("save   lenet5_13-1_"), qPrintable(panel->retentionPreview()));
        panel->setRunsDirectory(m_dir.filePath("runs"));
        QSignalSpy finished(panel, &TrainingPanel::runFinished);
        QSignalSpy begun(panel, &TrainingPanel::runBegun);
        panel->start();
        // While it trains, the status bar says so and where (not the empty form's prompt).
        QVERIFY(begun.wait(240000));
        QCOMPARE(window.statusText(), "Training: " + begun.first().at(0).toString());
        QVERIFY(finished.wait(240000));
        QVERIFY2(finished.first().at(2).toString().isEmpty(), qPrintable(finished.first().at(2).toString()));
        const QString dir = finished.first().at(0).toString();
        QCOMPARE(window.statusText(), "Run finished: " + dir);
        QCOMPARE(panel->curves()->stepPoints(), 20);
        QCOMPARE(panel->checkpointList()->count(), 1);
        const auto ckpt = mindspore::readCkpt(panel->checkpointList()->item(0)->data(Qt::UserRole).toString().toStdString());
        const ModelDescription *m = doc->model();
        int found = 0;
        for (const auto &p : m->parameters)
            for (const auto &e : ckpt.entries)
                found += e.name == p.name ? 1 : 0;
        QCOMPARE(found, static_cast<int>(m->parameters.size()));
        QVERIFY(QFile::exists(dir + "/lenet5_13.onnx")); // the run keeps its copy

        // A file that holds no graph (a checkpoint) is named, and Start stays off.
        panel->setModelFile(panel->checkpointList()->item(0)->data(Qt::UserRole).toString());
        QVERIFY2(panel->validationError().contains("holds no graph to train"), qPrintable(panel->validationError()));
    }

    void pausesResumesAndStops()
    {
        TrainingPanel panel;
        panel.setRunsDirectory(m_dir.filePath("runs"));
        RunConfig c = m_config;
        c.training.epochs = 20;
        panel.setConfig(c);
        QSignalSpy finished(&panel, &TrainingPanel::runFinished);
        panel.start();
        QTRY_VERIFY_WITH_TIMEOUT(panel.curves()->stepPoints() >= 3, 60000);
        panel.pause();
        QTest::qWait(300); // let a step in flight land
        const int held = panel.curves()->stepPoints();
        QTest::qWait(700);
        QCOMPARE(panel.curves()->stepPoints(), held); // nothing moves while paused
        panel.resume();
        QTRY_VERIFY_WITH_TIMEOUT(panel.curves()->stepPoints() > held, 60000);
        panel.stop();
        QVERIFY(finished.wait(60000));
        QCOMPARE(finished.first().at(1).toBool(), true); // stopped
        QVERIFY(panel.curves()->stepPoints() < 400);
        QVERIFY(!panel.run()->isRunning());
    }

    // "Save a breakpoint checkpoint if training fails": a run whose checkpoint cannot be written
    // (a directory holds its name) fails at step 5 and leaves the state of that step behind,
    // as `netwright train` does with checkpoint.exception_save.
    void breakpointOptionSavesWhenTrainingFails()
    {
        TrainingPanel panel;
        panel.setRunsDirectory(m_dir.filePath("runs-breakpoint"));
        RunConfig c = m_config;
        c.checkpoint.saveCheckpointSteps = 5;
        c.checkpoint.exceptionSave = false;
        panel.setConfig(c);
        QCheckBox *option = nullptr;
        for (QCheckBox *box : panel.findChildren<QCheckBox *>())
            if (box->text() == QLatin1String("Save a breakpoint checkpoint if training fails"))
                option = box;
        QVERIFY(option != nullptr);
        QVERIFY(!option->isChecked());
        option->click();
        QVERIFY(panel.config().checkpoint.exceptionSave);
        QSignalSpy finished(&panel, &TrainingPanel::runFinished);
        panel.start();
        // The run directory's name is known as soon as Start returns; the worker makes it once the
        // data are read and the model is built (here, a directory with the checkpoint's name is
        // already in it).
        const QString dir = panel.run()->runDirectory();
        QVERIFY(QDir().mkpath(dir + "/lenet5-1_5.ckpt/occupied"));
        QVERIFY(finished.wait(120000));
        const QString error = finished.first().at(2).toString();
        QVERIFY2(error.contains("lenet5-1_5.ckpt") && error.contains("breakpoint checkpoint"), qPrintable(error));
        const QStringList breakpoints = QDir(dir).entryList({"*_breakpoint.ckpt"});
        QCOMPARE(breakpoints, QStringList{"lenet5-1_5_breakpoint.ckpt"});
        const auto state = mindspore::readCkpt((dir + "/" + breakpoints[0]).toStdString());
        bool atStep5 = false;
        for (const auto &e : state.entries)
            if (e.name == "netwright.train.global_step")
                atStep5 = e.tensor.dataAs<int64_t>()[0] == 5;
        QVERIFY(atStep5);
    }

    void invalidFormNamesTheSetting()
    {
        TrainingPanel panel;
        RunConfig c = m_config;
        c.data.trainImages.clear();
        panel.setConfig(c);
        QVERIFY2(panel.validationError().contains("train_images"), qPrintable(panel.validationError()));
        panel.start();
        QVERIFY(!panel.run()->isRunning());
    }

    // The Device row is training.device; a GPU that cannot be used is said when Start is pressed,
    // with the reason the engine gives, and nothing is written. Where a GPU works, the run starts
    // on it and says so.
    void deviceRowIsTrainingDevice()
    {
        TrainingPanel panel;
        panel.setRunsDirectory(m_dir.filePath("device-runs"));
        RunConfig c = m_config;
        c.training.device = "cuda:1";
        panel.setConfig(c);
        QCOMPARE(panel.config().training.device, std::string("cuda:1"));
        auto *device = panel.findChild<QComboBox *>("device");
        QVERIFY(device);
        QCOMPARE(device->currentText(), QStringLiteral("CUDA GPU 1"));
        device->setCurrentIndex(device->findData(QStringLiteral("cpu")));
        QCOMPARE(panel.config().training.device, std::string("cpu"));
        device->setCurrentIndex(device->findData(QStringLiteral("cuda")));
        QCOMPARE(panel.config().training.device, std::string("cuda"));
        QVERIFY2(panel.validationError().isEmpty(), qPrintable(panel.validationError()));

        QString why;
        try {
            startDevice(Device::cuda(0));
        } catch (const Error &e) {
            why = QString::fromUtf8(e.what());
        }
        panel.start();
        qInfo("CUDA GPU 0: %s", why.isEmpty() ? "usable" : qPrintable(why));
#ifdef NETWRIGHT_TEST_WITH_CUDA
        // The backend was built: the reason is the CUDA runtime's (no device, no driver), not a missing module.
        QVERIFY2(!why.contains("no CUDA backend") && !why.contains("Cannot load"), qPrintable(why));
#endif
        if (!why.isEmpty()) { // this machine: no usable GPU
            QVERIFY(!panel.run()->isRunning());
            auto *box = panel.findChild<QMessageBox *>("startError");
            QVERIFY(box);
            QTRY_VERIFY(box->isVisible());
            QVERIFY2(box->informativeText() == why, qPrintable(box->informativeText()));
            QVERIFY2(why.contains("CUDA"), qPrintable(why));
            QVERIFY(QDir(m_dir.filePath("device-runs")).entryList(QDir::AllEntries | QDir::NoDotAndDotDot).isEmpty());
            box->close();
            QTRY_VERIFY(!panel.findChild<QMessageBox *>("startError"));
        } else {
            QVERIFY(panel.run()->isRunning());
            auto *runDir = panel.findChild<QLabel *>("runDirectory");
            QVERIFY(runDir);
            QTRY_VERIFY_WITH_TIMEOUT(runDir->text().endsWith("on cuda:0"), 60000);
            QSignalSpy finished(&panel, &TrainingPanel::runFinished);
            panel.stop();
            QVERIFY(finished.wait(60000));
        }
    }

    void savedConfigIsWhatTheCliRuns()
    {
        TrainingPanel panel;
        panel.setConfig(m_config);
        const QString path = m_dir.filePath("from-gui.json");
        QString error;
        QVERIFY2(panel.saveConfig(path, &error), qPrintable(error));
        const RunConfig back = loadRunConfigFile(path.toStdString(), defaultRunConfig());
        QCOMPARE(runConfigToJson(back), runConfigToJson(panel.config()));
        QCOMPARE(back.model, std::string("lenet5"));
        QCOMPARE(back.training.epochs, 2);
    }

    // Every key of the checkpoint policy goes through the form unchanged, for both formats, and
    // the preview follows it (best-1 by test loss keeps what keep_checkpoint_max deletes).
    void wholePolicyRoundTrips()
    {
        RunConfig c = m_config;
        CheckpointSettings &k = c.checkpoint;
        k.saveCheckpointSteps = 7;
        k.saveCheckpointSeconds = 90;
        k.keepCheckpointMax = 1;
        k.keepCheckpointPerNMinutes = 3;
        k.saveAtEnd = false;
        k.monitor = "eval_loss";
        k.mode = "min";
        k.saveTopK = 2;
        k.keepPeriod = 14;
        k.saveLast = true;
        k.asyncSave = true;
        k.exceptionSave = true;
        k.crcCheck = true;
        k.cntk.frequency = 5;
        k.cntk.unit = "minibatches";
        k.cntk.preserveAll = true;
        TrainingPanel panel;
        panel.setConfig(c);
        QVERIFY2(panel.validationError().isEmpty(), qPrintable(panel.validationError()));
        QCOMPARE(runConfigToJson(panel.config()), runConfigToJson(c));
        QVERIFY2(panel.retentionPreview().contains("(keep_checkpoint_max)"), qPrintable(panel.retentionPreview()));
        // CNTK counts in its own units: the form drops MindSpore's step and time triggers.
        c.checkpoint.format = "cntk";
        panel.setConfig(c);
        c.checkpoint.saveCheckpointSteps = 0;
        c.checkpoint.saveCheckpointSeconds = 0;
        QCOMPARE(runConfigToJson(panel.config()), runConfigToJson(c));
        QVERIFY2(panel.validationError().isEmpty(), qPrintable(panel.validationError()));
        QVERIFY2(panel.retentionPreview().contains("lenet5.dnn0"), qPrintable(panel.retentionPreview()));
    }
};

QTEST_MAIN(TrainingPanelGuiTest)
#include "training_panel_gui_test.moc"
