// SPDX-License-Identifier: Apache-2.0
// `netwright inspect` and `netwright convert` on PyTorch files made at test time by Debian's torch
// (tests/support/make_pytorch_files.py): inspect names every tensor with numpy's statistics;
// convert to safetensors keeps every tensor's bytes, read back by an independent reader (numpy on
// the header and offsets). The reader itself is tested in tests/engine/formats/pytorch_test.cpp.
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
#include <map>

using namespace netwright;
using test::Expected;
using test::near;
using test::readExpected;

class PytorchCliTest : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    QString file(const QString &name) const { return m_dir.path() + "/" + name; }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY(test::runSupportScript("make_pytorch_files.py", {m_dir.path(), file("MARKER")}));
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


    // A malicious pickle (os.system in a torch.save zip): inspect and convert refuse it naming the
    // callable, write nothing, and the payload never runs.
    void commandsRefuseMaliciousPickles()
    {
        for (const QStringList &args : {QStringList{"inspect", file("malicious.pt")}, QStringList{"convert", file("malicious.pt"), file("out.safetensors")}}) {
            const auto r = test::runNetwright(args);
            QVERIFY2(r.exitCode == 1, qPrintable(args.join(' ') + ": " + r.err));
            QVERIFY2(r.err.contains("it calls posix.system") && r.err.contains("which Netwright never runs"), qPrintable(r.err));
        }
        QVERIFY(!QFile::exists(file("out.safetensors")));
        QVERIFY(!QFile::exists(file("MARKER")));
    }
};

QTEST_GUILESS_MAIN(PytorchCliTest)
#include "pytorch_cli_test.moc"
