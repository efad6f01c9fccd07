// SPDX-License-Identifier: Apache-2.0
// `netwright train --plan` against reality: the plan of a run (written, deleted by which rule,
// kept) is what the same run then does on disk and logs in checkpoints.jsonl, for MindSpore rules
// (steps trigger, epoch ends, keep-max, keep_period, save_last) and for CNTK's (minibatch
// frequency, preserve_all, final partial period, plain name). The plan writes nothing.
#include "support/cli_support.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

using netwright::test::binary;
using netwright::test::contents;

class PlanCliTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_data;

    QString path(const QString &n) const { return m_dir.filePath(n); }

    QString writeConfig(const QString &name, const QString &checkpoint)
    {
        QFile f(path(name + ".json"));
        f.open(QIODevice::WriteOnly);
        f.write(QStringLiteral(R"({"name": "%1", "model": {"name": "mlp"}, %2,
 "training": {"epochs": 3, "batch_size": 32, "threads": 2}, "checkpoint": %3})")
                    .arg(name, m_data, checkpoint)
                    .toUtf8());
        return f.fileName();
    }

    // Compares the plan with the run: the same saves in order, the same deletions by the same
    // rules, and the files on disk at the end are those the plan keeps.
    void planMatchesRun(const QString &name, const QString &checkpoint, const QString &pattern)
    {
        const QString config = writeConfig(name, checkpoint);
        const QString out = path(name);
        QProcess plan;
        plan.start(binary(), {"train", "--config", config, "--out", out, "--plan", "--json"});
        QVERIFY(plan.waitForFinished(60000));
        QCOMPARE(plan.exitCode(), 0);
        QVERIFY2(!QFileInfo::exists(out), "--plan created the run directory");
        const QJsonObject root = QJsonDocument::fromJson(plan.readAllStandardOutput()).object();
        QStringList planned, plannedDeleted;
        QSet<QString> plannedKept;
        for (const QJsonValue &v : root["files"].toArray()) {
            const QJsonObject o = v.toObject();
            if (o["reason"].toString().startsWith("save_last"))
                plannedKept << o["file"].toString();
            else
                planned << o["file"].toString() + "@" + QString::number(o["global_step"].toInteger());
            if (o["status"] == "deleted")
                plannedDeleted << o["file"].toString() + " by " + o["rule"].toString();
            if (o["status"] == "kept")
                plannedKept << o["file"].toString();
        }
        QVERIFY(!planned.isEmpty());

        QProcess run;
        run.setStandardOutputFile(QProcess::nullDevice());
        run.start(binary(), {"train", "--config", config, "--out", out});
        QVERIFY(run.waitForFinished(300000));
        QCOMPARE(run.exitCode(), 0);
        QStringList saved, deleted;
        for (const QByteArray &line : contents(out + "/checkpoints.jsonl").split('\n')) {
            const QJsonObject o = QJsonDocument::fromJson(line).object();
            if (o["event"] == "saved")
                saved << o["file"].toString() + "@" + QString::number(o["global_step"].toInteger());
            if (o["event"] == "deleted")
                deleted << o["file"].toString() + " by " + o["rule"].toString();
        }
        QCOMPARE(saved, planned);
        QCOMPARE(deleted, plannedDeleted);
        QStringList onDisk = QDir(out).entryList({pattern}, QDir::Files);
        for (const QString &f : QStringList(onDisk))
            if (f.endsWith(".ckp")) { // a CNTK pair counts once, by its model file
                QVERIFY(onDisk.contains(f.chopped(4)));
                onDisk.removeAll(f);
            }
        QCOMPARE(QSet<QString>(onDisk.begin(), onDisk.end()), plannedKept);
    }

private slots:
    void initTestCase()
    {
        m_data = netwright::test::fashionMnistSlice(m_dir.path(), 1600, 200);
        QVERIFY(!m_data.isEmpty());
    }

    void mindsporeRules()
    {
        // 50 steps per epoch, 150 in all; every 20 steps plus epoch ends, keep 3, keep every 60th.
        planMatchesRun("ms", R"({"save_checkpoint_steps": 20, "keep_checkpoint_max": 3, "keep_period": 60,
                                 "save_top_k": 0, "save_last": true})",
                       "*.ckpt");
    }

    void cntkRules()
    {
        planMatchesRun("cn", R"({"format": "cntk", "cntk": {"frequency": 40, "unit": "minibatches", "preserve_all": true}})",
                       "mlp.dnn*");
    }
};

QTEST_GUILESS_MAIN(PlanCliTest)
#include "plan_cli_test.moc"
