// SPDX-License-Identifier: Apache-2.0
// Loading a checkpoint's tensors into a model: a torchvision resnet18 state_dict (python3-torch,
// saved with torch.save) loaded into the ONNX export of a differently initialised resnet18 — BatchNorm
// folded into its convolutions, equal biases shared through Identity nodes — and into the export
// that keeps BatchNorm gives PyTorch's outputs within 1e-5; the folding arithmetic against a
// hand computation; MindSpore BatchNorm names, DataParallel's "module." and close names suggested;
// map files (JSON and lines) and strict mode's message.
#include "checkpoint/folded_batch_norm.h"
#include "checkpoint/training_state.h"
#include "checkpoint/weight_matching.h"
#include "core/error.h"
#include "formats/graph_formats.h"
#include "formats/model_runner.h"
#include "formats/npy/npy_file.h"
#include "support/cli_support.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>

using namespace netwright;

namespace {

Tensor ramp(Shape shape, float start, float step)
{
    Tensor t(shape);
    for (int64_t i = 0; i < t.numel(); ++i)
        t.data()[i] = start + step * static_cast<float>(i);
    return t;
}

// A convolution with a bias (BatchNorm folded in, as an exporter writes it) and a Gemm head.
Graph foldedModel()
{
    Graph g;
    g.inputs.push_back({"x", {-1, 2, 4, 4}});
    g.addParameter("onnx::Conv_7", Tensor::zeros({3, 2, 1, 1}));
    g.addParameter("onnx::Conv_8", Tensor::zeros({3}));
    g.addParameter("fc.weight", Tensor::zeros({5, 48}));
    g.addParameter("fc.bias", Tensor::zeros({5}));
    g.initializers["flat.shape"] = Tensor::fromInt64({2}, {-1, 48});
    g.addNode("Conv", "/features/conv/Conv", {"x", "onnx::Conv_7", "onnx::Conv_8"}, {"c"});
    g.addNode("Reshape", "/Reshape", {"c", "flat.shape"}, {"f"});
    g.addNode("Gemm", "/fc/Gemm", {"f", "fc.weight", "fc.bias"}, {"y"}, {{"transB", Attribute(int64_t(1))}});
    g.outputs.push_back({"y", {-1, 5}});
    g.validate();
    return g;
}

TrainingState stateDict(const std::string &prefix = {}, bool mindsporeNames = false)
{
    const char *g = mindsporeNames ? "gamma" : "weight", *b = mindsporeNames ? "beta" : "bias";
    const char *m = mindsporeNames ? "moving_mean" : "running_mean", *v = mindsporeNames ? "moving_variance" : "running_var";
    return {StateEntry::ofTensor(prefix + "features.conv.weight", ramp({3, 2, 1, 1}, -0.5f, 0.2f)),
            StateEntry::ofTensor(prefix + "features.bn." + g, ramp({3}, 0.5f, 0.25f)),
            StateEntry::ofTensor(prefix + "features.bn." + b, ramp({3}, -0.1f, 0.1f)),
            StateEntry::ofTensor(prefix + "features.bn." + m, ramp({3}, 0.2f, -0.2f)),
            StateEntry::ofTensor(prefix + "features.bn." + v, ramp({3}, 0.5f, 0.5f)),
            StateEntry::ofTensor(prefix + "features.bn.num_batches_tracked", Tensor::fromInt64({}, {7})),
            StateEntry::ofTensor(prefix + "fc.weight", ramp({5, 48}, 0.0f, 0.01f)),
            StateEntry::ofTensor(prefix + "fc.bias", ramp({5}, 1.0f, 1.0f))};
}

const WeightRow &row(const WeightMatchReport &r, const std::string &name)
{
    for (const auto &w : r.rows)
        if (w.modelName == name || (w.modelName.empty() && w.fileName == name))
            return w;
    throw Error("no row " + name);
}

float maxAbsDiff(const Tensor &a, const Tensor &b)
{
    float worst = 0;
    for (int64_t i = 0; i < a.numel(); ++i)
        worst = std::max(worst, std::abs(a.data()[i] - b.data()[i]));
    return worst;
}

} // namespace

class WeightMatchingTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    bool m_torch = false;

    QString file(const char *name) const { return m_dir.filePath(name); }

private slots:
    void initTestCase()
    {
        QVERIFY(test::runSupportScript("torch_state_dict.py", {m_dir.path()}));
    }

    void foldsBatchNormAsTheFormulaSays()
    {
        const Tensor w = ramp({2, 3}, 1.0f, 1.0f), bias = ramp({2}, 0.5f, 0.5f);
        BatchNormParams bn{ramp({2}, 2.0f, 1.0f), ramp({2}, 0.1f, 0.1f), ramp({2}, 0.25f, 0.25f), ramp({2}, 3.0f, 1.0f), 1e-5};
        const FoldedConv f = foldBatchNorm(w, &bias, bn);
        for (int c = 0; c < 2; ++c) {
            const double scale = bn.gamma.data()[c] / std::sqrt(double(bn.var.data()[c]) + 1e-5);
            for (int i = 0; i < 3; ++i)
                QCOMPARE(f.weight.data()[c * 3 + i], float(w.data()[c * 3 + i] * scale));
            QCOMPARE(f.bias.data()[c], float(bn.beta.data()[c] + (bias.data()[c] - bn.mean.data()[c]) * scale));
        }
        QVERIFY_THROWS_EXCEPTION(Error, foldBatchNorm(w, nullptr, {ramp({3}, 1, 0), ramp({2}, 0, 0), ramp({2}, 0, 0), ramp({2}, 1, 0)}));
    }

    void matchesByModuleScopeAndFolds()
    {
        const Graph model = foldedModel();
        const WeightMatchReport r = matchWeights(model, stateDict(), {});
        QVERIFY2(r.complete(), r.problems().c_str());
        QCOMPARE(r.count(WeightStatus::Matched), 4);
        QCOMPARE(r.count(WeightStatus::Ignored), 1); // num_batches_tracked
        QCOMPARE(row(r, "onnx::Conv_7").fileName, std::string("features.conv.weight"));
        QVERIFY2(row(r, "onnx::Conv_7").how.find("folded with BatchNorm features.bn") != std::string::npos, row(r, "onnx::Conv_7").how.c_str());
        QCOMPARE(row(r, "fc.weight").how, std::string("name"));
        const FoldedConv expected = foldBatchNorm(ramp({3, 2, 1, 1}, -0.5f, 0.2f), nullptr,
                                                  {ramp({3}, 0.5f, 0.25f), ramp({3}, -0.1f, 0.1f), ramp({3}, 0.2f, -0.2f), ramp({3}, 0.5f, 0.5f)});
        QCOMPARE(maxAbsDiff(r.values.at("onnx::Conv_7"), expected.weight), 0.0f);
        QCOMPARE(maxAbsDiff(r.values.at("onnx::Conv_8"), expected.bias), 0.0f);
        // MindSpore's BatchNorm names fold alike.
        QVERIFY(matchWeights(model, stateDict({}, true), {}).complete());
    }

    void suggestsRenames()
    {
        // DataParallel's "module." prefix on every name: the one convolution still takes the one
        // convolution weight of its shape (with its BatchNorm), the head's names are suggested.
        Graph model = foldedModel();
        WeightMatchReport r = matchWeights(model, stateDict("module."), {});
        QCOMPARE(r.count(WeightStatus::Matched), 2);
        QVERIFY2(row(r, "onnx::Conv_8").how.find("in order, folded with BatchNorm module.features.bn") != std::string::npos,
                 row(r, "onnx::Conv_8").how.c_str());
        QCOMPARE(r.count(WeightStatus::Missing), 2);
        bool fc = false;
        for (const auto &s : r.suggestions)
            fc = fc || (s.from == "module.fc.weight" && s.to == "fc.weight" && s.why.find("DataParallel") != std::string::npos);
        QVERIFY(fc);
        // MindSpore names against a model that keeps BatchNorm with PyTorch's names.
        Graph bn;
        bn.inputs.push_back({"x", {-1, 3, 2, 2}});
        for (const char *n : {"bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"})
            bn.addParameter(n, Tensor::full({3}, 1.0f), std::string(n).find("running") == std::string::npos);
        bn.addNode("BatchNormalization", "/bn/BatchNormalization", {"x", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"}, {"y"});
        bn.outputs.push_back({"y", {-1, 3, 2, 2}});
        bn.validate();
        const TrainingState ms = {StateEntry::ofTensor("bn.gamma", Tensor::full({3}, 2.0f)), StateEntry::ofTensor("bn.beta", Tensor::full({3}, 3.0f)),
                                  StateEntry::ofTensor("bn.moving_mean", Tensor::full({3}, 4.0f)),
                                  StateEntry::ofTensor("bn.moving_variance", Tensor::full({3}, 5.0f))};
        r = matchWeights(bn, ms, {});
        QCOMPARE(r.count(WeightStatus::Missing), 4);
        QCOMPARE(r.count(WeightStatus::Unexpected), 4);
        QCOMPARE(r.suggestions.size(), size_t(4));
        QCOMPARE(r.suggestions[0].from, std::string("bn.gamma"));
        QCOMPARE(r.suggestions[0].to, std::string("bn.weight"));
        QCOMPARE(r.suggestions[3].from, std::string("bn.moving_variance"));
        QCOMPARE(r.suggestions[3].to, std::string("bn.running_var"));
        QVERIFY(r.suggestions[0].why.find("MindSpore") != std::string::npos);
        WeightRenames renames;
        for (const auto &s : r.suggestions)
            renames.emplace_back(s.from, s.to);
        r = matchWeights(bn, ms, renames);
        QVERIFY2(r.complete(), r.problems().c_str());
        QCOMPARE(r.values.at("bn.running_var").data()[0], 5.0f);
        QCOMPARE(row(r, "bn.weight").how, std::string("map"));
        // A close name of the same shape (one dotted segment differs).
        r = matchWeights(model, {StateEntry::ofTensor("head.weight", Tensor::zeros({5, 48}))}, {});
        QCOMPARE(r.suggestions.size(), size_t(1));
        QCOMPARE(r.suggestions[0].to, std::string("fc.weight"));
    }

    void readsMapFilesAndRefusesBadOnes()
    {
        QFile json(file("map.json")), lines(file("map.txt")), bad(file("bad.txt"));
        QVERIFY(json.open(QIODevice::WriteOnly) && lines.open(QIODevice::WriteOnly) && bad.open(QIODevice::WriteOnly));
        json.write(R"({"bn.gamma": "bn.weight", "module.fc.bias": "fc.bias"})");
        lines.write("# renames\nbn.gamma bn.weight  # MindSpore\n\nmodule.fc.bias\tfc.bias\n");
        bad.write("a b\nc d e\n");
        json.close();
        lines.close();
        bad.close();
        const WeightRenames expected{{"bn.gamma", "bn.weight"}, {"module.fc.bias", "fc.bias"}};
        QVERIFY(readWeightMapFile(file("map.txt").toStdString()) == expected);
        const WeightRenames fromJson = readWeightMapFile(file("map.json").toStdString());
        QCOMPARE(fromJson.size(), size_t(2));
        QVERIFY(std::find(fromJson.begin(), fromJson.end(), expected[0]) != fromJson.end());
        try {
            readWeightMapFile(file("bad.txt").toStdString());
            QFAIL("a line of three words was read");
        } catch (const Error &e) {
            QVERIFY2(std::string(e.what()).find("line 2 has 3 words") != std::string::npos, e.what());
            QVERIFY2(std::string(e.what()).find("bad.txt") != std::string::npos, e.what());
        }
    }

    void loadsAResnet18StateDictIntoItsFoldedOnnxExport()
    {
        Graph model = importGraphFile(file("resnet18.onnx").toStdString());
        const Tensor input = readNpy(file("input.npy").toStdString()), expected = readNpy(file("output.npy").toStdString());
        const Tensor before = runModel(model, {{"input", input}}).at(0).value;
        QVERIFY2(maxAbsDiff(before, expected) > 1e-2f, "the export's own weights already give PyTorch's outputs");
        const WeightMatchReport r = loadWeightsInto(model, file("state.pt").toStdString(), {}, true);
        QCOMPARE(r.count(WeightStatus::Matched), 42); // 20 convolutions with their biases, fc.weight, fc.bias
        QCOMPARE(r.count(WeightStatus::Ignored), 20); // num_batches_tracked
        const Tensor after = runModel(model, {{"input", input}}).at(0).value;
        QCOMPARE(after.shape(), expected.shape());
        const float diff = maxAbsDiff(after, expected);
        qInfo("resnet18, BatchNorm folded: max |netwright - PyTorch| = %.3g", double(diff));
        QVERIFY2(diff < 1e-5f, std::to_string(diff).c_str());
    }

    void loadsItIntoTheExportThatKeepsBatchNorm()
    {
        Graph model = importGraphFile(file("resnet18_bn.onnx").toStdString());
        const WeightMatchReport r = loadWeightsInto(model, file("state.pt").toStdString(), {}, true);
        QCOMPARE(r.count(WeightStatus::Matched), 102);
        const Tensor after = runModel(model, {{"input", readNpy(file("input.npy").toStdString())}}).at(0).value;
        const float diff = maxAbsDiff(after, readNpy(file("output.npy").toStdString()));
        qInfo("resnet18, BatchNorm kept: max |netwright - PyTorch| = %.3g", double(diff));
        QVERIFY2(diff < 1e-5f, std::to_string(diff).c_str());
        // Strict mode names what is missing; the model is left as it was.
        Graph other = importGraphFile(file("resnet18_bn.onnx").toStdString());
        const Tensor untouched = other.initializers.at("bn1.weight");
        try {
            loadWeightsInto(other, file("mindspore.npz").toStdString(), {}, true);
            QFAIL("strict mode loaded MindSpore's names into PyTorch's");
        } catch (const Error &e) {
            const std::string m = e.what();
            QVERIFY2(m.find("mindspore.npz") != std::string::npos && m.find("80 missing (bn1.weight, bn1.bias, bn1.running_mean") != std::string::npos
                         && m.find("80 unexpected (bn1.gamma") != std::string::npos,
                     m.c_str());
        }
        QVERIFY(other.initializers.at("bn1.weight").raw() == untouched.raw());
    }
};

QTEST_GUILESS_MAIN(WeightMatchingTest)
#include "weight_matching_test.moc"
