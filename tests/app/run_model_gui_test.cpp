// SPDX-License-Identifier: Apache-2.0
// "Run on Inputs…" driven as a user would (offscreen): ONNX's test_add model opened in the window,
// its two inputs listed with their element type and shape, a .pb file chosen for each, the run
// (on a pool thread) and its output in the Outputs tab and the tensor inspector — values equal to
// ONNX's expected output_0.pb, and the inspector's .npy read back by numpy equal to it too. A file
// of the wrong shape or element type, or no file, shows the engine's message naming the input
// and the file in the dialog, and changes nothing: the files chosen, the outputs and the inspector
// stay as they were. Run ▸ Run This Model on Inputs opens the same dialog; a checkpoint has none.
// NETWRIGHT_SCREENSHOTS=DIR writes DIR/run-on-inputs-output.png and DIR/run-on-inputs-error.png (the docs').
#include "support/document_support.h"
#include "core/tensor_stats.h"
#include "formats/model_runner.h"
#include "formats/npy/npy_file.h"
#include "graph/graph_view.h"
#include "gui/main_window.h"
#include "gui/model_document.h"
#include "gui/run_model_dialog.h"
#include "tensor/tensor_inspector.h"
#include "tensor/tensor_slice_view.h"

#include <QAction>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>
#include <QTableView>
#include <QProcess>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>

#include <cstring>

using namespace netwright;
using namespace netwright::gui;

using netwright::test::fixture;
using netwright::test::isolateSettings;

namespace {

const QString kAdd = QStringLiteral("/usr/share/libonnx-testdata/data/node/test_add");


bool sameTensor(const Tensor &a, const Tensor &b)
{
    return a.dtype() == b.dtype() && a.shape() == b.shape() && a.byteSize() == b.byteSize()
           && std::memcmp(a.raw(), b.raw(), a.byteSize()) == 0;
}

// Clicks Run and waits for the run to end; the error it ended with (empty: it ran).
QString runAndWait(RunModelDialog *dialog)
{
    QSignalSpy finished(dialog, &RunModelDialog::runFinished);
    QTest::mouseClick(dialog->runButton(), Qt::LeftButton);
    if (finished.isEmpty() && !finished.wait(60000))
        return QStringLiteral("(the run did not finish)");
    return finished.first().first().toString();
}

} // namespace

class RunModelGuiTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void initTestCase()
    {
        isolateSettings(m_dir.filePath("settings"));
    }

    void runsTheOpenModelAndShowsItsOutputs()
    {
        MainWindow w;
        w.show();
        ModelDocument *doc = w.openFile(kAdd + "/model.onnx");
        QTRY_VERIFY_WITH_TIMEOUT(doc->isLoaded() || !doc->errorText().isEmpty(), 60000);
        QVERIFY2(doc->isLoaded(), qPrintable(doc->errorText()));
        QVERIFY(doc->isRunnable());
        QTRY_VERIFY_WITH_TIMEOUT(doc->graphView()->isLaidOut(), 60000);

        // The document's button opens the dialog, which lists the model's inputs.
        QToolButton *button = nullptr;
        for (QToolButton *b : doc->findChildren<QToolButton *>())
            if (b->text() == QStringLiteral("Run on Inputs…"))
                button = b;
        QVERIFY(button && button->isVisible());
        QTest::mouseClick(button, Qt::LeftButton);
        RunModelDialog *dialog = doc->runDialog();
        QVERIFY(dialog && dialog->isVisible());
        QTRY_VERIFY_WITH_TIMEOUT(dialog->isReady(), 60000);
        QCOMPARE(dialog->inputCount(), 2);
        QTableWidget *inputs = dialog->inputTable();
        QCOMPARE(inputs->item(0, 0)->text(), QStringLiteral("x"));
        QCOMPARE(inputs->item(1, 0)->text(), QStringLiteral("y"));
        QCOMPARE(inputs->item(0, 1)->text(), QStringLiteral("float32"));
        QCOMPARE(inputs->item(1, 2)->text(), QStringLiteral("[3,4,5]"));
        QCOMPARE(dialog->statusText(), QStringLiteral("2 inputs, 1 output."));

        // No file for y: said, and nothing runs.
        QTest::keyClicks(dialog->fileField(0), kAdd + "/test_data_set_0/input_0.pb");
        QVERIFY(runAndWait(dialog).contains("Choose a file for input \"y\""));
        QVERIFY(dialog->errorText().contains("\"y\""));
        QVERIFY(doc->outputs().empty());

        // Both files: the output, as ONNX computed it. The click returns at once (the run is on a
        // pool thread; its end comes through the event loop), Run off until then.
        dialog->setInputFile(1, kAdd + "/test_data_set_0/input_1.pb");
        QSignalSpy finished(dialog, &RunModelDialog::runFinished);
        QTest::mouseClick(dialog->runButton(), Qt::LeftButton);
        QVERIFY(finished.isEmpty());
        QVERIFY(!dialog->runButton()->isEnabled());
        QVERIFY(doc->outputs().empty());
        QVERIFY(finished.wait(60000));
        const QString error = finished.first().first().toString();
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QVERIFY(dialog->runButton()->isEnabled());
        QVERIFY(dialog->errorText().isEmpty());
        QVERIFY2(dialog->statusText().startsWith("1 output in ") && dialog->statusText().contains(": sum float32 [3,4,5]."),
                 qPrintable(dialog->statusText()));
        const Tensor expected = readTensorFile((kAdd + "/test_data_set_0/output_0.pb").toStdString());
        QCOMPARE(doc->outputs().size(), size_t(1));
        QCOMPARE(doc->outputs()[0].name, std::string("sum"));
        QVERIFY(sameTensor(doc->outputs()[0].value, expected));
        // The Outputs tab lists it, and the inspector shows it: name, type, shape, statistics, values.
        QTableWidget *outputs = doc->outputTable();
        QCOMPARE(outputs->rowCount(), 1);
        QCOMPARE(outputs->item(0, 0)->text(), QStringLiteral("sum"));
        QCOMPARE(outputs->item(0, 2)->text(), QStringLiteral("[3,4,5]"));
        widgets::TensorInspector *inspector = doc->tensorInspector();
        auto *side = qobject_cast<QTabWidget *>(inspector->parentWidget()->parentWidget());
        QVERIFY(side && side->currentWidget() == inspector);
        QVERIFY(inspector->value() && inspector->value()->value);
        QCOMPARE(inspector->value()->name, std::string("sum"));
        QCOMPARE(inspector->value()->dtype, std::string("float32"));
        QVERIFY(sameTensor(*inspector->value()->value, expected));
        const TensorStats s = computeStats(expected);
        QVERIFY2(inspector->statisticsText().contains(QString::number(s.min, 'g', 7))
                     && inspector->statisticsText().contains(QString::number(s.max, 'g', 7))
                     && inspector->statisticsText().contains(QString::number(s.mean, 'g', 7)),
                 qPrintable(inspector->statisticsText()));
        // [3,4,5] as slices sum[k, :, :]: every element, slice by slice.
        QAbstractItemModel *values = inspector->table()->model();
        QCOMPARE(values->rowCount(), 4);
        QCOMPARE(values->columnCount(), 5);
        const float *e = expected.dataAs<float>();
        for (int k = 0; k < 3; ++k) {
            inspector->sliceView()->indexBox(0)->setValue(k);
            QCOMPARE(inspector->sliceView()->sliceLabel()->text(), QStringLiteral("sum[%1, :, :]").arg(k));
            for (int i = 0; i < 20; ++i)
                QCOMPARE(values->index(i / 5, i % 5).data().toString(), QString::number(e[k * 20 + i], 'g', 7));
        }
        inspector->sliceView()->indexBox(0)->setValue(0);
        // Export .npy…: numpy reads back exactly ONNX's expected output.
        const QString npy = m_dir.filePath("sum.npy");
        QString exportError;
        QVERIFY2(inspector->exportNpy(npy, &exportError), qPrintable(exportError));
        QProcess py;
        py.start("/usr/bin/python3", {"-c",
                                      "import numpy, onnx, sys; from onnx import numpy_helper as h\n"
                                      "a = numpy.load(sys.argv[1]); b = h.to_array(onnx.load_tensor(sys.argv[2]))\n"
                                      "print(a.dtype == b.dtype and a.shape == b.shape and bool((a == b).all()))",
                                      npy, kAdd + "/test_data_set_0/output_0.pb"});
        QVERIFY(py.waitForFinished(60000));
        QCOMPARE(QString::fromUtf8(py.readAllStandardOutput()).trimmed(), QStringLiteral("True"));

        const QString shots = qEnvironmentVariable("NETWRIGHT_SCREENSHOTS");
        if (!shots.isEmpty()) {
            QTest::qWait(300);
            QVERIFY(w.grab().save(shots + "/run-on-inputs-output.png"));
        }

        // A file of the wrong shape: the engine's message, naming the input, the file and both
        // shapes, in the dialog; the outputs and the inspector stay, and so do the files chosen.
        const QString wrongShape = m_dir.filePath("y-3x4.npy");
        writeNpy(wrongShape.toStdString(), Tensor::zeros({3, 4}));
        dialog->fileField(1)->clear();
        QTest::keyClicks(dialog->fileField(1), wrongShape);
        const QString shapeError = runAndWait(dialog);
        QVERIFY2(shapeError.contains("Input \"y\"") && shapeError.contains(wrongShape) && shapeError.contains("[3,4,5]")
                     && shapeError.contains("[3,4]"),
                 qPrintable(shapeError));
        QCOMPARE(dialog->errorText(), shapeError);
        if (!shots.isEmpty()) {
            QTest::qWait(300);
            QVERIFY(dialog->grab().save(shots + "/run-on-inputs-error.png"));
        }
        QVERIFY(dialog->runButton()->isEnabled());
        QCOMPARE(dialog->fileField(0)->text(), kAdd + "/test_data_set_0/input_0.pb");
        QCOMPARE(dialog->fileField(1)->text(), wrongShape);
        QCOMPARE(doc->outputs().size(), size_t(1));
        QVERIFY(sameTensor(doc->outputs()[0].value, expected));
        QCOMPARE(outputs->rowCount(), 1);
        QVERIFY(inspector->value() && sameTensor(*inspector->value()->value, expected));
        QCOMPARE(inspector->table()->model()->index(0, 0).data().toString(), QString::number(e[0], 'g', 7));

        // Another element type: named the same way.
        const QString wrongType = m_dir.filePath("x-int64.npy");
        writeNpy(wrongType.toStdString(), Tensor::zeros({3, 4, 5}, DType::Int64));
        dialog->setInputFile(0, wrongType);
        dialog->setInputFile(1, kAdd + "/test_data_set_0/input_1.pb");
        const QString typeError = runAndWait(dialog);
        QVERIFY2(typeError.contains("Input \"x\" takes float32") && typeError.contains(wrongType) && typeError.contains("int64"),
                 qPrintable(typeError));
        QVERIFY(sameTensor(*inspector->value()->value, expected));

        // And right again: the run replaces the outputs.
        dialog->setInputFile(0, kAdd + "/test_data_set_0/input_1.pb");
        QVERIFY(runAndWait(dialog).isEmpty());
        QVERIFY(dialog->errorText().isEmpty());
        const float *y = readTensorFile((kAdd + "/test_data_set_0/input_1.pb").toStdString()).dataAs<float>();
        QCOMPARE(inspector->value()->value->dataAs<float>()[7], y[7] + y[7]);
    }

    // Run ▸ Run This Model on Inputs opens the current document's dialog; a checkpoint has none.
    void menuEntryAndCheckpoint()
    {
        MainWindow w;
        w.show();
        ModelDocument *doc = w.openFile(kAdd + "/model.onnx");
        QTRY_VERIFY_WITH_TIMEOUT(doc->isLoaded(), 60000);
        QAction *action = nullptr;
        for (QAction *a : w.findChildren<QAction *>())
            if (a->text() == QStringLiteral("Run This Model on &Inputs…"))
                action = a;
        QVERIFY(action);
        action->trigger();
        QVERIFY(doc->runDialog() && doc->runDialog()->isVisible());

        ModelDocument *ckpt = w.openFile(fixture("mindspore-ckpt/mindarmour_checkpoint_lenet-10_1875.ckpt"));
        QTRY_VERIFY_WITH_TIMEOUT(ckpt->isLoaded() || !ckpt->errorText().isEmpty(), 60000);
        QVERIFY2(ckpt->isLoaded(), qPrintable(ckpt->errorText()));
        QVERIFY(!ckpt->isRunnable());
        action->trigger();
        QVERIFY(!ckpt->runDialog());
    }
};

QTEST_MAIN(RunModelGuiTest)
#include "run_model_gui_test.moc"
