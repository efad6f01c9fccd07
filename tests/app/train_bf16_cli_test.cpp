// SPDX-License-Identifier: Apache-2.0
// bf16 mixed precision (`training.precision`, `--precision`) as a user meets it through the real
// program: on a CPU without bf16 (simulated with NETWRIGHT_CPU_LEVEL=avx512) the run is refused with
// a sentence naming the CPU and its level, before a run directory exists; an unknown precision is
// refused naming the two there are. On a CPU with bf16: the run trains, differs from the fp32 run
// of the same seed (bf16 reached the kernels), is deterministic, and a run stopped with SIGINT and
// resumed ends byte-identical to an uninterrupted one (resuming it without bf16 is refused).
// Uses 1,000 Fashion-MNIST images.
#include "core/cpu_level.h"
#include "support/bf16_skip.h"
#include "support/fashion_run.h"

#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <QCoreApplication>
#include <QTest>

#include <csignal>
#include <string>

using namespace netwright;
using netwright::test::binary;
using netwright::test::contents;

namespace {

QString finalCheckpoint(const QString &dir)
{
    return QDir(dir).entryList({QStringLiteral("*-3_32.ckpt")}, QDir::Files).value(0);
}

} // namespace

class TrainBf16CliTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_config;

    QString path(const QString &n) const { return m_dir.filePath(n); }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_config = test::writeFashionRunConfig(m_dir.path(), 1000, 200, QStringLiteral("cnn-small"),
                                               QStringLiteral(R"("epochs": 3, "batch_size": 32, "threads": 2, "precision": "bf16")"),
                                               QStringLiteral(R"("checkpoint": {"save_checkpoint_steps": 10, "keep_checkpoint_max": 2})"));
        QVERIFY(!m_config.isEmpty());
    }

    void refusedWithoutBf16()
    {
        // The highest level below bf16 this CPU has: what an AVX-512 CPU without BF16 runs.
        const QString level = cpu::detectedLevel() >= cpu::Level::Avx512 ? QStringLiteral("avx512") : QStringLiteral("baseline");
        const test::RunResult r = test::runNetwrightAtLevel({"train", "--config", m_config, "--out", path("refused")}, level);
        QCOMPARE(r.exitCode, 1);
        const QString expected = QStringLiteral("training.precision bf16 needs a CPU with AVX512-BF16 or AMX; this one (%1) runs the %2 level")
                                     .arg(QString::fromStdString(cpu::cpuModelName()), level);
        QVERIFY2(r.err.contains(expected), qPrintable(r.err));
        QVERIFY2(!QFileInfo::exists(path("refused")), "a refused run wrote its directory");
        // The same flag on the command line, and fp32 there, which runs anywhere.
        const test::RunResult flag = test::runNetwrightAtLevel({"train", "--model", "mlp", "--precision", "bf16", "--print-config"}, level);
        QVERIFY2(flag.exitCode == 0 && flag.out.contains(QStringLiteral("\"precision\": \"bf16\"")), qPrintable(flag.out + flag.err));
        const test::RunResult bad = test::runNetwrightAtLevel({"train", "--precision", "fp16", "--print-config"}, level);
        QCOMPARE(bad.exitCode, 1);
        QVERIFY2(bad.err.contains(QStringLiteral("training.precision must be fp32 or bf16, got \"fp16\"")), qPrintable(bad.err));
    }

    void bf16TrainsAndResumesExactly()
    {
        const test::RunResult ref = test::runNetwright({"train", "--config", m_config, "--out", path("ref")});
        QVERIFY2(ref.exitCode == 0, qPrintable(ref.err));
        const QString last = finalCheckpoint(path("ref"));
        QVERIFY2(!last.isEmpty(), qPrintable(QDir(path("ref")).entryList().join(", ")));
        // The same run in fp32 ends elsewhere: the precision reached the kernels.
        const test::RunResult fp32 = test::runNetwright({"train", "--config", m_config, "--precision", "fp32", "--out", path("fp32")});
        QVERIFY2(fp32.exitCode == 0, qPrintable(fp32.err));
        QVERIFY(contents(path("fp32/") + last) != contents(path("ref/") + last));
        // The run's first line says which precision it trains in.
        QVERIFY2(ref.out.contains(QStringLiteral(", bf16 mixed precision\n")), qPrintable(ref.out));
        QVERIFY2(!fp32.out.contains(QStringLiteral("mixed precision")), qPrintable(fp32.out));
        QVERIFY(contents(path("ref/config.json")).contains("\"precision\": \"bf16\""));
        // bf16 twice: the same bytes (deterministic for a level and thread count).
        const test::RunResult again = test::runNetwright({"train", "--config", m_config, "--out", path("again")});
        QVERIFY2(again.exitCode == 0, qPrintable(again.err));
        QVERIFY2(contents(path("again/") + last) == contents(path("ref/") + last), "two bf16 runs differ");

        // Stopped with SIGINT mid-run (a checkpoint of the fp32 master weights), then resumed.
        QProcess first;
        first.setStandardOutputFile(QProcess::nullDevice());
        first.start(binary(), {"train", "--config", m_config, "--out", path("stopped")});
        QVERIFY(first.waitForStarted());
        QVERIFY2(test::waitForLoggedSteps(path("stopped/metrics.jsonl"), 45, first) >= 45, "training did not get under way");
        ::kill(static_cast<pid_t>(first.processId()), SIGINT);
        QVERIFY(first.waitForFinished(120000));
        QCOMPARE(first.exitCode(), 130);
        QVERIFY(finalCheckpoint(path("stopped")).isEmpty());
        // Resumed on a CPU without bf16: refused, naming why, the run left as it was.
        const QByteArray before = contents(path("stopped/metrics.jsonl"));
        const QString level = cpu::detectedLevel() >= cpu::Level::Avx512 ? QStringLiteral("avx512") : QStringLiteral("baseline");
        const test::RunResult refused = test::runNetwrightAtLevel({"resume", path("stopped")}, level);
        QCOMPARE(refused.exitCode, 1);
        QVERIFY2(refused.err.contains(QStringLiteral("training.precision bf16 needs a CPU with AVX512-BF16 or AMX")), qPrintable(refused.err));
        QVERIFY(contents(path("stopped/metrics.jsonl")) == before);
        const test::RunResult resumed = test::runNetwright({"resume", path("stopped")});
        QVERIFY2(resumed.exitCode == 0, qPrintable(resumed.err));
        QVERIFY2(contents(path("stopped/metrics.jsonl")) == contents(path("ref/metrics.jsonl")), "metrics logs differ");
        QVERIFY2(contents(path("stopped/") + last) == contents(path("ref/") + last), "final checkpoints differ");
    }
};

// Without bf16 on this CPU only the refusals can be checked: they run, and then the test says why
// the rest did not and exits 77, which ctest reports as "Skipped" — never as passed.
int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    TrainBf16CliTest test;
    if (cpu::hasBf16())
        return QTest::qExec(&test, argc, argv);
    char refusals[] = "refusedWithoutBf16";
    char *args[] = {argv[0], refusals, nullptr};
    const int failed = QTest::qExec(&test, 2, args);
    if (failed)
        return failed;
    return test::skipWithoutBf16("bf16 training was not run");
}
#include "train_bf16_cli_test.moc"
