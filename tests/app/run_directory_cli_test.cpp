// SPDX-License-Identifier: Apache-2.0
// The run directory's owner as a user meets it through the CLI: any checkpoint prefix is listed
// by `history`; a run exports after its data moved away; what a killed writer leaves (temporary
// files, a config only in its temp file, a cut log line) is cleaned and the resumed result is
// bit-identical; a damaged log, damaged checkpoints, special files and bad config values are each
// refused with the file (and line or key) named.
#include "formats/mindspore/ckpt_file.h"
#include "run/run_lock.h"
#include "support/cli_support.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <cstring>
#include <csignal>
#include <sys/stat.h>

using namespace netwright::test;

class RunDirectoryCliTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    QString m_data; // the run-config "data" block

    QString path(const QString &name) const { return m_tmp.filePath(name); }

    // A run config of mlp on 320 Fashion-MNIST images (10 steps of 32 per epoch), `extra` keys
    // added at the top level.
    QString writeConfig(const QString &name, int epochs, const QString &checkpoint, const QString &extra = {})
    {
        const QString file = path(name + ".json");
        QFile f(file);
        if (!f.open(QIODevice::WriteOnly))
            return {};
        f.write(QStringLiteral(R"({"name": "%1", "model": {"name": "mlp"}, %2,
  "training": {"epochs": %3, "batch_size": 32, "threads": 1, "log_every": 5},
  "checkpoint": {%4} %5})")
                    .arg(name, m_data)
                    .arg(epochs)
                    .arg(checkpoint, extra.isEmpty() ? QString() : ", " + extra)
                    .toUtf8());
        return file;
    }

    static QStringList hidden(const QString &dir)
    {
        return QDir(dir).entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot).filter(QRegularExpression("^\\."));
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        m_data = fashionMnistSlice(m_tmp.path(), 320, 100);
        QVERIFY(!m_data.isEmpty());
    }

    // One process trains a run at a time: while `netwright train` holds the run (here frozen by
    // SIGSTOP mid-run), a `netwright resume` of it is refused with the holder's pid and changes
    // nothing; the lock says the run is being trained exactly while its process lives — after a
    // SIGKILL at once, not after a timeout — and the resume then goes through.
    void oneProcessTrainsARunAtATime()
    {
        const QString config = writeConfig("locked", 40, R"("keep_checkpoint_max": 2)");
        QProcess train;
        train.start(binary(), {"train", "--config", config, "--out", path("locked")});
        QVERIFY(train.waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo(path("locked/metrics.jsonl")).size() > 0, 120000);
        ::kill(static_cast<pid_t>(train.processId()), SIGSTOP);
        QVERIFY(netwright::RunLock::held(path("locked").toStdString()));
        const QByteArray config0 = [&] {
            QFile f(path("locked/config.json"));
            return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
        }();
        const qint64 metrics0 = QFileInfo(path("locked/metrics.jsonl")).size();
        const QStringList files0 = QDir(path("locked")).entryList(QDir::Files | QDir::Hidden, QDir::Name);

        const RunResult refused = runNetwright({"resume", path("locked")});
        QVERIFY(refused.exitCode != 0);
        QVERIFY2(refused.err.contains("is being trained by another process (pid " + QString::number(train.processId()) + ")"),
                 qPrintable(refused.err));
        QVERIFY2(refused.err.contains(path("locked")), qPrintable(refused.err));
        QCOMPARE(QDir(path("locked")).entryList(QDir::Files | QDir::Hidden, QDir::Name), files0);
        QCOMPARE(QFileInfo(path("locked/metrics.jsonl")).size(), metrics0);
        QFile c(path("locked/config.json"));
        QVERIFY(c.open(QIODevice::ReadOnly));
        QCOMPARE(c.readAll(), config0);

        ::kill(static_cast<pid_t>(train.processId()), SIGKILL);
        QVERIFY(train.waitForFinished(60000));
        QVERIFY(!netwright::RunLock::held(path("locked").toStdString()));
        const RunResult resumed = runNetwright({"resume", path("locked")});
        QVERIFY2(resumed.exitCode == 0, qPrintable(resumed.err + resumed.out));
        QVERIFY(!netwright::RunLock::held(path("locked").toStdString()));
    }

    // A prefix with quotes, spaces and non-ASCII letters: every checkpoint is in the history.
    void historyListsEveryCheckpointWhateverItsPrefix()
    {
        const QString prefix = QString::fromUtf8(R"(my \"best\" run – Überlauf)");
        const QString config = writeConfig("quoted", 2, QStringLiteral(R"("prefix": "%1", "keep_checkpoint_max": 5)").arg(prefix));
        const RunResult train = runNetwright({"train", "--config", config, "--out", path("quoted")});
        QVERIFY2(train.exitCode == 0, qPrintable(train.err));
        const QStringList onDisk = QDir(path("quoted")).entryList({"*.ckpt"}, QDir::Files, QDir::Name);
        QCOMPARE(onDisk.size(), 2);
        const RunResult history = runNetwright({"history", "--json", path("quoted")});
        QVERIFY2(history.exitCode == 0, qPrintable(history.err));
        const QJsonArray rows = QJsonDocument::fromJson(history.out.toUtf8()).object()["checkpoints"].toArray();
        QStringList listed;
        for (const QJsonValue &r : rows) {
            QCOMPARE(r["status"].toString(), QStringLiteral("kept"));
            listed << r["file"].toString();
        }
        listed.sort();
        QCOMPARE(listed, onDisk);
        QVERIFY2(listed[0].startsWith(QString::fromUtf8(R"(my "best" run – Überlauf-1_10)")), qPrintable(listed[0]));
    }

    // Restoring needs no data: the run's IDX files moved away, it still exports.
    void exportsAfterTheDataMovedAway()
    {
        QTemporaryDir own;
        const QString data = fashionMnistSlice(own.path(), 320, 100);
        const QString config = path("moved.json");
        QFile f(config);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QStringLiteral(R"({"name": "moved", "model": {"name": "lenet5"}, %1, "training": {"epochs": 1, "batch_size": 32, "threads": 1}})")
                    .arg(data)
                    .toUtf8());
        f.close();
        const RunResult train = runNetwright({"train", "--config", config, "--out", path("moved")});
        QVERIFY2(train.exitCode == 0, qPrintable(train.err));
        QVERIFY(QDir(own.path()).removeRecursively());
        const RunResult exported = runNetwright({"export", path("moved"), "--out", path("moved.onnx")});
        QVERIFY2(exported.exitCode == 0, qPrintable(exported.err));
        QVERIFY2(exported.out.contains("Verified"), qPrintable(exported.out));
        QVERIFY(QFileInfo(path("moved.onnx")).size() > 100000);
    }

    // What a kill at each file write leaves — the temporary file of a checkpoint, of the graph
    // dump, of the metrics rewrite, of a CNTK pending .ckp, of a save_last link, and a config.json
    // that exists only as its complete temporary file — is cleaned by the next resume, whose
    // result is bit-identical to the uninterrupted run's.
    void resumeCleansWhatAKillLeftAndEndsBitIdentical()
    {
        const QString config = writeConfig("whole", 2, R"("keep_checkpoint_max": 5, "save_last": true)");
        const RunResult whole = runNetwright({"train", "--config", config, "--out", path("whole")});
        QVERIFY2(whole.exitCode == 0, qPrintable(whole.err));
        QVERIFY(QDir().mkpath(path("cut")));
        // The state after epoch 1: its checkpoint and the log up to it (resume cuts the rest).
        for (const QString &f : {"mlp-1_10.ckpt", "metrics.jsonl", "checkpoints.jsonl"})
            QVERIFY(QFile::copy(path("whole/") + f, path("cut/") + f));
        QVERIFY(QFile::copy(path("whole/config.json"), path("cut/.config.json.tmp-Kq3x9Z")));
        for (const QString &leftover : {".mlp-2_10.ckpt.tmp-a1B2c3", ".mlp-graph.meta.tmp-Zz0000", ".metrics.jsonl.tmp-Q9w8e7",
                                        "..mlp.dnn.ckp.pending.tmp-PpPpPp", ".mlp-last.ckpt.link"}) {
            QFile junk(path("cut/") + leftover);
            QVERIFY(junk.open(QIODevice::WriteOnly));
            junk.write(QByteArray(4096, 'x'));
        }
        const RunResult resumed = runNetwright({"resume", path("cut")});
        QVERIFY2(resumed.exitCode == 0, qPrintable(resumed.err + resumed.out));
        QVERIFY2(resumed.out.contains("Resuming from mlp-1_10.ckpt"), qPrintable(resumed.out));
        QCOMPARE(hidden(path("cut")), QStringList{netwright::RunLock::kFile}); // only the training lock stays
        QCOMPARE(contents(path("cut/config.json")), contents(path("whole/config.json")));
        QVERIFY(contents(path("whole/mlp-2_10.ckpt")).size() > 100000);
        QCOMPARE(contents(path("cut/mlp-2_10.ckpt")), contents(path("whole/mlp-2_10.ckpt")));
        QCOMPARE(contents(path("cut/metrics.jsonl")), contents(path("whole/metrics.jsonl")));
    }

    // A kill in the middle of a metrics line: the cut line goes (and the user is told), the run
    // resumes and its log ends as the uninterrupted one.
    void cutMetricsLineIsDroppedAndSaid()
    {
        const QString config = writeConfig("torn", 2, R"("keep_checkpoint_max": 5)");
        QVERIFY(runNetwright({"train", "--config", config, "--out", path("torn-whole")}).exitCode == 0);
        QVERIFY(QDir().mkpath(path("torn")));
        for (const QString &f : {"config.json", "mlp-1_10.ckpt", "checkpoints.jsonl"})
            QVERIFY(QFile::copy(path("torn-whole/") + f, path("torn/") + f));
        const QList<QByteArray> lines = contents(path("torn-whole/metrics.jsonl")).split('\n');
        QByteArray cut;
        for (int i = 0; i < 12; ++i)
            cut += lines[i] + '\n';
        cut += lines[12].left(lines[12].size() / 2); // no newline: the write was cut
        QFile m(path("torn/metrics.jsonl"));
        QVERIFY(m.open(QIODevice::WriteOnly));
        m.write(cut);
        m.close();
        const RunResult resumed = runNetwright({"resume", path("torn")});
        QVERIFY2(resumed.exitCode == 0, qPrintable(resumed.err));
        QVERIFY2(resumed.out.contains("metrics.jsonl line 13 was cut short"), qPrintable(resumed.out));
        QCOMPARE(contents(path("torn/metrics.jsonl")), contents(path("torn-whole/metrics.jsonl")));
    }

    // One bad value in metrics.jsonl stops resume with the file, the line and the key named.
    void damagedMetricsValueNamesFileLineAndKey_data()
    {
        QTest::addColumn<QByteArray>("value");
        QTest::addColumn<QString>("said");
        QTest::newRow("not a number") << QByteArray("x") << QString("is not valid JSON");
        QTest::newRow("too large") << QByteArray("99999999999999999999") << QString("\"global_step\" is 1e+20, not a whole number");
        QTest::newRow("a string") << QByteArray("\"7\"") << QString("\"global_step\" is \"7\", not a whole number");
    }
    void damagedMetricsValueNamesFileLineAndKey()
    {
        QFETCH(QByteArray, value);
        QFETCH(QString, said);
        const QString run = path("bad-" + QString::fromLatin1(QTest::currentDataTag()).replace(' ', '-'));
        const QString config = writeConfig("bad", 2, R"("keep_checkpoint_max": 5)");
        QVERIFY(runNetwright({"train", "--config", config, "--out", run}).exitCode == 0);
        QVERIFY(QFile::remove(run + "/mlp-2_10.ckpt"));
        QList<QByteArray> lines = contents(run + "/metrics.jsonl").split('\n');
        lines[3].replace(QRegularExpression("\"global_step\":[0-9]+").match(QString::fromUtf8(lines[3])).captured(0).toUtf8(),
                         "\"global_step\":" + value);
        QFile m(run + "/metrics.jsonl");
        QVERIFY(m.open(QIODevice::WriteOnly));
        m.write(lines.join('\n'));
        m.close();
        const QByteArray before = contents(run + "/metrics.jsonl");
        const RunResult resumed = runNetwright({"resume", run});
        QCOMPARE(resumed.exitCode, 1);
        QVERIFY2(resumed.err.contains(run + "/metrics.jsonl\" line 4") && resumed.err.contains(said), qPrintable(resumed.err));
        QVERIFY2(!resumed.err.contains("internal error"), qPrintable(resumed.err));
        QCOMPARE(contents(run + "/metrics.jsonl"), before); // nothing lost
    }

    // Every checkpoint damaged: resume names each and stops; --start-over trains anew.
    void allCheckpointsDamagedStopsResume()
    {
        const QString run = path("damaged");
        const QString config = writeConfig("damaged", 2, R"("keep_checkpoint_max": 5)");
        QVERIFY(runNetwright({"train", "--config", config, "--out", run}).exitCode == 0);
        for (const QString &f : {"mlp-1_10.ckpt", "mlp-2_10.ckpt"}) {
            QVERIFY(::truncate((run + "/" + f).toLocal8Bit().constData(), 1000) == 0);
        }
        const RunResult refused = runNetwright({"resume", run});
        QCOMPARE(refused.exitCode, 1);
        QVERIFY2(refused.err.contains("none can be restored") && refused.err.contains(run + "/mlp-1_10.ckpt")
                     && refused.err.contains(run + "/mlp-2_10.ckpt") && refused.err.contains("--start-over"),
                 qPrintable(refused.err));
        QVERIFY2(!refused.out.contains("starting from the beginning"), qPrintable(refused.out));
        QCOMPARE(QFileInfo(run + "/mlp-1_10.ckpt").size(), 1000); // left as they were
        const RunResult over = runNetwright({"resume", "--start-over", run});
        QVERIFY2(over.exitCode == 0, qPrintable(over.err));
        QVERIFY2(over.out.contains("starting from the beginning"), qPrintable(over.out));
    }

    // Regular files only: a FIFO never blocks, a directory is not a config.
    void specialFilesAreRefusedWithWhatTheyAre()
    {
        const QString fifo = path("pipe.json");
        QCOMPARE(::mkfifo(fifo.toLocal8Bit().constData(), 0600), 0);
        RunResult r = runNetwright({"train", "--config", fifo}, 30000);
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains(fifo) && r.err.contains("is a FIFO"), qPrintable(r.err));
        r = runNetwright({"train", "--config", m_tmp.path()}, 30000);
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("is a directory"), qPrintable(r.err));
        r = runNetwright({"inspect", fifo}, 30000);
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("is a FIFO"), qPrintable(r.err));
        // A run whose config.json is a FIFO.
        QVERIFY(QDir().mkpath(path("fifo-run")));
        QCOMPARE(::mkfifo(path("fifo-run/config.json").toLocal8Bit().constData(), 0600), 0);
        r = runNetwright({"resume", path("fifo-run")}, 30000);
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("fifo-run/config.json") && r.err.contains("is a FIFO"), qPrintable(r.err));
    }

    // A diverging run (lr 1e30) stops at the first non-finite loss, says so, and leaves the last
    // finite state as a breakpoint checkpoint (exception_save is off: a diverged run always does).
    // That state is exactly the previous step's — parameters, optimizer slots, BatchNorm's running
    // statistics, the data cursor and the RNG streams — as the step-1 checkpoint of the same run shows.
    void divergedLossStopsWithABreakpoint()
    {
        const QString run = path("diverged");
        const QString config = path("diverged.json");
        QFile f(config);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QStringLiteral(R"({"name": "diverged", "model": {"name": "cnn-bn"}, %1, "optimizer": {"name": "sgd", "lr": 1e30},
  "schedule": {"warmup_steps": 0}, "training": {"epochs": 2, "batch_size": 32, "threads": 1},
  "checkpoint": {"save_checkpoint_steps": 1, "keep_checkpoint_max": 50}})")
                    .arg(m_data)
                    .toUtf8());
        f.close();
        const RunResult r = runNetwright({"train", "--config", config, "--out", run});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("The loss became") && r.err.contains("at global step") && r.err.contains("optimizer.lr"), qPrintable(r.err));
        QVERIFY2(r.out.contains("breakpoint checkpoint"), qPrintable(r.out));
        const QStringList breakpoints = QDir(run).entryList({"*_breakpoint.ckpt"});
        QCOMPARE(breakpoints.size(), 1);
        const auto breakpoint = netwright::mindspore::readCkpt((run + "/" + breakpoints[0]).toStdString());
        // The step checkpoint of the same step (the breakpoint's name says which).
        const QString step = breakpoints[0].section('_', 0, 1) + ".ckpt"; // cnn-bn-1_N
        QVERIFY2(QFile::exists(run + "/" + step), qPrintable(step));
        const auto saved = netwright::mindspore::readCkpt((run + "/" + step).toStdString());
        int compared = 0, buffers = 0;
        for (const auto &e : breakpoint.entries) {
            for (const auto &g : saved.entries) {
                if (g.name != e.name || e.isString)
                    continue;
                QVERIFY2(e.tensor.byteSize() == g.tensor.byteSize()
                             && std::memcmp(e.tensor.raw(), g.tensor.raw(), e.tensor.byteSize()) == 0,
                         e.name.c_str());
                ++compared;
                buffers += e.name.find("moving_mean") != std::string::npos ? 1 : 0;
            }
            if (e.tensor.dtype() == netwright::DType::Float32)
                for (int64_t i = 0; i < e.tensor.numel(); ++i)
                    QVERIFY2(std::isfinite(e.tensor.data()[i]), e.name.c_str());
        }
        QVERIFY2(compared >= 20 && buffers >= 1, qPrintable(QString::number(compared)));
    }

    // Values the strict config refuses, each naming its key; no run directory is made.
    void badConfigValuesNameTheKey_data()
    {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("said");
        QTest::newRow("bool as text") << R"({"data": {"shuffle": "yes"}})" << R"(key "data.shuffle" must be true or false, got "yes")";
        QTest::newRow("bool as 0") << R"({"data": {"shuffle": "0"}})" << R"(key "data.shuffle" must be true or false)";
        QTest::newRow("nested list") << R"({"checkpoint": {"append_info": [["epoch_num"]]}})" << R"(key "checkpoint.append_info" must be a list of single values)";
        QTest::newRow("infinite lr") << R"({"optimizer": {"lr": "Infinity"}})" << R"(key "optimizer.lr" must be a finite number)";
        QTest::newRow("NaN mean") << R"({"data": {"mean": "NaN"}})" << R"(key "data.mean" must be a finite number)";
        QTest::newRow("threads") << R"({"training": {"threads": 100000}})" << "training.threads must be at most 1024";
        QTest::newRow("name is a path") << R"({"name": "../../escaped"})" << R"(name "../../escaped" is a path)";
    }
    void badConfigValuesNameTheKey()
    {
        QFETCH(QString, json);
        QFETCH(QString, said);
        QTemporaryDir work;
        QFile f(work.filePath("run.json"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(json.toUtf8());
        f.close();
        QProcess p;
        p.setWorkingDirectory(work.path());
        p.start(binary(), {"train", "--config", work.filePath("run.json")});
        QVERIFY(p.waitForFinished(60000));
        const QString err = QString::fromUtf8(p.readAllStandardError());
        QCOMPARE(p.exitCode(), 1);
        QVERIFY2(err.contains(said) && err.contains("run.json"), qPrintable(err));
        QVERIFY(!QFileInfo::exists(work.filePath("runs")));
    }
};

QTEST_GUILESS_MAIN(RunDirectoryCliTest)
#include "run_directory_cli_test.moc"
