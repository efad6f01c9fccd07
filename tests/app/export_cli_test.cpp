// SPDX-License-Identifier: Apache-2.0
// `netwright export` as a user runs it: from a run directory it picks the checkpoint with the best
// test accuracy, writes ONNX that reads back verified, and records the source checkpoint (file,
// SHA-256, step, metrics) and the Netwright version in metadata_props; a fixed batch on request;
// CNTK model-v2 read back by our reader and by protoc; MindIR and AIR; `convert` around every
// format and back with the weights unchanged; clear errors, with nothing written.
#include "formats/registry.h"
#include "support/cli_support.h"
#include "support/fashion_run.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <cstring>
#include <map>

using namespace netwright;
using netwright::test::binary;
using netwright::test::contents;

namespace {

int run(const QStringList &args, QString *out = nullptr, QString *err = nullptr)
{
    QProcess p;
    p.start(binary(), args);
    p.waitForFinished(300000);
    if (out)
        *out = QString::fromUtf8(p.readAllStandardOutput());
    if (err)
        *err = QString::fromUtf8(p.readAllStandardError());
    return p.exitCode();
}

} // namespace

class ExportCliTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString path(const QString &n) const { return m_dir.filePath(n); }

private slots:
    void initTestCase()
    {
        const QString config = test::writeFashionRunConfig(m_dir.path(), 1000, 300, "lenet5", R"("epochs": 3, "batch_size": 50, "threads": 2)",
                                                           R"("checkpoint": {"keep_checkpoint_max": 5})");
        QVERIFY(!config.isEmpty());
        QCOMPARE(run({"train", "--config", config, "--out", path("run")}), 0);
    }

    void exportsTheBestCheckpointWithItsProvenance()
    {
        // The best epoch by test accuracy, from the run's own history.
        QString best;
        double bestAccuracy = -1;
        for (const QByteArray &line : contents(path("run/checkpoints.jsonl")).split('\n')) {
            const QJsonObject o = QJsonDocument::fromJson(line).object();
            if (o["event"] == "saved" && o.contains("eval_accuracy") && o["eval_accuracy"].toDouble() > bestAccuracy) {
                bestAccuracy = o["eval_accuracy"].toDouble();
                best = o["file"].toString();
            }
        }
        QVERIFY(!best.isEmpty());
        QString out;
        QCOMPARE(run({"export", path("run"), "--out", path("lenet5.onnx")}, &out), 0);
        QVERIFY2(out.contains(best) && out.contains("Verified: ") && out.contains("bit-identical"), qPrintable(out));

        const ModelDescription d = describeFile(path("lenet5.onnx").toStdString());
        std::map<std::string, std::string> props(d.properties.begin(), d.properties.end());
        QCOMPARE(QString::fromStdString(props["metadata.netwright.source"]), best);
        QFile ckpt(path("run/") + best);
        QVERIFY(ckpt.open(QIODevice::ReadOnly));
        QCOMPARE(QString::fromStdString(props["metadata.netwright.source_sha256"]),
                 QString::fromLatin1(QCryptographicHash::hash(ckpt.readAll(), QCryptographicHash::Sha256).toHex()));
        QCOMPARE(QString::fromStdString(props["metadata.netwright.eval_accuracy"]).toDouble(), bestAccuracy);
        QVERIFY(!props["metadata.netwright.version"].empty() && props["metadata.netwright.global_step"] != "0");
        QCOMPARE(props["opset_import"], std::string("ai.onnx 13"));
        QCOMPARE(d.inputs.at(0).dimNames.at(0), std::string("batch"));
        QCOMPARE(d.parameters.size(), size_t(10)); // 5 layers × weight and bias
    }

    void fixedBatchAndOpset()
    {
        QCOMPARE(run({"export", path("run"), "--opset", "11", "--static-batch", "--out", path("fixed.onnx")}), 0);
        const ModelDescription d = describeFile(path("fixed.onnx").toStdString());
        QCOMPARE(d.inputs.at(0).shape, (std::vector<int64_t>{1, 1, 28, 28}));
        std::map<std::string, std::string> props(d.properties.begin(), d.properties.end());
        QCOMPARE(props["opset_import"], std::string("ai.onnx 11"));

        // --input-shape: N is the static batch (the probe runs at it too); a dimension the model
        // fixes must agree, or nothing is written and the dimension is named.
        QString out, err;
        QCOMPARE(run({"export", path("run"), "--static-batch", "--input-shape", "4,1,28,28", "--out", path("four.onnx")}, &out, &err), 0);
        QCOMPARE(describeFile(path("four.onnx").toStdString()).inputs.at(0).shape, (std::vector<int64_t>{4, 1, 28, 28}));
        // A static export keeps the batch a file states; --input-shape sets another.
        QCOMPARE(run({"convert", path("four.onnx"), path("four.mindir"), "--static-batch"}, &out, &err), 0);
        QCOMPARE(describeFile(path("four.mindir").toStdString()).inputs.at(0).shape, (std::vector<int64_t>{4, 1, 28, 28}));
        QCOMPARE(run({"convert", path("four.onnx"), path("eight.mindir"), "--static-batch", "--input-shape", "8x1x28x28"}, &out, &err), 0);
        QCOMPARE(describeFile(path("eight.mindir").toStdString()).inputs.at(0).shape, (std::vector<int64_t>{8, 1, 28, 28}));
        QCOMPARE(run({"export", path("run"), "--input-shape", "1,3,28,28", "--out", path("three.onnx")}, &out, &err), 1);
        QVERIFY2(err.startsWith("netwright export: Cannot give") && err.contains("fixes dimension 1 at 1"), qPrintable(err));
        QVERIFY(!QFile::exists(path("three.onnx")));
    }

    void cntkModelV2()
    {
        QString out;
        QCOMPARE(run({"export", path("run"), "--format", "cntk", "--out", path("lenet5.model")}, &out), 0);
        QVERIFY2(out.contains("CNTK model-v2") && out.contains("Verified: 10 tensors"), qPrintable(out));
        const ModelDescription d = describeFile(path("lenet5.model").toStdString());
        QCOMPARE(QString::fromStdString(d.format), QStringLiteral("cntk-model"));
        QCOMPARE(d.parameters.size(), size_t(10));
        QCOMPARE(d.inputs.size(), size_t(1)); // the data only: no labels, no criteria
        std::map<std::string, int> ops;
        for (const auto &n : d.nodes)
            ++ops[n.opType];
        QCOMPARE(ops["Convolution"], 2);
        QCOMPARE(ops["TransposeTimes"], 3);
        QCOMPARE(ops.count("CrossEntropyWithSoftmax"), size_t(0));
        // An independent reader: protoc with the schema restated from cntk-v2.md.
        QProcess protoc;
        protoc.setStandardInputFile(path("lenet5.model"));
        const QString proto = qEnvironmentVariable("NETWRIGHT_SOURCE_DIR") + "/proto";
        protoc.start("protoc", {"--proto_path=" + proto, "--decode=CNTK.proto.Dictionary", proto + "/cntk.proto"});
        QVERIFY(protoc.waitForFinished(60000));
        QCOMPARE(protoc.exitCode(), 0);
        QCOMPARE(protoc.readAllStandardOutput().count("string_value: \"PrimitiveFunction\""), static_cast<qsizetype>(d.nodes.size()));
    }

    void mindirAndAir()
    {
        // The same best checkpoint as MindIR and AIR, verified by importing each back.
        for (const QString format : {QStringLiteral("mindir"), QStringLiteral("air")}) {
            QString out;
            QCOMPARE(run({"export", path("run"), "--format", format, "--out", path("lenet5.") + format}, &out), 0);
            QVERIFY2(out.contains("Verified: 10 tensors") && out.contains("outputs on a probe batch equal"), qPrintable(out));
            const ModelDescription d = describeFile((path("lenet5.") + format).toStdString());
            QCOMPARE(QString::fromStdString(d.format), format);
            QCOMPARE(d.parameters.size(), size_t(10));
            std::map<std::string, int> ops;
            for (const auto &n : d.nodes)
                ++ops[n.opType];
            QCOMPARE(ops[format == "mindir" ? "Conv2D" : "Conv2D"], 2);
            QCOMPARE(ops[format == "mindir" ? "MatMul" : "MatMulV2"], 3);
            if (format == "mindir") {
                std::map<std::string, std::string> props(d.properties.begin(), d.properties.end());
                QCOMPARE(props["mind_ir_version"], std::string("1"));
                QVERIFY(props.count("user_info.netwright.source_sha256")); // provenance, as in ONNX
            }
        }
    }

    void convertsAroundEveryFormat()
    {
        // ONNX → MindIR → AIR → CNTK → ONNX: every step verified, and the last file holds the
        // first one's weights bit for bit.
        const QStringList chain{path("lenet5.onnx"), path("c1.mindir"), path("c2.air"), path("c3.model"), path("c4.onnx")};
        for (int i = 0; i + 1 < chain.size(); ++i) {
            QString out, err;
            QCOMPARE(run({"convert", chain[i], chain[i + 1]}, &out, &err), 0);
            QVERIFY2(out.contains("Verified: 10 tensors"), qPrintable(out + err));
        }
        const ModelDescription first = describeFile(chain.first().toStdString()), last = describeFile(chain.last().toStdString());
        QCOMPARE(last.parameters.size(), first.parameters.size());
        std::map<std::string, const Tensor *> byName;
        for (const auto &p : first.parameters)
            byName[p.name] = &*p.value;
        for (const auto &p : last.parameters) {
            QVERIFY2(byName.count(p.name), p.name.c_str());
            const Tensor &a = *byName[p.name];
            QCOMPARE(p.value->numel(), a.numel());
            QVERIFY2(std::memcmp(p.value->raw(), a.raw(), a.byteSize()) == 0, p.name.c_str());
        }
    }

    void clearErrorsAndNothingWritten()
    {
        QString err;
        QCOMPARE(run({"export", path("run"), "--format", "tflite", "--out", path("x.tflite")}, nullptr, &err), 1);
        QVERIFY2(err.contains("--format \"tflite\" is not supported (onnx, mindir, air, cntk are)"), qPrintable(err));
        QVERIFY(!QFile::exists(path("x.tflite")));
        QCOMPARE(run({"convert", path("lenet5.onnx"), path("x.tflite")}, nullptr, &err), 1);
        QVERIFY2(err.contains("the extension names no format Netwright writes"), qPrintable(err));
        // A checkpoint alone has no graph.
        QVERIFY(QFile::copy(path("run/") + QDir(path("run")).entryList({"*.ckpt"}).first(), path("alone.ckpt")));
        QCOMPARE(run({"export", path("alone.ckpt"), "--format", "mindir"}, nullptr, &err), 1);
        QVERIFY2(err.contains("alone.ckpt\" is a checkpoint outside a run directory"), qPrintable(err));
        QVERIFY(!QFile::exists(path("alone.mindir")));
        QCOMPARE(run({"export", path("run"), "--opset", "9", "--out", path("old.onnx")}, nullptr, &err), 1);
        QVERIFY2(err.contains("opsets 11–17"), qPrintable(err));
        QVERIFY(!QFile::exists(path("old.onnx")));
        QCOMPARE(run({"export", m_dir.path(), "--out", path("none.onnx")}, nullptr, &err), 1);
        QVERIFY2(err.contains("has no config.json"), qPrintable(err));
    }
};

QTEST_GUILESS_MAIN(ExportCliTest)
#include "export_cli_test.moc"
