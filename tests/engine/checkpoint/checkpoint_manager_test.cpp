// SPDX-License-Identifier: Apache-2.0
// CheckpointManager retention with the real file system and an injected clock: the newest N plus
// the best K by an evaluation metric (max or min), keep_period, MindSpore's step trigger and
// names, the prefix clash for a second run in the same directory, no duplicate final save, and
// the history log naming the rule of every deletion.
#include "checkpoint/checkpoint_manager.h"
#include "checkpoint/training_state.h"
#include "formats/mindspore/ckpt_file.h"
#include "core/error.h"
#include "train/training_setup.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

#include <cstring>
#include <sys/stat.h>

using namespace netwright;

namespace {

std::shared_ptr<Dataset> tiny()
{
    auto d = std::make_shared<Dataset>();
    d->name = "tiny";
    d->features = Tensor::zeros({20, 1, 28, 28}, DType::UInt8);
    d->labels = Tensor::zeros({20}, DType::Int64);
    d->classes = 10;
    return d;
}

QStringList ckpts(const QString &dir)
{
    QStringList l = QDir(dir).entryList({"*.ckpt"}, QDir::Files, QDir::Name);
    return l;
}

// Drives the manager with synthetic events: `epochs` epochs of 10 steps, eval metric per epoch.
void drive(CheckpointManager &m, const std::vector<double> &accuracy, double &clock)
{
    TrainBeginInfo b;
    b.stepsPerEpoch = 10;
    m.onTrainBegin(b);
    int64_t step = 0;
    for (size_t e = 0; e < accuracy.size(); ++e) {
        for (int s = 1; s <= 10; ++s) {
            StepInfo si;
            si.epoch = static_cast<int64_t>(e) + 1;
            si.step = s;
            si.stepsPerEpoch = 10;
            si.globalStep = ++step;
            clock += 1.0;
            m.onStep(si);
        }
        EvalInfo ev;
        ev.epoch = static_cast<int64_t>(e) + 1;
        ev.globalStep = step;
        ev.accuracy = accuracy[e];
        ev.loss = 1.0 - accuracy[e];
        clock += 1.0;
        m.onEvaluation(ev);
    }
    TrainEndInfo end;
    end.globalStep = step;
    m.onTrainEnd(end);
}

} // namespace

class CheckpointManagerTest : public QObject {
    Q_OBJECT
    TrainingData m_data;
    std::unique_ptr<Trainer> m_trainer;

private slots:
    void initTestCase()
    {
        m_data.train = tiny();
        m_data.test = tiny();
        RunConfig c = defaultRunConfig();
        c.model = "mlp";
        c.training.threads = 1;
        m_trainer = makeTrainer(c, m_data);
    }

    void newestFivePlusBest()
    {
        QTemporaryDir dir;
        double clock = 1000.0;
        CheckpointManager m(*m_trainer, CheckpointSettings{}, dir.path().toStdString(), "mlp", {}, [&] { return clock; });
        drive(m, {0.5, 0.9, 0.6, 0.7, 0.65, 0.62, 0.61, 0.60}, clock);
        QCOMPARE(ckpts(dir.path()), (QStringList{"mlp-2_10.ckpt", "mlp-4_10.ckpt", "mlp-5_10.ckpt", "mlp-6_10.ckpt",
                                                 "mlp-7_10.ckpt", "mlp-8_10.ckpt"}));
        QFile log(dir.filePath("checkpoints.jsonl"));
        QVERIFY(log.open(QIODevice::ReadOnly));
        const QByteArray text = log.readAll();
        QCOMPARE(text.count("\"event\":\"saved\""), 8); // one per epoch; the end adds nothing
        QCOMPARE(text.count("\"rule\":\"keep_checkpoint_max\""), 2);
    }

    void deletedCheckpointsLeaveNothingBehind()
    {
        // A keep rule's deletion renames the file away at once and frees its bytes on a background
        // thread: once the manager is gone, the directory holds the kept files and nothing hidden.
        QTemporaryDir dir;
        double clock = 1000.0;
        CheckpointSettings s;
        s.keepCheckpointMax = 1;
        s.saveTopK = 0;
        s.asyncSave = true;
        {
            CheckpointManager m(*m_trainer, s, dir.path().toStdString(), "mlp", {}, [&] { return clock; });
            drive(m, {0.5, 0.4, 0.3, 0.2}, clock);
            QCOMPARE(ckpts(dir.path()), QStringList{"mlp-4_10.ckpt"});
        }
        QCOMPARE(QDir(dir.path()).entryList({"*.deleted", ".*.deleted"}, QDir::Files | QDir::Hidden), QStringList{});
        QVERIFY(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).contains("mlp-4_10.ckpt"));
    }

    void minModeKeepPeriodAndStepTrigger()
    {
        QTemporaryDir dir;
        double clock = 1000.0;
        CheckpointSettings s;
        s.monitor = "eval_loss";
        s.mode = "min";
        s.saveTopK = 2;
        s.keepCheckpointMax = 2;
        s.keepPeriod = 30;
        s.saveCheckpointSteps = 4;
        CheckpointManager m(*m_trainer, s, dir.path().toStdString(), "mlp", {}, [&] { return clock; });
        // losses 0.5 0.1 0.4 0.3 0.45: best two by loss are epochs 2 (0.1) and 4 (0.3).
        drive(m, {0.5, 0.9, 0.6, 0.7, 0.55}, clock);
        // newest 2 (step 48 = mlp-5_8, step 50 = mlp-5_10), best 2 (steps 20 and 40), step 30 (keep_period).
        QCOMPARE(ckpts(dir.path()), (QStringList{"mlp-2_10.ckpt", "mlp-3_10.ckpt", "mlp-4_10.ckpt", "mlp-5_10.ckpt", "mlp-5_8.ckpt"}));
    }

    void saveLastIsAlwaysTheNewestCheckpoint()
    {
        QTemporaryDir dir;
        double clock = 1000.0;
        CheckpointSettings s;
        s.saveLast = true;
        s.keepCheckpointMax = 1;
        s.saveTopK = 0;
        {
            CheckpointManager m(*m_trainer, s, dir.path().toStdString(), "mlp", {}, [&] { return clock; });
            drive(m, {0.5, 0.9, 0.6}, clock);
        }
        // keep-max 1 left the newest; mlp-last.ckpt is a second name of it (a hard link, never
        // managed by the keep rules), and a resume picks the real name.
        QCOMPARE(ckpts(dir.path()), (QStringList{"mlp-3_10.ckpt", "mlp-last.ckpt"}));
        QCOMPARE(QFileInfo(dir.filePath("mlp-last.ckpt")).size(), QFileInfo(dir.filePath("mlp-3_10.ckpt")).size());
        struct stat a {}, b {};
        QCOMPARE(::stat(dir.filePath("mlp-last.ckpt").toLocal8Bit().constData(), &a), 0);
        QCOMPARE(::stat(dir.filePath("mlp-3_10.ckpt").toLocal8Bit().constData(), &b), 0);
        QCOMPARE(a.st_ino, b.st_ino);
        QCOMPARE(QString::fromStdString(findNewestValidCheckpoint(dir.path().toStdString())), QStringLiteral("mlp-3_10.ckpt"));
        QFile log(dir.filePath("checkpoints.jsonl"));
        QVERIFY(log.open(QIODevice::ReadOnly));
        QCOMPARE(log.readAll().count("\"rule\":\"save_last\""), 3);
    }

    void failedAsyncSaveIsReported()
    {
        QTemporaryDir dir;
        // A non-empty directory where the checkpoint should go: its rename fails (even for root).
        QVERIFY(QDir(dir.path()).mkpath("mlp-1_3.ckpt/occupied"));
        double clock = 1000.0;
        CheckpointSettings s;
        s.asyncSave = true;
        s.saveCheckpointSteps = 3;
        CheckpointManager m(*m_trainer, s, dir.path().toStdString(), "mlp", {}, [&] { return clock; });
        try {
            drive(m, {0.5}, clock);
            QFAIL("a failed background save went unreported");
        } catch (const Error &e) {
            const QString msg = QString::fromUtf8(e.what());
            QVERIFY2(msg.contains("asynchronous save") && msg.contains("mlp-1_3.ckpt"), e.what());
        }
    }

    void asyncSavesWriteTheSameFiles()
    {
        QTemporaryDir a, b;
        double clock = 1000.0;
        CheckpointSettings s;
        s.saveCheckpointSteps = 3;
        {
            CheckpointManager m(*m_trainer, s, a.path().toStdString(), "mlp", {}, [&] { return clock; });
            drive(m, {0.5, 0.6}, clock);
        }
        s.asyncSave = true;
        clock = 1000.0;
        {
            CheckpointManager m(*m_trainer, s, b.path().toStdString(), "mlp", {}, [&] { return clock; });
            drive(m, {0.5, 0.6}, clock);
        }
        QCOMPARE(ckpts(b.path()), ckpts(a.path()));
        for (const QString &f : ckpts(a.path())) {
            QFile x(a.filePath(f)), y(b.filePath(f));
            QVERIFY(x.open(QIODevice::ReadOnly) && y.open(QIODevice::ReadOnly));
            QVERIFY2(x.readAll() == y.readAll(), qPrintable(f));
        }
    }

    void breakpointCheckpoints()
    {
        // exception_save: prefix-epoch_stepInEpoch_breakpoint.ckpt, readable, its own clash
        // counter, and never touched by keep_checkpoint_max.
        QTemporaryDir dir;
        double clock = 1000.0;
        CheckpointSettings s;
        s.keepCheckpointMax = 1;
        CheckpointManager m(*m_trainer, s, dir.path().toStdString(), "mlp", {}, [&] { return clock; });
        drive(m, {0.5, 0.6}, clock); // the trainer itself never stepped: its state is at step 0
        const std::string first = m.saveBreakpoint();
        QVERIFY2(QString::fromStdString(first).endsWith("/mlp-1_1_breakpoint.ckpt"), first.c_str());
        const std::string second = m.saveBreakpoint();
        QVERIFY2(QString::fromStdString(second).endsWith("/mlp_1-1_1_breakpoint.ckpt"), second.c_str());
        QCOMPARE(mindspore::readCkpt(first).entries.size(), captureTrainingState(*m_trainer).size());
        drive(m, {0.7}, clock); // more saves with keep_checkpoint_max 1
        QVERIFY(QFile::exists(QString::fromStdString(first)) && QFile::exists(QString::fromStdString(second)));
    }

    void secondRunGetsTheNextPrefix()
    {
        QTemporaryDir dir;
        double clock = 1000.0;
        {
            CheckpointManager first(*m_trainer, CheckpointSettings{}, dir.path().toStdString(), "mlp", {}, [&] { return clock; });
            drive(first, {0.5}, clock);
        }
        CheckpointManager second(*m_trainer, CheckpointSettings{}, dir.path().toStdString(), "mlp", {}, [&] { return clock; });
        QCOMPARE(second.prefix(), std::string("mlp_1"));
        drive(second, {0.5}, clock);
        QCOMPARE(ckpts(dir.path()), (QStringList{"mlp-1_10.ckpt", "mlp_1-1_10.ckpt"}));
    }
};

QTEST_GUILESS_MAIN(CheckpointManagerTest)
#include "checkpoint_manager_test.moc"
