// SPDX-License-Identifier: Apache-2.0
// The training panel's data section driven as a user would (offscreen), on real data written by
// tests/support/make_datasets.py: choosing "Your data" and a PNG folder shows 24 thumbnails — each
// the pixels of its file, captioned with its class folder — and bars whose heights are the files
// per class, split 80/20 by the form's default; a CSV table shows its first rows under its column
// names; a model file that takes [3,32,32] against a 30-feature table is the form's error, naming
// both shapes, and Start is off; a start refused by a reader's error (a ragged CSV) or by a model
// that does not fit leaves no run directory; every data key round-trips through the form; a short
// run on iris.csv from the panel reaches the accuracy a user expects and says so.
// NETWRIGHT_SCREENSHOTS=DIR writes DIR/training-panel-data.png (the docs' screenshot).
#include "core/error.h"
#include "data/data_preview.h"
#include "gui/data_section.h"
#include "gui/training_panel.h"
#include "gui/training_run.h"
#include "training/training_curves.h"

#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace netwright;
using namespace netwright::gui;

namespace {

QPushButton *button(QWidget *parent, const QString &text)
{
    for (QPushButton *b : parent->findChildren<QPushButton *>())
        if (b->text() == text)
            return b;
    return nullptr;
}

} // namespace

class DataSectionGuiTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_data;
    RunConfig m_config;

    QString data(const QString &path) const { return m_data + QLatin1Char('/') + path; }

private slots:
    void initTestCase()
    {
        m_data = m_dir.filePath("data");
        QProcess py;
        py.start("/usr/bin/python3", {qEnvironmentVariable("NETWRIGHT_SOURCE_DIR") + "/tests/support/make_datasets.py", m_data, "digits",
                                      "iris", "diabetes", "cancer", "torch-models"});
        QVERIFY(py.waitForFinished(300000));
        QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
        m_config = defaultRunConfig();
        m_config.name = "data-gui";
        m_config.model = "mlp";
        m_config.hidden = {32};
        m_config.training.epochs = 2;
        m_config.training.batchSize = 16;
        m_config.training.threads = 2;
        m_config.schedule.name = "constant";
        m_config.schedule.warmupSteps = 0;
    }

    // "Your data" + a PNG folder, as a user picks them: the preview, the default split, the bars.
    void pngFolderShowsThumbnailsAndClassCounts()
    {
        TrainingPanel panel;
        RunConfig c = m_config; // Fashion-MNIST, until the user chooses
        c.name = "digits";
        c.model = "cnn-small";
        c.data.dataset = "fashion-mnist";
        panel.setConfig(c);
        panel.resize(1400, 900);
        panel.show();
        auto *dataset = panel.findChild<QComboBox *>("dataset");
        QVERIFY(dataset);
        QCOMPARE(dataset->itemData(0).toString(), QStringLiteral("path")); // "Your data" comes first
        QCOMPARE(dataset->itemText(0), QStringLiteral("Your data (folder or file)"));
        dataset->setCurrentIndex(0);
        auto *path = panel.findChild<QLineEdit *>("dataPath");
        QVERIFY(path && path->isVisible());
        QVERIFY(button(path->parentWidget(), "Folder…") && button(path->parentWidget(), "File…"));
        const QString folder = data("digits/png");
        path->setText(folder);

        widgets::DataPreview *preview = panel.dataPreview();
        QTRY_COMPARE_WITH_TIMEOUT(preview->thumbnailCount(), 24, 30000);
        // The folder has no test split of its own: the form holds out 0.2, and then the model fits.
        QTRY_COMPARE_WITH_TIMEOUT(panel.config().data.testSplit, 0.2f, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(panel.findChild<QLabel *>("modelFit")->text().startsWith("The model fits the data"), 30000);
        QVERIFY2(panel.validationError().isEmpty(), qPrintable(panel.validationError()));
        QVERIFY2(preview->summaryText().contains("image folder") && preview->summaryText().contains("1797 samples of shape [1,8,8] (uint8)")
                     && preview->summaryText().contains("10 classes"),
                 qPrintable(preview->summaryText()));

        // The files, as the folder holds them: class folders in order, files in order.
        QStringList classes = QDir(folder).entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
        QStringList files, fileClass;
        std::vector<double> perClass;
        for (const QString &cls : classes) {
            const QStringList names = QDir(folder + "/" + cls).entryList({"*.png"}, QDir::Files, QDir::Name);
            perClass.push_back(names.size());
            for (const QString &n : names) {
                files << folder + "/" + cls + "/" + n;
                fileClass << cls;
            }
        }
        QCOMPARE(files.size(), 1797);
        // Each thumbnail is its file's pixels, enlarged 7× (8 → 56), captioned with its class folder.
        const auto contents = preview->contents();
        QMap<QString, int> shown;
        for (int i = 0; i < 24; ++i) {
            const int64_t sample = contents->thumbnails[static_cast<size_t>(i)].sample;
            QCOMPARE(preview->caption(i), fileClass[static_cast<int>(sample)]);
            ++shown[preview->caption(i)];
            const QImage thumb = preview->thumbnail(i);
            QCOMPARE(thumb.size(), QSize(56, 56));
            const QImage png(files[static_cast<int>(sample)]);
            QCOMPARE(png.size(), QSize(8, 8));
            for (int y = 0; y < 8; ++y)
                for (int x = 0; x < 8; ++x)
                    QCOMPARE(qGray(thumb.pixel(x * 7 + 3, y * 7 + 3)), qGray(png.pixel(x, y)));
        }
        QCOMPARE(shown.size(), 10); // every class is shown, two or three times
        for (int n : shown)
            QVERIFY(n == 2 || n == 3);

        // The bars: one per class; train and test stacked are the files of the class, 20 % held out.
        QCOMPARE(preview->barLabels(), classes);
        const std::vector<double> train = preview->barHeights(false), test = preview->barHeights(true);
        QCOMPARE(train.size(), size_t(10));
        double trainSum = 0, testSum = 0;
        for (size_t k = 0; k < 10; ++k) {
            QCOMPARE(train[k] + test[k], perClass[k]);
            QCOMPARE(test[k], static_cast<double>(std::llround(0.2 * perClass[k])));
            trainSum += train[k];
            testSum += test[k];
        }
        QVERIFY2(preview->splitText().contains(QStringLiteral("train %1 / test %2").arg(trainSum).arg(testSum))
                     && preview->splitText().contains("20 % of the samples"),
                 qPrintable(preview->splitText()));
        // The checkpoint plan counts the real training samples: 1438 / 16 → 90 steps an epoch.
        QVERIFY2(!panel.retentionPreview().contains("assuming"), qPrintable(panel.retentionPreview()));
        QVERIFY2(panel.retentionPreview().contains("cnn-small-1_90.ckpt"), qPrintable(panel.retentionPreview()));

        const QString shots = qEnvironmentVariable("NETWRIGHT_SCREENSHOTS");
        if (!shots.isEmpty()) {
            QTest::qWait(300);
            QVERIFY(panel.grab().save(shots + "/training-panel-data.png"));
        }
    }

    // A CSV table: its first rows under its column names, the target (text classes) first.
    void csvShowsFirstRowsAndColumnNames()
    {
        TrainingPanel panel;
        RunConfig c = m_config;
        c.data.dataset = "path";
        c.data.path = data("iris/iris.csv").toStdString();
        c.data.testSplit = 0.2f;
        panel.setConfig(c);
        panel.show();
        QTableWidget *table = panel.dataPreview()->table();
        QTRY_COMPARE_WITH_TIMEOUT(table->rowCount(), 10, 30000);
        QVERIFY(panel.findChild<QLineEdit *>("labelColumn")->isVisible()); // a CSV's row
        const QStringList columns{"species", "sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"};
        QCOMPARE(table->columnCount(), columns.size());
        for (int k = 0; k < columns.size(); ++k)
            QCOMPARE(table->horizontalHeaderItem(k)->text(), columns[k]);
        // The file's first data rows (line 2 on), as written.
        QFile csv(data("iris/iris.csv"));
        QVERIFY(csv.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = csv.readAll().split('\n');
        for (int r = 0; r < 10; ++r) {
            const QStringList fields = QString::fromUtf8(lines[r + 1]).trimmed().split(',');
            QCOMPARE(table->item(r, 0)->text(), fields[4]);
            for (int k = 0; k < 4; ++k)
                QCOMPARE(table->item(r, k + 1)->text().toDouble(), fields[k].toDouble());
        }
        QCOMPARE(panel.dataPreview()->barLabels(), (QStringList{"setosa", "versicolor", "virginica"}));
        QCOMPARE(panel.dataPreview()->barHeights(false), (std::vector<double>{40, 40, 40}));
        QCOMPARE(panel.dataPreview()->barHeights(true), (std::vector<double>{10, 10, 10}));
        QVERIFY2(panel.dataPreview()->summaryText().contains("CSV table") && panel.dataPreview()->summaryText().contains("[4]"),
                 qPrintable(panel.dataPreview()->summaryText()));
    }

    // A regression table: the target's range and a histogram of it; float arrays [N,8,8] in an
    // .npz show as pictures, each scaled from its own min to its max.
    void regressionTableAndFloatArrays()
    {
        TrainingPanel panel;
        RunConfig c = m_config;
        c.data.dataset = "path";
        c.data.path = data("diabetes/diabetes.csv").toStdString();
        c.data.testSplit = 0.2f;
        c.task.type = "regression";
        c.checkpoint.monitor = "auto";
        c.checkpoint.mode = "auto";
        panel.setConfig(c);
        panel.show();
        widgets::DataPreview *preview = panel.dataPreview();
        QTRY_COMPARE_WITH_TIMEOUT(preview->table()->rowCount(), 10, 30000);
        QCOMPARE(preview->table()->horizontalHeaderItem(0)->text(), QStringLiteral("target"));
        QCOMPARE(preview->table()->columnCount(), 11);
        QVERIFY2(preview->summaryText().contains("442 samples of shape [10]") && preview->summaryText().contains("1 target(s) per sample"),
                 qPrintable(preview->summaryText()));
        double train = 0, test = 0;
        for (double v : preview->barHeights(false))
            train += v;
        for (double v : preview->barHeights(true))
            test += v;
        QCOMPARE(train + test, 442.0);
        QCOMPARE(test, static_cast<double>(std::llround(0.2 * 442)));
        const QString range = preview->findChild<QLabel *>("dataTargets")->text();
        QVERIFY2(range.startsWith("target: min 25 · mean 152.13 · max 346"), qPrintable(range));
        QTRY_VERIFY_WITH_TIMEOUT(panel.findChild<QLabel *>("modelFit")->text().contains("1 output(s)"), 30000);

        c.data.path = data("digits/digits.npz").toStdString();
        c.task.type = "classification";
        panel.setConfig(c);
        QTRY_COMPARE_WITH_TIMEOUT(preview->thumbnailCount(), 24, 30000);
        QVERIFY2(preview->summaryText().contains("[8,8] (float32)"), qPrintable(preview->summaryText()));
        for (int i = 0; i < 24; ++i) {
            const QImage t = preview->thumbnail(i);
            int lo = 255, hi = 0;
            for (int y = 0; y < t.height(); ++y)
                for (int x = 0; x < t.width(); ++x) {
                    lo = std::min(lo, qGray(t.pixel(x, y)));
                    hi = std::max(hi, qGray(t.pixel(x, y)));
                }
            QCOMPARE(lo, 0);
            QCOMPARE(hi, 255);
        }
        QTRY_VERIFY_WITH_TIMEOUT(panel.findChild<QLabel *>("modelFit")->text().startsWith("The model fits the data: samples [8,8] in, 10"), 30000);
    }

    // A model file that takes [3,32,32] against a table of 30 features: the form's error while it
    // is edited, naming both shapes; Start is off. A model that fits clears it.
    void modelDataMismatchIsTheFormsError()
    {
        TrainingPanel panel;
        RunConfig c = m_config;
        c.data.dataset = "path";
        c.data.path = data("cancer/cancer.csv").toStdString();
        c.data.label = "diagnosis";
        c.data.testSplit = 0.2f;
        panel.setConfig(c);
        panel.setModelFile(data("models/cnn32.onnx"));
        panel.show();
        QTRY_VERIFY_WITH_TIMEOUT(panel.validationError().contains("[3,32,32]"), 30000);
        const QString error = panel.validationError();
        QVERIFY2(error.contains("[3,32,32]") && error.contains("[30]") && error.contains("cnn32.onnx"), qPrintable(error));
        QPushButton *start = button(&panel, "Start");
        QVERIFY(start && !start->isEnabled());
        auto *fit = panel.findChild<QLabel *>("modelFit");
        QVERIFY(fit->isVisible());
        QCOMPARE(fit->text(), error);
        panel.start();
        QVERIFY(!panel.run()->isRunning());
        // The data shown: 2 classes (malignant, benign) of 30 features.
        QVERIFY2(panel.dataPreview()->summaryText().contains("[30]") && panel.dataPreview()->summaryText().contains("2 classes"),
                 qPrintable(panel.dataPreview()->summaryText()));

        // PyTorch's MLP 30 → 32 → 2 fits.
        panel.setModelFile(data("models/mlp30.onnx"));
        QTRY_VERIFY_WITH_TIMEOUT(fit->text().startsWith("The model fits the data"), 30000);
        QVERIFY2(panel.validationError().isEmpty(), qPrintable(panel.validationError()));
        QVERIFY(start->isEnabled());
        // So does the zoo mlp, sized by the data; a zoo CNN does not take a table, and says so.
        auto *model = panel.findChild<QComboBox *>("model");
        model->setCurrentIndex(model->findData(QStringLiteral("cnn-small")));
        QTRY_VERIFY_WITH_TIMEOUT(panel.validationError().contains("takes images [C,H,W]"), 30000);
        QVERIFY2(panel.validationError().contains("[30]"), qPrintable(panel.validationError()));
    }

    // A start refused before training — a reader's error, a model that does not fit — leaves no
    // run directory behind; the reader's message (file and line) is in the preview before Start.
    void refusedStartLeavesNoRunDirectory()
    {
        const QString ragged = m_dir.filePath("ragged.csv");
        {
            QFile f(ragged);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("a,b,label\n1,2,x\n3,4,y\n5,y\n7,8,x\n");
        }
        const QString runs = m_dir.filePath("refused-runs");
        TrainingPanel panel;
        panel.setRunsDirectory(runs);
        RunConfig c = m_config;
        c.data.dataset = "path";
        c.data.path = ragged.toStdString();
        c.data.testSplit = 0.5f;
        panel.setConfig(c);
        panel.show();
        QTRY_VERIFY_WITH_TIMEOUT(!panel.dataPreview()->errorText().isEmpty(), 30000);
        const QString shown = panel.dataPreview()->errorText();
        QVERIFY2(shown.contains("ragged.csv") && shown.contains("line 4"), qPrintable(shown));
        auto *errorLabel = panel.dataPreview()->findChild<QLabel *>("dataError");
        QVERIFY(errorLabel->isVisible() && errorLabel->styleSheet().contains("#b00020")); // in red
        QSignalSpy finished(&panel, &TrainingPanel::runFinished);
        panel.start();
        QVERIFY(panel.run()->isRunning());
        const QString dir = panel.run()->runDirectory();
        QVERIFY(dir.startsWith(runs));
        QVERIFY(finished.wait(60000));
        const QString error = finished.first().at(2).toString();
        QCOMPARE(error, shown);
        QVERIFY(!QFileInfo::exists(dir));
        QVERIFY(!QFileInfo::exists(runs) || QDir(runs).isEmpty());
        QVERIFY2(panel.statusText().startsWith("The run failed"), qPrintable(panel.statusText()));

        // A model that does not fit the data, started directly (the form would not start it).
        TrainingRun run;
        RunConfig bad = m_config;
        bad.data.dataset = "path";
        bad.data.path = data("cancer/cancer.csv").toStdString();
        bad.data.label = "diagnosis";
        bad.data.testSplit = 0.2f;
        bad.modelFile = data("models/cnn32.onnx").toStdString();
        bad.model = "cnn32";
        QSignalSpy done(&run, &TrainingRun::finished);
        run.start(bad, runs + "/mismatch");
        QVERIFY(done.wait(60000));
        const QString why = done.first().at(1).toString();
        QVERIFY2(why.contains("[3,32,32]") && why.contains("[30]"), qPrintable(why));
        QVERIFY(!QFileInfo::exists(runs + "/mismatch"));
        QVERIFY(!QFileInfo::exists(runs) || QDir(runs).isEmpty());

        // A directory the user already has is never removed, even when the start is refused.
        QVERIFY(QDir().mkpath(runs + "/mine"));
        QSignalSpy again(&run, &TrainingRun::finished);
        run.start(bad, runs + "/mine");
        QVERIFY(again.wait(60000));
        QVERIFY(QFileInfo(runs + "/mine").isDir());
    }

    // Every data and task key goes through the form unchanged, shown rows or not.
    void everyDataKeyRoundTrips()
    {
        RunConfig c = m_config;
        DataSettings &d = c.data;
        d.dataset = "path";
        d.path = "/nowhere/x.npy";
        d.testPath = "/nowhere/test";
        d.testSplit = 0.0f;
        d.label = "price,rooms";
        d.targets = "/nowhere/y.npy";
        d.resize = {48, 64};
        d.centerCrop = {40, 40};
        d.channels = 3;
        d.normalize = "given";
        d.featureMean = {0.5f, 0.4f, 0.3f};
        d.featureStd = {0.2f, 0.2f, 0.2f};
        d.randomCropPadding = 4;
        d.horizontalFlip = true;
        d.readThreads = 3;
        d.trainImages = "ti";
        d.trainLabels = "tl";
        d.testImages = "vi";
        d.testLabels = "vl";
        d.trainCsv = "a.csv";
        d.testCsv = "b.csv";
        c.task.type = "regression";
        c.task.loss = "huber";
        c.task.huberDelta = 2.5f;
        c.checkpoint.monitor = "eval_r2";
        c.checkpoint.mode = "max";
        TrainingPanel panel;
        panel.setConfig(c);
        QCOMPARE(runConfigToJson(panel.config()), runConfigToJson(c));
        QCOMPARE(panel.findChild<QLineEdit *>("resize")->text(), QStringLiteral("48x64"));
        QCOMPARE(panel.findChild<QComboBox *>("task")->currentData().toString(), QStringLiteral("regression"));
        // A split instead of test data; a multilabel task; another dataset keeps the path keys.
        d.testPath.clear();
        d.testSplit = 0.25f;
        c.task.type = "multilabel";
        c.task.loss.clear();
        c.checkpoint.monitor = "auto";
        c.checkpoint.mode = "auto";
        panel.setConfig(c);
        QCOMPARE(runConfigToJson(panel.config()), runConfigToJson(c));
        d.dataset = "idx";
        panel.setConfig(c);
        QCOMPARE(runConfigToJson(panel.config()), runConfigToJson(c));
        // A size that is not HxW is named, and Start stays off.
        d.dataset = "path";
        panel.setConfig(c);
        panel.findChild<QLineEdit *>("resize")->setText("32x");
        QVERIFY2(panel.validationError().contains("Resize") && panel.validationError().contains("32x"), qPrintable(panel.validationError()));
        panel.findChild<QLineEdit *>("resize")->setText("32");
        QCOMPARE(panel.config().data.resize, (std::vector<int>{32, 32}));
    }

    // A short run on iris.csv from the panel: mlp, a fifth held out, the accuracy said at the end.
    void trainsOnIrisCsv()
    {
        TrainingPanel panel;
        const QString runs = m_dir.filePath("iris-runs");
        panel.setRunsDirectory(runs);
        RunConfig c = m_config;
        c.name = "iris";
        c.data.dataset = "path";
        c.data.path = data("iris/iris.csv").toStdString();
        c.data.testSplit = 0.2f;
        c.hidden = {16};
        c.optimizer.name = "adam";
        c.lr = 0.01;
        c.training.epochs = 30;
        c.schedule = defaultRunConfig().schedule; // as `netwright train` (cosine after 200 warm-up steps)
        panel.setConfig(c);
        panel.show();
        QTRY_VERIFY_WITH_TIMEOUT(panel.findChild<QLabel *>("modelFit")->text().startsWith("The model fits the data"), 30000);
        QVERIFY2(panel.validationError().isEmpty(), qPrintable(panel.validationError()));
        QSignalSpy finished(&panel, &TrainingPanel::runFinished);
        panel.start();
        QVERIFY(finished.wait(120000));
        QVERIFY2(finished.first().at(2).toString().isEmpty(), qPrintable(finished.first().at(2).toString()));
        const QString dir = finished.first().at(0).toString();
        QVERIFY(QFileInfo(dir).isDir());
        QCOMPARE(panel.curves()->evaluationPoints(), 30);
        QCOMPARE(panel.curves()->stepPoints(), 30 * 8); // 120 training samples in minibatches of 16
        const QString status = panel.statusText();
        const auto m = QRegularExpression("test accuracy ([0-9.]+)").match(status);
        QVERIFY2(m.hasMatch(), qPrintable(status));
        const double accuracy = m.captured(1).toDouble();
        qInfo("iris.csv from the panel: %s", qPrintable(status));
        QVERIFY2(accuracy > 0.8, qPrintable(status));
        QCOMPARE(panel.curves()->figureName(), QStringLiteral("test accuracy"));
    }

    // A regression from the panel: the form accepts it (the checkpoint monitor follows the task),
    // and the curves plot the test R², not an accuracy.
    void trainsARegressionFromThePanel()
    {
        TrainingPanel panel;
        panel.setRunsDirectory(m_dir.filePath("diabetes-runs"));
        RunConfig c = m_config;
        c.name = "diabetes";
        c.data.dataset = "path";
        c.data.path = data("diabetes/diabetes.csv").toStdString();
        c.data.testSplit = 0.2f;
        c.task.type = "regression";
        c.hidden = {32};
        c.optimizer.name = "adam";
        c.lr = 0.01;
        c.training.epochs = 20;
        c.training.batchSize = 16;
        panel.setConfig(c);
        panel.show();
        QTRY_VERIFY_WITH_TIMEOUT(panel.findChild<QLabel *>("modelFit")->text().startsWith("The model fits the data"), 30000);
        QVERIFY2(panel.validationError().isEmpty(), qPrintable(panel.validationError()));
        QCOMPARE(panel.config().checkpoint.monitor, std::string("auto"));
        QSignalSpy finished(&panel, &TrainingPanel::runFinished);
        panel.start();
        QVERIFY(finished.wait(120000));
        QVERIFY2(finished.first().at(2).toString().isEmpty(), qPrintable(finished.first().at(2).toString()));
        QCOMPARE(panel.curves()->evaluationPoints(), 20);
        QCOMPARE(panel.curves()->figureName(), QStringLiteral("test R²"));
        qInfo("diabetes.csv from the panel: %s", qPrintable(panel.statusText()));
    }
};

QTEST_MAIN(DataSectionGuiTest)
#include "data_section_gui_test.moc"
