// SPDX-License-Identifier: Apache-2.0
#include "train/training_setup.h"

#include "core/error.h"
#include "core/parallel.h"
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

std::unique_ptr<Trainer> makeTrainer(const RunConfig &c, const TrainingData &data)
{
    validateRunConfig(c);
    setThreadCount(c.training.threads);
    const Shape sample = data.train->sampleShape();
    ModelSpec spec;
    spec.name = c.model;
    const int64_t classes = std::max(data.train->classes, data.test->classes);
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
        throw Error("Model \"" + c.model + "\" takes images [C,H,W] (or 784 values), but \"" + data.train->name
                    + "\" has samples of shape " + shapeToString(sample) + ".");
    }
    check(classes <= spec.classes, "\"" + data.train->name + "\" has labels up to " + std::to_string(classes - 1) + ", but model \""
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
    Normalization norm{c.data.scale, c.data.mean, c.data.std};
    auto train = std::make_unique<PrefetchingSource>(std::make_unique<DatasetSource>(
        data.train, c.training.batchSize, c.data.shuffle, c.data.dropLast, deriveSeed(c.training.seed, kShuffleStream), norm));
    auto test = std::make_unique<DatasetSource>(data.test, c.data.evalBatchSize, false, false, 0, norm);
    TrainerSettings settings{c.training.epochs, c.training.seed, c.lr, c.schedule};
    return std::make_unique<Trainer>(std::move(model), std::move(train), std::move(test), makeOptimizer(c.optimizer),
                                     settings);
}

} // namespace netwright
