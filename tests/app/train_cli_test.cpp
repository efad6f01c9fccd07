// SPDX-License-Identifier: Apache-2.0
// `netwright train` as a user runs it: the run directory's contents, bit-identical metrics logs
// for the same seed and thread count, and one clear line plus a non-zero exit for bad input.
// Uses a 3,000-image slice of the real Fashion-MNIST, written as IDX files by the test.
#include "data/dataset.h"

#ifdef NETWRIGHT_TEST_WITH_CUDA
#include "cuda/cuda_device.h"
#endif

#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <fstream>

using namespace netwright;

namespace {

struct Result {
    int exitCode = -1;
    QString out, err;
};

Result runNetwright(const QStringList &args)
{
    QProcess p;
    p.start(QString::fromLocal8Bit(qgetenv("NETWRIGHT_BINARY")), args);
    if (!p.waitForFinished(600000))
        return {};
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2, QString::fromUtf8(p.readAllStandardOutput()),
            QString::fromUtf8(p.readAllStandardError())};
}

void writeIdx(const std::string &path, const Tensor &t, int64_t n)
{
    std::string s{char(0), char(0), char(0x08), char(t.rank() == 4 ? 3 : t.rank())};
    Shape dims = t.shape();
    dims[0] = n;
    if (dims.size() == 4)
        dims.erase(dims.begin() + 1); // [N,1,H,W] back to [N,H,W]
    for (int64_t d : dims)
        for (int k = 3; k >= 0; --k)
            s.push_back(char((d >> (8 * k)) & 0xff));
    const int64_t per = t.numel() / t.dim(0);
    if (t.dtype() == DType::UInt8)
        s.append(reinterpret_cast<const char *>(t.dataAs<uint8_t>()), static_cast<size_t>(n * per));
    else
        for (int64_t i = 0; i < n; ++i)
            s.push_back(char(t.dataAs<int64_t>()[i]));
    std::ofstream(path, std::ios::binary) << s;
}

} // namespace

class TrainCliTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_config;

    QString path(const QString &name) const { return m_dir.filePath(name); }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        const std::string fm = defaultFashionMnistDir();
        const Dataset train = loadIdxDataset(fm + "/train-images-idx3-ubyte.gz", fm + "/train-labels-idx1-ubyte.gz");
        const Dataset test = loadIdxDataset(fm + "/t10k-images-idx3-ubyte.gz", fm + "/t10k-labels-idx1-ubyte.gz");
        writeIdx(path("train-images").toStdString(), train.features, 2000);
        writeIdx(path("train-labels").toStdString(), train.labels, 2000);
        writeIdx(path("test-images").toStdString(), test.features, 1000);
        writeIdx(path("test-labels").toStdString(), test.labels, 1000);
        QFile csv(path("tiny.csv"));
        QVERIFY(csv.open(QIODevice::WriteOnly));
        csv.write("1,0.5,0.25\n0,0.1,0.2\n");
        csv.close();
        m_config = path("small.json");
        QFile f(m_config);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QStringLiteral(R"({"name": "small", "model": {"name": "cnn-bn"},
  "data": {"dataset": "idx", "train_images": "%1", "train_labels": "%2", "test_images": "%3", "test_labels": "%4"},
  "training": {"epochs": 2, "batch_size": 32, "log_every": 20}})")
                    .arg(path("train-images"), path("train-labels"), path("test-images"), path("test-labels"))
                    .toUtf8());
    }

    void runDirectoryHoldsConfigAndEveryStep()
    {
        const Result r = runNetwright({"train", "--config", m_config, "--threads", "2", "--out", path("run-a")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY(r.out.contains(QStringLiteral("Run directory: ") + path("run-a")));
        QVERIFY(r.out.contains(QStringLiteral("Final test accuracy: ")));
        // The config as run: every key, with the command-line override applied.
        QFile cfg(path("run-a/config.json"));
        QVERIFY(cfg.open(QIODevice::ReadOnly));
        const QJsonObject c = QJsonDocument::fromJson(cfg.readAll()).object();
        QCOMPARE(c["training"].toObject()["threads"].toInt(), 2);
        QCOMPARE(c["model"].toObject()["name"].toString(), QStringLiteral("cnn-bn"));
        QVERIFY(c["optimizer"].toObject().contains("nesterov"));
        // Every step (2 epochs × 63 steps) and both evaluations, never downsampled.
        QFile m(path("run-a/metrics.jsonl"));
        QVERIFY(m.open(QIODevice::ReadOnly));
        int steps = 0, evals = 0;
        double lastAcc = 0;
        for (const QByteArray &line : m.readAll().split('\n')) {
            if (line.isEmpty())
                continue;
            const QJsonObject o = QJsonDocument::fromJson(line).object();
            steps += o["type"].toString() == "step";
            if (o["type"].toString() == "eval") {
                ++evals;
                lastAcc = o["accuracy"].toDouble();
                QCOMPARE(o["samples"].toInt(), 1000);
            }
        }
        QCOMPARE(steps, 2 * 63);
        QCOMPARE(evals, 2);
        QVERIFY2(lastAcc > 0.6, qPrintable(QString::number(lastAcc))); // 2,000 images are enough to learn something
        // The run directory is not overwritten by a second run.
        const Result again = runNetwright({"train", "--config", m_config, "--out", path("run-a")});
        QCOMPARE(again.exitCode, 1);
        QVERIFY(again.err.contains(QStringLiteral("already holds a run")));
    }

    void sameSeedAndThreadsGiveIdenticalLogs()
    {
        for (const char *name : {"run-b", "run-c"}) {
            const Result r = runNetwright({"train", "--config", m_config, "--threads", "2", "--seed", "7", "--out", path(name)});
            QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        }
        const Result r = runNetwright({"train", "--config", m_config, "--threads", "2", "--seed", "8", "--out", path("run-d")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        auto bytes = [&](const char *run) {
            QFile f(path(run) + "/metrics.jsonl");
            return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
        };
        QVERIFY(!bytes("run-b").isEmpty());
        QVERIFY2(bytes("run-b") == bytes("run-c"), "same seed and threads, different metrics logs");
        QVERIFY2(bytes("run-b") != bytes("run-d"), "a different seed gave the same log");
    }

    void badInputGivesOneClearLine_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("fileContent");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("config typo") << QStringList{"--config", "@cfg"} << R"({"optimizer": {"lrr": 0.1}})"
                                     << QStringList{"cfg.json", "optimizer.lrr"};
        QTest::newRow("config wrong type") << QStringList{"--config", "@cfg"} << R"({"training": {"batch_size": "big"}})"
                                           << QStringList{"cfg.json", "batch_size"};
        QTest::newRow("missing config") << QStringList{"--config", "/nonexistent/run.json"} << ""
                                        << QStringList{"/nonexistent/run.json"};
        QTest::newRow("missing dataset") << QStringList{"--config", "@cfg"}
                                         << R"({"data": {"dataset": "idx", "train_images": "/nonexistent/imgs.gz", "train_labels": "x", "test_images": "x", "test_labels": "x"}})"
                                         << QStringList{"/nonexistent/imgs.gz"};
        QTest::newRow("truncated IDX") << QStringList{"--config", "@cfg"} << "TRUNCATED" << QStringList{"truncated", "train-images-cut"};
        QTest::newRow("model does not fit the data") << QStringList{"--config", "@cfg"} << "TINYCSV"
                                                     << QStringList{"tiny.csv", "samples of shape [2]"};
        QTest::newRow("unknown model") << QStringList{"--model", "resnet9000"} << "" << QStringList{"resnet9000"};
        QTest::newRow("bad number") << QStringList{"--epochs", "many"} << "" << QStringList{"--epochs", "many"};
        QTest::newRow("bad value in the config file") << QStringList{"--config", "@cfg"} << R"({"training": {"epochs": -1}})"
                                                      << QStringList{"cfg.json\": training.epochs must be positive"};
        QTest::newRow("bad device in the config file") << QStringList{"--config", "@cfg"} << R"({"training": {"device": "gpu"}})"
                                                       << QStringList{"cfg.json\": training.device: Unknown device \"gpu\""};
        QTest::newRow("bad --device") << QStringList{"--device", "gpu"} << ""
                                      << QStringList{"netwright train: --device: Unknown device \"gpu\" (expected cpu, cuda or cuda:N)."};
    }
    void badInputGivesOneClearLine()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, fileContent);
        QFETCH(QStringList, expected);
        if (fileContent == "TRUNCATED") {
            QFile src(path("train-images")), dst(path("train-images-cut"));
            QVERIFY(src.open(QIODevice::ReadOnly) && dst.open(QIODevice::WriteOnly));
            dst.write(src.read(src.size() / 2));
            dst.close();
            fileContent = QStringLiteral(R"({"data": {"dataset": "idx", "train_images": "%1", "train_labels": "%2", "test_images": "%3", "test_labels": "%4"}})")
                              .arg(path("train-images-cut"), path("train-labels"), path("test-images"), path("test-labels"));
        }
        if (fileContent == "TINYCSV")
            fileContent = QStringLiteral(R"({"data": {"dataset": "csv", "train_csv": "%1", "test_csv": "%1"}})").arg(path("tiny.csv"));
        for (auto &a : args)
            if (a == "@cfg") {
                a = path("cfg.json");
                QFile f(a);
                QVERIFY(f.open(QIODevice::WriteOnly));
                f.write(fileContent.toUtf8());
            }
        const Result r = runNetwright(QStringList{"train", "--out", path("bad-run")} + args);
        QCOMPARE(r.exitCode, 1);
        const QStringList lines = r.err.trimmed().split('\n');
        QCOMPARE(lines.size(), 1);
        for (const auto &e : expected)
            QVERIFY2(r.err.contains(e), qPrintable(r.err));
        QVERIFY(!QFile::exists(path("bad-run/metrics.jsonl")));
    }

    void helpDocumentsEveryOption()
    {
        const Result r = runNetwright({"train", "--help"});
        QCOMPARE(r.exitCode, 0);
        for (const char *o : {"--config", "--model", "--epochs", "--batch-size", "--optimizer", "--lr", "--seed", "--threads", "--device", "--out"})
            QVERIFY2(r.out.contains(QLatin1String(o)), o);
    }

    // --device cuda: refused in one line, naming why and what to do, when this build has no CUDA
    // backend or this machine no GPU — before anything is written; where a GPU is present, the run
    // trains there and continues on the CPU with resume --device cpu.
    void deviceCudaTrainsOrSaysWhyNot()
    {
        const QString dir = path("run-cuda");
        const Result r = runNetwright({"train", "--config", m_config, "--epochs", "1", "--device", "cuda", "--out", dir});
#ifdef NETWRIGHT_TEST_WITH_CUDA
        std::string reason;
        const bool gpu = !cuda::listDevices(&reason).empty();
#else
        const bool gpu = false;
#endif
        if (!gpu) {
            QCOMPARE(r.exitCode, 1);
#ifdef NETWRIGHT_TEST_WITH_CUDA
            QVERIFY2(r.err.startsWith(QStringLiteral("netwright train: No CUDA device is usable (")), qPrintable(r.err));
            QVERIFY2(r.err.contains(QString::fromStdString(reason)), qPrintable(r.err));
            QVERIFY2(r.err.trimmed().endsWith(QStringLiteral("; use --device cpu.")), qPrintable(r.err));
#else
            QCOMPARE(r.err.trimmed(), QStringLiteral("netwright train: This build of Netwright has no CUDA backend (no libnetwright-cuda.so "
                                                     "beside the program; it is built with NETWRIGHT_WITH_CUDA); use --device cpu."));
#endif
            QCOMPARE(r.err.count(QLatin1Char('\n')), 1);
            QVERIFY(!QFileInfo::exists(dir));
            return;
        }
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains(QStringLiteral(", on cuda:0")), qPrintable(r.out));
        QVERIFY(r.out.contains(QStringLiteral("Final test accuracy: ")));
        const Result more = runNetwright({"train", "--config", m_config, "--epochs", "2", "--device", "cpu", "--out", dir});
        QCOMPARE(more.exitCode, 1); // the run exists: continuing it is resume's job
        const Result resumed = runNetwright({"resume", dir, "--device", "cpu"});
        QVERIFY2(resumed.exitCode == 0, qPrintable(resumed.err));
    }
};

QTEST_GUILESS_MAIN(TrainCliTest)
#include "train_cli_test.moc"
