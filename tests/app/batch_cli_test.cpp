// SPDX-License-Identifier: Apache-2.0
// `netwright batch` as a pipeline runs it: three run configs (real Fashion-MNIST slices), each
// into its own run directory with a log; a batch killed in the middle of its second run (the
// batch and its child, SIGKILL, after that run's first checkpoint) and started again skips the
// first run, resumes the second and trains the third — ending with every checkpoint and metrics
// log byte-identical to an uninterrupted batch; the summary table and --json say what happened.
#include "support/cli_support.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <map>

using namespace netwright;

class BatchCliTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_configs;
    const QStringList m_names{"a-mlp", "b-lenet5", "c-mlp-adam"};

    QString path(const QString &p) const { return m_dir.filePath(p); }

    // The checkpoints and the metrics log of a run directory, by file name.
    std::map<QString, QByteArray> results(const QString &dir) const
    {
        std::map<QString, QByteArray> out;
        for (const QString &f : QDir(dir).entryList({"*.ckpt", "metrics.jsonl"}, QDir::Files))
            out[f] = test::contents(dir + "/" + f);
        return out;
    }

private slots:
    void initTestCase()
    {
        const QString data = test::fashionMnistSlice(m_dir.path(), 1280, 300);
        QVERIFY(!data.isEmpty());
        m_configs = path("configs");
        QVERIFY(QDir().mkpath(m_configs));
        const QStringList models{R"("model": {"name": "mlp"})", R"("model": {"name": "lenet5"})",
                                 R"("model": {"name": "mlp"}, "optimizer": {"name": "adam", "lr": 0.001})"};
        for (int i = 0; i < 3; ++i) {
            QFile f(m_configs + "/" + m_names[i] + ".json");
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(QStringLiteral(R"({%1, %2, "training": {"epochs": 3, "batch_size": 64, "threads": 2}, "schedule": {"warmup_steps": 0}})")
                        .arg(models[i], data)
                        .toUtf8());
        }
    }

    void killedBatchResumesBitIdentical()
    {
        // The reference: uninterrupted.
        const test::RunResult whole = test::runNetwright({"batch", m_configs, "--out", path("whole")});
        QVERIFY2(whole.exitCode == 0, qPrintable(whole.out + whole.err));
        for (const QString &n : m_names) {
            QVERIFY2(QFile::exists(path("whole/") + n + "/batch.log"), qPrintable(n));
            QCOMPARE(results(path("whole/") + n).size(), size_t(4)); // 3 epoch checkpoints (keep max 5) + metrics
        }
        QVERIFY2(whole.out.contains(QRegularExpression("a-mlp\\s+trained\\s+3/3")), qPrintable(whole.out));

        // Killed — the batch and its child — once the second run has its first checkpoint.
        QProcess batch;
        batch.setStandardOutputFile(QProcess::nullDevice());
        batch.start("setsid", {test::binary(), "batch", m_configs, "--out", path("killed")});
        QVERIFY(batch.waitForStarted());
        const QString second = path("killed/b-lenet5");
        QTRY_VERIFY_WITH_TIMEOUT(!QDir(second).entryList({"*.ckpt"}).isEmpty(), 120000);
        ::kill(-static_cast<pid_t>(batch.processId()), SIGKILL);
        QVERIFY(batch.waitForFinished(10000));
        QVERIFY(!QFile::exists(path("killed/c-mlp-adam/metrics.jsonl")));
        // The worst instant of the kill, made certain: after a checkpoint's rename, before its row in
        // checkpoints.jsonl. The checkpoint on disk is whole, and the batch resumes from it.
        QVERIFY(!QFile::exists(second + "/checkpoints.jsonl") || QFile::remove(second + "/checkpoints.jsonl"));

        // Again: the first is skipped, the second resumed, the third trained.
        const test::RunResult again = test::runNetwright({"batch", m_configs, "--out", path("killed"), "--json"});
        QVERIFY2(again.exitCode == 0, qPrintable(again.out + again.err));
        const QJsonObject summary = QJsonDocument::fromJson(again.out.toUtf8()).object();
        const QJsonArray rows = summary["runs"].toArray();
        QCOMPARE(rows.size(), 3);
        QCOMPARE(rows[0].toObject()["status"].toString(), QStringLiteral("finished before"));
        QCOMPARE(rows[1].toObject()["status"].toString(), QStringLiteral("resumed"));
        QCOMPARE(rows[2].toObject()["status"].toString(), QStringLiteral("trained"));
        QCOMPARE(summary["failed"].toInt(), 0);
        for (const auto &row : rows) {
            QCOMPARE(row.toObject()["epochs_done"].toInt(), 3);
            QVERIFY(row.toObject()["best_eval_accuracy"].toDouble() > 0.5);
        }
        // … and ends exactly where the uninterrupted batch did.
        for (const QString &n : m_names) {
            const auto a = results(path("whole/") + n), b = results(path("killed/") + n);
            QCOMPARE(b.size(), a.size());
            for (const auto &[file, bytes] : a) {
                QVERIFY2(b.count(file), qPrintable(n + "/" + file));
                QVERIFY2(b.at(file) == bytes, qPrintable(n + "/" + file + " differs"));
            }
        }
        // A third time: nothing left to do.
        const test::RunResult third = test::runNetwright({"batch", m_configs, "--out", path("killed")});
        QCOMPARE(third.exitCode, 0);
        QCOMPARE(third.out.count("finished before, skipped"), 3);
    }

    void badInputIsNamed()
    {
        const test::RunResult none = test::runNetwright({"batch"});
        QCOMPARE(none.exitCode, 2);
        const test::RunResult missing = test::runNetwright({"batch", path("nope.json")});
        QCOMPARE(missing.exitCode, 1);
        QVERIFY2(missing.err.contains("nope.json") && missing.err.count('\n') == 1, qPrintable(missing.err));
        // Two configs that would share a run directory.
        QVERIFY(QDir().mkpath(path("other")));
        QVERIFY(QFile::copy(m_configs + "/a-mlp.json", path("other/a-mlp.json")));
        const test::RunResult clash = test::runNetwright({"batch", m_configs, path("other"), "--out", path("clash")});
        QCOMPARE(clash.exitCode, 1);
        QVERIFY2(clash.err.contains("would both run in"), qPrintable(clash.err));
        // A run that fails does not stop the others; the batch exits 1.
        QVERIFY(QDir().mkpath(path("mixed")));
        QFile bad(path("mixed/0-bad.json"));
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write(R"({"model": {"name": "resnet"}})");
        bad.close();
        QVERIFY(QFile::copy(m_configs + "/a-mlp.json", path("mixed/1-good.json")));
        const test::RunResult mixed = test::runNetwright({"batch", path("mixed"), "--out", path("mixed-runs")});
        QCOMPARE(mixed.exitCode, 1);
        QVERIFY2(mixed.out.contains("0-bad: failed (exit 1, see batch.log)"), qPrintable(mixed.out));
        QVERIFY2(test::contents(path("mixed-runs/0-bad/batch.log")).contains("is not a zoo model"), "the log says why");
        QVERIFY2(mixed.out.contains(QRegularExpression("1-good\\s+trained")), qPrintable(mixed.out));
    }
};

QTEST_GUILESS_MAIN(BatchCliTest)
#include "batch_cli_test.moc"
