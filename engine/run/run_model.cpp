// SPDX-License-Identifier: Apache-2.0
#include "run/run_model.h"

#include "checkpoint/checkpoint_manager.h"
#include "checkpoint/training_state.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/file_view.h"
#include "formats/graph_formats.h"
#include "train/training_setup.h"

#include <openssl/evp.h>

#include <cstdio>
#include <filesystem>
#include <cmath>
#include <map>
#include <tuple>

namespace netwright {

namespace fs = std::filesystem;

namespace {

int64_t stepOf(const TrainingState &entries)
{
    for (const auto &e : entries)
        if (e.name == "netwright.train.global_step" && !e.isString && e.tensor.dtype() == DType::Int64 && e.tensor.numel() == 1)
            return e.tensor.dataAs<int64_t>()[0];
    return 0;
}

std::string number(double v)
{
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

std::string shortNumber(double v)
{
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

// How the recorded normalisation reads in an export's metadata; "" when none is recorded.
std::string recordedNormalization(const TrainingState &entries)
{
    const Tensor *scale = nullptr, *mean = nullptr, *sd = nullptr;
    for (const auto &e : entries) {
        if (e.isString || e.tensor.dtype() != DType::Float32)
            continue;
        if (e.name == "netwright.data.feature_scale" && e.tensor.numel() == 1)
            scale = &e.tensor;
        else if (e.name == "netwright.data.feature_mean")
            mean = &e.tensor;
        else if (e.name == "netwright.data.feature_std")
            sd = &e.tensor;
    }
    if (!scale)
        return {};
    auto list = [](const Tensor &t) {
        std::string s;
        for (int64_t i = 0; i < t.numel() && i < 4096; ++i)
            s += (i ? ", " : "") + shortNumber(t.data()[i]);
        return t.numel() == 1 ? s : "[" + s + "]";
    };
    std::string text = "x * " + shortNumber(scale->data()[0]);
    if (mean && sd && mean->numel() == sd->numel() && mean->numel() > 0)
        text = "(" + text + " - " + list(*mean) + ") / " + list(*sd);
    return text;
}

std::optional<run::CheckpointRow> rowOf(const RunDirectory &dir, const std::string &file)
{
    std::optional<run::CheckpointRow> found;
    for (const auto &r : dir.history())
        if (r.file == file && r.status != "deleted")
            found = r;
    return found;
}

} // namespace

RunCheckpoint chooseRunCheckpoint(const std::string &path, const std::string &verb)
{
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        const RunDirectory dir = RunDirectory::open(path);
        const RunConfig config = dir.readConfig();
        auto [monitor, higherIsBetter] = resolveMonitor(config.checkpoint, config.task.type);
        if (monitor == "eval_loss") // the best model by a metric, not by the loss, where the task has one
            std::tie(monitor, higherIsBetter) = resolveMonitor({}, config.task.type);
        const std::string name = monitor.substr(5); // without "eval_"
        std::optional<run::CheckpointRow> best;
        for (const auto &r : dir.history()) {
            const auto v = r.metric(name);
            if (r.status == "kept" && v && std::isfinite(*v)
                && (!best || (higherIsBetter ? *v > *best->metric(name) : *v < *best->metric(name))))
                best = r;
        }
        if (best)
            return {dir, best->file, best};
        const std::string file = findRestoreCheckpoint(dir.readConfig().checkpoint, dir.readConfig().model, dir.path());
        check(!file.empty(), "The run \"" + dir.path() + "\" has no checkpoint to " + verb + " yet.");
        return {dir, file, rowOf(dir, file)};
    }
    requireRegularFile(path);
    const fs::path absolute = fs::absolute(path).lexically_normal();
    const RunDirectory dir(absolute.parent_path().string());
    check(dir.hasConfig(), "\"" + path + "\" is a checkpoint outside a run directory (no config.json beside it): a checkpoint holds "
                               "the weights but not the graph, which comes from the run's config. Give the run directory, or a model file.");
    const std::string file = absolute.filename().string();
    return {dir, file, rowOf(dir, file)};
}

// A model file of a graph format — unless it is a CNTK checkpoint model beside its .ckp in a run.
std::optional<GraphFormat> modelFileFormat(const std::string &path, const mindspore::EncryptionKey &key)
{
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
        return std::nullopt;
    try {
        const auto g = detectGraphFormat(path, nullptr, key);
        if (!g)
            return std::nullopt;
        const fs::path p(path);
        if (g->id == "cntk-model" && fs::exists(path + ".ckp", ec) && RunDirectory(fs::absolute(p).parent_path().string()).hasConfig())
            return std::nullopt; // a CNTK trainer checkpoint's model, in its run
        return g;
    } catch (const Error &) {
        return std::nullopt; // not recognised: the checkpoint path reports it
    }
}

RunModel restoreRunModel(const RunDirectory &dir, const std::string &checkpointFile)
{
    RunModel out;
    out.config = dir.readConfig();
    validateRunConfig(out.config);
    const std::string path = dir.file(checkpointFile);
    const auto entries = readTrainingStateFile(path, {checkpointKey(out.config.checkpoint)});
    std::optional<Shape> sample = recordedSampleShape(entries);
    std::string dataName = "the run's data";
    int64_t classes = recordedOutputs(entries).value_or(0);
    out.task = recordedString(entries, kTaskEntry);
    out.classNames = recordedString(entries, kClassNamesEntry);
    out.normalization = recordedNormalization(entries);
    if (!sample) { // written before the sample shape was recorded: the data tells it
        const TrainingData data = loadTrainingData(out.config);
        sample = data.train->sampleShape();
        classes = std::max(data.train->classes, data.test->classes);
        dataName = data.train->name;
    }
    out.model = buildRunModel(out.config, *sample, classes, dataName);
    std::map<std::string, const Tensor *> byName;
    for (const auto &e : entries)
        if (!e.isString)
            byName[e.name] = &e.tensor;
    // Check every parameter first, then copy: a bad file changes nothing.
    std::vector<std::pair<Tensor *, const Tensor *>> copies;
    for (auto &[name, t] : out.model.initializers) {
        if (t.dtype() != DType::Float32)
            continue; // shape operands, not parameters
        const auto it = byName.find(name);
        check(it != byName.end(), "Cannot restore the model of \"" + dir.path() + "\" from \"" + path + "\": it has no entry \"" + name + "\".");
        check(it->second->dtype() == t.dtype() && it->second->shape() == t.shape(),
              "Cannot restore the model of \"" + dir.path() + "\" from \"" + path + "\": entry \"" + name + "\" is "
                  + dtypeName(it->second->dtype()) + " " + shapeToString(it->second->shape()) + ", the model's is "
                  + dtypeName(t.dtype()) + " " + shapeToString(t.shape()) + ".");
        copies.emplace_back(&t, it->second);
    }
    for (auto &[dst, src] : copies)
        dst->copyFrom(*src);
    out.globalStep = stepOf(entries);
    return out;
}

std::string fileSha256(const std::string &path)
{
    const std::string bytes = readRegularFile(path);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    check(EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr) == 1, "SHA-256 of \"" + path + "\" failed.");
    static const char *hex = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < size; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 15];
    }
    return out;
}

ExportSource loadExportSource(const std::string &argument, const mindspore::EncryptionKey &key)
{
    ExportSource l;
    std::error_code ec;
    if (key.empty() && fs::is_regular_file(argument, ec) && mindspore::encryptedMode(readFilePrefix(argument, 4))
        && !RunDirectory(fs::absolute(argument).parent_path().string()).hasConfig()) // a run's checkpoint: its config names the key
        throw Error(mindspore::keyNeededMessage(FileView::open(argument)->bytes(), argument));
    if (const auto format = modelFileFormat(argument, key)) {
        l.model = importGraphFile(argument, nullptr, key);
        const fs::path p = fs::absolute(argument).lexically_normal();
        l.description = argument + " (" + format->name + ")";
        l.defaultBase = (p.parent_path() / p.stem()).string();
        l.metadata = {{"netwright.version", NETWRIGHT_VERSION},
                      {"netwright.source", p.filename().string()},
                      {"netwright.source_format", format->name},
                      {"netwright.source_sha256", fileSha256(argument)}};
        return l;
    }
    const RunCheckpoint source = chooseRunCheckpoint(argument);
    const std::string checkpoint = source.dir.file(source.file);
    RunModel run = restoreRunModel(source.dir, source.file);
    l.model = std::move(run.model);
    l.description = checkpoint + " (global step " + std::to_string(run.globalStep) + ")";
    const fs::path p = fs::absolute(checkpoint).lexically_normal();
    l.defaultBase = (p.parent_path() / p.stem()).string();
    const DataSettings &d = run.config.data;
    l.metadata = {{"netwright.version", NETWRIGHT_VERSION},
                  {"netwright.source", source.file},
                  {"netwright.source_sha256", fileSha256(checkpoint)},
                  {"netwright.global_step", std::to_string(run.globalStep)},
                  {"netwright.model", run.config.model},
                  {"netwright.input_normalization", !run.normalization.empty() ? run.normalization
                                                                               : "(x * " + shortNumber(d.scale) + " - " + shortNumber(d.mean)
                                                                                     + ") / " + shortNumber(d.std)}};
    l.metadata.emplace_back("netwright.task", run.task.empty() ? run.config.task.type : run.task);
    if (!run.classNames.empty())
        l.metadata.emplace_back("netwright.class_names", run.classNames);
    // The image transforms the run applied before the normalisation, as its config says them.
    std::string transforms;
    if (d.dataset == "path") {
        auto size = [](const std::vector<int> &hw) { return std::to_string(hw[0]) + "x" + std::to_string(hw[1]); };
        if (d.resize.size() == 2)
            transforms += "resize " + size(d.resize);
        if (d.centerCrop.size() == 2)
            transforms += (transforms.empty() ? "" : ", ") + std::string("center_crop ") + size(d.centerCrop);
        if (d.channels)
            transforms += (transforms.empty() ? "" : ", ") + std::string("channels ") + std::to_string(d.channels);
    }
    if (!transforms.empty())
        l.metadata.emplace_back("netwright.input_transforms", transforms);
    if (source.row && source.row->accuracy)
        l.metadata.emplace_back("netwright.eval_accuracy", number(*source.row->accuracy));
    if (source.row && source.row->loss)
        l.metadata.emplace_back("netwright.eval_loss", number(*source.row->loss));
    if (source.row)
        for (const auto &m : source.row->metrics)
            l.metadata.emplace_back("netwright.eval_" + m.name, number(m.value));
    return l;
}

} // namespace netwright
