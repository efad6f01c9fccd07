// SPDX-License-Identifier: Apache-2.0
// `<prefix>-graph.meta` (mindspore-ckpt.md section 10): our anf_ir schema reads MindSpore's own
// dumps in ../shared/fixtures with their node counts; what we write decodes with `protoc --decode`,
// names MindSpore primitives, types every parameter as the run feeds it, wires every input to a
// parameter or an earlier node, and is written owner-only (0600) as MindSpore does.
#include "formats/mindspore/graph_meta.h"
#include "graph/graph.h"
#include "support/error_of.h"
#include "zoo/model_zoo.h"

#include "anf_ir.pb.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <set>

using namespace netwright;
using netwright::testing::errorOf;

namespace {

QString fixture(const char *rel)
{
    return qEnvironmentVariable("NETWRIGHT_SHARED_DIR") + "/fixtures/" + rel;
}

Graph trainingGraph(const std::string &model)
{
    ModelSpec spec;
    spec.name = model;
    Graph g = buildZooModel(spec, InitScheme::KaimingUniform, 3);
    const std::string logits = g.outputs[0].name;
    g.inputs.push_back({"labels", {-1}, DType::Int64});
    g.addNode("SoftmaxCrossEntropyLoss", "loss", {logits, "labels"}, {"loss"}, {{"reduction", std::string("mean")}});
    g.validate();
    return g;
}

} // namespace

class GraphMetaTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void readsMindSporesOwnDumps()
    {
        const auto lenet = netwright::mindspore::readGraphMeta(fixture("mindspore-graph-meta/nolzhou_LeNet_checkpoint_lenet-graph.meta").toStdString());
        QCOMPARE(lenet.nodes, size_t(74));
        QCOMPARE(lenet.opCounts.at("Conv2D"), 2);
        QCOMPARE(lenet.opCounts.at("ApplyMomentum"), 8);
        QCOMPARE(QString::fromStdString(lenet.name), QStringLiteral("254_129_1_construct_wrapper.905"));
        const auto vit = netwright::mindspore::readGraphMeta(fixture("mindspore-graph-meta/contrib_vit_b_16-graph.meta").toStdString());
        QCOMPARE(vit.nodes, size_t(1663));
        QVERIFY(errorOf([] { netwright::mindspore::readGraphMeta(fixture("mindspore-ckpt/qishna_LinearNet_10_step.ckpt").toStdString()); })
                    .contains("is not a MindSpore graph.meta"));
    }

    void writesTheTrainingGraphAsMindSporeNamesIt()
    {
        const Graph g = trainingGraph("cnn-bn");
        const std::string path = m_dir.filePath("cnn-bn-graph.meta").toStdString();
        netwright::mindspore::writeGraphMeta(path, g, 64);
        QCOMPARE(QFile::permissions(QString::fromStdString(path)), QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadUser | QFileDevice::WriteUser);

        QFile f(QString::fromStdString(path));
        QVERIFY(f.open(QIODevice::ReadOnly));
        ::mindspore::irpb::ModelProto model;
        QVERIFY(model.ParseFromString(f.readAll().toStdString()));
        QCOMPARE(model.ir_version(), int64_t(1));
        const auto &graph = model.graph();
        std::set<std::string> known;
        for (const auto &p : graph.parameters())
            known.insert(p.name());
        QVERIFY(known.count("inputs0") && known.count("inputs1"));
        for (const auto &entry : g.initializers) {
            const auto &[name, t] = entry;
            QVERIFY2(known.count(name), name.c_str());
            const auto &p = *std::find_if(graph.parameters().begin(), graph.parameters().end(), [&](const auto &x) { return x.name() == entry.first; });
            QCOMPARE(p.type().tensor_type().shape().dim_size(), t.rank());
            for (int d = 0; d < t.rank(); ++d)
                QCOMPARE(p.type().tensor_type().shape().dim(d).size(), t.shape()[static_cast<size_t>(d)]);
        }
        std::vector<std::string> ops;
        for (const auto &n : graph.node()) {
            for (const auto &in : n.input())
                QVERIFY2(known.count(in.name()), (n.name() + " reads the unknown " + in.name()).c_str());
            known.insert(n.name());
            ops.push_back(n.op_type());
            QVERIFY(n.full_name().rfind(n.scope() + "/" + n.op_type() + "-op", 0) == 0);
        }
        const std::vector<std::string> expected{"Conv2D", "BatchNorm", "ReLU", "MaxPool", "Conv2D", "BatchNorm", "ReLU", "MaxPool",
                                                "Flatten", "MatMul", "BiasAdd", "ReLU", "Dropout", "MatMul", "BiasAdd",
                                                "SparseSoftmaxCrossEntropyWithLogits"};
        QCOMPARE(ops, expected);
        QCOMPARE(graph.outputs(0).name(), graph.node(graph.node_size() - 1).name());
        // The first activation is typed with the run's batch: [64, 32, 28, 28].
        const auto &conv = graph.node(0).output_type().tensor_type().shape();
        QCOMPARE(conv.dim_size(), 4);
        QCOMPARE(conv.dim(0).size(), int64_t(64));
        QCOMPARE(conv.dim(1).size(), int64_t(32));

        const QString proto = qEnvironmentVariable("NETWRIGHT_SOURCE_DIR") + "/proto";
        QProcess protoc;
        protoc.setStandardInputFile(QString::fromStdString(path));
        protoc.start("protoc", {"--proto_path=" + proto, "--decode=mindspore.irpb.ModelProto", proto + "/anf_ir.proto"});
        QVERIFY(protoc.waitForFinished(60000));
        QCOMPARE(protoc.exitCode(), 0);
        QVERIFY(protoc.readAllStandardOutput().contains("op_type: \"BatchNorm\""));
    }
};

QTEST_GUILESS_MAIN(GraphMetaTest)
#include "graph_meta_test.moc"
