// SPDX-License-Identifier: Apache-2.0
#include "train/training_setup.h"

#include "core/error.h"
#include "core/parallel.h"
#include "formats/graph_formats.h"
#include "zoo/model_zoo.h"

#include <sys/stat.h>

namespace netwright {

namespace {
constexpr uint64_t kInitStream = 1, kShuffleStream = 2;

std::string fashionFile(const std::string &name)
{
    const std::string path = defaultFashionMnistDir() + "/" + name;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw Error("Fashion-MNIST is missing: \"" + path
                    + "\" does not exist (install it with: apt-get install dataset-fashion-mnist).");
    return path;
}
} // namespace

TrainingData loadTrainingData(const DataSettings &d)
{
    TrainingData out;
    if (d.dataset == "fashion-mnist") {
        out.train = std::make_shared<Dataset>(
            loadIdxDataset(fashionFile("train-images-idx3-ubyte.gz"), fashionFile("train-labels-idx1-ubyte.gz")));
        out.test = std::make_shared<Dataset>(
            loadIdxDataset(fashionFile("t10k-images-idx3-ubyte.gz"), fashionFile("t10k-labels-idx1-ubyte.gz")));
    } else if (d.dataset == "idx") {
        out.train = std::make_shared<Dataset>(loadIdxDataset(d.trainImages, d.trainLabels));
        out.test = std::make_shared<Dataset>(loadIdxDataset(d.testImages, d.testLabels));
    } else if (d.dataset == "csv") {
        out.train = std::make_shared<Dataset>(loadCsvDataset(d.trainCsv, d.csvHeader));
        out.test = std::make_shared<Dataset>(loadCsvDataset(d.testCsv, d.csvHeader));
    } else {
        throw Error("data.dataset \"" + d.dataset + "\" is unknown (expected fashion-mnist, idx or csv).");
    }
    check(out.train->sampleShape() == out.test->sampleShape(),
          "The training samples (" + shapeToString(out.train->sampleShape()) + " in \"" + out.train->name
              + "\") and the test samples (" + shapeToString(out.test->sampleShape()) + " in \"" + out.test->name
              + "\") differ in shape.");
    return out;
}

Graph loadTrainableModelFile(const std::string &path, const Shape &sample, int64_t classes)
{
    GraphFormat format;
    Graph model = importGraphFile(path, &format);
    const std::string what = "Cannot train \"" + path + "\" (" + format.name + "): ";
    check(model.inputs.size() == 1, what + "it has " + std::to_string(model.inputs.size()) + " inputs; training needs one (the samples).");
    check(model.outputs.size() == 1, what + "it has " + std::to_string(model.outputs.size()) + " outputs; training needs one (the logits).");
    check(!model.trainable.empty(), what + "none of its weights can be trained (every one is a buffer or a constant).");
    ValueInfo &in = model.inputs[0];
    check(in.dtype == DType::Float32, what + "its input \"" + in.name + "\" is " + dtypeName(in.dtype) + ", not float32.");
    check(!in.shape.empty(), what + "its input \"" + in.name + "\" has no batch dimension.");
    // The samples fit as they are, or — flat rows of 784 values — viewed as 28×28 images.
    Shape wanted(in.shape.begin() + 1, in.shape.end());
    auto fits = [&](const Shape &s) {
        if (s.size() != wanted.size())
            return false;
        for (size_t d = 0; d < s.size(); ++d)
            if (wanted[d] >= 0 && wanted[d] != s[d])
                return false;
        return true;
    };
    const bool flatAsImage = !fits(sample) && sample.size() == 1 && sample[0] == 28 * 28 && fits(Shape{1, 28, 28});
    check(fits(sample) || flatAsImage, what + "its input \"" + in.name + "\" takes samples of shape " + shapeToString(wanted)
                                          + ", but the data has samples of shape " + shapeToString(sample) + ".");
    // The trainer feeds "input" (the graph dump and the checkpoints name it so): rename it, and free
    // the batch dimension (files exported with a fixed batch of 1 train at any batch size).
    const std::string old = in.name;
    for (auto &n : model.nodes)
        for (auto &v : n.inputs)
            if (v == old)
                v = "input";
    for (auto &out : model.outputs)
        if (out.name == old)
            out.name = "input";
    in.name = "input";
    in.shape[0] = -1;
    if (flatAsImage) {
        in.name = "flat_input";
        in.shape = {-1, 28 * 28};
        model.initializers["input.shape"] = Tensor::fromInt64({4}, {-1, 1, 28, 28});
        model.nodes.insert(model.nodes.begin(), Node{"input_reshape", "Reshape", {"flat_input", "input.shape"}, {"input"}, {}});
    }
    model.validate();
    Shape probe = flatAsImage ? Shape{1, 28 * 28} : sample;
    if (!flatAsImage)
        probe.insert(probe.begin(), 1);
    Shape logits;
    try {
        logits = model.inferShapes({{in.name, probe}}).at(model.outputs[0].name);
    } catch (const Error &e) {
        throw Error(what + e.what());
    }
    check(logits.size() == 2, what + "its output \"" + model.outputs[0].name + "\" is " + shapeToString(logits)
                                  + "; training needs logits [N, classes].");
    check(logits[1] >= classes, what + "it has " + std::to_string(logits[1]) + " outputs, but the data has labels up to "
                                     + std::to_string(classes - 1) + ".");
    return model;
}

namespace {

// The zoo model the config names, sized for the samples of `dataName`.
Graph buildZooModelFor(const RunConfig &c, const Shape &sample, int64_t classes, const std::string &dataName)
{
    ModelSpec spec;
    spec.name = c.model;
    // The zoo models take one image channel; flat samples of 784 values are read as 28×28.
    if (sample.size() == 3) {
        spec.channels = sample[0];
        spec.height = sample[1];
        spec.width = sample[2];
    } else if (sample.size() == 1 && sample[0] == 28 * 28) {
        spec.channels = 1;
        spec.height = 28;
        spec.width = 28;
    } else {
        throw Error("Model \"" + c.model + "\" takes images [C,H,W] (or 784 values), but \"" + dataName
                    + "\" has samples of shape " + shapeToString(sample) + ".");
    }
    check(classes <= spec.classes, "\"" + dataName + "\" has labels up to " + std::to_string(classes - 1) + ", but model \""
                                       + c.model + "\" has " + std::to_string(spec.classes) + " outputs.");
    Graph model = buildZooModel(spec, parseInitScheme(c.init), deriveSeed(c.training.seed, kInitStream));
    if (sample.size() == 1) { // flat CSV rows: view them as images
        model.inputs[0].name = "flat_input";
        model.inputs[0].shape = {-1, 28 * 28};
        model.initializers["input.shape"] = Tensor::fromInt64({4}, {-1, 1, 28, 28});
        Node reshape{"input_reshape", "Reshape", {"flat_input", "input.shape"}, {"input"}, {}};
        model.nodes.insert(model.nodes.begin(), reshape);
        model.validate();
    }
    return model;
}

} // namespace

Graph buildRunModel(const RunConfig &c, const Shape &sample, int64_t classes, const std::string &dataName)
{
    if (c.modelFile.empty())
        return buildZooModelFor(c, sample, classes, dataName);
    Graph model = loadTrainableModelFile(c.modelFile, sample, classes);
    model.name = c.model;
    return model;
}

std::unique_ptr<Trainer> makeTrainer(const RunConfig &c, const TrainingData &data)
{
    validateRunConfig(c);
    setThreadCount(c.training.threads);
    Graph model = buildRunModel(c, data.train->sampleShape(), std::max(data.train->classes, data.test->classes), data.train->name);
    Normalization norm{c.data.scale, c.data.mean, c.data.std};
    auto train = std::make_unique<PrefetchingSource>(std::make_unique<DatasetSource>(
        data.train, c.training.batchSize, c.data.shuffle, c.data.dropLast, deriveSeed(c.training.seed, kShuffleStream), norm));
    auto test = std::make_unique<DatasetSource>(data.test, c.data.evalBatchSize, false, false, 0, norm);
    TrainerSettings settings{c.training.epochs, c.training.seed, c.lr, c.schedule};
    settings.device = parseDevice(c.training.device);
    startDevice(settings.device); // throws, naming why, when the device cannot be used
    return std::make_unique<Trainer>(std::move(model), std::move(train), std::move(test), makeOptimizer(c.optimizer),
                                     settings);
}

} // namespace netwright
