// SPDX-License-Identifier: Apache-2.0
#include "checkpoint/training_state.h"

#include "core/error.h"
#include "core/file_io.h"
#include "formats/cntk/trainer_checkpoint.h"
#include "formats/mindspore/ckpt_file.h"
#include "formats/npy/npz_file.h"
#include "formats/safetensors/safetensors_file.h"
#include "formats/pytorch/pytorch_file.h"
#include "formats/registry.h"
#include "train/trainer.h"

#include <algorithm>
#include <cstring>
#include <map>

namespace netwright {

using CkptEntry = StateEntry;

namespace {

Tensor scalarI64(int64_t v)
{
    Tensor t(Shape{}, DType::Int64);
    t.dataAs<int64_t>()[0] = v;
    return t;
}

Tensor scalarF64(double v)
{
    Tensor t(Shape{}, DType::Float64);
    t.dataAs<double>()[0] = v;
    return t;
}

Tensor rngState(const Rng::State &s)
{
    Tensor t(Shape{4}, DType::UInt64);
    std::memcpy(t.raw(), s.data(), sizeof(uint64_t) * 4);
    return t;
}

class Entries {
public:
    Entries(const std::vector<CkptEntry> &entries, std::string source) : m_source(std::move(source))
    {
        for (const auto &e : entries)
            m_byName[e.name] = &e;
    }
    const Tensor &tensor(const std::string &name, DType type, const Shape &shape) const
    {
        auto it = m_byName.find(name);
        if (it == m_byName.end() || it->second->isString)
            throw Error("Cannot resume from \"" + m_source + "\": it has no entry \"" + name + "\".");
        const Tensor &t = it->second->tensor;
        if (t.dtype() != type || t.shape() != shape)
            throw Error("Cannot resume from \"" + m_source + "\": entry \"" + name + "\" is " + dtypeName(t.dtype()) + " "
                        + shapeToString(t.shape()) + ", expected " + dtypeName(type) + " " + shapeToString(shape) + ".");
        return t;
    }
    bool has(const std::string &name) const { return m_byName.count(name) != 0; }
    // A tensor entry of this dtype and rank whose shape is read from the file (rows vary).
    const Tensor &table(const std::string &name, DType type, int64_t columns) const
    {
        auto it = m_byName.find(name);
        if (it == m_byName.end() || it->second->isString)
            throw Error("Cannot resume from \"" + m_source + "\": it has no entry \"" + name + "\".");
        const Tensor &t = it->second->tensor;
        if (t.dtype() != type || t.rank() != 2 || t.dim(1) != columns)
            throw Error("Cannot resume from \"" + m_source + "\": entry \"" + name + "\" is " + dtypeName(t.dtype()) + " "
                        + shapeToString(t.shape()) + ", expected " + dtypeName(type) + " [ranks," + std::to_string(columns) + "].");
        return t;
    }
    int64_t i64(const std::string &name) const { return tensor(name, DType::Int64, {}).dataAs<int64_t>()[0]; }
    double f64(const std::string &name) const { return tensor(name, DType::Float64, {}).dataAs<double>()[0]; }
    Rng::State rng(const std::string &name) const
    {
        Rng::State s;
        std::memcpy(s.data(), tensor(name, DType::UInt64, {4}).raw(), sizeof(uint64_t) * 4);
        return s;
    }
    std::map<std::string, Tensor> withPrefixes(std::initializer_list<const char *> prefixes) const
    {
        std::map<std::string, Tensor> out;
        for (const auto &[name, e] : m_byName)
            for (const char *p : prefixes)
                if (name.rfind(p, 0) == 0 && !e->isString)
                    out[name] = e->tensor;
        return out;
    }

private:
    std::string m_source;
    std::map<std::string, const CkptEntry *> m_byName;
};

} // namespace

TrainingState captureTrainingState(const Trainer &trainer)
{
    std::vector<CkptEntry> out;
    const Graph &g = trainer.graph();
    for (const auto &[name, t] : g.initializers)
        if (t.dtype() == DType::Float32) // parameters and buffers (not the constant shape operands)
            out.push_back(CkptEntry::ofTensor(name, t.hostCopy())); // host bytes, whatever device trains
    for (const auto &[name, t] : trainer.optimizer().state())
        out.push_back(CkptEntry::ofTensor(name, t));
    const TrainerProgress p = trainer.progress();
    const auto &s = trainer.settings();
    out.push_back(CkptEntry::ofTensor("learning_rate", Tensor::full({}, static_cast<float>(s.baseLr))));
    for (const auto &[name, value] : trainer.optimizer().hyperparameters())
        out.push_back(CkptEntry::ofTensor(name, Tensor::full({}, value)));
    Tensor step(Shape{1}, DType::Int32);
    step.dataAs<int32_t>()[0] = static_cast<int32_t>(p.globalStep);
    out.push_back(CkptEntry::ofTensor("global_step", step));
    out.push_back(CkptEntry::ofTensor("epoch_num", scalarI64(p.data.epoch + (p.data.position > 0 ? 1 : 0))));
    out.push_back(CkptEntry::ofTensor("step_num", scalarI64(p.globalStep)));
    out.push_back(CkptEntry::ofString("netwright.optimizer", trainer.optimizer().name()));
    out.push_back(CkptEntry::ofTensor("netwright.data.epoch", scalarI64(p.data.epoch)));
    out.push_back(CkptEntry::ofTensor("netwright.data.position", scalarI64(p.data.position)));
    out.push_back(CkptEntry::ofTensor("netwright.data.shuffle_rng", rngState(p.data.shuffleRng)));
    // What the model was built for: restoring it (export, evaluation) needs no data then.
    const Shape sample = trainer.sampleShape();
    Tensor sampleShape(Shape{static_cast<int64_t>(sample.size())}, DType::Int64);
    std::copy(sample.begin(), sample.end(), sampleShape.dataAs<int64_t>());
    out.push_back(CkptEntry::ofTensor(kSampleShapeEntry, sampleShape));
    // The task, the outputs and the classes, and how features were normalised (export's metadata).
    out.push_back(CkptEntry::ofString(kTaskEntry, s.task));
    out.push_back(CkptEntry::ofTensor(kOutputsEntry, scalarI64(trainer.outputs())));
    if (!s.classNames.empty()) {
        std::string names;
        for (const auto &n : s.classNames)
            names += (names.empty() ? "" : "\n") + n;
        out.push_back(CkptEntry::ofString(kClassNamesEntry, names));
    }
    out.push_back(CkptEntry::ofTensor("netwright.data.train_samples", scalarI64(trainer.trainSamples())));
    out.push_back(CkptEntry::ofTensor("netwright.data.test_samples", scalarI64(trainer.testSamples())));
    out.push_back(CkptEntry::ofTensor("netwright.data.feature_scale", Tensor::full({}, s.normalization.scale)));
    if (!s.normalization.mean.empty()) {
        const auto k = static_cast<int64_t>(s.normalization.mean.size());
        out.push_back(CkptEntry::ofTensor("netwright.data.feature_mean", Tensor::fromVector({k}, s.normalization.mean)));
        out.push_back(CkptEntry::ofTensor("netwright.data.feature_std", Tensor::fromVector({k}, s.normalization.std)));
    }
    out.push_back(CkptEntry::ofTensor("netwright.rng.dropout", rngState(p.dropout)));
    out.push_back(CkptEntry::ofTensor("netwright.train.global_step", scalarI64(p.globalStep)));
    out.push_back(CkptEntry::ofTensor("netwright.train.epoch_loss_sum", scalarF64(p.epochLossSum)));
    out.push_back(CkptEntry::ofTensor("netwright.train.epoch_correct", scalarI64(p.epochCorrect)));
    out.push_back(CkptEntry::ofTensor("netwright.train.epoch_samples", scalarI64(p.epochSamples)));
    // Data parallel (MindSpore's rank_size/rank_id, CNTK's distributed state): the world size,
    // each rank's data cursor — (epoch, global position, samples that rank has taken this epoch)
    // — and each rank's dropout stream. A one-process run writes one row.
    const int64_t world = p.worldSize;
    out.push_back(CkptEntry::ofTensor("netwright.dist.world_size", scalarI64(world)));
    Tensor cursors(Shape{world, 3}, DType::Int64);
    Tensor streams(Shape{world, 4}, DType::UInt64);
    for (int64_t r = 0; r < world; ++r) {
        int64_t *row = cursors.dataAs<int64_t>() + r * 3;
        row[0] = p.data.epoch;
        row[1] = p.data.position;
        row[2] = shardSamplesBefore(p.data.position, p.batchSize, static_cast<int>(r), static_cast<int>(world));
        const Rng::State &s = static_cast<size_t>(r) < p.rankDropout.size() ? p.rankDropout[static_cast<size_t>(r)] : p.dropout;
        std::memcpy(streams.dataAs<uint64_t>() + r * 4, s.data(), sizeof(uint64_t) * 4);
    }
    out.push_back(CkptEntry::ofTensor("netwright.dist.rank_cursor", cursors));
    out.push_back(CkptEntry::ofTensor("netwright.dist.rank_dropout_rng", streams));
    return out;
}

namespace {

// A resume must see the data the run started with: the same number of training and test samples,
// the same classes and the same normalisation as the checkpoint records (checkpoints written
// before these were recorded are not checked).
void checkSameData(const Trainer &trainer, const TrainingState &entries, const std::string &source)
{
    const TrainerSettings &s = trainer.settings();
    const std::string what = "Cannot resume from \"" + source + "\": the data changed since it was written: ";
    const std::string advice = " Resume with the data the run started with, or start a new run.";
    auto i64 = [&](const char *name) -> std::optional<int64_t> {
        for (const auto &e : entries)
            if (e.name == name && !e.isString && e.tensor.dtype() == DType::Int64 && e.tensor.numel() == 1)
                return e.tensor.dataAs<int64_t>()[0];
        return std::nullopt;
    };
    const std::pair<const char *, int64_t> counts[] = {{"netwright.data.train_samples", trainer.trainSamples()},
                                                       {"netwright.data.test_samples", trainer.testSamples()}};
    for (const auto &[name, now] : counts)
        if (const auto then = i64(name); then && *then != now)
            throw Error(what + "the " + (std::string(name).find("train") != std::string::npos ? "training" : "test") + " split had "
                        + std::to_string(*then) + " samples, it has " + std::to_string(now) + " now." + advice);
    std::string names;
    for (const auto &n : s.classNames)
        names += (names.empty() ? "" : "\n") + n;
    for (const auto &e : entries) {
        if (e.name == kClassNamesEntry && e.isString && e.text != names)
            throw Error(what + "its classes were " + e.text.substr(0, 200) + ", they are " + names.substr(0, 200) + " now." + advice);
        if ((e.name == "netwright.data.feature_mean" || e.name == "netwright.data.feature_std") && !e.isString
            && e.tensor.dtype() == DType::Float32) {
            const auto &now = e.name == "netwright.data.feature_mean" ? s.normalization.mean : s.normalization.std;
            const bool same = static_cast<size_t>(e.tensor.numel()) == now.size()
                              && std::equal(now.begin(), now.end(), e.tensor.data());
            if (!same)
                throw Error(what + "the statistics of its features (" + e.name.substr(15) + ") differ from the ones the run was normalised with."
                            + advice);
        }
    }
}

} // namespace

void restoreTrainingState(Trainer &trainer, const TrainingState &entries, const std::string &source)
{
    const Entries e(entries, source);
    Graph &g = trainer.graph();
    // Check everything before changing anything, so a bad file leaves the trainer as it was.
    std::vector<std::pair<Tensor *, const Tensor *>> copies;
    for (auto &[name, t] : g.initializers)
        if (t.dtype() == DType::Float32)
            copies.emplace_back(&t, &e.tensor(name, t.dtype(), t.shape()));
    for (const auto &entry : entries)
        if (entry.name == "netwright.optimizer" && entry.text != trainer.optimizer().name())
            throw Error("Cannot resume from \"" + source + "\": it was written by the " + entry.text
                        + " optimizer, this run uses " + trainer.optimizer().name() + ".");
    checkSameData(trainer, entries, source);
    TrainerProgress p;
    p.globalStep = e.i64("netwright.train.global_step");
    p.data.epoch = e.i64("netwright.data.epoch");
    p.data.position = e.i64("netwright.data.position");
    p.data.shuffleRng = e.rng("netwright.data.shuffle_rng");
    p.dropout = e.rng("netwright.rng.dropout");
    p.epochLossSum = e.f64("netwright.train.epoch_loss_sum");
    p.epochCorrect = e.i64("netwright.train.epoch_correct");
    p.epochSamples = e.i64("netwright.train.epoch_samples");
    p.rankDropout = {p.dropout};
    if (e.has("netwright.dist.world_size")) { // written since data-parallel training exists
        const int64_t world = e.i64("netwright.dist.world_size");
        const Tensor &cursors = e.table("netwright.dist.rank_cursor", DType::Int64, 3);
        const Tensor &streams = e.table("netwright.dist.rank_dropout_rng", DType::UInt64, 4);
        if (world < 1 || world > 1 << 20 || cursors.dim(0) != world || streams.dim(0) != world)
            throw Error("Cannot resume from \"" + source + "\": it records " + std::to_string(world) + " ranks but "
                        + std::to_string(cursors.dim(0)) + " rank cursors and " + std::to_string(streams.dim(0)) + " dropout streams.");
        // The ranks moved in lockstep: every cursor must sit at the global one, and their shares
        // must add up to it.
        const int64_t batch = trainer.progress().batchSize;
        int64_t taken = 0;
        for (int64_t r = 0; r < world; ++r) {
            const int64_t *row = cursors.dataAs<int64_t>() + r * 3;
            const int64_t expected = shardSamplesBefore(p.data.position, batch, static_cast<int>(r), static_cast<int>(world));
            if (row[0] != p.data.epoch || row[1] != p.data.position || row[2] != expected)
                throw Error("Cannot resume from \"" + source + "\": the data cursor of rank " + std::to_string(r) + " (epoch "
                            + std::to_string(row[0]) + ", position " + std::to_string(row[1]) + ", " + std::to_string(row[2])
                            + " samples) does not match the run's (epoch " + std::to_string(p.data.epoch) + ", position "
                            + std::to_string(p.data.position) + ", " + std::to_string(expected) + " samples for a batch of "
                            + std::to_string(batch) + ").");
            taken += row[2];
        }
        if (taken != p.data.position)
            throw Error("Cannot resume from \"" + source + "\": the ranks' data cursors add up to " + std::to_string(taken)
                        + " samples, the run's cursor is at " + std::to_string(p.data.position) + ".");
        p.worldSize = static_cast<int>(world);
        p.rankDropout.resize(static_cast<size_t>(world));
        for (int64_t r = 0; r < world; ++r)
            std::memcpy(p.rankDropout[static_cast<size_t>(r)].data(), streams.dataAs<uint64_t>() + r * 4, sizeof(uint64_t) * 4);
    }
    const auto slots = e.withPrefixes({"moments.", "moment1.", "moment2.", "beta1_power", "beta2_power"});
    trainer.restoreProgress(p);
    trainer.optimizer().loadState(slots);
    for (auto &[dst, src] : copies)
        dst->copyFrom(*src); // in place: the executor aliases these tensors
}

} // namespace netwright

namespace netwright {

std::optional<Shape> recordedSampleShape(const TrainingState &entries)
{
    for (const auto &e : entries)
        if (e.name == kSampleShapeEntry && !e.isString && e.tensor.dtype() == DType::Int64 && e.tensor.rank() == 1
            && e.tensor.numel() >= 1 && e.tensor.numel() <= 4) {
            // A hostile file cannot make the model huge: every dimension and their product bounded.
            const int64_t *d = e.tensor.dataAs<int64_t>();
            Shape s(d, d + e.tensor.numel());
            int64_t product = 1;
            bool ok = true;
            for (const int64_t v : s) {
                ok = ok && v > 0 && v <= (1 << 16) && product <= (int64_t(1) << 28) / v;
                if (ok)
                    product *= v;
            }
            if (ok)
                return s;
        }
    return std::nullopt;
}

mindspore::EncryptionKey checkpointKey(const CheckpointSettings &settings)
{
    if (settings.encKeyFile.empty()) {
        mindspore::EncryptionKey none;
        if (!settings.encMode.empty())
            none.mode = mindspore::parseEncMode(settings.encMode);
        return none;
    }
    return mindspore::readKeyFile(settings.encKeyFile, settings.encMode);
}

// Also a PyTorch file (torch.save): its tensors and numbers under the dotted names inspect shows
// (formats/pytorch/pytorch_file.h), for load-check and --init-from.
TrainingState readTrainingStateFile(const std::string &path, const TrainingStateReadOptions &options)
{
    const std::string prefix = readFilePrefix(path, 1 << 16, "checkpoint");
    if (mindspore::encryptedMode(prefix))
        return mindspore::readCkpt(path, true, options.key).entries; // CNTK files are never encrypted
    // A NumPy .npz of named arrays (np.savez(f, **state_dict)): a zip whose members are .npy files.
    if (prefix.rfind("PK\x03\x04", 0) == 0)
        if (const auto names = npzArrayNames(path); !names.empty()) {
            TrainingState out;
            for (const auto &name : names)
                out.push_back(StateEntry::ofTensor(name, readNpzArray(path, name)));
            return out;
        }
    const FormatInfo format = detectFormat(prefix, regularFileSize(path, "checkpoint"), path);
    if (format.id == "mindspore-ckpt")
        return mindspore::readCkpt(path).entries;
    if (format.id == "safetensors")
        return safetensors::readSafetensorsState(path);
    if (format.id == "cntk-v2")
        return cntk::readTrainerCheckpoint(path); // names the file when it is a model without its .ckp
    if (format.id == "pytorch")
        return pytorch::pytorchStateEntries(pytorch::readPytorch(path)); // dotted names, as inspect shows them
    throw Error("\"" + path + "\" is a " + format.name + ", not a checkpoint (a MindSpore .ckpt, a safetensors file, a PyTorch file, a CNTK trainer checkpoint or a NumPy .npz of named arrays).");
}

} // namespace netwright

namespace netwright {

std::optional<int64_t> recordedOutputs(const TrainingState &entries)
{
    for (const auto &e : entries)
        if (e.name == kOutputsEntry && !e.isString && e.tensor.dtype() == DType::Int64 && e.tensor.numel() == 1) {
            const int64_t v = e.tensor.dataAs<int64_t>()[0];
            if (v >= 1 && v <= (1 << 20)) // a hostile file cannot make the model huge
                return v;
        }
    return std::nullopt;
}

std::string recordedString(const TrainingState &entries, const std::string &name)
{
    for (const auto &e : entries)
        if (e.name == name && e.isString)
            return e.text;
    return {};
}

} // namespace netwright
