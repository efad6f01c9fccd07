// SPDX-License-Identifier: Apache-2.0
// PyTorch checkpoints made at test time by Debian's torch (tests/support/make_pytorch_files.py):
// a torchvision resnet18 state dict, a training checkpoint with SGD momentum buffers and views,
// the same in the legacy pre-1.6 format, malicious pickles and hostile archives. Every tensor's
// bytes are compared with what torch wrote; the malicious files are refused naming the callable,
// and their payload never runs. The commands on these files: tests/app/pytorch_cli_test.cpp.
#include "checkpoint/training_state.h"
#include "core/error.h"
#include "core/file_io.h"
#include "formats/pytorch/pytorch_file.h"
#include "formats/registry.h"
#include "support/cli_support.h"
#include "support/pytorch_expected.h"

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
using test::Expected;
using test::readExpected;

namespace {

// The sentence describeFile (what `netwright inspect` and the window read through) throws; empty
// when the file was read.
QString describeError(const QString &path)
{
    try {
        describeFile(path.toStdString());
    } catch (const Error &e) {
        return QString::fromUtf8(e.what());
    }
    return {};
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
        QVERIFY(test::runSupportScript("make_pytorch_files.py", {m_dir.path(), marker()}));
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
        const QString said = describeError(file(name)); // what inspect and the window say
        QVERIFY2(said.contains("as a PyTorch checkpoint: it calls " + callable), qPrintable(said));
        QVERIFY2(said.contains("which Netwright never runs"), qPrintable(said));
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
        const QString said = describeError(file(name));
        QVERIFY2(said.contains("Cannot read \"" + file(name) + "\" as a PyTorch checkpoint"), qPrintable(said));
        QVERIFY2(said.contains(problem), qPrintable(said));
    }
};

QTEST_GUILESS_MAIN(PytorchTest)
#include "pytorch_test.moc"
