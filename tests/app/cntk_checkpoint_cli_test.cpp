// SPDX-License-Identifier: Apache-2.0
// CNTK-style checkpointing through the real CLI (checkpoint.format "cntk"): preserve_all writes
// <file>0, <file>1, … (+ .ckp) at CNTK's trigger points and the plain <file> at the end; SIGKILL at
// random instants never leaves an unreadable pair; `netwright resume` finds the checkpoint by
// CNTK's restore scan and ends byte-identical to an uninterrupted run; a damaged newest pair is
// skipped for the one before. cnn-bn (BatchNorm, Dropout) on 2,000 real Fashion-MNIST images.
#include "formats/cntk/trainer_checkpoint.h"
#include "support/cli_support.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <filesystem>

using namespace netwright;
using netwright::test::binary;
using netwright::test::contents;

namespace {

// Every pair (a file with its .ckp) in the directory reads back; returns the failures.
QStringList unreadablePairs(const QString &dir)
{
    QStringList bad;
    for (const QString &ckp : QDir(dir).entryList({"*.ckp"}, QDir::Files)) {
        const QString model = dir + "/" + ckp.chopped(4);
        try {
            cntk::readTrainerCheckpoint(model.toStdString());
        } catch (const std::exception &e) {
            bad << ckp + ": " + e.what();
        }
    }
    return bad;
}

int runToEnd(const QStringList &args, QByteArray *out = nullptr)
{
    QProcess p;
    p.start(binary(), args);
    if (!p.waitForFinished(300000))
        return -1;
    if (out)
        *out = p.readAllStandardOutput() + p.readAllStandardError();
    return p.exitCode();
}

} // namespace

class CntkCheckpointCliTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_config;

    QString path(const QString &n) const { return m_dir.filePath(n); }

private slots:
    void initTestCase()
    {
        const QString data = test::fashionMnistSlice(m_dir.path(), 2000, 500);
        QVERIFY(!data.isEmpty());
        m_config = path("cntk.json");
        QFile f(m_config);
        QVERIFY(f.open(QIODevice::WriteOnly));
        // 63 minibatches of 32 per sweep, 3 sweeps = 189 minibatches; a checkpoint every 25.
        f.write(QStringLiteral(R"({"name": "cntk", "model": {"name": "cnn-bn"}, %1,
 "training": {"epochs": 3, "batch_size": 32, "threads": 2},
 "checkpoint": {"format": "cntk", "cntk": {"filename": "net.dnn", "frequency": 25, "unit": "minibatches", "preserve_all": true}}})")
                    .arg(data)
                    .toUtf8());
    }

    void preserveAllWritesCntksNames()
    {
        QCOMPARE(runToEnd({"train", "--config", m_config, "--out", path("ref")}), 0);
        QStringList expected;
        // Crossings of 25, 50, …, 175 save indices 0…6; 189 is a partial period: index 7; then
        // the plain name, because it does not exist yet.
        for (int i = 0; i <= 7; ++i)
            expected << QStringLiteral("net.dnn%1").arg(i) << QStringLiteral("net.dnn%1.ckp").arg(i);
        expected << "net.dnn" << "net.dnn.ckp";
        QStringList found = QDir(path("ref")).entryList({"net.dnn*"}, QDir::Files);
        expected.sort();
        found.sort();
        QCOMPARE(found, expected);
        QVERIFY(QDir(path("ref")).entryList({".*pending", ".*tmp*"}, QDir::Files | QDir::Hidden).isEmpty());
        QVERIFY2(unreadablePairs(path("ref")).isEmpty(), qPrintable(unreadablePairs(path("ref")).join("; ")));
        // Index i was written after minibatch 25·(i+1), as its learner counter says.
        for (int i = 0; i <= 6; ++i) {
            const auto l = cntk::listTrainerCheckpoint(path(QStringLiteral("ref/net.dnn%1.ckp").arg(i)).toStdString());
            const auto it = std::find_if(l.items.begin(), l.items.end(), [](const auto &x) { return x.path == "Learners[0].minibatchCount"; });
            QVERIFY(it != l.items.end());
            QCOMPARE(QString::fromStdString(it->text), QString::number(25 * (i + 1)));
        }
        // The final files hold the end of training: the same bytes as the last partial period.
        QCOMPARE(contents(path("ref/net.dnn")), contents(path("ref/net.dnn7")));
    }

    void sigkillThenResumeEndsBitIdentical()
    {
        QRandomGenerator rng(1123);
        int kills = 0;
        bool finished = false;
        for (int round = 0; round < 60 && !finished; ++round) {
            QProcess p;
            p.setStandardOutputFile(QProcess::nullDevice());
            p.setStandardErrorFile(path("cntk-stderr.log"), QIODevice::Append);
            p.start(binary(), test::trainOrResume(m_config, path("killed")));
            QVERIFY(p.waitForStarted());
            // A run that ends inside the short wait is done: waitForFinished() on a process that
            // has already finished returns false, so it must not be asked again.
            bool done = false;
            if (kills < 8) {
                done = p.waitForFinished(150 + static_cast<int>(rng.bounded(500)));
                if (!done) {
                    ::kill(static_cast<pid_t>(p.processId()), SIGKILL);
                    QVERIFY(p.waitForFinished(10000));
                    ++kills;
                    const QStringList bad = unreadablePairs(path("killed"));
                    QVERIFY2(bad.isEmpty(), qPrintable(bad.join("; ")));
                    continue;
                }
            }
            if (!done)
                QVERIFY(p.waitForFinished(300000));
            QVERIFY2(p.exitCode() == 0, qPrintable(QString::fromUtf8(contents(path("cntk-stderr.log")))));
            finished = true;
        }
        QVERIFY(finished);
        QVERIFY(kills >= 5);
        qInfo("%d SIGKILLs", kills);
        for (const QString &name : QDir(path("ref")).entryList({"net.dnn*"}, QDir::Files))
            QVERIFY2(contents(path("killed/") + name) == contents(path("ref/") + name), qPrintable(name + " differs"));
        QVERIFY2(contents(path("killed/metrics.jsonl")) == contents(path("ref/metrics.jsonl")), "metrics logs differ");
        // A kill during a pair save (the pending .ckp, its temporary file, the model's) left no
        // temporary file once the run was resumed.
        const QStringList temps = QDir(path("killed")).entryList(QDir::Files | QDir::Hidden).filter(".tmp-");
        QVERIFY2(temps.isEmpty(), qPrintable(temps.join(", ")));
    }

    void sigintMidSweepSavesAndResumesExactly()
    {
        // Sweep-based checkpoints: a stop inside sweep 2 is saved under that period's name
        // (net.dnn1, which sweep 2's own checkpoint later replaces), exit code 130. Minibatches
        // of 16 make a sweep 125 steps long, so the stop lands inside sweep 2 even when a
        // loaded machine delays the signal by dozens of steps.
        constexpr int perSweep = 2000 / 16;
        QFile cfg(m_config);
        QVERIFY(cfg.open(QIODevice::ReadOnly));
        QByteArray json = cfg.readAll();
        json.replace(R"("frequency": 25, "unit": "minibatches")", R"("frequency": 1, "unit": "sweeps")");
        json.replace(R"("batch_size": 32)", R"("batch_size": 16)");
        QVERIFY(json.contains("sweeps") && json.contains("16"));
        QFile sweeps(path("sweeps.json"));
        QVERIFY(sweeps.open(QIODevice::WriteOnly));
        sweeps.write(json);
        sweeps.close();
        QCOMPARE(runToEnd({"train", "--config", sweeps.fileName(), "--out", path("sweeps-ref")}), 0);
        QProcess p;
        p.setStandardOutputFile(QProcess::nullDevice());
        p.start(binary(), {"train", "--config", sweeps.fileName(), "--out", path("sweeps")});
        QVERIFY(p.waitForStarted());
        const qsizetype steps = test::waitForLoggedSteps(path("sweeps/metrics.jsonl"), perSweep + 20, p);
        QVERIFY2(steps >= perSweep + 20 && p.state() == QProcess::Running,
                 qPrintable(QString("the run logged %1 steps, then ended or stalled").arg(steps)));
        ::kill(static_cast<pid_t>(p.processId()), SIGINT);
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 130);
        const auto l = cntk::listTrainerCheckpoint(path("sweeps/net.dnn1.ckp").toStdString());
        const auto it = std::find_if(l.items.begin(), l.items.end(), [](const auto &x) { return x.path == "Learners[0].minibatchCount"; });
        QVERIFY(it != l.items.end());
        const int stoppedAt = QString::fromStdString(it->text).toInt();
        QVERIFY2(stoppedAt > perSweep && stoppedAt < 2 * perSweep, it->text.c_str()); // inside sweep 2
        QCOMPARE(runToEnd({"resume", path("sweeps")}), 0);
        for (const QString &name : QDir(path("sweeps-ref")).entryList({"net.dnn*"}, QDir::Files))
            QVERIFY2(contents(path("sweeps/") + name) == contents(path("sweeps-ref/") + name), qPrintable(name + " differs"));
    }

    void restoreScanSkipsADamagedNewestPair()
    {
        namespace fs = std::filesystem;
        // A run directory as a crash could leave it: no plain file, index 6's .ckp missing,
        // index 5's .ckp damaged. CNTK's scan would pick 5; its pair does not read back, so 4.
        const fs::path from = path("ref").toStdString(), to = path("scan").toStdString();
        fs::create_directories(to);
        for (int i = 0; i <= 6; ++i) {
            fs::copy_file(from / ("net.dnn" + std::to_string(i)), to / ("net.dnn" + std::to_string(i)));
            if (i != 6)
                fs::copy_file(from / ("net.dnn" + std::to_string(i) + ".ckp"), to / ("net.dnn" + std::to_string(i) + ".ckp"));
        }
        fs::copy_file(from / "config.json", to / "config.json");
        fs::copy_file(from / "metrics.jsonl", to / "metrics.jsonl");
        fs::resize_file(to / "net.dnn5.ckp", fs::file_size(to / "net.dnn5.ckp") / 2);
        QByteArray out;
        QCOMPARE(runToEnd({"resume", path("scan")}, &out), 0);
        QVERIFY2(out.contains("Resuming from net.dnn4 (global step 125)"), out.constData());
        QVERIFY2(contents(path("scan/net.dnn")) == contents(path("ref/net.dnn")), "the resumed run ends elsewhere");
    }
};

QTEST_GUILESS_MAIN(CntkCheckpointCliTest)
#include "cntk_checkpoint_cli_test.moc"
