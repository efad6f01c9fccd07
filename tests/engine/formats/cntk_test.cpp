// SPDX-License-Identifier: Apache-2.0
// CNTK model-v2 and trainer-checkpoint files: the real CNTK pair in ../shared/fixtures reads with
// the values protoc shows for it; what we write follows the serializer rules every CNTK reader
// relies on (cntk-v2.md sections 3, 4 and 10), decodes with `protoc --decode` against our
// restatement of the schema, and round-trips a whole training state; a pair from two different
// saves is refused, and a save cut short by a crash is completed or discarded.
#include "formats/cntk/cntk_model.h"
#include "formats/cntk/trainer_checkpoint.h"
#include "formats/mindspore/ckpt_file.h"
#include "formats/registry.h"
#include "graph/graph.h"
#include "support/error_of.h"
#include "zoo/model_zoo.h"

#include "cntk.pb.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

using namespace netwright;
using mindspore::CkptEntry;
using netwright::testing::errorOf;

namespace {

QString shared()
{
    const QByteArray s = qgetenv("NETWRIGHT_SHARED_DIR");
    return s.isEmpty() ? QStringLiteral("../shared") : QString::fromLocal8Bit(s);
}

std::string fixture(const char *rel)
{
    return (shared() + "/fixtures/" + rel).toStdString();
}

// A zoo model as the Trainer turns it into a training graph (labels input, loss node).
Graph trainingGraph(const std::string &model)
{
    ModelSpec spec;
    spec.name = model;
    Graph g = buildZooModel(spec, InitScheme::KaimingUniform, 7);
    const std::string logits = g.outputs[0].name;
    g.inputs.push_back({"labels", {-1}, DType::Int64});
    g.addNode("SoftmaxCrossEntropyLoss", "loss", {logits, "labels"}, {"loss"}, {{"reduction", std::string("mean")}});
    g.outputs.push_back({"loss", {}, DType::Float32});
    g.validate();
    return g;
}

Tensor filled(const Shape &s, float seed)
{
    Tensor t(s, DType::Float32);
    for (int64_t i = 0; i < t.numel(); ++i)
        t.data()[i] = seed + 0.001f * static_cast<float>(i % 997);
    return t;
}

Tensor scalar(int64_t v)
{
    Tensor t(Shape{}, DType::Int64);
    t.dataAs<int64_t>()[0] = v;
    return t;
}

// A whole training state for `g`: parameters, the optimizer's slots and netwright.* entries.
std::vector<CkptEntry> stateFor(const Graph &g, const std::string &optimizer, float seed)
{
    std::vector<CkptEntry> out;
    for (const auto &[name, t] : g.initializers) {
        if (t.dtype() != DType::Float32)
            continue;
        out.push_back(CkptEntry::ofTensor(name, filled(t.shape(), seed)));
        if (!g.trainable.count(name))
            continue;
        if (optimizer == "sgd") {
            out.push_back(CkptEntry::ofTensor("moments." + name, filled(t.shape(), seed + 1)));
        } else {
            out.push_back(CkptEntry::ofTensor("moment1." + name, filled(t.shape(), seed + 2)));
            out.push_back(CkptEntry::ofTensor("moment2." + name, filled(t.shape(), seed + 3)));
        }
    }
    Tensor rng(Shape{4}, DType::UInt64);
    for (int i = 0; i < 4; ++i)
        rng.dataAs<uint64_t>()[i] = 0xfedcba9876543210ULL - static_cast<uint64_t>(i);
    Tensor step(Shape{1}, DType::Int32);
    step.dataAs<int32_t>()[0] = 123;
    Tensor sum(Shape{}, DType::Float64);
    sum.dataAs<double>()[0] = 1234.5678901234567;
    out.push_back(CkptEntry::ofTensor("global_step", step));
    out.push_back(CkptEntry::ofTensor("learning_rate", Tensor::full({}, 0.01f)));
    out.push_back(CkptEntry::ofString("netwright.optimizer", optimizer));
    out.push_back(CkptEntry::ofTensor("netwright.data.epoch", scalar(2)));
    out.push_back(CkptEntry::ofTensor("netwright.data.position", scalar(640)));
    out.push_back(CkptEntry::ofTensor("netwright.data.shuffle_rng", rng));
    out.push_back(CkptEntry::ofTensor("netwright.train.epoch_loss_sum", sum));
    if (optimizer != "sgd")
        out.push_back(CkptEntry::ofTensor("beta1_power", Tensor::full({}, 0.81f)));
    return out;
}

bool sameEntry(const CkptEntry &a, const CkptEntry &b)
{
    if (a.isString != b.isString || a.text != b.text)
        return false;
    return a.isString
           || (a.tensor.dtype() == b.tensor.dtype() && a.tensor.shape() == b.tensor.shape()
               && std::memcmp(a.tensor.raw(), b.tensor.raw(), a.tensor.byteSize()) == 0);
}

// Every Dictionary and DictionaryValue carries version 1 and every value the type of the member set.
void checkSerializerRules(const CNTK::proto::Dictionary &d, const std::string &where, QStringList &bad);

void checkValue(const CNTK::proto::DictionaryValue &v, const std::string &where, QStringList &bad)
{
    using V = CNTK::proto::DictionaryValue;
    if (v.version() != 1)
        bad << QString::fromStdString(where + ": version " + std::to_string(v.version()));
    static const std::map<int, int> caseOfType{{V::Bool, V::kBoolValue},     {V::Int, V::kIntValue},
                                               {V::SizeT, V::kSizeTValue},   {V::Float, V::kFloatValue},
                                               {V::Double, V::kDoubleValue}, {V::String, V::kStringValue},
                                               {V::NDShape, V::kNdShapeValue}, {V::Axis, V::kAxisValue},
                                               {V::Vector, V::kVectorValue}, {V::Dictionary, V::kDictionaryValue},
                                               {V::NDArrayView, V::kNdArrayViewValue}};
    const auto it = caseOfType.find(v.value_type());
    if (it == caseOfType.end() || it->second != v.value_case())
        bad << QString::fromStdString(where + ": value_type " + V::Type_Name(v.value_type()) + " does not match its value");
    if (v.value_case() == V::kDictionaryValue)
        checkSerializerRules(v.dictionary_value(), where, bad);
    if (v.value_case() == V::kVectorValue)
        for (int i = 0; i < v.vector_value().value_size(); ++i)
            checkValue(v.vector_value().value(i), where + "[" + std::to_string(i) + "]", bad);
}

void checkSerializerRules(const CNTK::proto::Dictionary &d, const std::string &where, QStringList &bad)
{
    if (d.version() != 1)
        bad << QString::fromStdString(where + ": Dictionary version " + std::to_string(d.version()));
    for (const auto &[k, v] : d.data())
        checkValue(v, where + "." + k, bad);
}

} // namespace

class CntkTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

    std::string path(const char *name) const { return m_dir.filePath(name).toStdString(); }

private slots:
    void readsTheRealTrainerCheckpointPair()
    {
        const std::string ckp = fixture("cntk-ckp/cntk_ConvNet_CIFAR10_DataAug_1.dnn.ckp");
        const std::string model = fixture("cntk-v2/cntk_ConvNet_CIFAR10_DataAug_1.dnn");
        const auto l = cntk::listTrainerCheckpoint(ckp, model);
        QCOMPARE(l.version, uint64_t(0)); // no "Version" key: a version-0 checkpoint
        QCOMPARE(l.learners, size_t(1));
        QCOMPARE(QString::fromStdString(l.modelFile), QString::fromStdString(model));
        std::map<std::string, const cntk::StateItem *> items;
        for (const auto &i : l.items)
            items[i.path] = &i;
        // Values as `protoc --decode=CNTK.proto.Dictionary` shows them.
        const std::string learner = "Learners[0].base.localLearners.";
        QCOMPARE(items.at(learner + "minibatchCount")->text, std::string("1001"));
        QCOMPARE(items.at(learner + "sample_count")->text, std::string("32008"));
        QCOMPARE(items.at("Learners[0].base.totalNumberOfSamplesSeen")->text, std::string("64016"));
        QCOMPARE(items.at(learner + "type")->text, std::string("\"Learner\""));
        QCOMPARE(items.at(learner + "learnig_rate_schedule.epoch_size")->text, std::string("50000"));
        const std::string schedule = items.at(learner + "learnig_rate_schedule.schedule")->text;
        QVERIFY2(schedule.rfind("71 entries: 50000 → 0.0015625", 0) == 0, schedule.c_str());
        // 14 smoothed gradients, keyed by parameter uid, named from the model; CNTK's [3,3,64,64]
        // kernel is our (row-major) [64,64,3,3].
        int gradients = 0;
        for (const auto &i : l.items)
            if (i.tensor && i.path.rfind(learner + "Parameter", 0) == 0)
                ++gradients;
        QCOMPARE(gradients, 14);
        const auto *w = items.at(learner + "Parameter16 (W)");
        QVERIFY(w->tensor.has_value());
        QCOMPARE(w->tensor->shape(), (Shape{64, 64, 3, 3}));
        QCOMPARE(items.at(learner + "Parameter255 (b)")->tensor->shape(), (Shape{10}));
        QCOMPARE(items.at("ExternalState.0")->text, std::string("{}"));
    }

    void readsTheRealModel()
    {
        const cntk::Model m = cntk::readModel(fixture("cntk-v2/cntk_ConvNet_CIFAR10_DataAug_1.dnn"));
        QCOMPARE(m.variables.size(), size_t(21));
        QCOMPARE(m.functions.size(), size_t(34));
        QCOMPARE(QString::fromStdString(m.root), QStringLiteral("Combine471"));
        int convolutions = 0;
        for (const auto &f : m.functions)
            convolutions += f.opName == "Convolution";
        QCOMPARE(convolutions, 4);
        const auto b = std::find_if(m.variables.begin(), m.variables.end(), [](const auto &v) { return v.uid == "Parameter255"; });
        QVERIFY(b != m.variables.end());
        QCOMPARE(QString::fromStdString(b->name), QStringLiteral("b"));
        QVERIFY(b->kind == cntk::VariableKind::Parameter);
        const float expected[] = {-0.093660973f, -0.222012937f, 0.156687811f, 0.0531803183f, 0.163515344f,
                                  0.0150759723f, 0.0782591179f, -0.0442089364f, -0.0134160537f, -0.093419008f};
        QCOMPARE(b->value->numel(), int64_t(10));
        for (int i = 0; i < 10; ++i)
            QCOMPARE(b->value->data()[i], expected[i]);
        const auto w = std::find_if(m.variables.begin(), m.variables.end(), [](const auto &v) { return v.uid == "Parameter166"; });
        QCOMPARE(w->cntkShape, (std::vector<uint64_t>{256, 7, 7, 64}));
        QCOMPARE(w->value->shape(), (Shape{64, 7, 7, 256}));
    }

    // CNTK's layers are Blocks: a Dense or a Convolution is one Block function whose composite's
    // primitives are listed before it. Described, each Block is a node of the layer's op type with
    // its primitives as its body (graph "/<block>.<op>", right after it, as an ONNX If's
    // branches), the composite's placeholders renamed to the values the Block feeds them.
    void blocksAreBodiesOfTheirNode()
    {
        const ModelDescription d = describeFile(fixture("cntk-v2/nodecntk_mnist_conv.cmf"));
        QCOMPARE(d.nodes.size(), size_t(16)); // every function once
        QCOMPARE(QString::fromStdString(d.nodes.front().graph), QString());
        QCOMPARE(d.inputs.size(), size_t(1)); // the image; the Blocks' placeholders are theirs
        QCOMPARE(QString::fromStdString(d.inputs[0].name), QStringLiteral("input (Input1019)"));
        std::vector<std::string> blocks;
        std::set<std::string> made;
        for (const auto &v : d.inputs) { // "input (Input1019)": a variable by its name and its uid
            made.insert(v.name);
            if (const size_t open = v.name.rfind(" ("); open != std::string::npos)
                made.insert(v.name.substr(open + 2, v.name.size() - open - 3));
        }
        for (size_t i = 0; i < d.nodes.size(); ++i) {
            const NodeDescription &n = d.nodes[i];
            for (const std::string &in : n.inputs) {
                QVERIFY2(in.find("Placeholder") == std::string::npos, (n.name + " reads " + in).c_str());
                const bool parameter = std::any_of(d.parameters.begin(), d.parameters.end(),
                                                   [&](const auto &p) { return p.name == in || p.name.find("(" + in + ")") != std::string::npos; });
                QVERIFY2(parameter || made.count(in), (n.name + " reads " + in + " before anything makes it").c_str());
            }
            made.insert(n.outputs.begin(), n.outputs.end());
            const auto block = std::find_if(n.attributes.begin(), n.attributes.end(), [](const auto &a) { return a.name == "block"; });
            if (block == n.attributes.end())
                continue;
            blocks.push_back(n.opType + " " + n.name.substr(0, n.name.find(' ')));
            const std::string body = n.graph + "/" + n.name + "." + n.opType;
            size_t members = 0;
            while (i + 1 + members < d.nodes.size() && d.nodes[i + 1 + members].graph == body)
                ++members;
            QVERIFY2(members >= 1, n.name.c_str());
            QCOMPARE(block->value, std::to_string(members) + " primitive functions");
        }
        QCOMPARE(blocks, (std::vector<std::string>{"Convolution first_conv", "MaxPooling first_max", "Convolution second_conv",
                                                   "MaxPooling second_max", "Dense classify"}));
    }

    void refusesLegacyAndForeignFiles()
    {
        QVERIFY(errorOf([] { cntk::listTrainerCheckpoint(fixture("cntk-ckp/cntk_v1py_demoxyfffff63.ckp")); })
                    .contains("legacy CNTK v1 SGD checkpoint"));
        QVERIFY(errorOf([] { cntk::readModel(fixture("cntk-v1/cntk_bs_LR_reg.dnn")); }).contains("legacy CNTK model-v1 file"));
        QVERIFY(errorOf([] { cntk::listTrainerCheckpoint(fixture("cntk-v2/pscntk_logistic.model")); })
                    .contains("it is a model-v2 file"));
        QVERIFY(errorOf([] { cntk::readModel(fixture("mindspore-ckpt/qishna_LinearNet_10_step.ckpt")); })
                    .contains("qishna_LinearNet_10_step.ckpt"));
    }

    void writesTheTrainingFunctionAsCntkDoes_data()
    {
        QTest::addColumn<QString>("model");
        QTest::newRow("mlp") << "mlp";
        QTest::newRow("cnn-bn") << "cnn-bn";
        QTest::newRow("lenet5") << "lenet5";
    }

    void writesTheTrainingFunctionAsCntkDoes()
    {
        QFETCH(QString, model);
        const Graph g = trainingGraph(model.toStdString());
        const std::string bytes = cntk::encodeTrainingModel(g);
        QCOMPARE(bytes.substr(0, 3), std::string("\x08\x01\x12", 3)); // Netron's v2 signature
        QCOMPARE(cntk::encodeTrainingModel(g), bytes);                 // deterministic

        CNTK::proto::Dictionary d;
        QVERIFY(d.ParseFromString(bytes));
        QStringList bad;
        checkSerializerRules(d, "model", bad);
        QVERIFY2(bad.isEmpty(), qPrintable(bad.join("\n")));

        const cntk::Model m = cntk::decodeModel(bytes, "written");
        // The loader's rule: every input is a leaf or an output of an earlier function.
        std::set<std::string> known;
        for (const auto &v : m.variables)
            QVERIFY2(known.insert(v.uid).second, v.uid.c_str()); // unique uids
        for (const auto &f : m.functions) {
            QVERIFY(!f.opName.empty() && f.opName.rfind("op", 0) != 0);
            for (const auto &in : f.inputs)
                QVERIFY2(known.count(in), (f.uid + " reads the unknown " + in).c_str());
            known.insert(f.uid + "_Output_0");
        }
        QCOMPARE(m.functions.back().opName, std::string("Combine"));
        QCOMPARE(m.root, m.functions.back().uid);
        QCOMPARE(m.functions.back().inputs.size(), size_t(3)); // output, loss, error
        // Every parameter and buffer, under its name, with its exact bytes.
        int parameters = 0;
        for (const auto &v : m.variables) {
            if (!v.value || !g.initializers.count(v.name))
                continue;
            const Tensor &t = g.initializers.at(v.name);
            QCOMPARE(v.value->numel(), t.numel());
            QVERIFY(std::memcmp(v.value->raw(), t.raw(), t.byteSize()) == 0);
            QCOMPARE(v.kind == cntk::VariableKind::Parameter, g.trainable.count(v.name) == 1);
            ++parameters;
        }
        int expected = 0;
        for (const auto &[name, t] : g.initializers)
            expected += t.dtype() == DType::Float32;
        QCOMPARE(parameters, expected);

        // An independent reader: protoc with the schema restated from cntk-v2.md.
        const std::string file = path("written.model");
        QFile out(QString::fromStdString(file));
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(bytes.data(), static_cast<qint64>(bytes.size()));
        out.close();
        const QString proto = QString::fromLocal8Bit(qgetenv("NETWRIGHT_SOURCE_DIR")) + "/proto";
        QProcess protoc;
        protoc.setStandardInputFile(QString::fromStdString(file));
        protoc.start("protoc", {"--proto_path=" + proto, "--decode=CNTK.proto.Dictionary", proto + "/cntk.proto"});
        QVERIFY(protoc.waitForFinished(60000));
        QCOMPARE(protoc.exitCode(), 0);
        const QByteArray text = protoc.readAllStandardOutput();
        QVERIFY(text.contains("string_value: \"CompositeFunction\""));
        QVERIFY(text.contains("value_type: NDArrayView"));
        QVERIFY(text.contains("string_value: \"" + QByteArray::fromStdString(g.initializers.begin()->first) + "\""));
    }

    void trainerCheckpointRoundTripsTheWholeState_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("optimizer");
        QTest::newRow("cnn-bn sgd") << "cnn-bn" << "sgd";
        QTest::newRow("mlp adam") << "mlp" << "adam";
    }

    void trainerCheckpointRoundTripsTheWholeState()
    {
        QFETCH(QString, model);
        QFETCH(QString, optimizer);
        const Graph g = trainingGraph(model.toStdString());
        const auto state = stateFor(g, optimizer.toStdString(), 0.5f);
        const std::string file = path(("state-" + model + "-" + optimizer).toLocal8Bit().constData());
        cntk::writeTrainerCheckpoint(file, g, state, {640, 123, 2, 0.01});
        QVERIFY(std::filesystem::exists(file + ".ckp"));
        QVERIFY(!std::filesystem::exists(cntk::pendingPath(file)));
        const auto back = cntk::readTrainerCheckpoint(file);
        std::map<std::string, const CkptEntry *> byName;
        for (const auto &e : back)
            byName[e.name] = &e;
        for (const auto &e : state) {
            QVERIFY2(byName.count(e.name), e.name.c_str());
            QVERIFY2(sameEntry(e, *byName.at(e.name)), e.name.c_str());
        }
        // The learner section as CNTK names it.
        const auto l = cntk::listTrainerCheckpoint(file + ".ckp");
        std::map<std::string, std::string> text;
        int smoothed = 0;
        for (const auto &i : l.items) {
            text[i.path] = i.text;
            smoothed += i.path.rfind("Learners[0].smoothed_gradients[", 0) == 0;
        }
        QCOMPARE(l.version, uint64_t(1));
        QCOMPARE(text["Learners[0].minibatchCount"], std::string("123"));
        QCOMPARE(text["Learners[0].sample_count"], std::string("640"));
        QCOMPARE(text["Learners[0].sweepCount"], std::string("2"));
        QCOMPARE(smoothed, static_cast<int>(g.trainable.size()));
    }

    void refusesAPairFromTwoSaves()
    {
        const Graph g = trainingGraph("mlp");
        const std::string a = path("pair-a"), b = path("pair-b");
        cntk::writeTrainerCheckpoint(a, g, stateFor(g, "sgd", 0.1f), {});
        cntk::writeTrainerCheckpoint(b, g, stateFor(g, "sgd", 0.2f), {});
        std::filesystem::copy_file(b, a, std::filesystem::copy_options::overwrite_existing);
        const QString e = errorOf([&] { cntk::readTrainerCheckpoint(a); });
        QVERIFY2(e.contains("from different saves") && e.contains("pair-a.ckp"), qPrintable(e));
    }

    void completesOrDiscardsASaveACrashCutShort()
    {
        namespace fs = std::filesystem;
        const Graph g = trainingGraph("mlp");
        const std::string file = path("crash"), next = path("crash-next");
        const auto older = stateFor(g, "sgd", 0.1f), newer = stateFor(g, "sgd", 0.7f);
        cntk::writeTrainerCheckpoint(file, g, older, {});
        cntk::writeTrainerCheckpoint(next, g, newer, {});
        // Crash before the model was replaced: the staged .ckp is dropped, the old pair stands.
        fs::copy_file(next + ".ckp", cntk::pendingPath(file));
        QVERIFY(!cntk::recoverInterruptedSave(file));
        QVERIFY(!fs::exists(cntk::pendingPath(file)));
        QVERIFY(sameEntry(cntk::readTrainerCheckpoint(file).front(), cntk::readTrainerCheckpoint(file).front()));
        for (const auto &e : cntk::readTrainerCheckpoint(file))
            if (e.name == older.front().name)
                QVERIFY(sameEntry(e, older.front()));
        // Crash after the model was replaced, before the .ckp was: the save is completed.
        fs::copy_file(next + ".ckp", cntk::pendingPath(file));
        fs::copy_file(next, file, fs::copy_options::overwrite_existing);
        QVERIFY(errorOf([&] { cntk::readTrainerCheckpoint(file); }).contains("different saves"));
        QVERIFY(cntk::recoverInterruptedSave(file));
        for (const auto &e : cntk::readTrainerCheckpoint(file))
            if (e.name == newer.front().name)
                QVERIFY(sameEntry(e, newer.front()));
    }
};

QTEST_GUILESS_MAIN(CntkTest)
#include "cntk_test.moc"
