// SPDX-License-Identifier: Apache-2.0
// `netwright train --model-file`: a LeNet-5 exported to ONNX by PyTorch (Debian's python3-torch,
// random weights) trains on a real Fashion-MNIST slice from the file's own weights, well above
// chance; the run directory keeps a copy of the file and its config names the copy, so the run
// still exports and resumes after the directory is moved; what cannot be trained is refused with
// one line naming the file and the reason.
#include "formats/mindspore/ckpt_file.h"
#include "formats/onnx/onnx_import.h"
#include "support/cli_support.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace netwright;

namespace {
test::RunResult run(const QStringList &args)
{
    return test::runNetwright(args);
}
} // namespace

class TrainModelFileTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_config;

private slots:
    void initTestCase()
    {
        QProcess py;
        py.start("/usr/bin/python3", {qEnvironmentVariable("NETWRIGHT_SOURCE_DIR") + "/tests/support/export_torch_models.py", m_dir.path(),
                                      "lenet5", "resnet18"});
        QVERIFY(py.waitForFinished(300000));
        QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
        const QString data = test::fashionMnistSlice(m_dir.path(), 3000, 500);
        QVERIFY(!data.isEmpty());
        m_config = m_dir.filePath("data.json");
        QFile f(m_config);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QStringLiteral(R"({%1, "training": {"epochs": 3, "batch_size": 32}, "schedule": {"warmup_steps": 0}})").arg(data).toUtf8());
    }

    void trainsAPyTorchOnnxFile()
    {
        const QString model = m_dir.filePath("lenet5_13.onnx");
        const QString out = m_dir.filePath("run");
        const test::RunResult r = run({"train", "--config", m_config, "--model-file", model, "--out", out, "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        // --json: the result alone on stdout, the progress on stderr.
        const QJsonObject result = QJsonDocument::fromJson(r.out.toUtf8()).object();
        QCOMPARE(result["run_dir"].toString(), out);
        QCOMPARE(result["global_step"].toInt(), 282);
        QCOMPARE(result["epochs_done"].toInt(), 3);
        QCOMPARE(result["stopped"].toBool(), false);
        QVERIFY2(r.err.contains("Run directory: " + out), qPrintable(r.err));

        // The run keeps its own copy of the file, named by the config relative to itself.
        QCOMPARE(test::contents(out + "/lenet5_13.onnx"), test::contents(model));
        const QJsonObject config = QJsonDocument::fromJson(test::contents(out + "/config.json")).object();
        QCOMPARE(config["model"].toObject()["file"].toString(), QStringLiteral("lenet5_13.onnx"));
        QCOMPARE(config["model"].toObject()["name"].toString(), QStringLiteral("lenet5_13"));

        // It learned from the file's weights: well above chance (10 %) on the 500 test images,
        // and the checkpoint holds PyTorch's parameter names, changed from the file's values.
        double accuracy = -1;
        QString last;
        for (const QByteArray &line : test::contents(out + "/checkpoints.jsonl").split('\n')) {
            const QJsonObject o = QJsonDocument::fromJson(line).object();
            if (o.contains("eval_accuracy")) // on the "saved" line, or a later "metrics" line
                accuracy = o["eval_accuracy"].toDouble();
            if (o["event"] == "saved")
                last = o["file"].toString();
        }
        qInfo("test accuracy after 3 epochs on 3,000 images: %.3f", accuracy);
        QVERIFY2(accuracy > 0.6, qPrintable(QString::number(accuracy)));
        QCOMPARE(result["eval_accuracy"].toDouble(), accuracy);
        QVERIFY(last.startsWith("lenet5_13-3_"));
        QCOMPARE(result["newest_checkpoint"].toString(), last);
        const Graph original = onnx_format::importOnnxFile(model.toStdString()).graph;
        const auto ckpt = mindspore::readCkpt((out + "/" + last).toStdString());
        int parameters = 0;
        for (const auto &e : ckpt.entries) {
            const auto it = original.initializers.find(e.name);
            if (it == original.initializers.end() || !original.trainable.count(e.name))
                continue;
            ++parameters;
            QCOMPARE(e.tensor.shape(), it->second.shape());
            QVERIFY2(QByteArray(reinterpret_cast<const char *>(e.tensor.data()), int(e.tensor.numel() * 4))
                         != QByteArray(reinterpret_cast<const char *>(it->second.data()), int(it->second.numel() * 4)),
                     e.name.c_str());
        }
        QCOMPARE(parameters, static_cast<int>(original.trainable.size()));

        // Moved elsewhere, the run still exports (the graph comes from its own copy) …
        const QString moved = m_dir.filePath("moved");
        QVERIFY(QDir().rename(out, moved));
        const test::RunResult e = run({"export", moved, "--format", "onnx", "--out", m_dir.filePath("trained.onnx"), "--json"});
        QVERIFY2(e.exitCode == 0, qPrintable(e.err));
        const QJsonObject exported = QJsonDocument::fromJson(e.out.toUtf8()).object();
        QCOMPARE(exported["file"].toString(), m_dir.filePath("trained.onnx"));
        QCOMPARE(exported["format"].toString(), QStringLiteral("onnx"));
        QCOMPARE(exported["bytes"].toInteger(), QFileInfo(m_dir.filePath("trained.onnx")).size());
        QVERIFY2(exported["verified"].toString().contains("bit-identical"), qPrintable(e.out));
        // … and resumes: its newest checkpoint restores into the copy (nothing is left to train),
        // and the finished run's files stay as they were (the metrics log keeps its end record).
        const QStringList files = QDir(moved).entryList(QDir::Files, QDir::Name);
        QFile log(moved + "/metrics.jsonl");
        QVERIFY(log.open(QIODevice::ReadOnly));
        const QByteArray before = log.readAll();
        log.close();
        QVERIFY(before.trimmed().endsWith("\"stopped\":false}"));
        const test::RunResult more = run({"resume", moved});
        QVERIFY2(more.exitCode == 0 && more.out.contains("Nothing left to train: the run had finished (3 epochs, global step 282, "),
                 qPrintable(more.out + more.err));
        QVERIFY2(!more.out.contains("Training:"), qPrintable(more.out));
        const test::RunResult again = run({"resume", moved, "--json"});
        const QJsonObject finishedResult = QJsonDocument::fromJson(again.out.toUtf8()).object();
        QCOMPARE(finishedResult["nothing_left"].toBool(), true);
        QCOMPARE(finishedResult["epochs_done"].toInt(), 3);
        QVERIFY(finishedResult.contains("eval_accuracy")); // the run's own last evaluation
        QVERIFY(std::abs(finishedResult["eval_accuracy"].toDouble() - result["eval_accuracy"].toDouble()) < 1e-6);
        QVERIFY(log.open(QIODevice::ReadOnly));
        QVERIFY(log.readAll() == before);
        log.close();
        QCOMPARE(QDir(moved).entryList(QDir::Files, QDir::Name), files);
        // A log cut by a kill just before its end record gets that record back, the same bytes.
        const QByteArray cut = before.left(before.trimmed().lastIndexOf('\n') + 1);
        QVERIFY(cut.size() < before.size() && cut.endsWith("}\n"));
        QVERIFY(log.open(QIODevice::WriteOnly | QIODevice::Truncate));
        log.write(cut);
        log.close();
        const test::RunResult mended = run({"resume", moved});
        QVERIFY2(mended.exitCode == 0 && mended.out.contains("now has it"), qPrintable(mended.out + mended.err));
        QVERIFY(log.open(QIODevice::ReadOnly));
        QVERIFY(log.readAll() == before);
    }

    void refusesWhatCannotTrain_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("message");
        // resnet18 takes 3-channel images; Fashion-MNIST has one.
        QTest::newRow("wrong input") << "resnet18_13.onnx" << "takes samples of shape [3,64,64], but the data has samples of shape [1,28,28]";
        QTest::newRow("not a model") << "data.json" << "is not a file Netwright reads";
        QTest::newRow("missing") << "nothing.onnx" << "nothing.onnx";
    }
    void refusesWhatCannotTrain()
    {
        QFETCH(QString, file);
        QFETCH(QString, message);
        const test::RunResult r = run({"train", "--config", m_config, "--model-file", m_dir.filePath(file), "--out", m_dir.filePath("bad")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.startsWith("netwright train: ") && r.err.count('\n') == 1, qPrintable(r.err));
        QVERIFY2(r.err.contains(message), qPrintable(r.err));
        QVERIFY2(r.err.contains(file), qPrintable(r.err));
        QVERIFY(!QFile::exists(m_dir.filePath("bad/config.json")));
    }
};

QTEST_GUILESS_MAIN(TrainModelFileTest)
#include "train_model_file_test.moc"
