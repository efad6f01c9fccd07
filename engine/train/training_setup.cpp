// SPDX-License-Identifier: Apache-2.0
#include "train/training_setup.h"

#include "checkpoint/weight_matching.h"
#include "core/error.h"
#include "core/parallel.h"
#include "data/data_source.h"
#include "formats/graph_formats.h"
#include "zoo/model_zoo.h"

#include <optional>
#include <sys/stat.h>

namespace netwright {

namespace {
constexpr uint64_t kInitStream = 1, kShuffleStream = 2, kAugmentStream = 5;

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

std::optional<ImageGeometry> modelFileGeometry(const RunConfig &c)
{
    if (c.modelFile.empty() || !c.data.resize.empty())
        return std::nullopt;
    Graph model;
    try {
        model = importGraphFile(c.modelFile, nullptr);
    } catch (const Error &) {
        return std::nullopt; // building the model names the problem
    }
    if (model.inputs.size() != 1 || model.inputs[0].shape.size() != 4)
        return std::nullopt;
    const Shape &in = model.inputs[0].shape;
    if (in[2] <= 0 || in[3] <= 0)
        return std::nullopt;
    ImageGeometry g{{static_cast<int>(in[2]), static_cast<int>(in[3])}, c.data.centerCrop, c.data.channels};
    if (g.channels == 0 && (in[1] == 1 || in[1] == 3))
        g.channels = static_cast<int>(in[1]);
    return g;
}

TrainingData loadTrainingData(const RunConfig &c)
{
    const DataSettings &d = c.data;
    TrainingData out;
    out.normalization = {d.scale, {d.mean}, {d.std}, 1};
    auto legacy = [&](Dataset train, Dataset test) {
        applyTask(train, c.task.type);
        applyTask(test, c.task.type, TargetRole::Test);
        const int64_t classes = std::max(train.classes, test.classes);
        train.classes = test.classes = classes;
        out.train = std::make_shared<Dataset>(std::move(train));
        out.test = std::make_shared<Dataset>(std::move(test));
    };
    if (d.dataset == "path") {
        const DataKind kind = detectDataKind(d.path);
        const bool images = kind == DataKind::ImageFolder || kind == DataKind::Cifar || kind == DataKind::IdxDirectory;
        LoadedData loaded = loadDataPath(d, c.task.type, c.training.seed, images ? modelFileGeometry(c) : std::nullopt);
        out.train = loaded.train;
        out.test = loaded.test;
        out.normalization = loaded.normalization;
        out.kind = dataKindName(loaded.kind);
        out.splitNote = loaded.splitNote;
    } else if (d.dataset == "fashion-mnist") {
        Dataset train = loadIdxDataset(fashionFile("train-images-idx3-ubyte.gz"), fashionFile("train-labels-idx1-ubyte.gz"));
        legacy(std::move(train), loadIdxDataset(fashionFile("t10k-images-idx3-ubyte.gz"), fashionFile("t10k-labels-idx1-ubyte.gz")));
        out.kind = "Fashion-MNIST";
    } else if (d.dataset == "idx") {
        Dataset train = loadIdxDataset(d.trainImages, d.trainLabels); // the training files first: errors name them first
        legacy(std::move(train), loadIdxDataset(d.testImages, d.testLabels));
        out.kind = "IDX files";
    } else if (d.dataset == "csv") {
        Dataset train = loadCsvDataset(d.trainCsv, d.csvHeader);
        legacy(std::move(train), loadCsvDataset(d.testCsv, d.csvHeader));
        out.kind = "CSV";
    } else {
        throw Error("data.dataset \"" + d.dataset + "\" is unknown (expected path, fashion-mnist, idx or csv).");
    }
    if (out.splitNote.empty())
        out.splitNote = "\"" + out.test->name + "\"";
    check(out.train->sampleShape() == out.test->sampleShape(),
          "The training samples (" + shapeToString(out.train->sampleShape()) + " in \"" + out.train->name
              + "\") and the test samples (" + shapeToString(out.test->sampleShape()) + " in \"" + out.test->name
              + "\") differ in shape.");
    return out;
}

Graph loadTrainableModelFile(const std::string &path, const Shape &sample, int64_t classes, const std::string &task)
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
    if (task == "classification")
        check(logits[1] >= classes, what + "it has " + std::to_string(logits[1]) + " outputs, but the data has labels up to "
                                         + std::to_string(classes - 1) + ".");
    else
        check(classes == 0 || logits[1] == classes, what + "it has " + std::to_string(logits[1]) + " outputs, but the data has "
                                                        + std::to_string(classes) + (task == "regression" ? " targets" : " labels")
                                                        + " per sample.");
    return model;
}

namespace {

// The zoo model the config names, sized for the samples of `dataName` and its outputs.
Graph buildZooModelFor(const RunConfig &c, const Shape &sample, int64_t outputs, const std::string &dataName)
{
    ModelSpec spec;
    spec.name = c.model;
    if (outputs > 0)
        spec.classes = outputs;
    spec.hidden.assign(c.hidden.begin(), c.hidden.end());
    // Flat rows of 784 values are Fashion-MNIST images for the CNNs (the csv dataset's layout).
    const bool flatImage = c.model != "mlp" && sample.size() == 1 && sample[0] == 28 * 28;
    if (sample.size() == 3) {
        spec.channels = sample[0];
        spec.height = sample[1];
        spec.width = sample[2];
    } else if (flatImage) {
        spec.channels = 1;
        spec.height = 28;
        spec.width = 28;
    } else if (sample.size() == 2 && c.model != "mlp") { // [H,W]: one channel
        spec.channels = 1;
        spec.height = sample[0];
        spec.width = sample[1];
    } else if (c.model != "mlp") {
        throw Error("Model \"" + c.model + "\" takes images [C,H,W], but \"" + dataName + "\" has samples of shape "
                    + shapeToString(sample) + " (for tables and other flat data use mlp).");
    }
    if (c.model == "mlp")
        spec.sample = sample;
    Graph model = buildZooModel(spec, parseInitScheme(c.init), deriveSeed(c.training.seed, kInitStream));
    if (flatImage || (sample.size() == 2 && c.model != "mlp")) { // view the samples as [1,H,W] images
        Shape flat = sample;
        flat.insert(flat.begin(), -1);
        model.inputs[0].name = "flat_input";
        model.inputs[0].shape = flat;
        model.initializers["input.shape"] = Tensor::fromInt64({4}, {-1, 1, spec.height, spec.width});
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
    Graph model = loadTrainableModelFile(c.modelFile, sample, classes, c.task.type);
    model.name = c.model;
    // A model that starts from a checkpoint gives each Identity-shared initializer its own value
    // (folded BatchNorm biases); its runs' checkpoints, exports and resumes see the same graph.
    if (!c.initFrom.empty())
        untieIdentityInitializers(model);
    return model;
}

std::unique_ptr<Trainer> makeTrainer(const RunConfig &c, const TrainingData &data)
{
    validateRunConfig(c);
    setThreadCount(c.training.threads);
    const int64_t outputs = std::max(data.train->classes, data.test->classes);
    Graph model = buildRunModel(c, data.train->sampleShape(), outputs, data.train->name);
    Augmentation augment{c.data.randomCropPadding, c.data.horizontalFlip, deriveSeed(c.training.seed, kAugmentStream)};
    auto trainSource = std::make_unique<DatasetSource>(data.train, c.training.batchSize, c.data.shuffle, c.data.dropLast,
                                                       deriveSeed(c.training.seed, kShuffleStream), data.normalization, augment);
    auto testSource = std::make_unique<DatasetSource>(data.test, c.data.evalBatchSize, false, false, 0, data.normalization, Augmentation{});
    if (c.data.readThreads > 0) {
        trainSource->setReadThreads(c.data.readThreads);
        testSource->setReadThreads(c.data.readThreads);
    }
    // Streamed data is read ahead a few minibatches (decoding overlaps the steps); in memory, one.
    auto train = std::make_unique<PrefetchingSource>(std::move(trainSource), data.train->streamed() ? 4 : 1);
    std::unique_ptr<MinibatchSource> test = std::move(testSource);
    if (data.test->streamed())
        test = std::make_unique<PrefetchingSource>(std::move(test), 2);
    TrainerSettings settings;
    settings.epochs = c.training.epochs;
    settings.seed = c.training.seed;
    settings.baseLr = c.lr;
    settings.schedule = c.schedule;
    settings.device = parseDevice(c.training.device);
    settings.precision = c.training.precision == "bf16" ? blas::Precision::Bf16 : blas::Precision::Fp32;
    settings.task = c.task.type;
    settings.loss = c.task.loss;
    settings.huberDelta = c.task.huberDelta;
    settings.outputs = c.task.type == "classification" ? 0 : outputs;
    settings.labelNames = data.train->hasClassLabels() ? std::vector<std::string>{} : data.train->targetNames;
    settings.classNames = data.train->classNames;
    settings.normalization = data.normalization;
    startDevice(settings.device); // throws, naming why, when the device cannot be used
    return std::make_unique<Trainer>(std::move(model), std::move(train), std::move(test), makeOptimizer(c.optimizer),
                                     settings);
}

} // namespace netwright
