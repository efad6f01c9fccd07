// SPDX-License-Identifier: Apache-2.0
// The training panel's form as a user meets it (offscreen, issue 17): the run name follows the
// model chosen (a zoo model or a model file) until the user names the run; a model file that does
// not fit the data is the form's error before Start, Start stays off and nothing is written; a
// long error wraps inside the form, which keeps its width, and the window neither widens nor
// saves a wider geometry.
#include "formats/graph_formats.h"
#include "gui/main_window.h"
#include "gui/data_section.h"
#include "gui/training_panel.h"
#include "gui/training_run.h"
#include "support/cli_support.h"
#include "zoo/model_zoo.h"

#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSignalSpy>
#include <QSplitter>
#include <QTemporaryDir>
#include <QTest>

using namespace netwright;
using namespace netwright::gui;

namespace {

QPushButton *button(QWidget *panel, const QString &text)
{
    for (QPushButton *b : panel->findChildren<QPushButton *>())
        if (b->text() == text)
            return b;
    return nullptr;
}

// The form's column: the scroll area on the left of the panel's splitter.
QScrollArea *formArea(QWidget *panel)
{
    auto *splitter = panel->findChild<QSplitter *>();
    return splitter ? qobject_cast<QScrollArea *>(splitter->widget(0)) : nullptr;
}

QStringList entries(const QString &dir)
{
    return QDir(dir).entryList(QDir::AllEntries | QDir::NoDotAndDotDot);
}

} // namespace

class TrainingFormGuiTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    RunConfig m_config;
    QString m_wideModel; // a LeNet-5 for 3×32×32 images, as ONNX: it does not fit Fashion-MNIST

private slots:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("netwright-test"));
        QCoreApplication::setApplicationName(QStringLiteral("training-form-gui-test"));
        QSettings().clear();
        QVERIFY(!test::fashionMnistSlice(m_dir.path(), 256, 64).isEmpty());
        m_config = defaultRunConfig();
        m_config.data.dataset = "idx";
        m_config.data.trainImages = m_dir.filePath("ti").toStdString();
        m_config.data.trainLabels = m_dir.filePath("tl").toStdString();
        m_config.data.testImages = m_dir.filePath("vi").toStdString();
        m_config.data.testLabels = m_dir.filePath("vl").toStdString();
        m_config.training.epochs = 1;
        m_config.training.threads = 1;

        ModelSpec spec;
        spec.name = "lenet5";
        spec.channels = 3;
        spec.height = spec.width = 32;
        const Graph model = buildZooModel(spec, InitScheme::KaimingUniform, 1);
        // A long path, as model files often have: the error that names it is long too.
        const QString deep = m_dir.filePath(QStringLiteral("exported-models/an-rgb-classifier-for-thirty-two-pixel-images/version-0001"));
        QVERIFY(QDir().mkpath(deep));
        m_wideModel = deep + QStringLiteral("/lenet5_rgb_32x32_exported_for_the_issue_17_trial.onnx");
        QFile f(m_wideModel);
        QVERIFY(f.open(QIODevice::WriteOnly));
        const std::string bytes = exportGraph(*graphFormat("onnx"), model, GraphExportOptions{});
        f.write(bytes.data(), static_cast<qint64>(bytes.size()));
    }

    // The run name is the model's until the user names the run: an mlp run goes to runs/mlp-…,
    // not runs/cnn-small-… (the default config's name).
    void runNameFollowsTheModel()
    {
        TrainingPanel panel;
        const QString runs = m_dir.filePath("runs-name");
        panel.setRunsDirectory(runs);
        panel.setConfig(m_config);
        panel.show();
        auto *model = panel.findChild<QComboBox *>("model");
        auto *name = panel.findChild<QLineEdit *>("runName");
        QVERIFY(model && name);
        QCOMPARE(name->text(), QStringLiteral("cnn-small"));
        model->setCurrentIndex(model->findData("mlp"));
        QCOMPARE(name->text(), QStringLiteral("mlp"));
        QCOMPARE(panel.config().name, std::string("mlp"));
        model->setCurrentIndex(model->findData("lenet5"));
        QCOMPARE(name->text(), QStringLiteral("lenet5"));
        // A model file: its base name.
        panel.setModelFile(m_wideModel);
        QCOMPARE(name->text(), QStringLiteral("lenet5_rgb_32x32_exported_for_the_issue_17_trial"));
        // A name the user types stays; cleared, the name follows the model again.
        name->selectAll();
        QTest::keyClicks(name, "my-run");
        model->setCurrentIndex(model->findData("mlp"));
        QCOMPARE(name->text(), QStringLiteral("my-run"));
        name->selectAll();
        QTest::keyClick(name, Qt::Key_Backspace);
        QCOMPARE(name->text(), QStringLiteral("mlp"));
        // A config whose name is its own keeps it.
        RunConfig named = m_config;
        named.name = "baseline";
        panel.setConfig(named);
        model->setCurrentIndex(model->findData("mlp"));
        QCOMPARE(name->text(), QStringLiteral("baseline"));

        // Start: the run directory is named after the model chosen.
        panel.setConfig(m_config);
        model->setCurrentIndex(model->findData("mlp"));
        QTRY_VERIFY_WITH_TIMEOUT(!panel.dataSection()->isBusy(), 30000);
        QVERIFY2(panel.validationError().isEmpty(), qPrintable(panel.validationError()));
        QSignalSpy finished(&panel, &TrainingPanel::runFinished);
        panel.start();
        QVERIFY(panel.run()->isRunning());
        const QString dir = panel.run()->runDirectory();
        QVERIFY2(QFileInfo(dir).fileName().startsWith("mlp-"), qPrintable(dir));
        panel.stop();
        QVERIFY(finished.wait(60000));
        for (const QString &entry : entries(runs))
            QVERIFY2(entry.startsWith("mlp-"), qPrintable(entry));
    }

    // A model file whose input does not fit the data (IDX files here) is the form's error before
    // Start, naming the file and both shapes; Start is off, and nothing is written.
    void mismatchIsShownBeforeStart()
    {
        TrainingPanel panel;
        const QString runs = m_dir.filePath("runs-mismatch");
        panel.setRunsDirectory(runs);
        panel.setConfig(m_config);
        panel.setModelFile(m_wideModel);
        panel.show();
        QTRY_VERIFY_WITH_TIMEOUT(!panel.dataSection()->isBusy(), 30000);
        const QString error = panel.validationError();
        QVERIFY2(error.contains("lenet5_rgb_32x32_exported_for_the_issue_17_trial.onnx") && error.contains("[3,32,32]")
                     && error.contains("[1,28,28]"),
                 qPrintable(error));
        QPushButton *start = button(&panel, "Start");
        QVERIFY(start);
        QVERIFY(!start->isEnabled());
        auto *shown = panel.findChild<QLabel *>("formError");
        QVERIFY(shown);
        QVERIFY(shown->isVisible());
        QCOMPARE(shown->text(), error);
        QTest::mouseClick(start, Qt::LeftButton);
        panel.start();
        QVERIFY(!panel.run()->isRunning());
        QVERIFY(entries(runs).isEmpty());
        // A zoo model fits: the error goes, Start comes on.
        auto *model = panel.findChild<QComboBox *>("model");
        model->setCurrentIndex(model->findData("lenet5"));
        QTRY_VERIFY_WITH_TIMEOUT(!panel.dataSection()->isBusy(), 30000);
        QVERIFY2(panel.validationError().isEmpty(), qPrintable(panel.validationError()));
        QVERIFY(start->isEnabled());
    }

    // A start the worker refuses (the data went away after the form checked them) writes nothing,
    // and its long error wraps: the form keeps its width, the window does not widen, and the
    // geometry it saves is the one it had.
    void longErrorsKeepTheFormAndTheWindow()
    {
        // The data under a long path without spaces: the error names it, as one long word.
        const QString deep = m_dir.filePath("data-exported-by-the-labelling-pipeline-for-the-fashion-classifier/"
                                            "version-0001-with-the-corrected-labels-and-the-held-out-test-images");
        QVERIFY(QDir().mkpath(deep));
        RunConfig c = m_config;
        for (auto [file, key] : {std::pair{"ti", &c.data.trainImages}, {"tl", &c.data.trainLabels}, {"vi", &c.data.testImages},
                                 {"vl", &c.data.testLabels}}) {
            QVERIFY(QFile::copy(m_dir.filePath(file), deep + "/" + file));
            *key = (deep + "/" + file).toStdString();
        }
        c.model = "mlp";
        c.name = "mlp";

        const QString runs = m_dir.filePath("runs-wide");
        int formWidth = 0;
        {
            MainWindow window;
            window.resize(1280, 800);
            window.show();
            QVERIFY(QTest::qWaitForWindowExposed(&window));
            TrainingPanel *panel = window.newTraining();
            panel->setRunsDirectory(runs);
            panel->setConfig(c);
            QTRY_VERIFY_WITH_TIMEOUT(!panel->dataSection()->isBusy(), 30000);
            QVERIFY2(panel->validationError().isEmpty(), qPrintable(panel->validationError()));
            QScrollArea *form = formArea(panel);
            QVERIFY(form);
            QTest::qWait(100);
            formWidth = form->width();
            QVERIFY2(formWidth > 300, qPrintable(QString::number(formWidth)));

            // A long error in the form (a model file that is not there, under a long path): it
            // wraps inside the form.
            panel->setModelFile(deep + "/the-model-exported-after-the-last-epoch-of-the-labelling-run.onnx");
            QVERIFY2(panel->validationError().contains("the-model-exported-after"), qPrintable(panel->validationError()));
            QTest::qWait(100);
            QCOMPARE(window.width(), 1280);
            QCOMPARE(form->width(), formWidth);
            auto *shown = panel->findChild<QLabel *>("formError");
            QVERIFY(shown->width() <= form->viewport()->width());
            QVERIFY(shown->height() > shown->fontMetrics().height()); // more than one line: wrapped
            const QString formError = panel->validationError(), formErrorTip = shown->toolTip();

            // A long error on the right, from a start the worker refuses.
            auto *model = panel->findChild<QComboBox *>("model");
            model->setCurrentIndex(model->findData("mlp"));
            QTRY_VERIFY_WITH_TIMEOUT(!panel->dataSection()->isBusy(), 30000);
            QVERIFY2(panel->validationError().isEmpty(), qPrintable(panel->validationError()));
            QVERIFY(QFile::remove(deep + "/ti"));
            QSignalSpy finished(panel, &TrainingPanel::runFinished);
            panel->start();
            QVERIFY(finished.wait(60000));
            const QString error = finished.first().at(2).toString();
            QVERIFY2(error.contains(deep + "/ti"), qPrintable(error));
            QVERIFY(entries(runs).isEmpty()); // nothing written
            auto *status = panel->findChild<QLabel *>("runStatus");
            QVERIFY(status);
            QVERIFY2(status->text().contains(error), qPrintable(status->text()));
            if (auto *box = panel->findChild<QMessageBox *>("runError"))
                box->close();
            QTest::qWait(200);
            QCOMPARE(window.width(), 1280);
            QCOMPARE(form->width(), formWidth);
            QVERIFY(status->width() < window.width());
            // The whole texts are the labels' tooltips.
            QCOMPARE(status->toolTip(), status->text());
            QCOMPARE(formErrorTip, formError);
            window.close(); // saves the geometry
        }
        // The next start comes back at the size the window had.
        MainWindow again;
        QCOMPARE(again.width(), 1280);
    }
};

QTEST_MAIN(TrainingFormGuiTest)
#include "training_form_gui_test.moc"
