// SPDX-License-Identifier: Apache-2.0
// TensorBoard event files as a user of `tensorboard --logdir runs/` meets them: a real training
// run's events.out.tfevents.* is decoded by an independent reader (tests/support/read_tfevents.py:
// python3-protobuf with the Event/Summary schema restated, its own bitwise CRC-32C) — every record's
// two masked CRCs hold, one train/loss point per training step equal to metrics.jsonl's, the
// evaluations and the config text; a run killed after a checkpoint with its events file cut
// mid-record is resumed into a second file with no step missing or repeated across the files;
// logging.tensorboard false writes none. 600 real Fashion-MNIST images.
#include "run/run_directory.h"
#include "support/cli_support.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using namespace netwright;

class TensorBoardEventsCliTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_data;

    QString path(const QString &n) const { return m_dir.filePath(n); }

    QString writeConfig(const QString &name, const QString &extra)
    {
        const QString file = path(name + ".json");
        QFile f(file);
        if (!f.open(QIODevice::WriteOnly))
            return {};
        f.write(QStringLiteral(R"({"name": "tb", "model": {"name": "mlp"}, %1,
 "training": {"epochs": 2, "batch_size": 32, "threads": 1},
 "checkpoint": {"save_checkpoint_steps": 7, "keep_checkpoint_max": 0}%2})")
                    .arg(m_data, extra)
                    .toUtf8());
        return file;
    }

    // The reader's verdict on a run directory: exit code and what it printed.
    static std::pair<int, QString> read(const QString &runDir)
    {
        QProcess py;
        py.setProcessChannelMode(QProcess::MergedChannels);
        py.start("/usr/bin/python3", {qEnvironmentVariable("NETWRIGHT_SOURCE_DIR") + "/tests/support/read_tfevents.py", runDir});
        if (!py.waitForFinished(120000))
            return {-1, "timed out"};
        return {py.exitCode(), QString::fromUtf8(py.readAll())};
    }

    static QStringList eventFiles(const QString &dir) { return QDir(dir).entryList({"events.out.tfevents.*"}, QDir::Files, QDir::Name); }

private slots:
    void initTestCase()
    {
        m_data = test::fashionMnistSlice(m_dir.path(), 600, 200);
        QVERIFY(!m_data.isEmpty());
    }

    void trainedRunDecodesWithOnePointPerStep()
    {
        const auto r = test::runNetwright({"train", "--config", writeConfig("run", ""), "--out", path("run")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const QStringList files = eventFiles(path("run"));
        QCOMPARE(files.size(), 1);
        // TensorBoard's naming: events.out.tfevents.<10-digit secs>.<host>.<pid>.<n>
        QVERIFY2(QRegularExpression(R"(^events\.out\.tfevents\.\d{10}\.[^.]+(\.[^.]+)*\.\d+\.\d+$)").match(files[0]).hasMatch(), qPrintable(files[0]));
        const auto [code, out] = read(path("run"));
        QVERIFY2(code == 0, qPrintable(out));
        // 600 images in batches of 32: 19 steps an epoch, 2 epochs.
        QVERIFY2(out.contains("train/loss: 38 points, steps 1..38, equal to metrics.jsonl"), qPrintable(out));
        QVERIFY2(out.contains("eval/accuracy: 2 points, steps 19..38"), qPrintable(out));
        QVERIFY2(out.contains("train/lr: 38 points"), qPrintable(out));
        QVERIFY2(out.contains("config: text summary equal to config.json"), qPrintable(out));
    }

    void resumeAfterAKillWritesEveryStepOnce()
    {
        // The state a SIGKILL after global step 21's checkpoint leaves: the later checkpoints were
        // never written, metrics.jsonl goes on past it, and the events file was flushed only partly
        // (cut inside a record).
        const QString run = path("run"), killed = path("killed");
        QVERIFY(QDir().mkpath(killed));
        for (const QString &name : QDir(run).entryList(QDir::Files))
            if (!name.startsWith('.') && !QStringList{"mlp-2_9.ckpt", "mlp-2_16.ckpt", "mlp-2_19.ckpt"}.contains(name))
                QVERIFY(QFile::copy(run + "/" + name, killed + "/" + name));
        const QString first = eventFiles(killed).value(0);
        QFile cut(killed + "/" + first);
        QVERIFY(cut.resize(3000));

        const auto r = test::runNetwright({"resume", killed});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const QStringList files = eventFiles(killed);
        QCOMPARE(files.size(), 2);
        QCOMPARE(files[0], first); // the new file sorts after the older one: TensorBoard's reading order
        QVERIFY(QFileInfo(killed + "/" + first).size() < 3000); // cut back to its last whole record
        const auto [code, out] = read(killed);
        QVERIFY2(code == 0, qPrintable(out));
        QVERIFY2(out.contains("2 events file(s)"), qPrintable(out));
        QVERIFY2(out.contains("train/loss: 38 points, steps 1..38, equal to metrics.jsonl"), qPrintable(out));
        QVERIFY2(out.contains("eval/loss: 2 points, steps 19..38"), qPrintable(out));
        QCOMPARE(test::contents(killed + "/metrics.jsonl"), test::contents(run + "/metrics.jsonl"));
    }

    void aForkContinuesTheCurvesFromItsCheckpoint()
    {
        // The run history's Fork: the fork's event files end at its checkpoint (global step 21),
        // and resuming it writes steps 22… into a file of its own.
        const std::string fork = RunDirectory(path("run").toStdString()).fork("mlp-2_2.ckpt").path();
        const QString dir = QString::fromStdString(fork);
        const auto before = read(dir);
        QVERIFY2(before.first == 0, qPrintable(before.second));
        QVERIFY2(before.second.contains("train/loss: 21 points, steps 1..21, equal to metrics.jsonl"), qPrintable(before.second));
        QVERIFY2(before.second.contains("eval/loss: 1 points, steps 19..19"), qPrintable(before.second));
        const auto r = test::runNetwright({"resume", dir});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QCOMPARE(eventFiles(dir).size(), 2);
        const auto [code, out] = read(dir);
        QVERIFY2(code == 0, qPrintable(out));
        QVERIFY2(out.contains("train/loss: 38 points, steps 1..38, equal to metrics.jsonl"), qPrintable(out));
    }

    void tensorboardFalseWritesNoEventFile()
    {
        const auto r = test::runNetwright({"train", "--config", writeConfig("off", R"(, "logging": {"tensorboard": false})"), "--out", path("off")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY(QFileInfo::exists(path("off/metrics.jsonl")));
        QCOMPARE(eventFiles(path("off")), QStringList());
        QVERIFY(test::contents(path("off/config.json")).contains(R"("tensorboard": false)"));
    }
};

QTEST_GUILESS_MAIN(TensorBoardEventsCliTest)
#include "tensorboard_events_cli_test.moc"
