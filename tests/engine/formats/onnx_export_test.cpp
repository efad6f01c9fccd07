// SPDX-License-Identifier: Apache-2.0
// ONNX export judged by the tools users trust: every zoo model (with BatchNorm statistics and
// Dropout) and the resnet18 PyTorch exported and we imported are exported at opsets 11, 13 and 17;
// onnx.checker (full check, with shape inference) accepts each file, and onnxruntime-node's output
// on a random batch equals the engine's within 1e-4. Pre-flight refuses what does not map, naming
// every node, before anything is written.
#include "autodiff/executor.h"
#include "core/parallel.h"
#include "formats/onnx/onnx_export.h"
#include "formats/onnx/onnx_import.h"
#include "support/error_of.h"
#include "support/torch_resnet18.h"
#include "zoo/model_zoo.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <cstring>

using namespace netwright;
using netwright::testing::errorOf;

namespace {

QString source(const QString &rel)
{
    return qEnvironmentVariable("NETWRIGHT_SOURCE_DIR") + "/" + rel;
}

void writeRaw(const QString &path, const Tensor &t)
{
    QFile f(path);
    f.open(QIODevice::WriteOnly);
    f.write(static_cast<const char *>(t.raw()), static_cast<qint64>(t.byteSize()));
}

} // namespace

class OnnxExportTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

    // Exports, checks with onnx.checker, runs with onnxruntime and with the engine; returns the
    // worst difference.
    void checkWithRuntimes(Graph &g, const Shape &inputShape, int64_t opset, const QString &tag)
    {
        onnx_format::OnnxExportOptions options;
        options.opset = opset;
        options.metadata = {{"netwright.test", tag.toStdString()}};
        const std::string bytes = onnx_format::exportOnnx(g, options);
        const QString path = m_dir.filePath(tag + ".onnx");
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(bytes.data(), static_cast<qint64>(bytes.size()));
        f.close();

        QProcess checker;
        checker.start("/usr/bin/python3", {"-c", "import onnx, sys; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); "
                                                 "print(m.opset_import[0].version)",
                                           path});
        QVERIFY(checker.waitForFinished(60000));
        QVERIFY2(checker.exitCode() == 0, checker.readAllStandardError().constData());
        QCOMPARE(checker.readAllStandardOutput().trimmed().toInt(), static_cast<int>(opset));

        Rng rng(11);
        Tensor x(inputShape, DType::Float32);
        for (int64_t i = 0; i < x.numel(); ++i)
            x.data()[i] = rng.uniform() * 2.0f - 1.0f;
        writeRaw(m_dir.filePath(tag + ".in"), x);
        QStringList dims;
        for (int64_t d : inputShape)
            dims << QString::number(d);
        QProcess node;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("NODE_PATH", qEnvironmentVariable("NETWRIGHT_NODE_MODULES"));
        node.setProcessEnvironment(env);
        node.start("node", {source("tests/support/ort_run.js"), path, m_dir.filePath(tag + ".in"), dims.join(','), m_dir.filePath(tag + ".out")});
        QVERIFY(node.waitForFinished(120000));
        QVERIFY2(node.exitCode() == 0, qPrintable("onnxruntime-node failed (packaging/setup.sh test installs it): "
                                                  + QString::fromUtf8(node.readAllStandardError())));

        // The engine's output: the exported file imported back and run.
        auto back = onnx_format::importOnnx(bytes, path.toStdString());
        Executor ex(back.graph);
        ex.forward({{back.graph.inputs[0].name, x}}, false);
        const Tensor &mine = ex.value(back.graph.outputs[0].name);
        QFile out(m_dir.filePath(tag + ".out"));
        QVERIFY(out.open(QIODevice::ReadOnly));
        const QByteArray theirs = out.readAll();
        QCOMPARE(theirs.size(), static_cast<qsizetype>(mine.byteSize()));
        const float *t = reinterpret_cast<const float *>(theirs.constData());
        double worst = 0;
        for (int64_t i = 0; i < mine.numel(); ++i) {
            const double d = std::abs(double(mine.data()[i]) - t[i]);
            worst = std::max(worst, std::min(d, d / std::max(1e-12, std::abs(double(t[i])))));
        }
        qInfo("%s: onnx.checker OK, onnxruntime vs engine worst error %.2e", qPrintable(tag), worst);
        QVERIFY(worst <= 1e-4);
    }

private slots:
    void initTestCase()
    {
        setThreadCount(2);
        QVERIFY2(QFile::exists(qEnvironmentVariable("NETWRIGHT_NODE_MODULES") + "/onnxruntime-node"),
                 "onnxruntime-node is not installed: packaging/setup.sh test installs it (npm install --ignore-scripts).");
    }

    void zooModels_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<int>("opset");
        for (const char *m : {"mlp", "lenet5", "cnn-small", "cnn-bn"})
            for (int opset : {11, 13, 17})
                QTest::newRow(qPrintable(QStringLiteral("%1 opset %2").arg(m).arg(opset))) << m << opset;
    }

    void zooModels()
    {
        QFETCH(QString, model);
        QFETCH(int, opset);
        ModelSpec spec;
        spec.name = model.toStdString();
        Graph g = buildZooModel(spec, InitScheme::KaimingUniform, 5);
        // Trained-looking BatchNorm statistics, so inference-mode normalisation is really compared.
        Rng rng(9);
        for (auto &[name, t] : g.initializers)
            if (name.find("moving_") != std::string::npos || name.find(".gamma") != std::string::npos)
                for (int64_t i = 0; i < t.numel(); ++i)
                    t.data()[i] = name.find("mean") != std::string::npos ? rng.uniform() - 0.5f : 0.5f + rng.uniform();
        checkWithRuntimes(g, {3, 1, 28, 28}, opset, QStringLiteral("%1-%2").arg(model).arg(opset));
    }

    void importedResnet18()
    {
        // PyTorch's resnet18, exported by the test's own script, imported, exported again by us.
        QTemporaryDir torchDir;
        QVERIFY(test::exportTorchResnet18(torchDir.filePath("r.onnx")));
        auto imported = onnx_format::importOnnxFile(torchDir.filePath("r.onnx").toStdString());
        checkWithRuntimes(imported.graph, {2, 3, 64, 64}, 13, "resnet18");
    }

    void preflightNamesWhatDoesNotMap()
    {
        Graph g;
        g.name = "odd";
        g.inputs.push_back({"x", {-1, 4}, DType::Float32});
        g.addNode("Softmax", "s1", {"x"}, {"y"}, {{"axis", int64_t(0)}});
        g.addNode("MysteryOp", "m1", {"y"}, {"z"});
        g.outputs.push_back({"z", {-1, 4}, DType::Float32});
        onnx_format::OnnxExportOptions options;
        options.opset = 11;
        const QString e = errorOf([&] { onnx_format::exportOnnx(g, options); });
        QVERIFY2(e.contains("Node \"s1\" (Softmax)") && e.contains("only the last axis") && e.contains("Node \"m1\" (MysteryOp): no ONNX export")
                     && e.contains("Nothing was written"),
                 qPrintable(e));
        options.opset = 18;
        QVERIFY(errorOf([&] { onnx_format::exportOnnx(g, options); }).contains("opsets 11–17"));
    }
};

QTEST_GUILESS_MAIN(OnnxExportTest)
#include "onnx_export_test.moc"
