// SPDX-License-Identifier: Apache-2.0
// ONNX export judged by the tools users trust: every zoo model (with BatchNorm statistics and
// Dropout), the resnet18 PyTorch exported and we imported, and every PyTorch export the tests make
// (the CNNs of export_torch_models.py; the transformer, GRU, 2-layer LSTM and MobileNet-style block
// of torch_training_parity.py, exported in training mode with their loss) are exported at opsets
// 11, 13 and 17; onnx.checker (full check, with shape inference) accepts each file,
// onnxruntime-node's output on a random batch equals the engine's within 1e-4, and verifyExport
// passes. Every ONNX backend node case the engine runs is exported at every opset 11–17: each file
// passes onnx.checker, or the pre-flight names why not. Pre-flight refuses what does not map, once
// per op type and problem, before anything is written. If, Loop and Scan: ONNX's own node cases
// of them (Scan-8 included) and Silero VAD (If subgraphs nested four deep) are exported, checked
// and run by onnxruntime against the engine and ONNX's expected outputs; a model whose subgraphs
// read its weights by name (an If in a Loop's body, a Scan, a Scan-8) passes verifyExport too.
#include "autodiff/executor.h"
#include "core/parallel.h"
#include "formats/onnx/onnx_export.h"
#include "formats/graph_formats.h"
#include "formats/format_util.h"
#include "formats/npy/npy_file.h"
#include "formats/onnx/onnx_import.h"
#include "ops/op.h"
#include "support/error_of.h"
#include "support/torch_models.h"
#include "support/torch_resnet18.h"
#include "zoo/model_zoo.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <cstring>
#include <memory>

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

// A tensor's elements as doubles (the numeric types the control-flow cases and Silero VAD use).
std::vector<double> valuesOf(const Tensor &t)
{
    std::vector<double> v(static_cast<size_t>(t.numel()));
    for (int64_t i = 0; i < t.numel(); ++i)
        switch (t.dtype()) {
        case DType::Float32: v[i] = t.data()[i]; break;
        case DType::Float64: v[i] = t.dataAs<double>()[i]; break;
        case DType::Int64: v[i] = static_cast<double>(t.dataAs<int64_t>()[i]); break;
        case DType::Int32: v[i] = t.dataAs<int32_t>()[i]; break;
        case DType::Bool:
        case DType::UInt8: v[i] = t.dataAs<uint8_t>()[i]; break;
        default: throw Error("valuesOf: element type " + dtypeName(t.dtype()) + " is not compared here");
        }
    return v;
}

// The worst difference of `a` from `b`, relative where |b| > 1; infinite when type or shape differ.
double worstDifference(const Tensor &a, const Tensor &b)
{
    if (a.dtype() != b.dtype() || a.shape() != b.shape())
        return INFINITY;
    const std::vector<double> x = valuesOf(a), y = valuesOf(b);
    double worst = 0;
    for (size_t i = 0; i < x.size(); ++i)
        worst = std::max(worst, std::abs(x[i] - y[i]) / std::max(1.0, std::abs(y[i])));
    return worst;
}

// A subgraph for a node's attribute: outer-scope names it reads (not its inputs, initializers or
// nodes' outputs) become the node's implicit inputs, as the importer does.
void attachBody(Node &n, const std::string &attr, std::shared_ptr<Graph> body)
{
    std::set<std::string> defined;
    for (const auto &in : body->inputs)
        defined.insert(in.name);
    for (const auto &[name, t] : body->initializers)
        defined.insert(name);
    for (const auto &bn : body->nodes)
        defined.insert(bn.outputs.begin(), bn.outputs.end());
    std::vector<std::string> reads;
    for (const auto &bn : body->nodes)
        reads.insert(reads.end(), bn.inputs.begin(), bn.inputs.end());
    for (const auto &o : body->outputs)
        reads.push_back(o.name);
    std::vector<std::string> implicitNames(n.inputs.end() - static_cast<std::ptrdiff_t>(n.implicitInputs), n.inputs.end());
    n.inputs.resize(n.inputs.size() - n.implicitInputs);
    for (const auto &r : reads)
        if (!r.empty() && !defined.count(r) && std::find(implicitNames.begin(), implicitNames.end(), r) == implicitNames.end())
            implicitNames.push_back(r);
    n.inputs.insert(n.inputs.end(), implicitNames.begin(), implicitNames.end());
    n.implicitInputs = implicitNames.size();
    n.attributes[attr] = std::move(body);
}

// A model whose subgraphs read the model's weights by name: an If on the sign of the input's
// sum (its else branch a Gelu, written as a composition inside it), a Loop of three steps whose
// body holds another If, a Scan along the features and a Scan-8 (batch form, reversed) — through
// onnx.checker, onnxruntime and verifyExport (the weights bit-identical, the outputs equal).
Graph controlFlowGraph()
{
    Graph g;
    g.name = "control_flow";
    g.inputs.push_back({"x", {-1, 4}, DType::Float32});
    Rng rng(5);
    for (const char *name : {"w", "b"}) {
        Tensor t({4}, DType::Float32);
        for (int64_t i = 0; i < 4; ++i)
            t.data()[i] = rng.uniform() * 2 - 1;
        g.addParameter(name, t);
    }
    g.addParameter("zero", Tensor::full({}, 0.0f), false);
    g.addParameter("half", Tensor::full({}, 0.5f), false);
    g.addParameter("trips", Tensor::fromInt64({}, {3}), false);
    g.addParameter("one", Tensor::fromInt64({}, {1}), false);
    auto graph = [](const std::string &name, std::vector<ValueInfo> inputs, std::vector<ValueInfo> outputs) {
        auto b = std::make_shared<Graph>();
        b->name = name;
        b->inputs = std::move(inputs);
        b->outputs = std::move(outputs);
        return b;
    };
    const std::vector<int64_t> axis1{1}, axis2{2};

    g.addNode("ReduceSum", "total", {"x"}, {"total"}, {{"keepdims", int64_t{0}}});
    g.addNode("Greater", "positive", {"total", "zero"}, {"positive"});
    {
        auto then = graph("then", {}, {{"then_y", {-1, 4}, DType::Float32}});
        then->addNode("Mul", "scale", {"x", "w"}, {"then_y"});
        auto otherwise = graph("else", {}, {{"else_y", {}, DType::Float32}}); // undeclared type and shape
        otherwise->addNode("Add", "shift", {"x", "b"}, {"shifted"});
        otherwise->addNode("Gelu", "gelu", {"shifted"}, {"else_y"});
        Node &n = g.addNode("If", "sign", {"positive"}, {"y1"});
        attachBody(n, "then_branch", then);
        attachBody(n, "else_branch", otherwise);
    }
    {
        auto body = graph("loop_body", {{"i", {}, DType::Int64}, {"c", {}, DType::Bool}, {"acc", {}, DType::Float32}},
                          {{"c_out", {}, DType::Bool}, {"acc_out", {}, DType::Float32}});
        body->addNode("Greater", "late", {"i", "one"}, {"late"});
        auto relu = graph("late_branch", {}, {{"r", {}, DType::Float32}}), neg = graph("early_branch", {}, {{"r2", {}, DType::Float32}});
        relu->addNode("Relu", "relu", {"acc"}, {"r"});
        neg->addNode("Neg", "neg", {"acc"}, {"r2"});
        Node &inner = body->addNode("If", "which", {"late"}, {"picked"});
        attachBody(inner, "then_branch", relu);
        attachBody(inner, "else_branch", neg);
        body->addNode("Mul", "weigh", {"picked", "w"}, {"weighed"});
        body->addNode("Add", "bias", {"weighed", "b"}, {"biased"});
        body->addNode("Tanh", "squash", {"biased"}, {"acc_out"});
        body->addNode("Identity", "keep_going", {"c"}, {"c_out"});
        Node &n = g.addNode("Loop", "steps", {"trips", "", "y1"}, {"y2"});
        attachBody(n, "body", body);
    }
    g.addNode("ReduceMean", "row_mean", {"y2"}, {"s0"}, {{"axes", axis1}, {"keepdims", int64_t{0}}});
    {
        auto body = graph("scan_body", {{"s", {}, DType::Float32}, {"column", {-1}, DType::Float32}},
                          {{"s_out", {}, DType::Float32}, {"column_out", {-1}, DType::Float32}});
        body->addNode("Mul", "decay", {"s", "half"}, {"decayed"});
        body->addNode("Add", "accumulate", {"decayed", "column"}, {"s_out"});
        body->addNode("Mul", "emit", {"s_out", "half"}, {"column_out"});
        Node &n = g.addNode("Scan", "columns", {"s0", "y2"}, {"s_final", "scanned"},
                            {{"num_scan_inputs", int64_t{1}}, {"scan_input_axes", axis1}, {"scan_output_axes", axis1}});
        attachBody(n, "body", body);
    }
    g.addNode("Add", "mix", {"scanned", "y2"}, {"y3"});
    g.addNode("ReduceSum", "row_sum", {"y3"}, {"t0"}, {{"axes", axis1}, {"keepdims", int64_t{1}}});
    g.addNode("Unsqueeze", "as_sequence", {"y3"}, {"sequence"}, {{"axes", axis2}});
    {
        auto body = graph("scan8_body", {{"t", {1}, DType::Float32}, {"e", {1}, DType::Float32}},
                          {{"t_out", {1}, DType::Float32}, {"e_out", {1}, DType::Float32}});
        body->addNode("Mul", "damp", {"t", "half"}, {"damped"});
        body->addNode("Add", "running", {"damped", "e"}, {"t_out"});
        body->addNode("Mul", "product", {"t_out", "e"}, {"e_out"});
        Node &n = g.addNode("Scan", "batched", {"", "t0", "sequence"}, {"t_final", "sequence_out"},
                            {{"num_scan_inputs", int64_t{1}}, {"directions", std::vector<int64_t>{1}}, {"netwright.scan8_batch", int64_t{1}}});
        attachBody(n, "body", body);
    }
    g.addNode("Squeeze", "as_rows", {"sequence_out"}, {"y4"}, {{"axes", axis2}});
    g.addNode("Add", "with_total", {"y4", "t_final"}, {"y5"});
    g.addNode("Unsqueeze", "state_column", {"s_final"}, {"s_column"}, {{"axes", axis1}});
    g.addNode("Add", "with_state", {"y5", "s_column"}, {"y"});
    g.outputs.push_back({"y", {-1, 4}, DType::Float32});
    g.validate();
    return g;
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

    // onnx.checker with its full check (shape inference included) on a written file.
    static void checkModel(const QString &path)
    {
        QProcess checker;
        checker.start("/usr/bin/python3", {"-c", "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)", path});
        QVERIFY(checker.waitForFinished(120000));
        QVERIFY2(checker.exitCode() == 0, checker.readAllStandardError().constData());
    }

    // onnxruntime-node's outputs, in the model's output order, for named inputs.
    std::vector<Tensor> ortRun(const QString &model, const QString &tag, const std::map<std::string, Tensor> &feeds)
    {
        QStringList args{source("tests/support/ort_run_npy.js"), model, m_dir.filePath("ort/" + tag)};
        QDir().mkpath(m_dir.filePath("feeds/" + tag));
        for (const auto &[name, t] : feeds) {
            const QString file = m_dir.filePath("feeds/" + tag + "/" + QString::fromStdString(name).replace('/', '_') + ".npy");
            writeNpy(file.toStdString(), t);
            args << QString::fromStdString(name) + "=" + file;
        }
        QProcess node;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("NODE_PATH", qEnvironmentVariable("NETWRIGHT_NODE_MODULES"));
        node.setProcessEnvironment(env);
        node.start("node", args);
        std::vector<Tensor> out;
        if (!node.waitForFinished(120000) || node.exitCode() != 0) {
            qWarning("onnxruntime-node failed on %s: %s", qPrintable(model), node.readAllStandardError().constData());
            return out;
        }
        const QJsonArray outputs = QJsonDocument::fromJson(node.readAllStandardOutput()).object()["outputs"].toArray();
        for (qsizetype k = 0; k < outputs.size(); ++k)
            out.push_back(readNpy(m_dir.filePath(QStringLiteral("ort/%1/output_%2.npy").arg(tag).arg(k)).toStdString()));
        return out;
    }

    // The engine's outputs of `g` for named inputs, in its output order.
    static std::vector<Tensor> engineRun(Graph &g, const std::map<std::string, Tensor> &feeds)
    {
        Executor ex(g);
        ex.forward(feeds, false);
        std::vector<Tensor> out;
        for (const auto &o : g.outputs)
            out.push_back(ex.value(o.name));
        return out;
    }

    // Writes an export of `g` at `opset` as <tag>.onnx; returns the path (empty after a failure).
    QString writeExport(const Graph &g, int opset, const QString &tag)
    {
        onnx_format::OnnxExportOptions options;
        options.opset = opset;
        const std::string bytes = onnx_format::exportOnnx(g, options);
        const QString path = m_dir.filePath(tag + ".onnx");
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly))
            return {};
        f.write(bytes.data(), static_cast<qint64>(bytes.size()));
        return path;
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

    // ONNX's own If, Loop and Scan node cases (Scan-8's batch form among them), exported at opsets
    // 11, 13 and 17: onnx.checker accepts each file, and onnxruntime on it, the engine on it imported
    // back and ONNX's expected outputs agree.
    void controlFlowNodeCases_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("opset");
        for (const char *c : {"test_if", "test_loop11", "test_scan9_sum", "test_scan_sum"})
            for (int opset : {11, 13, 17})
                QTest::newRow(qPrintable(QStringLiteral("%1 opset %2").arg(c).arg(opset))) << QString(c) << opset;
    }

    void controlFlowNodeCases()
    {
        QFETCH(QString, name);
        QFETCH(int, opset);
        const QString dir = "/usr/share/libonnx-testdata/data/node/" + name;
        QVERIFY2(QFile::exists(dir), "libonnx-testdata is not installed (packaging/setup.sh test installs it)");
        auto imported = onnx_format::importOnnxFile((dir + "/model.onnx").toStdString());
        QVERIFY(imported.missingOps.empty());
        auto data = [&](const char *kind, size_t k) {
            const std::string file = (dir + QStringLiteral("/test_data_set_0/%1_%2.pb").arg(kind).arg(k)).toStdString();
            return onnx_format::decodeTensorProto(readFileBytes(file), file);
        };
        std::map<std::string, Tensor> feeds;
        for (size_t i = 0; i < imported.graph.inputs.size(); ++i)
            feeds[imported.graph.inputs[i].name] = data("input", i);
        const QString tag = QStringLiteral("%1-%2").arg(name).arg(opset);
        const QString path = writeExport(imported.graph, opset, tag);
        QVERIFY(!path.isEmpty());
        checkModel(path);
        if (QTest::currentTestFailed())
            return;

        auto back = onnx_format::importOnnxFile(path.toStdString());
        // The control-flow node keeps its ONNX inputs only: what its subgraphs read from outside is
        // named inside them (the re-import finds the same implicit inputs again).
        auto controlFlow = [](const Graph &g) {
            std::vector<std::pair<std::string, size_t>> nodes;
            for (const auto &n : g.nodes)
                if (n.opType == "If" || n.opType == "Loop" || n.opType == "Scan")
                    nodes.emplace_back(n.opType, n.implicitInputs);
            return nodes;
        };
        QCOMPARE(controlFlow(back.graph), controlFlow(imported.graph));
        const std::vector<Tensor> theirs = ortRun(path, tag, feeds), mine = engineRun(back.graph, feeds);
        QCOMPARE(theirs.size(), imported.graph.outputs.size());
        QCOMPARE(mine.size(), imported.graph.outputs.size());
        double worst = 0;
        for (size_t k = 0; k < mine.size(); ++k) {
            const Tensor expected = data("output", k);
            worst = std::max({worst, worstDifference(mine[k], expected), worstDifference(theirs[k], expected)});
        }
        QVERIFY2(worst <= 1e-5, qPrintable(QString::number(worst)));
        qInfo("%s: onnx.checker OK; onnxruntime and the engine on the export equal ONNX's outputs (worst %.1e)", qPrintable(tag), worst);
    }

    // Silero VAD (@ricky0123/vad-web, the legacy model and v5: If subgraphs nested up to four deep
    // around LSTMs, one branch per sample rate) exported at opsets 13 and 17: onnx.checker accepts
    // it, and on a 32 ms frame at 16 and 8 kHz with a recurrent state every output onnxruntime
    // computes from the export equals the engine's on the model as imported within 1e-4 (and the
    // engine's on the export imported back within 1e-5).
    void sileroVad_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<int>("opset");
        for (const char *m : {"silero_vad_legacy", "silero_vad_v5"})
            for (int opset : {13, 17})
                QTest::newRow(qPrintable(QStringLiteral("%1 opset %2").arg(m).arg(opset))) << QString(m) << opset;
    }

    void sileroVad()
    {
        QFETCH(QString, model);
        QFETCH(int, opset);
        const QString file = qEnvironmentVariable("NETWRIGHT_NODE_MODULES") + "/@ricky0123/vad-web/dist/" + model + ".onnx";
        QVERIFY2(QFile::exists(file), qPrintable(file + " is missing (packaging/setup.sh test installs the npm models)"));
        auto imported = onnx_format::importOnnxFile(file.toStdString());
        QVERIFY(imported.missingOps.empty());
        const QString tag = QStringLiteral("%1-%2").arg(model).arg(opset);
        const QString path = writeExport(imported.graph, opset, tag);
        QVERIFY(!path.isEmpty());
        checkModel(path);
        if (QTest::currentTestFailed())
            return;
        auto back = onnx_format::importOnnxFile(path.toStdString());
        Rng rng(17);
        for (int rate : {16000, 8000}) {
            const int64_t n = rate == 16000 ? 512 : 256;
            std::map<std::string, Tensor> feeds;
            for (const auto &in : imported.graph.inputs) {
                if (in.name == "sr") {
                    feeds["sr"] = Tensor::fromInt64({}, {rate});
                    continue;
                }
                Shape shape = in.name == "input" ? Shape{1, n} : in.shape;
                for (int64_t &d : shape)
                    d = d < 0 ? 1 : d; // the batch
                Tensor t(shape, DType::Float32);
                for (int64_t i = 0; i < t.numel(); ++i) // speech-like audio, a state from an earlier frame
                    t.data()[i] = in.name == "input" ? 0.4f * std::sin(2 * M_PI * 220 * i / rate) + 0.2f * std::sin(2 * M_PI * 1330 * i / rate)
                                                           + 0.05f * (rng.uniform() - 0.5f)
                                                     : 0.3f * (rng.uniform() * 2 - 1);
                feeds[in.name] = t;
            }
            const QString run = tag + QStringLiteral("-%1").arg(rate);
            const std::vector<Tensor> theirs = ortRun(path, run, feeds), mine = engineRun(imported.graph, feeds),
                                      again = engineRun(back.graph, feeds);
            QCOMPARE(theirs.size(), mine.size());
            QCOMPARE(again.size(), mine.size());
            double worst = 0, worstBack = 0;
            for (size_t k = 0; k < mine.size(); ++k) {
                worst = std::max(worst, worstDifference(theirs[k], mine[k]));
                worstBack = std::max(worstBack, worstDifference(again[k], mine[k]));
            }
            QVERIFY2(worst <= 1e-4, qPrintable(run + ": onnxruntime differs by " + QString::number(worst)));
            QVERIFY2(worstBack <= 1e-5, qPrintable(run + ": the engine on the export differs by " + QString::number(worstBack)));
            qInfo("%s: onnx.checker OK; onnxruntime on the export vs the engine worst %.1e (the export re-imported: %.1e); speech probability %.4f",
                  qPrintable(run), worst, worstBack, double(mine[0].data()[0]));
        }
    }

    void controlFlowModel_data()
    {
        QTest::addColumn<int>("opset");
        for (int opset : {11, 13, 17})
            QTest::newRow(qPrintable(QStringLiteral("opset %1").arg(opset))) << opset;
    }

    void controlFlowModel()
    {
        QFETCH(int, opset);
        // Each branch of the outer If, by the threshold the input's sum is compared with.
        for (const float threshold : {-1e9f, 1e9f}) {
            Graph g = controlFlowGraph();
            g.initializers["zero"] = Tensor::full({}, threshold);
            checkWithRuntimes(g, {2, 4}, opset, QStringLiteral("control-flow-%1-%2").arg(threshold < 0 ? "then" : "else").arg(opset));
        }
    }

    // A subgraph's nodes go through the same pre-flight as the model's; Scan-8's sequence_lens is
    // written only when it is known to cover the whole sequence.
    void preflightInsideSubgraphs()
    {
        Graph g;
        g.name = "nested";
        g.inputs.push_back({"x", {-1, 4}, DType::Float32});
        g.inputs.push_back({"cond", {}, DType::Bool});
        g.inputs.push_back({"lens", {-1}, DType::Int32});
        auto branch = [](const std::string &name, const std::string &op, const std::string &out) {
            auto b = std::make_shared<Graph>();
            b->name = name;
            b->addNode(op, name + "_node", {"x"}, {out});
            b->outputs.push_back({out, {-1, 4}, DType::Float32});
            return b;
        };
        {
            Node &n = g.addNode("If", "choose", {"cond"}, {"y"});
            attachBody(n, "then_branch", branch("mystery", "MysteryOp", "t"));
            attachBody(n, "else_branch", branch("plain", "Neg", "e"));
        }
        g.addNode("Unsqueeze", "as_sequence", {"y"}, {"sequence"}, {{"axes", std::vector<int64_t>{2}}});
        g.addParameter("t0", Tensor::zeros({2, 1}), false);
        {
            auto body = std::make_shared<Graph>();
            body->name = "scan8_body";
            body->inputs = {{"t", {1}, DType::Float32}, {"e", {1}, DType::Float32}};
            body->addNode("Add", "running", {"t", "e"}, {"t_out"});
            body->outputs = {{"t_out", {1}, DType::Float32}};
            Node &n = g.addNode("Scan", "s8", {"lens", "t0", "sequence"}, {"t_final"},
                                {{"num_scan_inputs", int64_t{1}}, {"netwright.scan8_batch", int64_t{1}}});
            attachBody(n, "body", body);
        }
        g.outputs.push_back({"t_final", {-1, 1}, DType::Float32});
        onnx_format::OnnxExportOptions options;
        const QString e = errorOf([&] { onnx_format::exportOnnx(g, options); });
        QVERIFY2(e.startsWith("Cannot export \"nested\" to ONNX opset 13: ") && e.contains("Node \"mystery_node\" (MysteryOp): no ONNX export")
                     && e.contains("Node \"s8\" (Scan): sequence_lens (Scan-8) is written only as a constant equal to the sequence length")
                     && !e.contains("choose") && !e.contains("plain") && e.endsWith("Nothing was written."),
                 qPrintable(e));
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
        // Every op the engine runs exports (If, Loop and Scan with their subgraphs).
        QStringList missing;
        for (const auto &op : supportedOps())
            if (!isTrainingLoss(op) && onnx_format::firstExportOpset(op) == 0)
                missing << QString::fromStdString(op);
        QCOMPARE(missing, QStringList());
        for (const char *op : {"If", "Loop", "Scan"})
            QCOMPARE(onnx_format::firstExportOpset(op), 11);
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
