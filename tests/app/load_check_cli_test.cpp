// SPDX-License-Identifier: Apache-2.0
// `netwright load-check` and `netwright train --init-from`, against files Debian's python3-torch
// writes (tests/support/torch_state_dict.py): a resnet18 state_dict (torch.save .pt) checks clean against the
// BatchNorm-folded ONNX export of another resnet18, and a run started from it gives PyTorch's
// outputs within 1e-5 (exported, then run by `netwright run`); the same weights under MindSpore's
// BatchNorm names against the export that keeps PyTorch's: the renames are suggested, the suggested
// lines as a --map file make everything match, strict mode fails naming what is missing.
#include "formats/npy/npy_file.h"
#include "support/cli_support.h"

#include <QDir>
#include <QFileInfo>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>

using namespace netwright;

namespace {

float maxAbsDiff(const Tensor &a, const Tensor &b)
{
    float worst = a.shape() == b.shape() ? 0.0f : INFINITY;
    for (int64_t i = 0; i < a.numel() && i < b.numel(); ++i)
        worst = std::max(worst, std::abs(a.data()[i] - b.data()[i]));
    return worst;
}

} // namespace

class LoadCheckCliTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

    QString file(const char *name) const { return m_dir.filePath(name); }

    // PyTorch's output for input.npy against what `netwright run MODEL` gives.
    float runDiff(const QString &model, const QString &out)
    {
        const test::RunResult r = test::runNetwright({"run", model, "--input", file("input.npy"), "--output", out});
        if (r.exitCode != 0)
            qWarning("%s", qPrintable(r.err));
        return r.exitCode != 0 ? INFINITY
                               : maxAbsDiff(readNpy((out + "/output_0.npy").toStdString()), readNpy(file("output.npy").toStdString()));
    }

private slots:
    void initTestCase()
    {
        QVERIFY(test::runSupportScript("torch_state_dict.py", {m_dir.path()}));
    }

    void checksAStateDictAgainstTheFoldedExport()
    {
        const test::RunResult r = test::runNetwright({"load-check", file("state.pt"), file("resnet18.onnx"), "--strict"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains("42 matched, 0 missing, 0 unexpected, 0 of another shape, 20 ignored."), qPrintable(r.out));
        QVERIFY2(r.out.contains("<- conv1.weight (module conv1, folded with BatchNorm bn1)"), qPrintable(r.out));
        QVERIFY2(r.out.contains("<- layer2.0.downsample.0.weight (module layer2.0.downsample.0, folded with BatchNorm layer2.0.downsample.1)"),
                 qPrintable(r.out));
        QVERIFY2(r.out.contains(QRegularExpression(R"(matched +fc\.weight +\[10,512\] +<- fc\.weight\n)")), qPrintable(r.out));
        QVERIFY2(!r.out.contains("Suggested"), qPrintable(r.out));
    }

    void suggestsMindSporeBatchNormRenames()
    {
        const test::RunResult r = test::runNetwright({"load-check", file("mindspore.npz"), file("resnet18_bn.onnx")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err)); // lenient: a report, not an error
        QVERIFY2(r.out.contains("22 matched, 80 missing, 80 unexpected, 0 of another shape, 0 ignored."), qPrintable(r.out));
        QVERIFY2(r.out.contains(QRegularExpression(R"(missing +bn1\.weight +\[64\] +\(in the model, not in the checkpoint\))")), qPrintable(r.out));
        QVERIFY2(r.out.contains(QRegularExpression(R"(unexpected +bn1\.gamma +\[64\] +\(in the checkpoint, not in the model\))")), qPrintable(r.out));
        const qsizetype at = r.out.indexOf("Suggested renames (save these lines as a --map file):\n");
        QVERIFY2(at >= 0, qPrintable(r.out));
        const QString map = r.out.mid(at).section('\n', 1);
        QCOMPARE(map.count('\n'), 80);
        for (const char *line : {"bn1.gamma bn1.weight  # MindSpore's BatchNorm name for PyTorch's\n",
                                 "bn1.beta bn1.bias  # MindSpore's BatchNorm name for PyTorch's\n",
                                 "layer1.0.bn2.moving_mean layer1.0.bn2.running_mean  # MindSpore's BatchNorm name for PyTorch's\n",
                                 "layer4.1.bn2.moving_variance layer4.1.bn2.running_var  # MindSpore's BatchNorm name for PyTorch's\n",
                                 "layer3.0.downsample.1.gamma layer3.0.downsample.1.weight  # MindSpore's BatchNorm name for PyTorch's\n"})
            QVERIFY2(map.contains(line), line);

        // Strict: exit 1, one line naming what is missing.
        const test::RunResult strict = test::runNetwright({"load-check", file("mindspore.npz"), file("resnet18_bn.onnx"), "--strict"});
        QCOMPARE(strict.exitCode, 1);
        QVERIFY2(strict.err.startsWith("netwright load-check: ") && strict.err.count('\n') == 1, qPrintable(strict.err));
        QVERIFY2(strict.err.contains("80 missing (bn1.weight, bn1.bias, bn1.running_mean, bn1.running_var, layer1.0.bn1.weight, …)"),
                 qPrintable(strict.err));
        QVERIFY2(strict.err.contains("80 unexpected (bn1.gamma, bn1.beta"), qPrintable(strict.err));

        // The suggested lines, as they were printed, are a --map file: then everything matches.
        QFile f(file("renames.txt"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(map.toUtf8());
        f.close();
        const test::RunResult mapped =
            test::runNetwright({"load-check", file("mindspore.npz"), file("resnet18_bn.onnx"), "--map", file("renames.txt"), "--strict", "--json"});
        QVERIFY2(mapped.exitCode == 0, qPrintable(mapped.out + mapped.err));
        const QJsonObject o = QJsonDocument::fromJson(mapped.out.toUtf8()).object();
        QCOMPARE(o["complete"].toBool(), true);
        QCOMPARE(o["matched"].toInt(), 102);
        QCOMPARE(o["missing"].toInt(), 0);
        QCOMPARE(o["unexpected"].toInt(), 0);
        QCOMPARE(o["suggestions"].toArray().size(), 0);
        bool viaMap = false;
        for (const auto &v : o["rows"].toArray()) {
            const QJsonObject row = v.toObject();
            viaMap = viaMap || (row["model_name"] == "bn1.running_var" && row["file_name"] == "bn1.moving_variance" && row["how"] == "map");
        }
        QVERIFY(viaMap);
    }

    void trainStartsFromTheStateDict()
    {
        // The export's own (random) weights are far from PyTorch's outputs.
        QVERIFY(runDiff(file("resnet18.onnx"), file("out-export")) > 1e-2f);
        // One epoch of 2 steps at a learning rate of 1e-30 (the shortest run train does) leaves
        // the loaded weights as they were: the run's checkpoint holds them.
        const QString run = file("run");
        const test::RunResult r = test::runNetwright({"train", "--init-from", file("state.pt"), "--model-file", file("resnet18.onnx"), "--data",
                                                      file("data.npz"), "--test-data", file("data.npz"), "--epochs", "1", "--batch-size", "2",
                                                      "--lr", "1e-30", "--threads", "2", "--out", run, "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY2(r.err.contains("Started from \"" + file("state.pt") + "\": 42 of 42 parameters loaded (40 with BatchNorm folded in)."),
                 qPrintable(r.err));
        const QJsonObject config = QJsonDocument::fromJson(test::contents(run + "/config.json")).object();
        QCOMPARE(config["model"].toObject()["init_from"].toString(), file("state.pt"));
        const QString exported = file("started.onnx");
        const test::RunResult e = test::runNetwright({"export", run, "--format", "onnx", "--out", exported});
        QVERIFY2(e.exitCode == 0, qPrintable(e.err));
        const float diff = runDiff(exported, file("out-started"));
        qInfo("resnet18 started from the state_dict: max |netwright - PyTorch| = %.3g", double(diff));
        QVERIFY2(diff < 1e-5f, qPrintable(QString::number(diff)));
    }

    void strictInitRefusesAFileThatDoesNotFit()
    {
        const test::RunResult r = test::runNetwright({"train", "--init-from", file("data.npz"), "--init-strict", "--model-file", file("resnet18.onnx"),
                                                      "--data", file("data.npz"), "--test-data", file("data.npz"), "--epochs", "1", "--out",
                                                      file("bad")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.startsWith("netwright train: Cannot load \"" + file("data.npz") + "\" into the model (strict): 42 missing ("), qPrintable(r.err));
        QVERIFY2(r.err.contains("1 unexpected (x)"), qPrintable(r.err));
        QVERIFY2(!QFileInfo::exists(file("bad")), "a refused start writes nothing: no run directory");
    }
};

QTEST_GUILESS_MAIN(LoadCheckCliTest)
#include "load_check_cli_test.moc"
