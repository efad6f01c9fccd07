// SPDX-License-Identifier: Apache-2.0
#include "run/evaluation.h"

#include "autodiff/executor.h"
#include "checkpoint/training_state.h"
#include "core/error.h"
#include "data/data_source.h"
#include "data/minibatch_source.h"
#include "formats/graph_formats.h"
#include "formats/registry.h"
#include "run/run_model.h"
#include "train/training_setup.h"

#include <cctype>
#include <cstdlib>
#include <sstream>

namespace netwright {

namespace {

std::vector<std::string> lines(const std::string &text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        out.push_back(line);
    return out;
}

// The normalisation a checkpoint recorded (feature_scale, and per channel or feature the mean and
// std); nullopt when it records none.
std::optional<FeatureNormalization> recordedFeatureNormalization(const TrainingState &entries, const Shape &sample)
{
    std::optional<FeatureNormalization> n;
    const Tensor *mean = nullptr, *sd = nullptr;
    for (const auto &e : entries) {
        if (e.isString || e.tensor.dtype() != DType::Float32)
            continue;
        if (e.name == "netwright.data.feature_scale" && e.tensor.numel() == 1) {
            n.emplace();
            n->scale = e.tensor.data()[0];
        } else if (e.name == "netwright.data.feature_mean") {
            mean = &e.tensor;
        } else if (e.name == "netwright.data.feature_std") {
            sd = &e.tensor;
        }
    }
    if (!n)
        return n;
    if (mean && sd && mean->numel() == sd->numel() && mean->numel() > 0) {
        n->mean.assign(mean->data(), mean->data() + mean->numel());
        n->std.assign(sd->data(), sd->data() + sd->numel());
        n->inner = sample.size() == 3 && mean->numel() == sample[0] ? sample[1] * sample[2] : 1;
    } else {
        n->mean = {0.0f};
        n->std = {1.0f};
    }
    return n;
}

// "[0.49, 0.48]" or "0.286" as numbers; false when the text is neither.
bool parseNumbers(std::string text, std::vector<float> &out)
{
    out.clear();
    if (!text.empty() && text.front() == '[' && text.back() == ']')
        text = text.substr(1, text.size() - 2);
    std::istringstream in(text);
    for (std::string item; std::getline(in, item, ',');) {
        char *end = nullptr;
        const float v = std::strtof(item.c_str(), &end);
        while (end && std::isspace(static_cast<unsigned char>(*end)))
            ++end;
        if (end == item.c_str() || (end && *end))
            return false;
        out.push_back(v);
    }
    return !out.empty();
}

// The normalisation an export of ours records in netwright.input_normalization: "x * S" or
// "(x * S - M) / D" with M and D numbers or per-channel lists.
std::optional<FeatureNormalization> parseExportedNormalization(const std::string &text, const Shape &sample)
{
    FeatureNormalization n;
    std::vector<float> v;
    if (text.rfind("x * ", 0) == 0) {
        if (!parseNumbers(text.substr(4), v) || v.size() != 1)
            return std::nullopt;
        n.scale = v[0];
        n.mean = {0.0f};
        n.std = {1.0f};
        return n;
    }
    const auto minus = text.find(" - "), over = text.find(") / ");
    if (text.rfind("(x * ", 0) != 0 || minus == std::string::npos || over == std::string::npos || over < minus)
        return std::nullopt;
    if (!parseNumbers(text.substr(5, minus - 5), v) || v.size() != 1)
        return std::nullopt;
    n.scale = v[0];
    if (!parseNumbers(text.substr(minus + 3, over - minus - 3), n.mean) || !parseNumbers(text.substr(over + 4), n.std)
        || n.mean.size() != n.std.size())
        return std::nullopt;
    n.inner = sample.size() == 3 && static_cast<int64_t>(n.mean.size()) == sample[0] ? sample[1] * sample[2] : 1;
    return n;
}

bool fits(const Shape &input, const Shape &sample)
{
    if (input.size() != sample.size() + 1)
        return false;
    for (size_t d = 0; d < sample.size(); ++d)
        if (input[d + 1] >= 0 && input[d + 1] != sample[d])
            return false;
    return true;
}

// What the model needs to be run on a dataset, from a run's checkpoint or a model file.
struct Prepared {
    Graph model;
    std::string what; // names the model in errors: "the model of \"run\" at \"ckpt\"", "\"m.onnx\""
    std::string task = "classification", loss;
    double huberDelta = 1.0;
    std::vector<std::string> names;
    std::optional<FeatureNormalization> normalization; // what the checkpoint or the file records
    std::optional<RunConfig> config;
    std::optional<ImageGeometry> geometry;
};

Prepared prepareRun(const EvaluationRequest &request, Evaluation &ev)
{
    const RunCheckpoint chosen = chooseRunCheckpoint(request.source, "evaluate");
    RunModel run = restoreRunModel(chosen.dir, chosen.file);
    Prepared p;
    ev.checkpoint = chosen.dir.file(chosen.file);
    ev.globalStep = run.globalStep;
    ev.model = run.config.model;
    p.what = "the model of \"" + chosen.dir.path() + "\" at \"" + chosen.file + "\"";
    p.task = run.task.empty() ? run.config.task.type : run.task;
    p.loss = run.config.task.loss;
    p.huberDelta = run.config.task.huberDelta;
    p.names = lines(run.classNames);
    const TrainingState entries = readTrainingStateFile(ev.checkpoint, {checkpointKey(run.config.checkpoint)});
    if (const auto sample = recordedSampleShape(entries))
        p.normalization = recordedFeatureNormalization(entries, *sample);
    p.model = std::move(run.model);
    const DataSettings &d = run.config.data;
    p.geometry = modelFileGeometry(run.config);
    if (!p.geometry)
        p.geometry = ImageGeometry{d.resize, d.centerCrop, d.channels};
    p.config = std::move(run.config);
    return p;
}

Prepared prepareModelFile(const EvaluationRequest &request, const GraphFormat &format, Evaluation &ev)
{
    Prepared p;
    p.what = "\"" + request.source + "\" (" + format.name + ")";
    check(!request.dataPath.empty(), "\"" + request.source + "\" is a model file (" + format.name
                                         + "), which holds no test split: give the data to evaluate it on with --data PATH.");
    p.model = importGraphFile(request.source, nullptr, request.key);
    ev.model = format.name;
    check(p.model.inputs.size() == 1 && p.model.outputs.size() == 1,
          "Cannot evaluate " + p.what + ": it has " + std::to_string(p.model.inputs.size()) + " inputs and "
              + std::to_string(p.model.outputs.size()) + " outputs; evaluation needs one of each (the samples, the outputs).");
    // What an export of ours records: the task, the classes and the input normalisation.
    std::string normalization;
    try {
        for (const auto &[key, value] : describeFile(request.source).properties) {
            if (key == "metadata.netwright.task")
                p.task = value;
            else if (key == "metadata.netwright.class_names")
                p.names = lines(value);
            else if (key == "metadata.netwright.input_normalization")
                normalization = value;
        }
    } catch (const Error &) {
        // no metadata to read: the defaults below
    }
    const Shape &in = p.model.inputs[0].shape;
    Shape sample(in.begin() + (in.empty() ? 0 : 1), in.end());
    if (!normalization.empty())
        p.normalization = parseExportedNormalization(normalization, sample);
    if (in.size() == 4 && in[2] > 0 && in[3] > 0)
        p.geometry = ImageGeometry{{static_cast<int>(in[2]), static_cast<int>(in[3])}, {}, in[1] == 1 || in[1] == 3 ? static_cast<int>(in[1]) : 0};
    else
        p.geometry = ImageGeometry{};
    return p;
}

} // namespace

Evaluation evaluateModel(const EvaluationRequest &request)
{
    Evaluation ev;
    ev.source = request.source;
    const auto format = modelFileFormat(request.source, request.key);
    Prepared p = format ? prepareModelFile(request, *format, ev) : prepareRun(request, ev);
    check(p.task == "classification" || p.task == "regression" || p.task == "multilabel",
          "Cannot evaluate " + p.what + ": its task is " + p.task + "; evaluation reports classifications, regressions and multilabel tasks.");

    // The data: the run's test split exactly as training made it, or the --data source (its own
    // test split where it has one, else every sample) normalised as the checkpoint recorded.
    std::shared_ptr<Dataset> data;
    FeatureNormalization normalization;
    if (request.dataPath.empty()) {
        const TrainingData loaded = loadTrainingData(*p.config);
        data = std::make_shared<Dataset>(*loaded.test);
        normalization = loaded.normalization;
        ev.data = "the run's test split, " + loaded.splitNote;
    } else {
        DataSettings settings = p.config ? p.config->data : DataSettings{};
        settings.dataset = "path";
        settings.path = request.dataPath;
        settings.testPath.clear();
        DataSourceContents contents = readDataSource(request.dataPath, settings, p.geometry.value_or(ImageGeometry{}));
        const bool ownTest = contents.test.has_value();
        data = std::make_shared<Dataset>(ownTest ? std::move(*contents.test) : std::move(contents.train));
        applyTask(*data, p.task, TargetRole::Test);
        ev.data = "\"" + request.dataPath + "\"" + (ownTest ? " (its test split \"" + data->name + "\")" : "");
        if (p.normalization) {
            normalization = *p.normalization;
        } else if (p.config && p.config->data.dataset != "path") {
            normalization = {p.config->data.scale, {p.config->data.mean}, {p.config->data.std}, 1};
        } else {
            normalization = {data->featureType() == DType::UInt8 ? 1.0f / 255.0f : 1.0f, {0.0f}, {1.0f}, 1};
        }
    }
    check(data->size() > 0, "There are no samples to evaluate in " + ev.data + ".");
    const Shape sample = data->sampleShape();
    ValueInfo &input = p.model.inputs[0];
    check(fits(input.shape, sample), "Cannot evaluate " + p.what + " on " + ev.data + ": the model takes samples of shape "
                                         + shapeToString(Shape(input.shape.begin() + (input.shape.empty() ? 0 : 1), input.shape.end()))
                                         + ", but the data has samples of shape " + shapeToString(sample) + ".");
    input.shape[0] = -1; // any batch
    Shape probe = sample;
    probe.insert(probe.begin(), 1);
    Shape outShape;
    try {
        outShape = p.model.inferShapes({{input.name, probe}}).at(p.model.outputs[0].name);
    } catch (const Error &e) {
        throw Error("Cannot evaluate " + p.what + " on " + ev.data + ": " + e.what());
    }
    check(outShape.size() == 2, "Cannot evaluate " + p.what + ": its output is " + shapeToString(outShape) + "; evaluation needs [N, outputs].");
    const int64_t outputs = outShape[1];
    if (p.task == "classification") {
        check(data->hasClassLabels(), "Cannot evaluate " + p.what + " on " + ev.data + ": the data has no class labels.");
        const int64_t *labels = data->labels.dataAs<int64_t>();
        for (int64_t i = 0; i < data->size(); ++i)
            check(labels[i] >= 0 && labels[i] < outputs, "Cannot evaluate " + p.what + " on " + ev.data + ": sample " + std::to_string(i)
                                                             + " has class " + std::to_string(labels[i]) + ", but the model has "
                                                             + std::to_string(outputs) + " outputs (classes 0–" + std::to_string(outputs - 1) + ").");
        if (p.names.size() != static_cast<size_t>(outputs))
            p.names = data->classNames.size() == static_cast<size_t>(outputs) ? data->classNames : std::vector<std::string>{};
        // The Fashion-MNIST package's IDX files carry no names; its classes are Zalando's ten.
        if (p.names.empty() && p.config && p.config->data.dataset == "fashion-mnist" && request.dataPath.empty() && outputs == 10)
            p.names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
    } else {
        check(!data->hasClassLabels() && data->labels.dim(1) == outputs,
              "Cannot evaluate " + p.what + " on " + ev.data + ": the model has " + std::to_string(outputs) + " outputs, but the data has "
                  + (data->hasClassLabels() ? std::string("class labels") : std::to_string(data->labels.dim(1)) + " targets per sample") + ".");
        // Multilabel: the labels as the run named them, else as the data does.
        if (p.task == "regression" || p.names.size() != static_cast<size_t>(outputs))
            p.names = data->targetNames;
    }

    const int64_t batch = request.batchSize > 0 ? request.batchSize : p.config ? p.config->data.evalBatchSize : 256;
    DatasetSource source(data, batch, false, false, 0, normalization, Augmentation{});
    EvaluationAccumulator acc(p.task, p.names, p.loss, p.huberDelta);
    Executor executor(p.model);
    while (auto mb = source.next()) {
        executor.forward({{input.name, mb->features}}, false);
        acc.add(executor.value(p.model.outputs[0].name), mb->labels);
    }
    ev.report = acc.finish();
    ev.samples = std::move(data);
    return ev;
}

} // namespace netwright
