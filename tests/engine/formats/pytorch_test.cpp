// SPDX-License-Identifier: Apache-2.0
// PyTorch checkpoints made at test time by Debian's torch (tests/support/make_pytorch_files.py):
// a torchvision resnet18 state dict, a training checkpoint with SGD momentum buffers and views,
// the same in the legacy pre-1.6 format, malicious pickles and hostile archives. Every tensor's
// bytes are compared with what torch wrote; `netwright inspect` is checked against numpy's
// statistics; the malicious files are refused naming the callable, and their payload never runs.
#include "checkpoint/training_state.h"
#include "core/error.h"
#include "core/file_io.h"
#include "formats/pytorch/pytorch_file.h"
#include "formats/registry.h"
#include "support/cli_support.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

using namespace netwright;

namespace {

struct Expected {
    bool tensor = false;
    std::string name, type, text; // tensors: type is the dtype; values: Python type and text
    Shape shape;
    qint64 offset = 0, bytes = 0;
    QString min, max, mean;       // numpy's statistics ("-" when not floating point)
};

std::vector<Expected> readExpected(const QString &path)
{
    std::vector<Expected> out;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return out;
    for (const QByteArray &line : f.readAll().split('\n')) {
        if (line.isEmpty())
            continue;
        const QList<QByteArray> c = line.split('\t');
        Expected e;
        e.tensor = c[0] == "T";
        e.name = c[1].toStdString();
        e.type = c[2].toStdString();
        if (e.tensor) {
            for (const QByteArray &d : c[3].split(','))
                if (!d.isEmpty())
                    e.shape.push_back(d.toLongLong());
            e.offset = c[4].toLongLong();
            e.bytes = c[5].toLongLong();
            e.min = QString::fromUtf8(c[6]);
            e.max = QString::fromUtf8(c[7]);
            e.mean = QString::fromUtf8(c[8]);
        } else {
            e.text = line.mid(c[0].size() + c[1].size() + c[2].size() + 3).toStdString();
        }
        out.push_back(std::move(e));
    }
    return out;
}

bool near(double got, const QString &want)
{
    const double w = want.toDouble();
    return std::abs(got - w) <= 1e-5 * std::max(1.0, std::abs(w));
}

} // namespace

class PytorchTest : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    QString file(const QString &name) const { return m_dir.path() + "/" + name; }
    QString marker() const { return file("MARKER"); }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QProcess py;
        py.setProcessChannelMode(QProcess::ForwardedChannels);
        py.start("/usr/bin/python3", {qEnvironmentVariable("NETWRIGHT_SOURCE_DIR") + "/tests/support/make_pytorch_files.py", m_dir.path(), marker()});
        QVERIFY(py.waitForFinished(300000));
        QCOMPARE(py.exitCode(), 0);
        QVERIFY(!QFile::exists(marker()));
    }

    // Every leaf, in torch's order, with every tensor's bytes as torch holds them.
    void readsEveryTensor_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("resnet18 state dict") << "resnet18.pt";
        QTest::newRow("training checkpoint") << "training.pt";
        QTest::newRow("legacy training checkpoint") << "legacy.pt";
    }
    void readsEveryTensor()
    {
        QFETCH(QString, name);
        const auto expected = readExpected(file(name + ".expected"));
        QVERIFY(!expected.empty());
        const QByteArray raw = test::contents(file(name + ".raw"));
        const pytorch::PytorchFile f = pytorch::readPytorch(file(name).toStdString());
        QCOMPARE(f.legacy, name == "legacy.pt");
        QCOMPARE(f.entries.size(), expected.size());
        int tensors = 0;
        for (size_t i = 0; i < expected.size(); ++i) {
            const auto &e = expected[i];
            const auto &got = f.entries[i];
            QCOMPARE(got.name, e.name);
            QCOMPARE(got.tensor.defined(), e.tensor);
            if (!e.tensor) {
                QCOMPARE(got.pyType, e.type);
                QCOMPARE(got.text, e.text);
                continue;
            }
            ++tensors;
            QCOMPARE(dtypeName(got.tensor.dtype()), e.type);
            QCOMPARE(got.tensor.shape(), e.shape);
            QCOMPARE(static_cast<qint64>(got.tensor.byteSize()), e.bytes);
            QVERIFY2(std::memcmp(got.tensor.raw(), raw.constData() + e.offset, static_cast<size_t>(e.bytes)) == 0, e.name.c_str());
        }
        QVERIFY(tensors >= 20);
        if (name == "resnet18.pt")
            QCOMPARE(tensors, 122); // 62 weights and biases, 20 BN statistics × 3
    }

    // The training-checkpoint path (load-check, --init-from) sees the same tensors and numbers.
    void trainingStateOfPytorchFile()
    {
        const TrainingState state = readTrainingStateFile(file("training.pt").toStdString());
        std::map<std::string, const StateEntry *> byName;
        for (const auto &e : state)
            byName[e.name] = &e;
        QVERIFY(byName.count("model_state_dict.0.weight"));
        QCOMPARE(byName["model_state_dict.0.weight"]->tensor.shape(), (Shape{4, 3, 3, 3}));
        QVERIFY(byName.count("optimizer_state_dict.state.4.momentum_buffer"));
        QCOMPARE(byName["optimizer_state_dict.state.4.momentum_buffer"]->tensor.shape(), (Shape{5, 144}));
        QVERIFY(byName.count("epoch"));
        QCOMPARE(byName["epoch"]->tensor.dtype(), DType::Int64);
        QCOMPARE(byName["epoch"]->tensor.dataAs<int64_t>()[0], int64_t(3));
        QVERIFY(byName.count("optimizer_state_dict.param_groups.0.lr"));
        QCOMPARE(byName["optimizer_state_dict.param_groups.0.lr"]->tensor.dataAs<double>()[0], 0.1);
        QVERIFY(byName.count("note") && byName["note"]->isString && byName["note"]->text == "sgd run");
    }

    // Detection goes by content: a state dict named .bin or .ckpt is still a PyTorch file.
    void detectsByContent()
    {
        for (const QString &n : {"resnet18.pt", "legacy.pt"}) {
            const std::string p = file(n).toStdString();
            QCOMPARE(detectFormat(readFilePrefix(p, 65536), regularFileSize(p), "weights.ckpt").id, std::string("pytorch"));
        }
    }

    // `netwright inspect` names every tensor with dtype and shape, statistics as numpy computes them.
    void inspectMatchesNumpy()
    {
        const auto r = test::runNetwright({"inspect", "--json", file("training.pt")});
        QCOMPARE(r.exitCode, 0);
        const QJsonObject doc = QJsonDocument::fromJson(r.out.toUtf8()).object();
        QCOMPARE(doc["format"].toString(), QStringLiteral("pytorch"));
        std::map<QString, QJsonObject> byName;
        for (const auto &p : doc["parameters"].toArray())
            byName[p.toObject()["name"].toString()] = p.toObject();
        const auto expected = readExpected(file("training.pt.expected"));
        QCOMPARE(byName.size(), expected.size());
        for (const auto &e : expected) {
            const QString n = QString::fromStdString(e.name);
            QVERIFY2(byName.count(n), e.name.c_str());
            const QJsonObject o = byName[n];
            if (!e.tensor) {
                QCOMPARE(o["value"].toString().toStdString(), e.text);
                continue;
            }
            QCOMPARE(o["dtype"].toString().toStdString(), e.type);
            QCOMPARE(o["shape"].toArray().size(), static_cast<qsizetype>(e.shape.size()));
            if (e.mean != "-" && e.type != "bfloat16" && e.type != "float16") {
                QVERIFY2(near(o["min"].toDouble(), e.min), e.name.c_str());
                QVERIFY2(near(o["max"].toDouble(), e.max), e.name.c_str());
                QVERIFY2(near(o["mean"].toDouble(), e.mean), e.name.c_str());
            }
        }
        // The text listing of the resnet18 state dict names every tensor.
        const auto t = test::runNetwright({"inspect", file("resnet18.pt")});
        QCOMPARE(t.exitCode, 0);
        for (const auto &e : readExpected(file("resnet18.pt.expected")))
            QVERIFY2(t.out.contains(QString::fromStdString(e.name) + " "), e.name.c_str());
        QVERIFY(t.out.contains("PyTorch checkpoint"));
    }

    // `netwright convert X.pt X.safetensors` keeps every tensor's bytes: an independent reader
    // (numpy on the safetensors header and offsets, tests/support/check_safetensors_bytes.py)
    // finds each tensor torch wrote, with its dtype, shape and bytes.
    void convertsToSafetensors_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("resnet18 state dict") << "resnet18.pt";
        QTest::newRow("training checkpoint") << "training.pt";
        QTest::newRow("legacy training checkpoint") << "legacy.pt";
    }
    void convertsToSafetensors()
    {
        QFETCH(QString, name);
        const QString out = file(name + ".safetensors");
        const auto r = test::runNetwright({"convert", file(name), out});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains("identical"), qPrintable(r.out));
        QProcess py;
        py.start("/usr/bin/python3", {qEnvironmentVariable("NETWRIGHT_SOURCE_DIR") + "/tests/support/check_safetensors_bytes.py", out,
                                      file(name + ".expected"), file(name + ".raw")});
        QVERIFY(py.waitForFinished(120000));
        const QString said = QString::fromUtf8(py.readAllStandardOutput() + py.readAllStandardError()).trimmed();
        qInfo("%s: %s", qPrintable(name), qPrintable(said));
        QVERIFY2(py.exitCode() == 0, qPrintable(said));
        const auto expected = readExpected(file(name + ".expected"));
        const auto tensors = std::count_if(expected.begin(), expected.end(), [](const Expected &e) { return e.tensor; });
        QVERIFY(tensors >= 20);
        QCOMPARE(said, QString("%1 tensors identical").arg(tensors));
    }

    // Malicious pickles are refused, naming the callable; the payload never runs.
    void refusesMaliciousPickles_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("callable");
        QTest::newRow("os.system in a zip") << "malicious.pt" << "posix.system";
        QTest::newRow("os.system, legacy") << "malicious_legacy.pt" << "posix.system";
        QTest::newRow("eval, protocol 4") << "malicious_eval.pt" << "builtins.eval";
    }
    void refusesMaliciousPickles()
    {
        QFETCH(QString, name);
        QFETCH(QString, callable);
        const auto r = test::runNetwright({"inspect", file(name)});
        QVERIFY(r.exitCode != 0 && r.exitCode != -2);
        QVERIFY2(r.err.contains("as a PyTorch checkpoint: it calls " + callable), qPrintable(r.err));
        QVERIFY2(r.err.contains("which Netwright never runs"), qPrintable(r.err));
        try {
            readTrainingStateFile(file(name).toStdString());
            QFAIL("read a malicious file");
        } catch (const Error &e) {
            QVERIFY(QString(e.what()).contains(callable));
        }
        QVERIFY(!QFile::exists(marker()));
    }

    // Damaged archives and pickled models are refused with a sentence saying what is wrong.
    void refusesHostileFiles_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("problem");
        QTest::newRow("truncated zip") << "truncated.pt" << "central directory that ends a zip is missing";
        QTest::newRow("storage shorter than its tensor") << "short_storage.pt" << "holds 4 bytes, shorter than the 108 float32 elements";
        QTest::newRow("nested 100 deep") << "deep.pt" << "nests containers more than 64 deep";
        QTest::newRow("a whole pickled model") << "whole_model.pt" << "it calls torch.nn.modules.linear.Linear (at byte 2), which Netwright never runs (only tensors and plain containers are read); a whole pickled model needs its Python classes, so save its state_dict() instead";
    }
    void refusesHostileFiles()
    {
        QFETCH(QString, name);
        QFETCH(QString, problem);
        const auto r = test::runNetwright({"inspect", file(name)});
        QVERIFY(r.exitCode != 0 && r.exitCode != -2);
        QVERIFY2(r.err.contains("Cannot read \"" + file(name) + "\" as a PyTorch checkpoint"), qPrintable(r.err));
        QVERIFY2(r.err.contains(problem), qPrintable(r.err));
    }
};

QTEST_GUILESS_MAIN(PytorchTest)
#include "pytorch_test.moc"
