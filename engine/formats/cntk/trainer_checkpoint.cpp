// SPDX-License-Identifier: Apache-2.0
#include "formats/cntk/trainer_checkpoint.h"

#include "core/atomic_file.h"
#include "core/error.h"
#include "formats/cntk/cntk_model.h"
#include "formats/cntk/dictionary.h"
#include "formats/mindspore/ckpt_file.h"
#include "graph/graph.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <map>
#include <unistd.h>

namespace netwright::cntk {

namespace fs = std::filesystem;
using dict::Dictionary;
using dict::Value;

namespace {

constexpr uint64_t kTrainerCheckpointVersion = 1;
constexpr uint64_t kLearnerVersion = 1;

uint64_t crcOf(const std::string &bytes)
{
    return crc32_z(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef *>(bytes.data()), bytes.size());
}

bool isSlot(const std::string &name)
{
    return name.rfind("moments.", 0) == 0 || name.rfind("moment1.", 0) == 0 || name.rfind("moment2.", 0) == 0;
}

// A non-parameter entry: {dtype, shape, values}, readable by anyone with protoc.
Value encodeEntry(const StateEntry &e)
{
    Dictionary d = dict::make();
    if (e.isString) {
        dict::put(d, "dtype", dict::string("str"));
        dict::put(d, "value", dict::string(e.text));
        return dict::dictionary(std::move(d));
    }
    const Tensor &t = e.tensor;
    dict::put(d, "dtype", dict::string(mindspore::mindsporeTypeName(t.dtype())));
    std::vector<uint64_t> dims(t.shape().begin(), t.shape().end());
    dict::put(d, "shape", dict::shape(dims));
    std::vector<Value> values;
    for (int64_t i = 0; i < t.numel(); ++i) {
        switch (t.dtype()) {
        case DType::Float32: values.push_back(dict::real(t.data()[i])); break;
        case DType::Float64: values.push_back(dict::real(t.dataAs<double>()[i])); break;
        case DType::Int32: values.push_back(dict::sizeT(static_cast<uint64_t>(static_cast<int64_t>(t.dataAs<int32_t>()[i])))); break;
        case DType::Int64: values.push_back(dict::sizeT(static_cast<uint64_t>(t.dataAs<int64_t>()[i]))); break;
        case DType::UInt64: values.push_back(dict::sizeT(t.dataAs<uint64_t>()[i])); break;
        default: throw Error("Entry \"" + e.name + "\" (" + dtypeName(t.dtype()) + ") cannot be stored in a CNTK checkpoint.");
        }
    }
    dict::put(d, "values", dict::vector(std::move(values)));
    return dict::dictionary(std::move(d));
}

StateEntry decodeEntry(const std::string &name, const Value &v, const std::string &source)
{
    check(v.value_case() == Value::kDictionaryValue, "\"" + source + "\": state \"" + name + "\" is not a Dictionary.");
    const Dictionary &d = v.dictionary_value();
    const std::string type = dict::getString(d, "dtype", source);
    if (type == "str")
        return StateEntry::ofString(name, dict::getString(d, "value", source));
    const std::map<std::string, DType> types{{"Float32", DType::Float32}, {"Float64", DType::Float64}, {"Int32", DType::Int32},
                                             {"Int64", DType::Int64}, {"UInt64", DType::UInt64}};
    const auto it = types.find(type);
    check(it != types.end(), "\"" + source + "\": state \"" + name + "\" has the unknown dtype \"" + type + "\".");
    const Value *s = dict::find(d, "shape");
    const Value *values = dict::find(d, "values");
    check(s && values && values->value_case() == Value::kVectorValue, "\"" + source + "\": state \"" + name + "\" has no shape or values.");
    Shape shape(s->nd_shape_value().shape_dim().begin(), s->nd_shape_value().shape_dim().end());
    const auto &list = values->vector_value().value();
    for (int64_t d : shape)
        check(d >= 0, "\"" + source + "\": state \"" + name + "\" has a dimension that does not fit.");
    // The declared shape must match the values present before anything is allocated.
    check(shapeNumel(shape) == list.size(), "\"" + source + "\": state \"" + name + "\" has the wrong number of values.");
    Tensor t(shape, it->second);
    for (int64_t i = 0; i < t.numel(); ++i) {
        const Value &x = list[static_cast<int>(i)];
        switch (t.dtype()) {
        case DType::Float32: t.data()[i] = static_cast<float>(x.double_value()); break;
        case DType::Float64: t.dataAs<double>()[i] = x.double_value(); break;
        case DType::Int32: t.dataAs<int32_t>()[i] = static_cast<int32_t>(static_cast<int64_t>(x.size_t_value())); break;
        case DType::Int64: t.dataAs<int64_t>()[i] = static_cast<int64_t>(x.size_t_value()); break;
        default: t.dataAs<uint64_t>()[i] = x.size_t_value(); break;
        }
    }
    return StateEntry::ofTensor(name, std::move(t));
}

// CNTK's Adam keeps m and v in one [rows, 2·cols] matrix: m's columns, then v's.
std::vector<uint64_t> stackedShape(const Shape &param)
{
    const std::vector<uint64_t> s = dict::reversed(param);
    if (s.empty())
        return {1, 2};
    uint64_t cols = 1;
    for (size_t i = 1; i < s.size(); ++i)
        cols *= s[i];
    return {s[0], 2 * cols};
}

void fsyncDirectory(const std::string &dir)
{
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

std::string directoryOf(const std::string &path)
{
    const fs::path p(path);
    return p.has_parent_path() ? p.parent_path().string() : std::string(".");
}

} // namespace

std::string pendingPath(const std::string &modelPath)
{
    std::string name = ".";
    name += fs::path(modelPath).filename().string();
    name += ".ckp.pending";
    return (fs::path(directoryOf(modelPath)) / name).string();
}

void writeTrainerCheckpoint(const std::string &modelPath, const Graph &g, const TrainingState &state,
                            const LearnerCounters &counters)
{
    // The model carries the live parameters; copy the checkpoint's (possibly older) values in.
    Graph snapshot;
    snapshot.name = g.name;
    snapshot.inputs = g.inputs;
    snapshot.outputs = g.outputs;
    snapshot.nodes = g.nodes;
    snapshot.trainable = g.trainable;
    std::map<std::string, const StateEntry *> byName;
    for (const auto &e : state)
        byName[e.name] = &e;
    for (const auto &[name, t] : g.initializers) {
        const auto it = byName.find(name);
        snapshot.initializers[name] = it != byName.end() && !it->second->isString ? it->second->tensor : t;
    }
    const std::string model = encodeTrainingModel(snapshot);

    std::string optimizer;
    for (const auto &e : state)
        if (e.name == "netwright.optimizer")
            optimizer = e.text;
    const bool adam = optimizer == "adam" || optimizer == "adamw";

    Dictionary learner = dict::make();
    dict::put(learner, "version", dict::sizeT(kLearnerVersion));
    dict::put(learner, "type", dict::string("Learner"));
    dict::put(learner, "sample_count", dict::sizeT(counters.samples));
    dict::put(learner, "minibatchCount", dict::sizeT(counters.minibatches));
    dict::put(learner, "sweepCount", dict::sizeT(counters.sweeps));
    Dictionary schedule = dict::make();
    dict::put(schedule, "0", dict::real(counters.learningRate));
    Dictionary lr = dict::make();
    dict::put(lr, "version", dict::sizeT(1));
    dict::put(lr, "type", dict::string("TrainingParameterSchedule"));
    dict::put(lr, "epoch_size", dict::sizeT(0));
    dict::put(lr, "unit", dict::sizeT(1)); // per minibatch
    dict::put(lr, "schedule", dict::dictionary(std::move(schedule)));
    dict::put(learner, "learnig_rate_schedule", dict::dictionary(std::move(lr))); // CNTK's spelling
    dict::put(learner, "noise_injection_seed", dict::sizeT(0));
    dict::put(learner, "master_parameter_updated", dict::boolean(false));
    std::vector<Value> smoothed, slots;
    for (const auto &[name, t] : g.initializers) {
        if (!g.trainable.count(name))
            continue;
        if (adam) {
            Tensor both(Shape{2 * t.numel()}, DType::Float32);
            std::fill_n(both.data(), both.numel(), 0.0f);
            for (int half = 0; half < 2; ++half) {
                const std::string slot = (half ? "moment2." : "moment1.") + name;
                if (const auto it = byName.find(slot); it != byName.end()) {
                    std::copy_n(it->second->tensor.data(), t.numel(), both.data() + half * t.numel());
                    slots.push_back(dict::string(slot));
                }
            }
            smoothed.push_back(dict::array(both, stackedShape(t.shape())));
        } else {
            const auto it = byName.find("moments." + name);
            if (it != byName.end())
                slots.push_back(dict::string(it->first));
            smoothed.push_back(dict::array(it != byName.end() ? it->second->tensor : Tensor::zeros(t.shape()), dict::reversed(t.shape())));
        }
    }
    dict::put(learner, "smoothed_gradients", dict::vector(std::move(smoothed)));

    Dictionary source = dict::make(), ours = dict::make();
    for (const auto &e : state) {
        if (g.initializers.count(e.name) || isSlot(e.name))
            continue;
        dict::put(e.name.rfind("netwright.data.", 0) == 0 ? source : ours, e.name, encodeEntry(e));
    }
    dict::put(ours, "learner_slots", dict::vector(std::move(slots)));
    dict::put(ours, "model_crc32", dict::sizeT(crcOf(model)));
    dict::put(ours, "model_bytes", dict::sizeT(model.size()));
    Dictionary external = dict::make();
    dict::put(external, "TrainingMinibatchSource", dict::dictionary(std::move(source)));
    dict::put(external, "netwright", dict::dictionary(std::move(ours)));

    Dictionary ckp = dict::make();
    dict::put(ckp, "Version", dict::sizeT(kTrainerCheckpointVersion));
    dict::put(ckp, "Learners", dict::vector({dict::dictionary(std::move(learner))}));
    dict::put(ckp, "ExternalState", dict::dictionary(std::move(external)));

    const std::string pending = pendingPath(modelPath);
    writeFileAtomically(pending, dict::serialize(ckp)); // staged durably: the commit record
    try {
        writeFileAtomically(modelPath, model);
    } catch (...) {
        ::unlink(pending.c_str());
        throw;
    }
    const std::string ckpPath = modelPath + ".ckp";
    if (::rename(pending.c_str(), ckpPath.c_str()) != 0)
        throw Error("Cannot write \"" + ckpPath + "\": " + std::strerror(errno) + ".");
    fsyncDirectory(directoryOf(modelPath));
}

bool recoverInterruptedSave(const std::string &modelPath)
{
    const std::string pending = pendingPath(modelPath);
    if (!fs::exists(pending))
        return false;
    bool complete = false;
    try {
        const Dictionary ckp = dict::parse(dict::readFile(pending), pending);
        const Value *external = dict::find(ckp, "ExternalState");
        const Value *ours = external ? dict::find(external->dictionary_value(), "netwright") : nullptr;
        if (ours && fs::exists(modelPath)) {
            const std::string model = dict::readFile(modelPath);
            complete = dict::getSizeT(ours->dictionary_value(), "model_crc32", pending) == crcOf(model)
                       && dict::getSizeT(ours->dictionary_value(), "model_bytes", pending) == model.size();
        }
    } catch (const Error &) {
        complete = false; // an unreadable staging file is not a commit
    }
    if (complete && ::rename(pending.c_str(), (modelPath + ".ckp").c_str()) == 0) {
        fsyncDirectory(directoryOf(modelPath));
        return true;
    }
    ::unlink(pending.c_str());
    return false;
}

TrainingState readTrainerCheckpoint(const std::string &modelPath)
{
    const std::string ckpPath = modelPath + ".ckp";
    const std::string modelBytes = dict::readFile(modelPath);
    const Dictionary ckp = dict::parse(dict::readFile(ckpPath), ckpPath);
    const Value *external = dict::find(ckp, "ExternalState");
    const Value *learners = dict::find(ckp, "Learners");
    check(external && learners && learners->vector_value().value_size() == 1,
          "\"" + ckpPath + "\" is not a Netwright training checkpoint (no ExternalState or not exactly one learner).");
    const Dictionary &ext = external->dictionary_value();
    const Value *ours = dict::find(ext, "netwright");
    const Value *source = dict::find(ext, "TrainingMinibatchSource");
    check(ours && source, "\"" + ckpPath + "\" was not written by Netwright: it has no ExternalState.netwright; "
                          "Netwright resumes only its own runs (inspect shows any CNTK checkpoint).");
    const Dictionary &mine = ours->dictionary_value();
    if (dict::getSizeT(mine, "model_crc32", ckpPath) != crcOf(modelBytes) || dict::getSizeT(mine, "model_bytes", ckpPath) != modelBytes.size())
        throw Error("\"" + ckpPath + "\" and \"" + modelPath + "\" are from different saves (the model's CRC-32 does not match).");

    std::vector<StateEntry> out;
    const Model model = decodeModel(modelBytes, modelPath);
    std::vector<const Variable *> parameters;
    for (const auto &v : model.variables) {
        if ((v.kind == VariableKind::Parameter || v.kind == VariableKind::Constant) && v.value && !v.name.empty())
            out.push_back(StateEntry::ofTensor(v.name, *v.value));
        if (v.kind == VariableKind::Parameter)
            parameters.push_back(&v);
    }
    std::vector<std::string> slots;
    if (const Value *s = dict::find(mine, "learner_slots"))
        for (const auto &x : s->vector_value().value())
            slots.push_back(x.string_value());
    const auto has = [&](const std::string &slot) { return std::find(slots.begin(), slots.end(), slot) != slots.end(); };
    const Dictionary &learner = learners->vector_value().value(0).dictionary_value();
    const Value *smoothed = dict::find(learner, "smoothed_gradients");
    check(smoothed && smoothed->vector_value().value_size() == static_cast<int>(parameters.size()),
          "\"" + ckpPath + "\": the learner has not one smoothed gradient per parameter of \"" + modelPath + "\".");
    for (size_t i = 0; i < parameters.size(); ++i) {
        const Variable &p = *parameters[i];
        const Tensor g = dict::toTensor(smoothed->vector_value().value(static_cast<int>(i)).nd_array_view_value(), ckpPath,
                                        "the smoothed gradient of \"" + p.name + "\"");
        const Shape shape = p.value->shape();
        const int64_t n = p.value->numel();
        if (has("moments." + p.name)) {
            check(g.numel() == n, "\"" + ckpPath + "\": the smoothed gradient of \"" + p.name + "\" has the wrong size.");
            out.push_back(StateEntry::ofTensor("moments." + p.name, g.reshaped(shape).clone()));
        }
        for (int half = 0; half < 2; ++half) {
            const std::string slot = (half ? "moment2." : "moment1.") + p.name;
            if (!has(slot))
                continue;
            check(g.numel() == 2 * n, "\"" + ckpPath + "\": the smoothed gradient of \"" + p.name + "\" has the wrong size.");
            Tensor t(shape, DType::Float32);
            std::copy_n(g.data() + half * n, n, t.data());
            out.push_back(StateEntry::ofTensor(slot, std::move(t)));
        }
    }
    for (const Value *d : {ours, source})
        for (const auto &[key, value] : d->dictionary_value().data())
            if (key != "learner_slots" && key != "model_crc32" && key != "model_bytes")
                out.push_back(decodeEntry(key, value, ckpPath));
    return out;
}

namespace {

std::string scalarText(const Value &v)
{
    switch (v.value_case()) {
    case Value::kBoolValue: return v.bool_value() ? "true" : "false";
    case Value::kIntValue: return std::to_string(v.int_value());
    case Value::kSizeTValue: return std::to_string(v.size_t_value());
    case Value::kFloatValue: {
        char b[32];
        std::snprintf(b, sizeof b, "%.9g", v.float_value());
        return b;
    }
    case Value::kDoubleValue: {
        char b[32];
        std::snprintf(b, sizeof b, "%.17g", v.double_value());
        return b;
    }
    case Value::kStringValue: return "\"" + v.string_value() + "\"";
    case Value::kNdShapeValue: {
        std::string s = "[";
        for (int i = 0; i < v.nd_shape_value().shape_dim_size(); ++i)
        {
            if (i)
                s += ',';
            s += std::to_string(v.nd_shape_value().shape_dim(i));
        }
        return s + "]";
    }
    case Value::kAxisValue: return "axis " + std::to_string(v.axis_value().static_axis_idx()) + " " + v.axis_value().name();
    default: return {};
    }
}

const char *typeName(Value::Type t)
{
    return Value::Type_Name(t).c_str();
}

bool numericKeys(const Dictionary &d)
{
    if (d.data_size() < 4)
        return false;
    for (const auto &[k, v] : d.data())
        if (k.empty() || k.find_first_not_of("0123456789") != std::string::npos
            || (v.value_case() != Value::kDoubleValue && v.value_case() != Value::kFloatValue))
            return false;
    return true;
}

struct Names {
    std::map<std::string, std::string> byUid; // parameter uid → name, from the companion model
    std::vector<std::string> inOrder;         // the names in the learner's parameter order
};

// Recursion follows the Dictionary's nesting, which protobuf's parser already limits (100 levels).
void flatten(const Value &v, const std::string &path, const std::string &source, const Names &names, std::vector<StateItem> &out)
{
    switch (v.value_case()) {
    case Value::kDictionaryValue: {
        const Dictionary &d = v.dictionary_value();
        const Value *type = dict::find(d, "dtype");
        if (type && type->value_case() == Value::kStringValue && d.data_size() <= 3) {
            // one of our state entries: shown as its value
            try {
                const StateEntry e = decodeEntry(path, v, source);
                std::string text;
                if (e.isString)
                    text = "\"" + e.text + "\"";
                else if (e.tensor.dtype() != DType::Float32 && e.tensor.dtype() != DType::Float64 && !e.tensor.shape().empty())
                    text = shapeToString(e.tensor.shape()) + " ";
                if (!e.isString)
                    for (int64_t i = 0; i < e.tensor.numel() && i < 8; ++i)
                        text += (i ? ", " : "") + scalarText(d.data().at("values").vector_value().value(static_cast<int>(i)));
                out.push_back({path, e.isString ? "str" : mindspore::mindsporeTypeName(e.tensor.dtype()), text, std::nullopt});
                return;
            } catch (const Error &) {
                // not ours after all: list it as a Dictionary
            }
        }
        if (numericKeys(d)) { // a schedule: {sample count: value}
            std::vector<std::pair<uint64_t, std::string>> steps;
            for (const auto &[k, x] : d.data())
                steps.emplace_back(std::stoull(k), scalarText(x));
            std::sort(steps.begin(), steps.end());
            std::string text = std::to_string(steps.size()) + " entries: ";
            for (size_t i = 0; i < steps.size() && i < 3; ++i)
                text += (i ? ", " : "") + std::to_string(steps[i].first) + " → " + steps[i].second;
            if (steps.size() > 3)
                text += ", …, " + std::to_string(steps.back().first) + " → " + steps.back().second;
            out.push_back({path, "Dictionary", text, std::nullopt});
            return;
        }
        if (d.data().empty())
            out.push_back({path, "Dictionary", "{}", std::nullopt});
        std::map<std::string, const Value *> sorted;
        for (const auto &[k, x] : d.data())
            sorted[k] = &x;
        for (const auto &[k, x] : sorted) {
            const auto n = names.byUid.find(k);
            flatten(*x, (path.empty() ? "" : path + ".") + k + (n != names.byUid.end() ? " (" + n->second + ")" : ""), source, names, out);
        }
        return;
    }
    case Value::kVectorValue: {
        const auto &items = v.vector_value().value();
        if (items.empty())
            out.push_back({path, "Vector", "[]", std::nullopt});
        const bool perParameter = path.size() >= 18 && path.compare(path.size() - 18, 18, "smoothed_gradients") == 0
                                  && names.inOrder.size() == static_cast<size_t>(items.size());
        for (int i = 0; i < items.size(); ++i)
            flatten(items[i], path + "[" + std::to_string(i) + "]" + (perParameter ? " (" + names.inOrder[static_cast<size_t>(i)] + ")" : ""),
                    source, names, out);
        return;
    }
    case Value::kNdArrayViewValue:
        out.push_back({path, "NDArrayView", {}, dict::toTensor(v.nd_array_view_value(), source, "\"" + path + "\"")});
        return;
    default:
        out.push_back({path, typeName(v.value_type()), scalarText(v), std::nullopt});
    }
}

} // namespace

TrainerCheckpointListing listTrainerCheckpoint(const std::string &ckpPath, const std::string &companionModel)
{
    const std::string bytes = dict::readFile(ckpPath);
    if (bytes.size() >= 6 && isLegacyV1(bytes))
        throw Error("\"" + ckpPath + "\" is a " + legacyV1Kind(bytes) + "; Netwright reads CNTK v2 trainer checkpoints only.");
    const Dictionary ckp = dict::parse(bytes, ckpPath);
    const Value *learners = dict::find(ckp, "Learners");
    if (!learners || learners->value_case() != Value::kVectorValue)
        throw Error("\"" + ckpPath + "\" is not a CNTK trainer checkpoint: it has no \"Learners\" vector"
                    + (dict::find(ckp, "primitive_functions") ? " (it is a model-v2 file)." : "."));
    TrainerCheckpointListing listing;
    listing.version = dict::find(ckp, "Version") ? dict::getSizeT(ckp, "Version", ckpPath) : 0;
    listing.learners = static_cast<size_t>(learners->vector_value().value_size());
    Names names;
    std::string modelPath = companionModel;
    if (modelPath.empty() && ckpPath.size() > 4 && ckpPath.compare(ckpPath.size() - 4, 4, ".ckp") == 0)
        modelPath = ckpPath.substr(0, ckpPath.size() - 4);
    if (!modelPath.empty()) {
        if (fs::is_regular_file(modelPath)) {
            try {
                for (const auto &v : readModel(modelPath).variables)
                    if (v.kind == VariableKind::Parameter) {
                        names.byUid[v.uid] = v.name.empty() ? v.uid : v.name;
                        names.inOrder.push_back(names.byUid[v.uid]);
                    }
                listing.modelFile = modelPath;
            } catch (const Error &) {
                // the listing does not depend on the companion
            }
        }
    }
    std::map<std::string, const Value *> sorted;
    for (const auto &[k, v] : ckp.data())
        sorted[k] = &v;
    for (const auto &[k, v] : sorted)
        flatten(*v, k, ckpPath, names, listing.items);
    return listing;
}

} // namespace netwright::cntk
