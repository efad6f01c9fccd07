// SPDX-License-Identifier: Apache-2.0
// Exact resume on data users bring: a run on a folder of PNG files (real Fashion-MNIST images,
// written with python3-pil) with training augmentation — random crops with padding and
// horizontal flips — is killed with SIGKILL at random instants and resumed each time; it ends
// with the very metrics log and final checkpoint of an uninterrupted run, bit for bit.
#include "support/cli_support.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using namespace netwright;

class ResumeImageFolderTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_config;

    QString path(const QString &n) const { return m_dir.filePath(n); }

private slots:
    void initTestCase()
    {
        // The first 3000 training and 500 test images of Debian's Fashion-MNIST, as PNG files in
        // one folder per class name.
        QProcess py;
        py.setProcessChannelMode(QProcess::ForwardedChannels);
        py.start("/usr/bin/python3", {qEnvironmentVariable("NETWRIGHT_SOURCE_DIR") + "/tests/support/make_datasets.py", m_dir.path(),
                                      "fashion-png:3000:500"});
        QVERIFY(py.waitForFinished(300000));
        QCOMPARE(py.exitCode(), 0);
        m_config = path("run.json");
        QFile f(m_config);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QStringLiteral(R"({"name": "folder", "model": {"name": "cnn-small"},
 "data": {"dataset": "path", "path": "fashion-png", "random_crop_padding": 2, "horizontal_flip": true},
 "training": {"epochs": 6, "batch_size": 32, "threads": 2},
 "checkpoint": {"save_checkpoint_steps": 9, "keep_checkpoint_max": 3}})")
                    .toUtf8());
    }

    void sigkillAtRandomInstantsThenResume()
    {
        QProcess ref;
        ref.setStandardOutputFile(QProcess::nullDevice());
        ref.start(test::binary(), {"train", "--config", m_config, "--out", path("ref")});
        QVERIFY(ref.waitForFinished(300000));
        QCOMPARE(ref.exitCode(), 0);
        const QStringList finals = QDir(path("ref")).entryList({"*-6_94.ckpt"});
        QCOMPARE(finals.size(), 1);

        QRandomGenerator rng(20261205);
        int kills = 0, resumes = 0;
        bool finished = false;
        for (int round = 0; round < 200 && !finished; ++round) {
            QProcess p;
            p.setStandardOutputFile(QProcess::nullDevice());
            p.setStandardErrorFile(path("stderr.log"), QIODevice::Append);
            const QStringList command = test::trainOrResume(m_config, path("killed"));
            resumes += command.first() == QLatin1String("resume") ? 1 : 0;
            p.start(test::binary(), command);
            QVERIFY(p.waitForStarted());
            if (kills < 16) {
                const int ms = 200 + static_cast<int>(rng.bounded(600));
                if (!p.waitForFinished(ms)) {
                    ::kill(static_cast<pid_t>(p.processId()), SIGKILL);
                    QVERIFY(p.waitForFinished(10000));
                    ++kills;
                    continue;
                }
            } else {
                QVERIFY(p.waitForFinished(300000));
            }
            QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0,
                     qPrintable(QString::fromUtf8(test::contents(path("stderr.log")))));
            finished = true;
        }
        QVERIFY(finished);
        qInfo("%d SIGKILLs, %d resumes", kills, resumes);
        QVERIFY(kills >= 10);
        QVERIFY(resumes >= 5);
        QVERIFY2(test::contents(path("killed/metrics.jsonl")) == test::contents(path("ref/metrics.jsonl")), "metrics logs differ");
        QVERIFY2(test::contents(path("killed/") + finals[0]) == test::contents(path("ref/") + finals[0]), "final checkpoints differ");
        // The augmentation did something: a run without it ends elsewhere.
        QFile plain(path("plain.json"));
        QVERIFY(plain.open(QIODevice::WriteOnly));
        plain.write(QString::fromUtf8(test::contents(m_config)).replace("\"random_crop_padding\": 2, \"horizontal_flip\": true", "\"horizontal_flip\": false").toUtf8());
        plain.close();
        const test::RunResult r = test::runNetwright({"train", "--config", path("plain.json"), "--out", path("plain"), "--epochs", "1"});
        QCOMPARE(r.exitCode, 0);
        const QStringList firstEpoch = QDir(path("ref")).entryList({"*-1_94.ckpt"});
        const QStringList plainFirst = QDir(path("plain")).entryList({"*-1_94.ckpt"});
        if (!firstEpoch.isEmpty() && !plainFirst.isEmpty())
            QVERIFY(test::contents(path("plain/") + plainFirst[0]) != test::contents(path("ref/") + firstEpoch[0]));
        QVERIFY(test::contents(path("plain/metrics.jsonl")).left(2000) != test::contents(path("ref/metrics.jsonl")).left(2000));
    }
};

QTEST_GUILESS_MAIN(ResumeImageFolderTest)
#include "resume_image_folder_test.moc"
