// SPDX-License-Identifier: Apache-2.0
// ONNX export judged by the tools users trust: every zoo model (with BatchNorm statistics and
// Dropout), the resnet18 PyTorch exported and we imported, and every PyTorch export the tests make
// (the CNNs of export_torch_models.py; the transformer, GRU, 2-layer LSTM and MobileNet-style block
// of torch_training_parity.py, exported in training mode with their loss) are exported at opsets
// 11, 13 and 17; onnx.checker (full check, with shape inference) accepts each file,
// onnxruntime-node's output on a random batch equals the engine's within 1e-4, and verifyExport
// passes. Every ONNX backend node case the engine runs is exported at every opset 11–17: each file
// passes onnx.checker, or the pre-flight names why not. Pre-flight refuses what does not map, once
// per op type and problem, before anything is written.
#include "autodiff/executor.h"
#include "core/parallel.h"
#include "formats/onnx/onnx_export.h"
#include "formats/graph_formats.h"
#include "formats/onnx/onnx_import.h"
#include "ops/op.h"
#include "support/error_of.h"
#include "support/torch_models.h"
#include "support/torch_resnet18.h"
#include "zoo/model_zoo.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonObject>
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
    QString m_torchError;
    QJsonObject m_cnns;  // export_torch_models.py's models.json
    bool m_torchReady = false;

    // The PyTorch exports, made once: the CNNs and the training-parity models.
    bool torchExports()
    {
        if (m_torchReady || !m_torchError.isEmpty())
            return m_torchReady;
        QDir().mkpath(m_dir.filePath("cnn"));
        m_cnns = testing::exportTorchModels(m_dir.filePath("cnn"), false, &m_torchError);
        if (m_cnns.isEmpty())
            return false;
        QProcess py;
        py.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        py.start("/usr/bin/python3", {source("tests/support/torch_training_parity.py"), m_dir.filePath("parity"), "1"});
        if (!py.waitForFinished(600000) || py.exitCode() != 0) {
            m_torchError = "torch_training_parity.py failed";
            return false;
        }
        return m_torchReady = true;
    }

    // Exports, checks with onnx.checker, runs with onnxruntime and with the engine; returns the
    // worst difference.
    void checkWithRuntimes(Graph &g, const Shape &inputShape, int64_t opset, const QString &tag, const Graph *verifyAgainst = nullptr)
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
        QVERIFY2(worst <= 1e-4, qPrintable(QString::number(worst)));
        // Netwright's own verification: weights bit-identical, the same outputs on a probe batch.
        const std::string verified = verifyExport(*graphFormat("onnx"), bytes, path.toStdString(), verifyAgainst ? *verifyAgainst : g);
        qInfo("%s: onnx.checker OK, onnxruntime vs engine worst error %.2e; verifyExport: %s", qPrintable(tag), worst, verified.c_str());
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


    void torchModels_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("opset");
        for (const char *m : {"transformer", "gru", "lstm2", "mobile_block"})
            for (int opset : {11, 13, 17})
                QTest::newRow(qPrintable(QStringLiteral("%1 opset %2").arg(m).arg(opset))) << QStringLiteral("parity/%1.onnx").arg(m) << opset;
        for (const char *m : {"mlp", "lenet5", "resnet18", "mobilenet_v2", "squeezenet1_0"})
            for (int opset : {11, 13, 17})
                QTest::newRow(qPrintable(QStringLiteral("%1 opset %2").arg(m).arg(opset))) << QStringLiteral("cnn/%1_13.onnx").arg(m) << opset;
    }

    void torchModels()
    {
        QFETCH(QString, file);
        QFETCH(int, opset);
        QVERIFY2(torchExports(), qPrintable(m_torchError));
        auto imported = onnx_format::importOnnxFile(m_dir.filePath(file).toStdString());
        QVERIFY(imported.missingOps.empty());
        Graph &g = imported.graph;
        Shape shape = g.inputs[0].shape;
        if (shape[0] < 0)
            shape[0] = 2;
        // A training-mode export normalises with the batch's statistics (training_mode=1), which
        // an inference export replaces with the running statistics: verify against that model.
        Graph inference = g;
        for (auto &n : inference.nodes)
            n.attributes.erase("training_mode");
        const QString tag = QFileInfo(file).baseName() + QStringLiteral("-%1").arg(opset);
        checkWithRuntimes(g, shape, opset, tag, &inference);
    }

    // Every ONNX backend node case the engine imports and runs, exported at every opset 11–17:
    // written files pass onnx.checker (one Python process checks them all); the refusals are
    // the pre-flight's, each naming its node.
    void nodeCases()
    {
        const QString root = "/usr/share/libonnx-testdata/data/node";
        QVERIFY2(QFile::exists(root), "libonnx-testdata is not installed (packaging/setup.sh test installs it)");
        // NETWRIGHT_KEEP_EXPORTS=DIR keeps the files for inspection.
        const QString out = qEnvironmentVariable("NETWRIGHT_KEEP_EXPORTS", m_dir.path()) + "/node-cases";
        QDir().mkpath(out);
        int cases = 0, written = 0, refused = 0;
        std::map<int, int> writtenAt;
        std::map<std::string, int> reasons;
        for (const QString &c : QDir(root).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
            onnx_format::OnnxImport imported;
            try {
                imported = onnx_format::importOnnxFile((root + "/" + c + "/model.onnx").toStdString());
            } catch (const Error &) {
                continue;
            }
            if (!imported.missingOps.empty())
                continue;
            ++cases;
            for (int opset = 11; opset <= 17; ++opset) {
                onnx_format::OnnxExportOptions options;
                options.opset = opset;
                std::string bytes;
                try {
                    bytes = onnx_format::exportOnnx(imported.graph, options);
                } catch (const Error &e) {
                    const std::string m = e.what();
                    QVERIFY2(m.find("Cannot export") == 0 && m.find("Nothing was written") != std::string::npos, m.c_str());
                    const auto colon = m.find("): ");
                    ++reasons[colon == std::string::npos ? m : m.substr(colon + 3, m.find(". Nothing") - colon - 3)];
                    ++refused;
                    continue;
                }
                QFile f(out + QStringLiteral("/%1_%2.onnx").arg(c).arg(opset));
                QVERIFY(f.open(QIODevice::WriteOnly));
                f.write(bytes.data(), static_cast<qint64>(bytes.size()));
                ++written;
                ++writtenAt[opset];
            }
        }
        QProcess checker;
        checker.setProcessChannelMode(QProcess::MergedChannels);
        checker.start("/usr/bin/python3", {"-c", "import onnx, sys, glob, os\n"
                                                 "bad = 0\n"
                                                 "for p in sorted(glob.glob(os.path.join(sys.argv[1], '*.onnx'))):\n"
                                                 "    try:\n"
                                                 "        onnx.checker.check_model(onnx.load(p), full_check=True)\n"
                                                 "    except Exception as e:\n"
                                                 "        bad += 1\n"
                                                 "        print(os.path.basename(p), str(e).splitlines()[0][:300])\n"
                                                 "print('failed', bad)\n",
                                           out});
        QVERIFY(checker.waitForFinished(600000));
        const QString report = QString::fromUtf8(checker.readAll());
        QString at;
        for (const auto &[opset, n] : writtenAt)
            at += QStringLiteral(" %1:%2").arg(opset).arg(n);
        qInfo("%d node cases the engine runs; %d exports written (by opset:%s), %d refused by the pre-flight", cases, written,
              qPrintable(at), refused);
        for (const auto &[why, n] : reasons)
            qInfo("  refused %d× — %s", n, why.c_str());
        if (!report.trimmed().endsWith("failed 0"))
            qInfo("%s", qPrintable(report));
        QVERIFY2(report.trimmed().endsWith("failed 0"), qPrintable(report.trimmed().section('\n', -1)));
        QVERIFY(cases >= 600);
    }

    // The ops a target lacks, written as compositions (before 17, or always for Gelu, Mish and
    // GroupNormalization): onnxruntime and verifyExport compare them with the engine's kernels.
    void compositions_data()
    {
        QTest::addColumn<int>("opset");
        for (int opset : {11, 13, 17})
            QTest::newRow(qPrintable(QStringLiteral("opset %1").arg(opset))) << opset;
    }

    void compositions()
    {
        QFETCH(int, opset);
        Graph g;
        g.name = "compositions";
        g.inputs.push_back({"x", {-1, 4, 3, 3}, DType::Float32});
        Rng rng(3);
        auto param = [&](const std::string &name, const Shape &shape) {
            Tensor t(shape, DType::Float32);
            for (int64_t i = 0; i < t.numel(); ++i)
                t.data()[i] = 0.5f + rng.uniform();
            g.addParameter(name, t);
        };
        param("gn.scale", {4});
        param("gn.bias", {4});
        param("ln.scale", {3, 3});
        param("ln.bias", {3, 3});
        g.addParameter("k", Tensor::fromInt64({}, {1}), false);
        g.addNode("Gelu", "gelu", {"x"}, {"a"});
        g.addNode("Gelu", "gelu_tanh", {"a"}, {"b"}, {{"approximate", std::string("tanh")}});
        g.addNode("Mish", "mish", {"b"}, {"c"});
        g.addNode("HardSwish", "hard_swish", {"c"}, {"d"});
        g.addNode("Celu", "celu", {"d"}, {"e"}, {{"alpha", 0.7f}});
        g.addNode("GroupNormalization", "gn", {"e", "gn.scale", "gn.bias"}, {"f"}, {{"num_groups", int64_t{2}}});
        g.addNode("LayerNormalization", "ln", {"f", "ln.scale", "ln.bias"}, {"h"}, {{"axis", int64_t{-2}}});
        g.addNode("Softmax", "softmax", {"h"}, {"i"}, {{"axis", int64_t{1}}});
        g.addNode("Trilu", "trilu", {"i", "k"}, {"j"}, {{"upper", int64_t{0}}});
        g.addNode("GreaterOrEqual", "ge", {"j", "x"}, {"m"});
        g.addNode("Cast", "cast", {"m"}, {"n"}, {{"to", int64_t{1}}});
        g.addNode("Add", "sum", {"j", "n"}, {"y"});
        g.outputs.push_back({"y", {-1, 4, 3, 3}, DType::Float32});
        g.validate();
        checkWithRuntimes(g, {2, 4, 3, 3}, opset, QStringLiteral("compositions-%1").arg(opset));
    }

    void preflightListsEveryOpTypeOnce()
    {
        Graph g;
        g.name = "many";
        g.inputs.push_back({"x", {-1, 4}, DType::Float32});
        g.inputs.push_back({"axes", {1}, DType::Int64});
        g.addNode("Einsum", "e1", {"x"}, {"a"}, {{"equation", std::string("ij->ji")}});
        g.addNode("Einsum", "e2", {"a"}, {"b"}, {{"equation", std::string("ij->ji")}});
        g.addNode("Einsum", "e3", {"b"}, {"c"}, {{"equation", std::string("ij->ji")}});
        g.addNode("MysteryOp", "m1", {"c"}, {"d"});
        g.addNode("Unsqueeze", "u1", {"x", "axes"}, {"e"});
        g.addNode("ScatterElements", "s1", {"x", "i", "x"}, {"f"}, {{"reduction", std::string("max")}});
        g.addParameter("i", Tensor::fromInt64({1, 4}, {0, 0, 0, 0}), false);
        g.outputs.push_back({"d", {-1, 4}, DType::Float32});
        g.outputs.push_back({"e", {-1, 1, 4}, DType::Float32});
        g.outputs.push_back({"f", {-1, 4}, DType::Float32});
        onnx_format::OnnxExportOptions options;
        options.opset = 11;
        const QString e = errorOf([&] { onnx_format::exportOnnx(g, options); });
        QVERIFY2(e.startsWith("Cannot export \"many\" to ONNX opset 11: ") && e.contains("Einsum (3 nodes: \"e1\", \"e2\", \"e3\"): not an ONNX op before opset 12")
                     && e.count("Einsum") == 1 && e.contains("Node \"m1\" (MysteryOp): no ONNX export")
                     && e.contains("Node \"u1\" (Unsqueeze): axes is computed at run time; before opset 13 ONNX takes it as an attribute")
                     && e.contains("Node \"s1\" (ScatterElements): reduction max needs opset 18") && e.endsWith("Nothing was written."),
                 qPrintable(e));
        options.opset = 13; // Einsum and the axes input exist there
        const QString e13 = errorOf([&] { onnx_format::exportOnnx(g, options); });
        QVERIFY2(!e13.contains("Einsum") && !e13.contains("u1") && e13.contains("m1") && e13.contains("s1"), qPrintable(e13));
    }

    void everyEngineOpHasAnExport()
    {
        const auto exportable = onnx_format::exportableOps();
        // If, Loop and Scan run but are not exported yet (their subgraphs are not written): the
        // pre-flight names them. Every other op the engine runs exports.
        const QStringList notYet{"If", "Loop", "Scan"};
        QStringList missing;
        for (const auto &op : supportedOps())
            if (!isTrainingLoss(op) && onnx_format::firstExportOpset(op) == 0)
                missing << QString::fromStdString(op);
        QCOMPARE(missing, notYet);
        QCOMPARE(onnx_format::firstExportOpset("Einsum"), 12);
        QCOMPARE(onnx_format::firstExportOpset("LayerNormalization"), 11); // a composition before 17
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
        // Softmax over axis 0 is written between Transposes before opset 13: only m1 is refused.
        QVERIFY2(!e.contains("s1") && e.contains("Node \"m1\" (MysteryOp): no ONNX export") && e.contains("Nothing was written"),
                 qPrintable(e));
        options.opset = 18;
        QVERIFY(errorOf([&] { onnx_format::exportOnnx(g, options); }).contains("opsets 11–17"));
    }
};

QTEST_GUILESS_MAIN(OnnxExportTest)
#include "onnx_export_test.moc"
