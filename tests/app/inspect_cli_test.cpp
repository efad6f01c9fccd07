// SPDX-License-Identifier: Apache-2.0
// `netwright inspect` on real files: MindSpore checkpoints with every entry's dtype, shape, size and
// statistics matching a direct computation; a CNTK trainer checkpoint's learner state and its
// model's nodes; --json parses; a file that is not what it claims gives one clear line and exit 1.
#include "formats/mindspore/ckpt_file.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QProcess>
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
} // namespace

class InspectCliTest : public QObject {
    Q_OBJECT
private slots:
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
