// SPDX-License-Identifier: Apache-2.0
// Data-parallel training as a user runs it: `mpirun -np 2 --oversubscribe netwright train …` on
// 2,000 real Fashion-MNIST images, batch 60 (uneven last batch). A 2-rank epoch ends with the
// parameters of a 1-rank epoch of the same global batch within 1e-6 relative, the ranks agreeing
// bit for bit, and only rank 0 writes the run directory; a 2-rank run killed with SIGKILL and
// resumed with 2 ranks ends byte-identical to an uninterrupted one, and resumed with 1 rank (or a
// 1-rank run resumed with 2) within 1e-6; a rank that dies ends the job within seconds with a
// non-zero exit and mpirun's message naming it; an error on rank 0 ends the job instead of
// leaving rank 1 waiting.
#include "formats/mindspore/ckpt_file.h"
#include "support/cli_support.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <cmath>
#include <csignal>
#include <map>

using namespace netwright;
using netwright::test::binary;
using netwright::test::contents;

namespace {

QProcessEnvironment mpiEnvironment()
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    // Open MPI refuses root without these (CI runs as root), TOOLCHAIN.md pitfall 7.
    env.insert("OMPI_ALLOW_RUN_AS_ROOT", "1");
    env.insert("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
    // One machine: shared memory between the ranks, no network interfaces probed.
    env.insert("OMPI_MCA_btl", "self,vader");
    return env;
}

QStringList mpirun(int ranks, const QStringList &args)
{
    return QStringList{"-np", QString::number(ranks), "--oversubscribe", binary()} + args;
}

struct Finished {
    int exitCode = -1;
    QString out, err;
    qint64 ms = 0;
};

Finished runMpi(int ranks, const QStringList &args)
{
    QProcess p;
    p.setProcessEnvironment(mpiEnvironment());
    QElapsedTimer t;
    t.start();
    p.start("mpirun", mpirun(ranks, args));
    if (!p.waitForFinished(600000)) {
        p.kill();
        p.waitForFinished();
        return {};
    }
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2, QString::fromUtf8(p.readAllStandardOutput()),
            QString::fromUtf8(p.readAllStandardError()), t.elapsed()};
}

// The netwright processes mpirun started (its children), by rank order of their pids.
QList<qint64> rankPids(qint64 mpirunPid)
{
    QList<qint64> pids;
    for (const QString &entry : QDir("/proc").entryList(QDir::Dirs)) {
        bool ok = false;
        const qint64 pid = entry.toLongLong(&ok);
        if (!ok)
            continue;
        const QByteArray stat = contents("/proc/" + entry + "/stat");
        const int close = stat.lastIndexOf(')');
        if (close < 0 || !stat.mid(stat.indexOf('(') + 1, close - stat.indexOf('(') - 1).startsWith("netwright"))
            continue;
        const QList<QByteArray> fields = stat.mid(close + 2).split(' ');
        if (fields.size() > 1 && fields[1].toLongLong() == mpirunPid)
            pids << pid;
    }
    std::sort(pids.begin(), pids.end());
    return pids;
}

std::map<std::string, Tensor> parameters(const QString &ckpt)
{
    std::map<std::string, Tensor> out;
    for (const auto &e : mindspore::readCkpt(ckpt.toStdString()).entries)
        if (!e.isString && e.tensor.dtype() == DType::Float32 && e.tensor.numel() > 1)
            out[e.name] = e.tensor;
    return out;
}

// The largest ‖a − b‖ / ‖b‖ over the parameters of two checkpoints (1 when they differ in names).
double worstRelativeDifference(const QString &a, const QString &b)
{
    const auto pa = parameters(a), pb = parameters(b);
    if (pa.size() != pb.size() || pa.empty())
        return 1.0;
    double worst = 0.0;
    for (const auto &[name, t] : pb) {
        auto it = pa.find(name);
        if (it == pa.end() || it->second.numel() != t.numel())
            return 1.0;
        double diff = 0.0, norm = 0.0;
        for (int64_t i = 0; i < t.numel(); ++i) {
            const double d = double(it->second.data()[i]) - double(t.data()[i]);
            diff += d * d;
            norm += double(t.data()[i]) * double(t.data()[i]);
        }
        worst = std::max(worst, std::sqrt(diff) / std::max(std::sqrt(norm), 1e-30));
    }
    return worst;
}

int64_t int64Entry(const QString &ckpt, const std::string &name, std::vector<int64_t> *all = nullptr)
{
    for (const auto &e : mindspore::readCkpt(ckpt.toStdString()).entries)
        if (e.name == name && !e.isString && e.tensor.dtype() == DType::Int64) {
            if (all)
                all->assign(e.tensor.dataAs<int64_t>(), e.tensor.dataAs<int64_t>() + e.tensor.numel());
            return e.tensor.dataAs<int64_t>()[0];
        }
    return -1;
}

// The checkpoint of the largest global step in `dir` (the first by name among equals), or "".
QString newestCheckpoint(const QString &dir, int64_t *step = nullptr)
{
    QString best;
    int64_t bestStep = -1;
    for (const QString &name : QDir(dir).entryList({"*.ckpt"}, QDir::Files, QDir::Name)) {
        int64_t s = -1;
        try {
            s = int64Entry(dir + "/" + name, "netwright.train.global_step");
        } catch (const std::exception &) {
            continue; // deleted by keep-max while we looked
        }
        if (s > bestStep) {
            bestStep = s;
            best = dir + "/" + name;
        }
    }
    if (step)
        *step = bestStep;
    return best;
}

QString finalCheckpoint(const QString &dir)
{
    return newestCheckpoint(dir);
}

} // namespace

class MpiTrainingTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_data;

    QString path(const QString &n) const { return m_dir.filePath(n); }
    QString config(const QString &name, const QString &model, int epochs, const QString &checkpoint)
    {
        const QString file = path(name + ".json");
        QFile f(file);
        if (!f.open(QIODevice::WriteOnly))
            return {};
        // batch 60 of 2,000 samples: 33 full batches and one of 20 per epoch; each split 30/30
        // and 10/10 across two ranks.
        f.write(QStringLiteral(R"({"name": "%1", "model": {"name": "%2"}, %3,
 "training": {"epochs": %4, "batch_size": 60, "threads": 1, "log_every": 10},
 "checkpoint": {%5}})")
                    .arg(name, model, m_data)
                    .arg(epochs)
                    .arg(checkpoint)
                    .toUtf8());
        return file;
    }

private slots:
    void initTestCase()
    {
        if (QStandardPaths::findExecutable("mpirun").isEmpty())
            QFAIL("mpirun is not installed (openmpi-bin); packaging/setup.sh installs it.");
        m_data = test::fashionMnistSlice(m_dir.path(), 2000, 500);
        QVERIFY(!m_data.isEmpty());
    }

    void twoRanksEqualOneRank()
    {
        const QString c = config("dp", "lenet5", 1, R"("save_checkpoint_steps": 0)");
        const auto one = test::runNetwright({"train", "--config", c, "--out", path("one")});
        QVERIFY2(one.exitCode == 0, qPrintable(one.err));
        const Finished two = runMpi(2, {"train", "--config", c, "--out", path("two")});
        QVERIFY2(two.exitCode == 0, qPrintable(two.err + two.out));
        QVERIFY2(two.out.contains("Data parallel: 2 ranks"), qPrintable(two.out));
        QVERIFY2(two.out.contains("× 2 ranks"), qPrintable(two.out));
        // mpirun gives every rank a pseudo-terminal, even with its own output in a pipe: the progress
        // must still be plain lines (log_every 10), never in-place updates.
        QVERIFY2(!two.out.contains('\r') && two.out.contains("step 30/34"), qPrintable(two.out));
        // Every rank ended with the same parameter bytes (checked by the job itself).
        QVERIFY2(two.out.contains("Parameters identical on all 2 ranks"), qPrintable(two.out));

        const double worst = worstRelativeDifference(finalCheckpoint(path("two")), finalCheckpoint(path("one")));
        qInfo("lenet5, 34 steps of a global batch of 60: worst relative parameter difference, 2 ranks vs 1: %.3g", worst);
        QVERIFY2(worst <= 1e-6, qPrintable(QString::number(worst)));

        // Only rank 0 wrote: the same files as the 1-rank run (TensorBoard's event files named by
        // their time, host and pid, so compared by that pattern: one each), one metrics line per event.
        auto files = [](const QString &dir) {
            QStringList names = QDir(dir).entryList(QDir::Files);
            for (QString &n : names)
                if (n.startsWith(QLatin1String("events.out.tfevents.")))
                    n = QStringLiteral("events.out.tfevents.<secs>.<host>.<pid>.<n>");
            return names;
        };
        QCOMPARE(files(path("two")), files(path("one")));
        QCOMPARE(files(path("two")).count(QStringLiteral("events.out.tfevents.<secs>.<host>.<pid>.<n>")), 1);
        QCOMPARE(contents(path("two/metrics.jsonl")).count('\n'), contents(path("one/metrics.jsonl")).count('\n'));
        // The checkpoint records the world size and each rank's cursor (epoch, position, its samples).
        std::vector<int64_t> cursors;
        QCOMPARE(int64Entry(finalCheckpoint(path("two")), "netwright.dist.world_size"), int64_t(2));
        int64Entry(finalCheckpoint(path("two")), "netwright.dist.rank_cursor", &cursors);
        QCOMPARE(cursors.size(), size_t(6));
        QCOMPARE(cursors[2] + cursors[5], cursors[1]);
        QCOMPARE(int64Entry(finalCheckpoint(path("one")), "netwright.dist.world_size"), int64_t(1));
        // The final test accuracy is evaluated over both ranks' halves of the test split.
        const QString accuracyOne = one.out.section("Final test accuracy: ", 1).section('\n', 0, 0);
        QVERIFY(!accuracyOne.isEmpty());
        QVERIFY2(two.out.contains("(" + accuracyOne.section('(', 1).section(')', 0, 0) + ")"), qPrintable(two.out + "\n" + accuracyOne));
    }

    // Kills a rank of a `startRanks` run of `c` with SIGKILL once a checkpoint of global step
    // `killAfter` or later exists, then resumes the run directory with `resumeRanks`; "" when all
    // of that happened as expected, else what went wrong.
    QString killThenResume(const QString &c, const QString &dir, int startRanks, int resumeRanks, int64_t killAfter)
    {
        QProcess p;
        p.setProcessEnvironment(mpiEnvironment());
        p.start("mpirun", mpirun(startRanks, {"train", "--config", c, "--out", path(dir)}));
        if (!p.waitForStarted())
            return "mpirun did not start";
        QElapsedTimer t;
        t.start();
        int64_t step = -1;
        while ((newestCheckpoint(path(dir), &step), step < killAfter) && t.elapsed() < 120000 && p.state() == QProcess::Running)
            QThread::msleep(10);
        const QList<qint64> pids = rankPids(p.processId());
        if (pids.size() != startRanks || p.state() != QProcess::Running)
            return "the run ended before step " + QString::number(killAfter) + ": " + QString::fromUtf8(p.readAllStandardError());
        ::kill(static_cast<pid_t>(pids.first()), SIGKILL);
        p.waitForFinished(30000);
        if (p.exitCode() == 0 && p.exitStatus() == QProcess::NormalExit)
            return "the killed job exited 0";
        Finished resumed;
        if (resumeRanks > 1) {
            resumed = runMpi(resumeRanks, {"resume", path(dir)});
        } else {
            const auto r = test::runNetwright({"resume", path(dir)});
            resumed = {r.exitCode, r.out, r.err, 0};
        }
        if (resumed.exitCode != 0)
            return "resume failed: " + resumed.err;
        if (!resumed.out.contains("Resuming from"))
            return "resume did not restore a checkpoint: " + resumed.out;
        return {};
    }

    void killedAndResumedWithTwoRanksEndsIdentical()
    {
        // cnn-small, 3 epochs (102 steps), a checkpoint every 8 steps; killed after step 40.
        const QString c = config("kill", "cnn-small", 3, R"("save_checkpoint_steps": 8, "keep_checkpoint_max": 50)");
        const Finished ref = runMpi(2, {"train", "--config", c, "--out", path("ref2")});
        QVERIFY2(ref.exitCode == 0, qPrintable(ref.err));
        const QString failure = killThenResume(c, "k22", 2, 2, 40);
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
        QCOMPARE(QFileInfo(finalCheckpoint(path("k22"))).fileName(), QFileInfo(finalCheckpoint(path("ref2"))).fileName());
        QVERIFY2(contents(finalCheckpoint(path("k22"))) == contents(finalCheckpoint(path("ref2"))), "final checkpoints differ");
        QVERIFY2(contents(path("k22/metrics.jsonl")) == contents(path("ref2/metrics.jsonl")), "metrics logs differ");
        qInfo("cnn-small, a rank killed after step 40 of 102, resumed with 2 ranks: final checkpoint and metrics byte-identical");
    }

    void resumedWithAnotherRankCountEndsAsUninterrupted()
    {
        // lenet5, 1 epoch (34 steps), a checkpoint every 4 steps; killed after step 16, resumed
        // with the other rank count; the reference is an uninterrupted 2-rank run.
        const QString c = config("switch", "lenet5", 1, R"("save_checkpoint_steps": 4, "keep_checkpoint_max": 50)");
        const Finished ref = runMpi(2, {"train", "--config", c, "--out", path("sref")});
        QVERIFY2(ref.exitCode == 0, qPrintable(ref.err));
        QString failure = killThenResume(c, "s21", 2, 1, 16);
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
        failure = killThenResume(c, "s12", 1, 2, 16);
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
        const QString reference = finalCheckpoint(path("sref"));
        const double down = worstRelativeDifference(finalCheckpoint(path("s21")), reference);
        const double up = worstRelativeDifference(finalCheckpoint(path("s12")), reference);
        qInfo("lenet5, killed after step 16 of 34: resumed 2→1 ranks %.3g, 1→2 ranks %.3g relative to an uninterrupted 2-rank run",
              down, up);
        QVERIFY2(down <= 1e-6, qPrintable(QString::number(down)));
        QVERIFY2(up <= 1e-6, qPrintable(QString::number(up)));
        QCOMPARE(int64Entry(finalCheckpoint(path("s12")), "netwright.dist.world_size"), int64_t(2));
        QCOMPARE(int64Entry(finalCheckpoint(path("s21")), "netwright.dist.world_size"), int64_t(1));
    }

    void deadRankEndsTheJobWithinSeconds()
    {
        const QString c = config("dead", "lenet5", 200, R"("save_checkpoint_steps": 10, "keep_checkpoint_max": 2)");
        QProcess p;
        p.setProcessEnvironment(mpiEnvironment());
        p.start("mpirun", mpirun(2, {"train", "--config", c, "--out", path("dead")}));
        QVERIFY(p.waitForStarted());
        QElapsedTimer t;
        t.start();
        while (QDir(path("dead")).entryList({"*.ckpt"}, QDir::Files).isEmpty() && t.elapsed() < 120000)
            QThread::msleep(20);
        const QList<qint64> pids = rankPids(p.processId());
        QCOMPARE(pids.size(), 2);
        QElapsedTimer sinceKill;
        sinceKill.start();
        ::kill(static_cast<pid_t>(pids.last()), SIGKILL);
        QVERIFY2(p.waitForFinished(30000), "the job still runs 30 s after a rank died");
        const qint64 ms = sinceKill.elapsed();
        const QString err = QString::fromUtf8(p.readAllStandardError() + p.readAllStandardOutput());
        qInfo("a rank killed: the job exited %d after %lld ms", p.exitCode(), static_cast<long long>(ms));
        QVERIFY(p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0);
        QVERIFY2(ms < 10000, qPrintable(QString::number(ms)));
        QVERIFY2(err.contains("exited on signal 9"), qPrintable(err));
        // Nothing lost: every checkpoint left behind reads back.
        for (const QString &ckpt : QDir(path("dead")).entryList({"*.ckpt"}, QDir::Files))
            QVERIFY2(int64Entry(path("dead/") + ckpt, "netwright.dist.world_size") == 2, qPrintable(ckpt));
    }

    void errorOnOneRankEndsTheJob()
    {
        // The run directory already holds a run: rank 0 refuses; rank 1 must not wait for it.
        const QString c = config("busy", "lenet5", 2, R"("save_checkpoint_steps": 0)");
        QVERIFY(QDir().mkpath(path("busy")));
        QFile log(path("busy/metrics.jsonl"));
        QVERIFY(log.open(QIODevice::WriteOnly));
        log.close();
        const Finished f = runMpi(2, {"train", "--config", c, "--out", path("busy")});
        QVERIFY(f.exitCode != 0 && f.exitCode != -1);
        QVERIFY2(f.err.contains("netwright train (rank 0 of 2): The run directory"), qPrintable(f.err));
        QVERIFY2(f.ms < 60000, qPrintable(QString::number(f.ms)));
    }

    void anErrorEveryRankMeetsIsSaidOnce()
    {
        // A bad option fails on every rank alike: rank 0 says it, and its abort ends rank 1 before
        // rank 1 repeats it; nothing is written.
        const QString c = config("bad-device", "lenet5", 1, R"("save_checkpoint_steps": 0)");
        const Finished f = runMpi(2, {"train", "--config", c, "--device", "gpu", "--out", path("bad-device")});
        QVERIFY(f.exitCode != 0 && f.exitCode != -1);
        QVERIFY2(f.err.contains("netwright train (rank 0 of 2): --device: Unknown device \"gpu\" (expected cpu, cuda or cuda:N)."),
                 qPrintable(f.err));
        QVERIFY2(!f.err.contains("(rank 1 of 2)"), qPrintable(f.err));
        QVERIFY(!QFileInfo::exists(path("bad-device")));
    }

    void batchRefusesToRunUnderMpirun()
    {
        const QString c = config("queued", "mlp", 1, R"("save_checkpoint_steps": 0)");
        const Finished f = runMpi(2, {"batch", c, "--out", path("queue")});
        QVERIFY(f.exitCode != 0 && f.exitCode != -1);
        QVERIFY2(f.err.contains("netwright batch: a batch runs its trainings one after another from one process"), qPrintable(f.err));
        QVERIFY(!QFileInfo::exists(path("queue/queued")));
    }
};

QTEST_GUILESS_MAIN(MpiTrainingTest)
#include "mpi_training_test.moc"
