// SPDX-License-Identifier: Apache-2.0
// The CPU level the kernels run at (core/cpu_level.h), as a user on another CPU meets it: the real
// `netwright` program, started with NETWRIGHT_CPU_LEVEL at each level this CPU supports, names that
// level in --version, and trains lenet5 on 512 Fashion-MNIST images to a checkpoint that equals the
// baseline level's within float tolerance (the baseline is what a CPU without AVX runs). The same
// level and thread count twice write the same bytes. An unknown level, or one above the CPU's, is
// refused with a message naming the levels there are, and writes nothing.
#include "checkpoint/training_state.h"
#include "core/cpu_level.h"
#include "core/error.h"
#include "data/dataset.h"
#include "support/cli_support.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <fstream>

using namespace netwright;

namespace {

// The run's one final checkpoint: every float tensor by name.
std::map<std::string, Tensor> finalWeights(const QString &runDir)
{
    const QStringList ckpts = QDir(runDir).entryList({QStringLiteral("*.ckpt")}, QDir::Files, QDir::Name);
    if (ckpts.isEmpty())
        return {};
    std::map<std::string, Tensor> out;
    for (const StateEntry &e : readTrainingStateFile(QDir(runDir).filePath(ckpts.last()).toStdString()))
        if (!e.isString && e.tensor.dtype() == DType::Float32 && e.name.rfind("netwright.", 0) != 0)
            out[e.name] = e.tensor;
    return out;
}

} // namespace

class CpuLevelTest : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_config;

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY2(QFile::exists(qEnvironmentVariable("NETWRIGHT_BINARY")), "NETWRIGHT_BINARY must name the netwright program");
        // 512 training and 128 test images of Fashion-MNIST as CSV rows (label, 784 pixels).
        const std::string fm = defaultFashionMnistDir();
        const Tensor images = readIdx(fm + "/train-images-idx3-ubyte.gz"), labels = readIdx(fm + "/train-labels-idx1-ubyte.gz");
        const uint8_t *px = images.dataAs<uint8_t>(), *lb = labels.dataAs<uint8_t>();
        for (const auto &[name, first, count] : {std::tuple{"train", 0, 512}, std::tuple{"test", 512, 128}}) {
            std::ofstream csv(m_dir.filePath(QString::fromLatin1(name) + ".csv").toStdString());
            for (int i = first; i < first + count; ++i) {
                csv << int(lb[i]);
                for (int j = 0; j < 784; ++j)
                    csv << ',' << int(px[static_cast<size_t>(i) * 784 + static_cast<size_t>(j)]);
                csv << '\n';
            }
        }
        m_config = m_dir.filePath(QStringLiteral("lenet5.json"));
        QFile f(m_config);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QStringLiteral(R"({"name": "levels", "model": {"name": "lenet5"},
 "data": {"dataset": "csv", "train_csv": "%1", "test_csv": "%2", "shuffle": false},
 "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
 "schedule": {"name": "constant"},
 "training": {"epochs": 2, "batch_size": 32, "threads": 2, "seed": 3},
 "checkpoint": {"save_every_epoch": false, "save_at_end": true},
 "logging": {"tensorboard": false}})")
                    .arg(m_dir.filePath(QStringLiteral("train.csv")), m_dir.filePath(QStringLiteral("test.csv")))
                    .toUtf8());
    }

    void namesRoundTrip()
    {
        for (int i = 0; i <= static_cast<int>(cpu::Level::Amx); ++i) {
            const auto level = static_cast<cpu::Level>(i);
            QCOMPARE(cpu::parseLevel(cpu::levelName(level)), std::optional<cpu::Level>(level));
        }
        QVERIFY(!cpu::parseLevel("avx9"));
        const std::vector<cpu::Level> levels = cpu::supportedLevels();
        QCOMPARE(levels.front(), cpu::Level::Baseline);
        QCOMPARE(levels.back(), cpu::detectedLevel());
    }

    // Every level this CPU supports trains lenet5 to the baseline's weights within float rounding.
    void everyLevelTrainsLikeTheBaseline()
    {
        std::map<std::string, Tensor> baseline;
        for (const cpu::Level level : cpu::supportedLevels()) {
            const QString name = QString::fromLatin1(cpu::levelName(level));
            const test::RunResult version = test::runNetwrightAtLevel({QStringLiteral("--version")}, name);
            QCOMPARE(version.exitCode, 0);
            QVERIFY2(version.out.contains(QStringLiteral("CPU kernels: ") + name + QStringLiteral(" (")), qPrintable(version.out));
            const QString runDir = m_dir.filePath(QStringLiteral("run-") + name);
            const test::RunResult train = test::runNetwrightAtLevel({QStringLiteral("train"), QStringLiteral("--config"), m_config,
                                                 QStringLiteral("--out"), runDir}, name);
            QVERIFY2(train.exitCode == 0, qPrintable(name + QStringLiteral(": ") + train.err));
            const std::map<std::string, Tensor> weights = finalWeights(runDir);
            QVERIFY2(weights.size() >= 10, qPrintable(name + QStringLiteral(": no final checkpoint in ") + runDir));
            if (level == cpu::Level::Baseline) {
                baseline = weights;
                continue;
            }
            QCOMPARE(weights.size(), baseline.size());
            double worst = 0.0;
            std::string where;
            for (const auto &[key, t] : weights) {
                const Tensor &b = baseline.at(key);
                QCOMPARE(t.shape(), b.shape());
                for (int64_t i = 0; i < t.numel(); ++i) {
                    const double d = std::abs(double(t.data()[i]) - double(b.data()[i])) / (1e-3 + std::abs(double(b.data()[i])));
                    if (d > worst) {
                        worst = d;
                        where = key + "[" + std::to_string(i) + "]";
                    }
                }
            }
            qInfo("%s vs baseline after 32 SGD steps: worst relative difference %.2e at %s", qPrintable(name), worst, where.c_str());
            // Different instruction sets round differently (FMA, summation order); 32 steps of SGD
            // with momentum keep that within 1 %, where a wrong kernel is off by 100 %.
            QVERIFY2(worst < 1e-2, qPrintable(name + QStringLiteral(" differs from the baseline at ") + QString::fromStdString(where)));
            QVERIFY(worst > 0.0 || level == cpu::Level::Baseline); // the level really ran other kernels
        }
    }

    // One level and thread count: the same bytes twice (the baseline and the best level).
    void sameLevelIsDeterministic()
    {
        for (const cpu::Level level : {cpu::Level::Baseline, cpu::detectedLevel()}) {
            const QString name = QString::fromLatin1(cpu::levelName(level));
            std::map<std::string, Tensor> first;
            for (int round = 0; round < 2; ++round) {
                const QString runDir = m_dir.filePath(QStringLiteral("again-%1-%2").arg(name).arg(round));
                const test::RunResult train = test::runNetwrightAtLevel({QStringLiteral("train"), QStringLiteral("--config"), m_config,
                                                     QStringLiteral("--out"), runDir}, name);
                QVERIFY2(train.exitCode == 0, qPrintable(train.err));
                const std::map<std::string, Tensor> weights = finalWeights(runDir);
                QVERIFY(!weights.empty());
                if (round == 0) {
                    first = weights;
                    continue;
                }
                for (const auto &[key, t] : weights)
                    QVERIFY2(std::memcmp(t.raw(), first.at(key).raw(), static_cast<size_t>(t.byteSize())) == 0,
                             qPrintable(name + QStringLiteral(": ") + QString::fromStdString(key) + QStringLiteral(" differs between two runs")));
            }
        }
    }

    void badLevelsAreRefusedAndWriteNothing()
    {
        test::RunResult r = test::runNetwrightAtLevel({QStringLiteral("--version")}, QStringLiteral("avx9"));
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains(QStringLiteral("NETWRIGHT_CPU_LEVEL=avx9 is not a CPU level; use one of baseline, avx2, avx512, avx512-bf16, amx.")),
                 qPrintable(r.err));
        const QString runDir = m_dir.filePath(QStringLiteral("refused"));
        r = test::runNetwrightAtLevel({QStringLiteral("train"), QStringLiteral("--config"), m_config, QStringLiteral("--out"), runDir}, QStringLiteral("avx9"));
        QVERIFY(r.exitCode != 0);
        QVERIFY2(r.err.contains(QStringLiteral("NETWRIGHT_CPU_LEVEL=avx9")), qPrintable(r.err));
        QVERIFY2(!QFileInfo::exists(runDir), "a refused start must write nothing");
        if (cpu::detectedLevel() < cpu::Level::Amx) {
            r = test::runNetwrightAtLevel({QStringLiteral("--version")}, QStringLiteral("amx"));
            QCOMPARE(r.exitCode, 2);
            QVERIFY2(r.err.contains(QStringLiteral("is above what this CPU")), qPrintable(r.err));
            QVERIFY2(r.err.contains(QString::fromLatin1(cpu::levelName(cpu::detectedLevel())) + QStringLiteral(".")), qPrintable(r.err));
        }
    }
};

QTEST_GUILESS_MAIN(CpuLevelTest)
#include "cpu_level_test.moc"
