// SPDX-License-Identifier: Apache-2.0
// ONNX external data as a user meets it: a model python3-onnx saved with save_as_external_data
// (tensors off 64-byte alignment included) inspects and converts with the values numpy wrote;
// `convert --external-data` writes a model + data file that python3-onnx loads and checks and
// onnxruntime-node runs to the outputs of the original; locations that leave the model's directory,
// absolute ones, data past the end of the file and a wrong length are refused by name. MindIR's
// split layout (MindSpore 2.x over 1 GiB; here over a small --mindir-split-over) round-trips.
#include "support/cli_support.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using netwright::test::RunResult;
using netwright::test::runNetwright;

namespace {

QString source(const QString &rel)
{
    return qEnvironmentVariable("NETWRIGHT_SOURCE_DIR") + "/" + rel;
}

// tests/support/onnx_external_data.py MODE WHERE, its JSON output (empty on failure, with stderr shown).
QJsonObject oracle(const QString &mode, const QString &where)
{
    QProcess py;
    py.start(QStringLiteral("/usr/bin/python3"), {source("tests/support/onnx_external_data.py"), mode, where});
    if (!py.waitForFinished(120000) || py.exitCode() != 0) {
        qWarning("python3-onnx %s failed: %s", qPrintable(mode), py.readAllStandardError().constData());
        return {};
    }
    return QJsonDocument::fromJson(py.readAllStandardOutput()).object();
}

// onnxruntime-node's output of `model` on the float32 input in `input` ([2,64]).
QByteArray ortRun(const QString &model, const QString &input, const QString &output)
{
    QProcess node;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("NODE_PATH", qEnvironmentVariable("NETWRIGHT_NODE_MODULES"));
    node.setProcessEnvironment(env);
    node.start("node", {source("tests/support/ort_run.js"), model, input, "2,64", output});
    if (!node.waitForFinished(120000) || node.exitCode() != 0) {
        qWarning("onnxruntime-node failed: %s", node.readAllStandardError().constData());
        return {};
    }
    return netwright::test::contents(output);
}

} // namespace

class OnnxExternalDataCliTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QJsonObject m_made;

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_made = oracle("make", m_dir.path());
        QVERIFY2(!m_made.isEmpty(), "python3-onnx could not write the model");
        QVERIFY(QFileInfo(m_dir.filePath("weights.bin")).size() > 30000); // the weights are outside model.onnx
        QVERIFY(QFileInfo(m_dir.filePath("model.onnx")).size() < 2000);
    }

    // inspect reads every tensor from weights.bin: numpy's min, max and mean.
    void inspectReadsExternalValues()
    {
        const RunResult r = runNetwright({"inspect", "--json", m_dir.filePath("model.onnx")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const QJsonArray params = QJsonDocument::fromJson(r.out.toUtf8()).object()["parameters"].toArray();
        QCOMPARE(params.size(), 4);
        const QJsonObject stats = m_made["stats"].toObject();
        for (const auto &p : params) {
            const QJsonObject o = p.toObject();
            const QJsonArray want = stats[o["name"].toString()].toArray();
            QVERIFY2(want.size() == 3, qPrintable(o["name"].toString()));
            QCOMPARE(o["min"].toDouble(), want[0].toDouble());
            QCOMPARE(o["max"].toDouble(), want[1].toDouble());
            QVERIFY2(std::abs(o["mean"].toDouble() - want[2].toDouble()) < 1e-9, qPrintable(o["name"].toString()));
        }
    }

    // convert to a plain ONNX file: python3-onnx finds numpy's bytes in every initializer.
    void convertInlinesSameBytes()
    {
        const QString out = m_dir.filePath("inline.onnx");
        const RunResult r = runNetwright({"convert", m_dir.filePath("model.onnx"), out});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY(!r.out.contains("External data"));
        const QJsonObject checked = oracle("check", out);
        QVERIFY(!checked.isEmpty());
        QCOMPARE(checked["sha256"].toObject(), m_made["sha256"].toObject());
        QVERIFY(checked["external"].toObject().isEmpty());
    }

    // --external-data: python3-onnx loads and checks it with the same bytes, onnxruntime-node
    // gives the original's outputs; the threshold keeps small tensors inline.
    void exportWithExternalData()
    {
        const QString out = m_dir.filePath("ours.onnx");
        const RunResult r = runNetwright({"convert", m_dir.filePath("model.onnx"), out, "--external-data", "--external-threshold", "1024"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains("External data: 2 tensors"), qPrintable(r.out));
        QVERIFY(r.out.contains("Verified:"));
        QVERIFY(QFileInfo::exists(out + ".data"));
        const QJsonObject checked = oracle("check", out);
        QVERIFY(!checked.isEmpty());
        QCOMPARE(checked["sha256"].toObject(), m_made["sha256"].toObject());
        const QJsonObject external = checked["external"].toObject();
        QCOMPARE(external.keys(), (QStringList{"w1", "w2"})); // b1 (512 bytes) and s (40) stay inside
        QCOMPARE(external["w1"].toString(), QStringLiteral("ours.onnx.data"));

        QByteArray input(2 * 64 * 4, '\0');
        auto *x = reinterpret_cast<float *>(input.data());
        for (int i = 0; i < 128; ++i)
            x[i] = std::sin(0.37f * i);
        QFile f(m_dir.filePath("x.bin"));
        QVERIFY(f.open(QIODevice::WriteOnly) && f.write(input) == input.size());
        f.close();
        const QByteArray theirs = ortRun(m_dir.filePath("model.onnx"), m_dir.filePath("x.bin"), m_dir.filePath("y0.bin"));
        const QByteArray mine = ortRun(out, m_dir.filePath("x.bin"), m_dir.filePath("y1.bin"));
        QCOMPARE(theirs.size(), 2 * 10 * 4);
        QCOMPARE(mine, theirs); // the same weights and graph: the same bits

        // A named data file, read back by our own reader too.
        const QString named = m_dir.filePath("named.onnx");
        const RunResult n = runNetwright({"convert", out, named, "--external-data-file", "named.weights"});
        QVERIFY2(n.exitCode == 0, qPrintable(n.err));
        QVERIFY(QFileInfo::exists(m_dir.filePath("named.weights")));
        QCOMPARE(oracle("check", named)["sha256"].toObject(), m_made["sha256"].toObject());
        const RunResult bad = runNetwright({"convert", out, m_dir.filePath("bad.onnx"), "--external-data-file", "../w.bin"});
        QCOMPARE(bad.exitCode, 1);
        QVERIFY2(bad.err.contains("must be a plain file name"), qPrintable(bad.err));
        QVERIFY(!QFileInfo::exists(m_dir.filePath("bad.onnx")));
    }

    // MindSpore's split layout at a small threshold: NAME_graph.mindir + NAME_variables/data_0
    // (64-byte header, byte 0 = 1), read back — inspect and a convert to ONNX — with numpy's bytes.
    void mindirSplitRoundTrip()
    {
        const RunResult r = runNetwright({"convert", m_dir.filePath("model.onnx"), m_dir.filePath("split.mindir"), "--mindir-split-over", "1000"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains("split_graph.mindir") && r.out.contains("External data: 4 tensors"), qPrintable(r.out));
        QVERIFY(!QFileInfo::exists(m_dir.filePath("split.mindir")));
        const QByteArray data = netwright::test::contents(m_dir.filePath("split_variables/data_0"));
        QVERIFY(data.size() >= 64 + 32768 + 512 + 40 + 5120);
        QCOMPARE(int(data[0]), 1);
        QCOMPARE(data.mid(1, 63), QByteArray(63, '\0'));
        QCOMPARE(data.size() % 64, 0);

        const RunResult inspected = runNetwright({"inspect", "--json", m_dir.filePath("split_graph.mindir")});
        QVERIFY2(inspected.exitCode == 0, qPrintable(inspected.err));
        const QJsonArray params = QJsonDocument::fromJson(inspected.out.toUtf8()).object()["parameters"].toArray();
        QCOMPARE(params.size(), 4);
        const QJsonObject stats = m_made["stats"].toObject();
        for (const auto &p : params) {
            const QJsonObject o = p.toObject();
            const QString name = o["name"].toString().section(':', -1); // "<graph>:w1"
            QVERIFY2(stats.contains(name), qPrintable(o["name"].toString()));
            QCOMPARE(o["max"].toDouble(), stats[name].toArray()[1].toDouble());
        }
        const QString back = m_dir.filePath("from_split.onnx");
        const RunResult c = runNetwright({"convert", m_dir.filePath("split_graph.mindir"), back});
        QVERIFY2(c.exitCode == 0, qPrintable(c.err));
        QCOMPARE(oracle("check", back)["sha256"].toObject(), m_made["sha256"].toObject());
        // Below the threshold one file, as before.
        const RunResult whole = runNetwright({"convert", m_dir.filePath("model.onnx"), m_dir.filePath("whole.mindir")});
        QVERIFY2(whole.exitCode == 0 && QFileInfo::exists(m_dir.filePath("whole.mindir")), qPrintable(whole.err));
        QVERIFY(!QFileInfo::exists(m_dir.filePath("whole_variables")));
    }

    void hostileLocations_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("message");
        QTest::newRow("escape") << "escape.onnx" << "leaves the model's directory";
        QTest::newRow("absolute") << "absolute.onnx" << "is an absolute path";
        QTest::newRow("past end") << "past_end.onnx" << "runs past the end";
        QTest::newRow("wrong length") << "wrong_length.onnx" << "its shape [64,128] of float32 needs 32768";
    }

    void hostileLocations()
    {
        QFETCH(QString, file);
        QFETCH(QString, message);
        const QString dir = m_dir.filePath("hostile");
        if (!QFileInfo::exists(dir)) {
            QVERIFY(QDir().mkpath(dir));
            QVERIFY(oracle("hostile", dir).isEmpty()); // prints nothing, writes the files
            QVERIFY(QFileInfo::exists(dir + "/escape.onnx"));
        }
        // The escaping file exists where "../escape.bin" points: only the check stops the read.
        QVERIFY(QFile::copy(dir + "/escape.bin", m_dir.filePath("escape.bin")) || QFileInfo::exists(m_dir.filePath("escape.bin")));
        for (const char *command : {"inspect", "convert"}) {
            QStringList args{command, dir + "/" + file};
            if (QByteArray(command) == "convert")
                args << dir + "/out.onnx";
            const RunResult r = runNetwright(args);
            QCOMPARE(r.exitCode, 1);
            QVERIFY2(r.err.contains(message) && r.err.contains(file), qPrintable(r.err));
            QVERIFY(!QFileInfo::exists(dir + "/out.onnx"));
        }
    }
};

QTEST_GUILESS_MAIN(OnnxExternalDataCliTest)
#include "onnx_external_data_cli_test.moc"
