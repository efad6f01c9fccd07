// SPDX-License-Identifier: Apache-2.0
// The format registry and the one model description: every real file in ../shared/fixtures is
// detected by content (also under a wrong name) and opens with the node and parameter counts that
// protoc's decoding of the same bytes shows; encrypted, legacy and foreign files are named; ONNX
// files from libonnx-testdata match what the onnx Python package reads; an AIR file built as
// air.md section 7 prescribes starts with the bytes the spec prints and reads back.
#include "formats/registry.h"
#include "support/error_of.h"

#include "ge_ir.pb.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <cmath>
#include <cstring>
#include <fstream>

using namespace netwright;
using netwright::testing::errorOf;

namespace {

std::string fixture(const QString &rel)
{
    return (qEnvironmentVariable("NETWRIGHT_SHARED_DIR") + "/fixtures/" + rel).toStdString();
}

std::string prefixOf(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    std::string b(65536, '\0');
    in.read(b.data(), static_cast<std::streamsize>(b.size()));
    b.resize(static_cast<size_t>(in.gcount()));
    return b;
}

double sum(const Tensor &t)
{
    double s = 0;
    for (int64_t i = 0; i < t.numel(); ++i)
        s += t.dtype() == DType::Float32 ? t.data()[i] : t.dtype() == DType::Int64 ? double(t.dataAs<int64_t>()[i]) : 0.0;
    return s;
}

} // namespace

class RegistryTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void everyFixtureOpens_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("format");
        QTest::addColumn<int>("nodes");
        QTest::addColumn<int>("parameters");
        // Counts as protoc-generated Python classes read the same bytes (nodes of the graph and all function graphs;
        // MindIR `parameter` entries; CNTK primitive_functions and Parameter/Constant variables;
        // checkpoint entries; anf_ir graph nodes and parameters).
        QTest::newRow("mindir 2.5 celu") << "mindir/ms_2_5_0_test_ops_celu_cast_float_fp32_cnode_to_fp64.mindir" << "mindir" << 3 << 0;
        QTest::newRow("mindir bprop functions") << "mindir/ms_bprop_2023_Conv2D_bprop.mindir" << "mindir" << 90 << 0;
        QTest::newRow("mindir 1.5 relu") << "mindir/ms_lite_ut_relu.mindir" << "mindir" << 1 << 0;
        QTest::newRow("mindir 1.6 legacy") << "mindir/ms_st_old_version_mindir_2.mindir" << "mindir" << 36 << 6;
        QTest::newRow("mindir add") << "mindir/ms_ut_add_no_encrpty.mindir" << "mindir" << 1 << 0;
        QTest::newRow("mindir 2.0 REF::") << "mindir/ms_ut_ori_net.mindir" << "mindir" << 21 << 2;
        QTest::newRow("graph.meta lenet") << "mindspore-graph-meta/nolzhou_LeNet_checkpoint_lenet-graph.meta" << "mindspore-graph-meta" << 74 << 20;
        QTest::newRow("graph.meta vit") << "mindspore-graph-meta/contrib_vit_b_16-graph.meta" << "mindspore-graph-meta" << 1663 << 462;
        QTest::newRow("ckpt lenet") << "mindspore-ckpt/mindarmour_checkpoint_lenet-10_1875.ckpt" << "mindspore-ckpt" << 0 << 18;
        QTest::newRow("ckpt llama fp16") << "mindspore-ckpt/goldenstick_llama2-13b-fp16_rank_0_checkpoint_0.ckpt" << "mindspore-ckpt" << 0 << 12;
        QTest::newRow("ckpt linear") << "mindspore-ckpt/qishna_LinearNet_10_step.ckpt" << "mindspore-ckpt" << 0 << 2;
        QTest::newRow("cntk convnet") << "cntk-v2/cntk_ConvNet_CIFAR10_DataAug_1.dnn" << "cntk-model" << 34 << 16;
        QTest::newRow("cntk load_and_eval") << "cntk-v2/cntk_load_and_eval.dnn" << "cntk-model" << 1 << 0;
        QTest::newRow("cntk lunar lander") << "cntk-v2/deeprl_LunarLander.model" << "cntk-model" << 11 << 6;
        QTest::newRow("cntk mnist conv") << "cntk-v2/nodecntk_mnist_conv.cmf" << "cntk-model" << 16 << 6;
        QTest::newRow("cntk cifar10") << "cntk-v2/pscntk_cifar10.model" << "cntk-model" << 31 << 44;
        QTest::newRow("cntk logistic") << "cntk-v2/pscntk_logistic.model" << "cntk-model" << 3 << 2;
        QTest::newRow("cntk moon") << "cntk-v2/pscntk_moon.model" << "cntk-model" << 6 << 4;
        QTest::newRow("cntk ckp") << "cntk-ckp/cntk_ConvNet_CIFAR10_DataAug_1.dnn.ckp" << "cntk-ckp" << 0 << -1;
    }

    void everyFixtureOpens()
    {
        QFETCH(QString, file);
        QFETCH(QString, format);
        QFETCH(int, nodes);
        QFETCH(int, parameters);
        const std::string path = fixture(file);
        const ModelDescription d = describeFile(path);
        const QString id = QString::fromStdString(d.format);
        QCOMPARE(id, format);
        if (nodes >= 0)
            QCOMPARE(static_cast<int>(d.nodes.size()), nodes);
        if (parameters >= 0)
            QCOMPARE(static_cast<int>(d.parameters.size()), parameters);
        // Detected by content: the same bytes under a meaningless name give the same format.
        const QString copy = m_dir.filePath("renamed.bin");
        QFile::remove(copy);
        QVERIFY(QFile::copy(QString::fromStdString(path), copy));
        QCOMPARE(QString::fromStdString(describeFile(copy.toStdString()).format), format);
        // Every node has an op type; every parameter a dtype.
        for (const auto &n : d.nodes)
            QVERIFY2(!n.opType.empty(), n.name.c_str());
        for (const auto &p : d.parameters)
            QVERIFY2(!p.dtype.empty(), p.name.c_str());
    }

    void valuesMatchTheBytes()
    {
        // The legacy MindIR's parameters carry raw_data: sizes follow their dims.
        const ModelDescription m = describeFile(fixture("mindir/ms_st_old_version_mindir_2.mindir"));
        for (const auto &p : m.parameters) {
            QVERIFY2(p.value.has_value(), p.name.c_str());
            QCOMPARE(std::vector<int64_t>(p.value->shape().begin(), p.value->shape().end()), p.shape);
        }
        // A REF:: op type is resolved through the primitive table.
        const ModelDescription ref = describeFile(fixture("mindir/ms_ut_ori_net.mindir"));
        bool conv = false;
        for (const auto &n : ref.nodes)
            if (n.opType == "Conv2D")
                for (const auto &a : n.attributes)
                    conv |= a.name == "kernel_size";
        QVERIFY(conv);
    }

    void namesWhatItCannotRead()
    {
        QVERIFY(errorOf([] { describeFile(fixture("mindir/ms_ut_add_encrpty_key_0123456789ABCDEF.mindir")); })
                    .contains("is an encrypted MindSpore MindIR file (AES-GCM, 1 block); a key is needed: give its key with --key-file FILE"));
        QVERIFY(errorOf([] { describeFile(fixture("cntk-v1/cntk_nettests_01_OneHidden.dnn")); }).contains("legacy CNTK model-v1 file"));
        QVERIFY(errorOf([] { describeFile(fixture("cntk-ckp/cntk_v1py_demoxyfffff63.ckp")); }).contains("legacy CNTK v1 SGD checkpoint"));
        QVERIFY(errorOf([] { describeFile(fixture("mindspore-ckpt/goldenstick_ckpt_strategy_rank_0.ckpt")); }).contains("not a Checkpoint"));
        const QString png = m_dir.filePath("picture.onnx");
        QFile f(png);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray::fromHex("89504e470d0a1a0a0000000d49484452"));
        f.close();
        const QString e = errorOf([&] { describeFile(png.toStdString()); });
        QVERIFY2(e.contains("picture.onnx") && e.contains("is not a file Netwright reads") && e.contains("tried ONNX")
                     && e.contains("89 50 4e 47 0d 0a 1a 0a") && e.contains("\".PNG"),
                 qPrintable(e));
    }

    void onnxMatchesTheOnnxPackage()
    {
        // libonnx-testdata models read by the onnx Python package (an independent reader). Parameters:
        // the initializers, also of subgraphs, and the Constant nodes holding floats (test_if's branches).
        const QStringList models{"node/test_conv_with_strides_padding", "pytorch-converted/test_Conv2d",
                                 "pytorch-converted/test_BatchNorm2d_eval", "node/test_if", "node/test_gemm_default_single_elem_vector_bias"};
        const QString script = R"(
import json, sys, onnx, numpy
from onnx import numpy_helper
out = {}
for path in sys.argv[1:]:
    m = onnx.load(path)
    g = m.graph
    inits = {t.name: [list(t.dims), float(numpy_helper.to_array(t).astype('float64').sum())] for t in g.initializer}
    names = set(inits)
    floats = {onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16}
    nodes = []
    def walk(graph, depth):
        if depth:
            for t in graph.initializer:
                inits[t.name] = [list(t.dims), float(numpy_helper.to_array(t).astype('float64').sum())]
        for n in graph.node:
            nodes.append(n.op_type)
            if n.op_type == 'Constant' and n.domain in ('', 'ai.onnx'):
                for a in n.attribute:
                    if a.name == 'value' and a.t.data_type in floats:
                        inits[n.output[0]] = [list(a.t.dims), float(numpy_helper.to_array(a.t).astype('float64').sum())]
                    elif a.name == 'value_float':
                        inits[n.output[0]] = [[], float(a.f)]
                    elif a.name == 'value_floats':
                        inits[n.output[0]] = [[len(a.floats)], float(sum(a.floats))]
            for a in n.attribute:
                if a.type == onnx.AttributeProto.GRAPH: walk(a.g, depth + 1)
    walk(g, 0)
    out[path] = {"nodes": nodes, "inits": inits, "inputs": [i.name for i in g.input if i.name not in names],
                 "outputs": [o.name for o in g.output]}
print(json.dumps(out))
)";
        QStringList args{"-c", script};
        for (const auto &m : models)
            args << "/usr/share/libonnx-testdata/data/" + m + "/model.onnx";
        QProcess py;
        py.start("/usr/bin/python3", args);
        QVERIFY(py.waitForFinished(120000));
        QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
        const QJsonObject expected = QJsonDocument::fromJson(py.readAllStandardOutput()).object();
        QCOMPARE(expected.size(), models.size());
        for (const QString &path : expected.keys()) {
            const QJsonObject e = expected[path].toObject();
            const ModelDescription d = describeFile(path.toStdString());
            QCOMPARE(QString::fromStdString(d.format), QStringLiteral("onnx"));
            QStringList ops;
            for (const auto &n : d.nodes)
                ops << QString::fromStdString(n.opType);
            QStringList expectedOps;
            for (const QJsonValue &v : e["nodes"].toArray())
                expectedOps << v.toString();
            QCOMPARE(ops, expectedOps);
            QCOMPARE(static_cast<int>(d.parameters.size()), e["inits"].toObject().size());
            for (const auto &p : d.parameters) {
                const QJsonArray ref = e["inits"].toObject()[QString::fromStdString(p.name)].toArray();
                QJsonArray dims;
                for (int64_t x : p.shape)
                    dims.append(static_cast<qint64>(x));
                QCOMPARE(dims, ref[0].toArray());
                QVERIFY(p.value.has_value());
                QVERIFY2(std::abs(sum(*p.value) - ref[1].toDouble()) <= 1e-4 * (1 + std::abs(ref[1].toDouble())), p.name.c_str());
            }
            QCOMPARE(static_cast<int>(d.inputs.size()), e["inputs"].toArray().size());
            QCOMPARE(static_cast<int>(d.outputs.size()), e["outputs"].toArray().size());
        }
    }

    void airAsTheSpecPrintsIt()
    {
        // air.md section 7: x[2,4] -> MatMulV2 -> BiasAdd -> Relu, built with our schema.
        ge::proto::ModelDef model;
        auto *g = model.add_graph();
        g->set_name("mlp");
        g->add_input("x:0");
        g->add_output("Relu_3:0");
        auto desc = [](ge::proto::TensorDescriptor *d, std::vector<int64_t> dims) {
            d->set_dtype(ge::proto::DT_FLOAT);
            for (int64_t x : dims)
                d->mutable_shape()->add_dim(x);
            d->set_layout("ND");
        };
        auto *x = g->add_op();
        x->set_name("x");
        x->set_type("Data");
        (*x->mutable_attr())["index"].set_i(0);
        desc(x->add_input_desc(), {2, 4});
        desc(x->add_output_desc(), {2, 4});
        auto constant = [&](const char *name, int id, std::vector<int64_t> dims) {
            auto *c = g->add_op();
            c->set_name(name);
            c->set_type("Const");
            c->set_id(id);
            auto *t = (*c->mutable_attr())["value"].mutable_t();
            desc(t->mutable_desc(), dims);
            int64_t n = 1;
            for (int64_t d : dims)
                n *= d;
            std::string data(static_cast<size_t>(n) * 4, '\0');
            for (int64_t i = 0; i < n; ++i) {
                const float v = 0.5f * static_cast<float>(i);
                std::memcpy(data.data() + i * 4, &v, 4);
            }
            t->set_data(data);
            desc(c->add_output_desc(), dims);
        };
        constant("fc1.weight_const", 1, {8, 4});
        constant("fc1.bias_const", 2, {8});
        auto *mm = g->add_op();
        mm->set_name("MatMul_1");
        mm->set_type("MatMulV2");
        mm->set_id(3);
        mm->add_input("x:0");
        mm->add_input("fc1.weight_const:0");
        (*mm->mutable_attr())["transpose_x1"].set_b(false);
        (*mm->mutable_attr())["transpose_x2"].set_b(true);
        desc(mm->add_input_desc(), {2, 4});
        desc(mm->add_input_desc(), {8, 4});
        desc(mm->add_output_desc(), {2, 8});
        auto *ba = g->add_op();
        ba->set_name("BiasAdd_2");
        ba->set_type("BiasAdd");
        ba->set_id(4);
        ba->add_input("MatMul_1:0");
        ba->add_input("fc1.bias_const:0");
        (*ba->mutable_attr())["data_format"].set_s("NCHW");
        desc(ba->add_input_desc(), {2, 8});
        desc(ba->add_input_desc(), {8});
        desc(ba->add_output_desc(), {2, 8});
        auto *relu = g->add_op();
        relu->set_name("Relu_3");
        relu->set_type("Relu");
        relu->set_id(5);
        relu->add_input("BiasAdd_2:0");
        desc(relu->add_input_desc(), {2, 8});
        desc(relu->add_output_desc(), {2, 8});
        for (const char *k : {"event_num", "label_num", "memory_size", "p2p_memory_size", "stream_num", "weight_size"})
            (*model.mutable_attr())[k].set_i(0);
        (*model.mutable_attr())["target_type"].set_s("MINI");
        std::string bytes;
        {
            google::protobuf::io::StringOutputStream raw(&bytes);
            google::protobuf::io::CodedOutputStream coded(&raw);
            coded.SetSerializationDeterministic(true);
            model.SerializeToCodedStream(&coded);
        }
        QCOMPARE(bytes.size(), size_t(842));
        // The first bytes air.md prints for this file.
        const QByteArray head = QByteArray::fromHex(
            "3abf050a036d6c702203783a302a0852656c755f333a3032340a017812044461746152"
            "0b0a05696e64657812021800""8a020c10011a040a02020422024e44");
        QCOMPARE(QByteArray(bytes.data(), head.size()).toHex(), head.toHex());

        const std::string path = m_dir.filePath("mlp.air").toStdString();
        std::ofstream(path, std::ios::binary) << bytes;
        const ModelDescription d = describeFile(path);
        QCOMPARE(QString::fromStdString(d.format), QStringLiteral("air"));
        QCOMPARE(d.nodes.size(), size_t(6));
        QCOMPARE(d.parameters.size(), size_t(2));
        QCOMPARE(d.parameters[0].value->numel(), int64_t(32));
        QCOMPARE(d.parameters[0].value->data()[3], 1.5f);
        QCOMPARE(d.inputs.size(), size_t(1));
        QCOMPARE(d.inputs[0].shape, (std::vector<int64_t>{2, 4}));
        QCOMPARE(d.inputs[0].dtype, std::string("DT_FLOAT"));
        QCOMPARE(d.outputs.size(), size_t(1));
        QCOMPARE(d.outputs[0].shape, (std::vector<int64_t>{2, 8}));
        QCOMPARE(d.nodes[3].opType, std::string("MatMulV2"));
        QCOMPARE(d.nodes[3].attributes.back().value, std::string("true")); // transpose_x2
        QVERIFY(prefixOf(path).size() == bytes.size());
    }
};

QTEST_GUILESS_MAIN(RegistryTest)
#include "registry_test.moc"
