// SPDX-License-Identifier: Apache-2.0
// Nothing lost, and exact resume, as a user meets them: `netwright train` is killed with SIGKILL at
// 20+ random instants (mid-epoch, mid-evaluation, during saves); after every kill each checkpoint
// on disk reads back completely, and `netwright resume` continues. The run that finally completes
// has a metrics log and a final checkpoint byte-identical to an uninterrupted run. SIGINT stops
// cleanly with a checkpoint and exit code 130. Uses 2,000 real Fashion-MNIST images.
#include "formats/mindspore/ckpt_file.h"
#include "formats/mindspore/graph_meta.h"
#include "support/cli_support.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QFile>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using namespace netwright;
using netwright::test::binary;
using netwright::test::contents;

namespace {

// Every visible .ckpt in the directory reads back completely (CRC included).
QStringList unreadableCheckpoints(const QString &dir)
{
    QStringList bad;
    for (const QString &name : QDir(dir).entryList({"*.ckpt"}, QDir::Files)) {
        try {
            mindspore::readCkpt((dir + "/" + name).toStdString(), true);
        } catch (const std::exception &e) {
            bad << name + ": " + e.what();
        }
    }
    return bad;
}

} // namespace

class ResumeCliTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_config;

    QString path(const QString &n) const { return m_dir.filePath(n); }

private slots:
    void initTestCase()
    {
        const QString data = test::fashionMnistSlice(m_dir.path(), 2000, 500);
        QVERIFY(!data.isEmpty());
        m_config = path("run.json");
        QFile f(m_config);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QStringLiteral(R"({"name": "kill", "model": {"name": "cnn-bn"}, %1,
 "training": {"epochs": 8, "batch_size": 32, "threads": 2},
 "checkpoint": {"save_checkpoint_steps": 7, "keep_checkpoint_max": 3, "crc_check": true}})")
                    .arg(data)
                    .toUtf8());
    }

    void sigkillAtRandomInstantsThenResume()
    {
        // The uninterrupted reference.
        QProcess ref;
        ref.setStandardOutputFile(QProcess::nullDevice());
        ref.start(binary(), {"train", "--config", m_config, "--out", path("ref")});
        QVERIFY(ref.waitForFinished(300000));
        QCOMPARE(ref.exitCode(), 0);
        const QStringList finals = QDir(path("ref")).entryList({"*-8_63.ckpt"});
        QCOMPARE(finals.size(), 1);

        QRandomGenerator rng(20261123); // reproducible "random" instants
        int kills = 0, resumes = 0;
        bool finished = false;
        for (int round = 0; round < 200 && !finished; ++round) {
            QProcess p;
            p.setStandardOutputFile(QProcess::nullDevice());
            p.setStandardErrorFile(path("stderr.log"), QIODevice::Append);
            const QStringList command = test::trainOrResume(m_config, path("killed"));
            resumes += command.first() == QLatin1String("resume") ? 1 : 0;
            p.start(binary(), command);
            QVERIFY(p.waitForStarted());
            if (kills < 24) {
                const int ms = 100 + static_cast<int>(rng.bounded(400));
                if (!p.waitForFinished(ms)) {
                    ::kill(static_cast<pid_t>(p.processId()), SIGKILL);
                    QVERIFY(p.waitForFinished(10000));
                    ++kills;
                    const QStringList bad = unreadableCheckpoints(path("killed"));
                    QVERIFY2(bad.isEmpty(), qPrintable(bad.join("; ")));
                    continue;
                }
            } else {
                QVERIFY(p.waitForFinished(300000));
            }
            QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, qPrintable(QString::fromUtf8(contents(path("stderr.log")))));
            finished = true;
        }
        QVERIFY(finished);
        qInfo("%d SIGKILLs, %d resumes", kills, resumes);
        QVERIFY(kills >= 20);
        QVERIFY2(contents(path("killed/metrics.jsonl")) == contents(path("ref/metrics.jsonl")), "metrics logs differ");
        QVERIFY2(contents(path("killed/") + finals[0]) == contents(path("ref/") + finals[0]), "final checkpoints differ");
        // Whatever a kill interrupted (a checkpoint, the graph dump, the config, the metrics rewrite)
        // left no temporary file behind once the run was resumed.
        const QStringList temps = QDir(path("killed")).entryList(QDir::Files | QDir::Hidden).filter(".tmp-");
        QVERIFY2(temps.isEmpty(), qPrintable(temps.join(", ")));
    }

    void trainWithRestoreContinuesTheRun()
    {
        // The same run config with checkpoint.restore: running the same `train` command again
        // continues where the first one was stopped, and ends as the reference run did.
        QFile cfg(m_config);
        QVERIFY(cfg.open(QIODevice::ReadOnly));
        QByteArray json = cfg.readAll();
        json.replace("\"crc_check\": true}", "\"crc_check\": true, \"restore\": true}");
        QVERIFY(json.contains("\"restore\": true"));
        QFile restoring(path("restore.json"));
        QVERIFY(restoring.open(QIODevice::WriteOnly));
        restoring.write(json);
        restoring.close();
        const QStringList args{"train", "--config", path("restore.json"), "--out", path("restored")};
        QProcess first;
        first.setStandardOutputFile(QProcess::nullDevice());
        first.start(binary(), args);
        QVERIFY(first.waitForStarted());
        // Under way first: on a busy machine (the suite runs two tests at a time) startup alone can
        // take seconds, and a SIGINT before the handler is installed kills the process.
        QVERIFY2(test::waitForLoggedSteps(path("restored/metrics.jsonl"), 150, first) >= 150, "training did not get under way");
        ::kill(static_cast<pid_t>(first.processId()), SIGINT);
        QVERIFY(first.waitForFinished(60000));
        QCOMPARE(first.exitCode(), 130);
        QProcess second;
        second.start(binary(), args);
        QVERIFY(second.waitForFinished(300000));
        QCOMPARE(second.exitCode(), 0);
        QVERIFY(QString::fromUtf8(second.readAllStandardOutput()).contains("Resuming from"));
        QVERIFY2(contents(path("restored/metrics.jsonl")) == contents(path("ref/metrics.jsonl")), "metrics logs differ");
        const QString final = QDir(path("ref")).entryList({"*-8_63.ckpt"}).value(0);
        QVERIFY(!final.isEmpty());
        QVERIFY2(contents(path("restored/") + final) == contents(path("ref/") + final), "final checkpoints differ");
    }

    void sigintStopsCleanlyWithACheckpoint()
    {
        QProcess p;
        p.start(binary(), {"train", "--config", m_config, "--out", path("interrupted")});
        QVERIFY(p.waitForStarted());
        // Wait until training is under way, then ask it to stop.
        QVERIFY2(test::waitForLoggedSteps(path("interrupted/metrics.jsonl"), 30, p) >= 30, "training did not get under way");
        ::kill(static_cast<pid_t>(p.processId()), SIGINT);
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QCOMPARE(p.exitCode(), 130);
        const QString out = QString::fromUtf8(p.readAllStandardOutput());
        QVERIFY2(out.contains("netwright resume"), qPrintable(out));
        // The step it stopped at is saved.
        const QByteArray log = contents(path("interrupted/metrics.jsonl"));
        const QByteArray last = log.trimmed().split('\n').last();
        QVERIFY(last.contains("\"stopped\":true"));
        const int at = last.indexOf("\"global_step\":") + 14;
        const int step = last.mid(at, last.indexOf(',', at) - at).toInt();
        bool found = false;
        for (const QString &name : QDir(path("interrupted")).entryList({"*.ckpt"})) {
            const auto f = mindspore::readCkpt(path("interrupted/" + name).toStdString());
            for (const auto &e : f.entries)
                if (e.name == "step_num" && e.tensor.dataAs<int64_t>()[0] == step)
                    found = true;
        }
        QVERIFY2(found, "no checkpoint at the step where training stopped");
        // MindSpore's side file: <prefix>-graph.meta, once, owner-only, an anf_ir graph dump.
        const QString meta = path("interrupted/cnn-bn-graph.meta");
        QVERIFY(QFile::exists(meta));
        QCOMPARE(QFile(meta).permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther), QFileDevice::Permissions());
        const auto graph = mindspore::readGraphMeta(meta.toStdString());
        QCOMPARE(graph.opCounts.at("Conv2D"), 2);
        QCOMPARE(graph.opCounts.at("BatchNorm"), 2);
        QCOMPARE(graph.opCounts.at("SparseSoftmaxCrossEntropyWithLogits"), 1);

        // `netwright history` lists every checkpoint, kept or deleted (with its rule).
        QProcess h;
        h.start(binary(), {"history", "--json", path("interrupted")});
        QVERIFY(h.waitForFinished(30000));
        QCOMPARE(h.exitCode(), 0);
        const QJsonArray list = QJsonDocument::fromJson(h.readAllStandardOutput()).object()["checkpoints"].toArray();
        int kept = 0, deleted = 0;
        for (const QJsonValue &v : list) {
            const QJsonObject o = v.toObject();
            if (o["status"] == "kept") {
                ++kept;
                QVERIFY(QFile::exists(path("interrupted/") + o["file"].toString()));
            } else if (o["status"] == "deleted") {
                ++deleted;
                QCOMPARE(o["rule"].toString(), QStringLiteral("keep_checkpoint_max"));
                QVERIFY(!QFile::exists(path("interrupted/") + o["file"].toString()));
            }
        }
        QCOMPARE(kept, QDir(path("interrupted")).entryList({"*.ckpt"}).size());
        QCOMPARE(list.last().toObject()["reason"].toString(), QStringLiteral("stopped"));
        QCOMPARE(list.last().toObject()["global_step"].toInt(), step);
        QVERIFY(deleted > 0); // 30+ steps at one checkpoint every 7 with keep 3
    }
};

QTEST_GUILESS_MAIN(ResumeCliTest)
#include "resume_cli_test.moc"
