// SPDX-License-Identifier: Apache-2.0
#include "config/run_config.h"

#include "core/device.h"
#include "core/error.h"
#include "core/file_io.h"
#include "run_config.pb.h"
#include "zoo/model_zoo.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

namespace netwright {

extern const char *const kDefaultRunConfigJson; // generated from resources/configs/default.json

namespace {

namespace pb = netwright::config;

constexpr int kMaxThreads = 1024;

pb::RunConfig toProto(const RunConfig &c)
{
    pb::RunConfig p;
    p.set_name(c.name);
    p.mutable_model()->set_name(c.model);
    p.mutable_model()->set_init(c.init);
    p.mutable_model()->set_file(c.modelFile);
    for (int h : c.hidden)
        p.mutable_model()->add_hidden(h);
    if (!c.initFrom.empty()) // only when set: configs without it read as they always did
        p.mutable_model()->set_init_from(c.initFrom);
    if (!c.initFromMap.empty())
        p.mutable_model()->set_init_from_map(c.initFromMap);
    if (c.initFromStrict)
        p.mutable_model()->set_init_from_strict(true);
    auto *d = p.mutable_data();
    d->set_dataset(c.data.dataset);
    d->set_train_images(c.data.trainImages);
    d->set_train_labels(c.data.trainLabels);
    d->set_test_images(c.data.testImages);
    d->set_test_labels(c.data.testLabels);
    d->set_train_csv(c.data.trainCsv);
    d->set_test_csv(c.data.testCsv);
    d->set_csv_header(c.data.csvHeader);
    d->set_shuffle(c.data.shuffle);
    d->set_drop_last(c.data.dropLast);
    d->set_scale(c.data.scale);
    d->set_mean(c.data.mean);
    d->set_std(c.data.std);
    d->set_eval_batch_size(c.data.evalBatchSize);
    d->set_path(c.data.path);
    d->set_test_path(c.data.testPath);
    d->set_test_split(c.data.testSplit);
    d->set_label(c.data.label);
    d->set_targets(c.data.targets);
    for (int v : c.data.resize)
        d->add_resize(v);
    for (int v : c.data.centerCrop)
        d->add_center_crop(v);
    d->set_channels(c.data.channels);
    d->set_normalize(c.data.normalize);
    for (float v : c.data.featureMean)
        d->add_feature_mean(v);
    for (float v : c.data.featureStd)
        d->add_feature_std(v);
    d->set_random_crop_padding(c.data.randomCropPadding);
    d->set_horizontal_flip(c.data.horizontalFlip);
    d->set_stream(c.data.stream);
    d->set_read_threads(c.data.readThreads);
    auto *task = p.mutable_task();
    task->set_type(c.task.type);
    task->set_loss(c.task.loss);
    task->set_huber_delta(c.task.huberDelta);
    auto *o = p.mutable_optimizer();
    o->set_name(c.optimizer.name);
    o->set_lr(c.lr);
    o->set_momentum(c.optimizer.momentum);
    o->set_nesterov(c.optimizer.nesterov);
    o->set_weight_decay(c.optimizer.weightDecay);
    o->set_beta1(c.optimizer.beta1);
    o->set_beta2(c.optimizer.beta2);
    o->set_eps(c.optimizer.eps);
    auto *s = p.mutable_schedule();
    s->set_name(c.schedule.name);
    s->set_step_epochs(c.schedule.stepEpochs);
    s->set_gamma(c.schedule.gamma);
    s->set_min_lr(c.schedule.minLr);
    s->set_warmup_steps(static_cast<int32_t>(c.schedule.warmupSteps));
    auto *t = p.mutable_training();
    t->set_epochs(c.training.epochs);
    t->set_batch_size(c.training.batchSize);
    t->set_seed(c.training.seed);
    t->set_threads(c.training.threads);
    t->set_log_every(c.training.logEvery);
    t->set_device(c.training.device);
    t->set_precision(c.training.precision);
    auto *k = p.mutable_checkpoint();
    const CheckpointSettings &cs = c.checkpoint;
    k->set_enabled(cs.enabled);
    k->set_prefix(cs.prefix);
    k->set_save_checkpoint_steps(cs.saveCheckpointSteps);
    k->set_save_checkpoint_seconds(cs.saveCheckpointSeconds);
    k->set_keep_checkpoint_max(cs.keepCheckpointMax);
    k->set_keep_checkpoint_per_n_minutes(cs.keepCheckpointPerNMinutes);
    k->set_save_every_epoch(cs.saveEveryEpoch);
    k->set_save_at_end(cs.saveAtEnd);
    k->set_monitor(cs.monitor);
    k->set_mode(cs.mode);
    k->set_save_top_k(cs.saveTopK);
    k->set_keep_period(cs.keepPeriod);
    k->set_crc_check(cs.crcCheck);
    for (const auto &a : cs.appendInfo)
        k->add_append_info(a);
    k->set_async_save(cs.asyncSave);
    k->set_exception_save(cs.exceptionSave);
    k->set_restore(cs.restore);
    k->set_format(cs.format);
    k->set_save_last(cs.saveLast);
    if (!cs.encKeyFile.empty())
        k->set_enc_key_file(cs.encKeyFile);
    if (!cs.encMode.empty())
        k->set_enc_mode(cs.encMode);
    k->mutable_cntk()->set_filename(cs.cntk.filename);
    k->mutable_cntk()->set_frequency(cs.cntk.frequency);
    k->mutable_cntk()->set_unit(cs.cntk.unit);
    k->mutable_cntk()->set_preserve_all(cs.cntk.preserveAll);
    p.mutable_logging()->set_tensorboard(c.logging.tensorboard);
    return p;
}

RunConfig fromProto(const pb::RunConfig &p)
{
    RunConfig c;
    c.name = p.name();
    c.model = p.model().name();
    c.init = p.model().init();
    c.modelFile = p.model().file();
    c.hidden.assign(p.model().hidden().begin(), p.model().hidden().end());
    c.initFrom = p.model().init_from();
    c.initFromMap = p.model().init_from_map();
    c.initFromStrict = p.model().init_from_strict();
    const auto &d = p.data();
    c.data.dataset = d.dataset();
    c.data.trainImages = d.train_images();
    c.data.trainLabels = d.train_labels();
    c.data.testImages = d.test_images();
    c.data.testLabels = d.test_labels();
    c.data.trainCsv = d.train_csv();
    c.data.testCsv = d.test_csv();
    c.data.csvHeader = d.csv_header();
    c.data.shuffle = d.shuffle();
    c.data.dropLast = d.drop_last();
    c.data.scale = d.scale();
    c.data.mean = d.mean();
    c.data.std = d.std();
    c.data.evalBatchSize = d.eval_batch_size();
    c.data.path = d.path();
    c.data.testPath = d.test_path();
    c.data.testSplit = d.test_split();
    c.data.label = d.label();
    c.data.targets = d.targets();
    c.data.resize.assign(d.resize().begin(), d.resize().end());
    c.data.centerCrop.assign(d.center_crop().begin(), d.center_crop().end());
    c.data.channels = d.channels();
    c.data.normalize = d.normalize();
    c.data.featureMean.assign(d.feature_mean().begin(), d.feature_mean().end());
    c.data.featureStd.assign(d.feature_std().begin(), d.feature_std().end());
    c.data.randomCropPadding = d.random_crop_padding();
    c.data.horizontalFlip = d.horizontal_flip();
    c.data.stream = d.stream();
    c.data.readThreads = d.read_threads();
    c.task.type = p.task().type();
    c.task.loss = p.task().loss();
    c.task.huberDelta = p.task().huber_delta();
    const auto &o = p.optimizer();
    c.optimizer.name = o.name();
    c.lr = o.lr();
    c.optimizer.momentum = o.momentum();
    c.optimizer.nesterov = o.nesterov();
    c.optimizer.weightDecay = o.weight_decay();
    c.optimizer.beta1 = o.beta1();
    c.optimizer.beta2 = o.beta2();
    c.optimizer.eps = o.eps();
    const auto &s = p.schedule();
    c.schedule.name = s.name();
    c.schedule.stepEpochs = s.step_epochs();
    c.schedule.gamma = s.gamma();
    c.schedule.minLr = s.min_lr();
    c.schedule.warmupSteps = s.warmup_steps();
    const auto &t = p.training();
    c.training.epochs = t.epochs();
    c.training.batchSize = t.batch_size();
    c.training.seed = t.seed();
    c.training.threads = t.threads();
    c.training.logEvery = t.log_every();
    if (t.has_device())
        c.training.device = t.device();
    if (t.has_precision())
        c.training.precision = t.precision();
    const auto &k = p.checkpoint();
    CheckpointSettings &cs = c.checkpoint;
    cs.enabled = k.enabled();
    cs.prefix = k.prefix();
    cs.saveCheckpointSteps = k.save_checkpoint_steps();
    cs.saveCheckpointSeconds = k.save_checkpoint_seconds();
    cs.keepCheckpointMax = k.keep_checkpoint_max();
    cs.keepCheckpointPerNMinutes = k.keep_checkpoint_per_n_minutes();
    cs.saveEveryEpoch = k.save_every_epoch();
    cs.saveAtEnd = k.save_at_end();
    cs.monitor = k.monitor();
    cs.mode = k.mode();
    cs.saveTopK = k.save_top_k();
    cs.keepPeriod = k.keep_period();
    cs.crcCheck = k.crc_check();
    cs.appendInfo.assign(k.append_info().begin(), k.append_info().end());
    cs.asyncSave = k.async_save();
    cs.exceptionSave = k.exception_save();
    cs.restore = k.restore();
    cs.format = k.format();
    cs.saveLast = k.save_last();
    cs.encKeyFile = k.enc_key_file();
    cs.encMode = k.enc_mode();
    cs.cntk.filename = k.cntk().filename();
    cs.cntk.frequency = k.cntk().frequency();
    cs.cntk.unit = k.cntk().unit();
    cs.cntk.preserveAll = k.cntk().preserve_all();
    // A config written before the key existed (an older run's config.json) keeps the default.
    if (p.logging().has_tensorboard())
        c.logging.tensorboard = p.logging().tensorboard();
    return c;
}

// protobuf's messages look like "INVALID_ARGUMENT:(optimizer) lrr: Cannot find field." or
// "(training.batch_size): invalid value "big" for type TYPE_INT32" — turn them into one sentence
// that leads with the dotted key.
std::string explainJsonError(const std::string &raw)
{
    std::string msg = raw.substr(0, raw.find('\n'));
    const std::string prefix = "INVALID_ARGUMENT:";
    if (msg.rfind(prefix, 0) == 0)
        msg = msg.substr(prefix.size());
    std::smatch m;
    std::string key, rest = msg;
    if (std::regex_search(msg, m, std::regex(R"(^\(([^)]*)\)\s*([A-Za-z0-9_]+):\s*(.*)$)"))) {
        key = m[1].str() + "." + m[2].str();
        rest = m[3].str();
    } else if (std::regex_search(msg, m, std::regex(R"(^\(?([A-Za-z0-9_.]+)\)?:\s*(.*)$)"))) {
        key = m[1].str();
        rest = m[2].str();
    }
    if (key.empty())
        return msg;
    if (rest.find("Cannot find field") != std::string::npos)
        return "unknown key \"" + key + "\".";
    static const std::pair<const char *, const char *> kTypes[] = {
        {"TYPE_INT32", "a whole number"}, {"TYPE_UINT64", "a whole number ≥ 0"}, {"TYPE_DOUBLE", "a number"},
        {"TYPE_FLOAT", "a number"},       {"TYPE_BOOL", "true or false"},        {"TYPE_STRING", "a string"}};
    for (const auto &[type, words] : kTypes)
        if (rest.find(type) != std::string::npos)
            return "key \"" + key + "\" must be " + words + " (" + rest.substr(0, rest.find(" for type")) + ").";
    // "(optimizer): invalid value Starting an object on a scalar field for type lr": the field
    // name comes last.
    if (std::regex_search(rest, m, std::regex(R"(Starting an? (object|list) on a scalar field for type ([A-Za-z0-9_]+))")))
        return "key \"" + key + "." + m[2].str() + "\" must be a single value, not " + (m[1] == "object" ? "an object." : "a list.");
    return "key \"" + key + "\": " + rest;
}

// The JSON types protobuf's JSON parser would coerce are refused first, naming the key: a bool
// is true or false (not "yes", "0"), a number is a JSON number (not "Infinity" or "NaN"), a
// string is a string, a list holds values (not lists). Text that is not JSON at all is left to
// protobuf's parser, which says where it breaks.
void checkJsonTypes(const nlohmann::json &value, const google::protobuf::Descriptor &message, const std::string &path)
{
    using FD = google::protobuf::FieldDescriptor;
    if (!value.is_object())
        return; // protobuf reports a non-object where a message belongs
    for (const auto &item : value.items()) {
        // Not a structured binding: the lambdas below capture these (clang 14 cannot capture bindings).
        const std::string key = item.key();
        const nlohmann::json &v = item.value();
        const FD *f = message.FindFieldByName(key);
        for (int i = 0; !f && i < message.field_count(); ++i)
            if (message.field(i)->json_name() == key)
                f = message.field(i);
        if (!f || v.is_null())
            continue; // unknown keys: protobuf names them
        const std::string name = path.empty() ? key : path + "." + key;
        auto fail = [&](const char *expected) {
            throw Error("key \"" + name + "\" must be " + expected + ", got " + v.dump() + ".");
        };
        auto checkOne = [&](const nlohmann::json &x) {
            switch (f->cpp_type()) {
            case FD::CPPTYPE_BOOL:
                if (!x.is_boolean())
                    fail("true or false");
                break;
            case FD::CPPTYPE_INT32:
            case FD::CPPTYPE_INT64:
            case FD::CPPTYPE_UINT32:
            case FD::CPPTYPE_UINT64:
                // protobuf writes 64-bit integers as decimal strings ("1"), as proto3's JSON mapping says
                if (!x.is_number_integer() && !(x.is_number_float() && std::floor(x.get<double>()) == x.get<double>())
                    && !(x.is_string() && !x.get<std::string>().empty()
                         && x.get<std::string>().find_first_not_of("-0123456789") == std::string::npos))
                    fail("a whole number");
                break;
            case FD::CPPTYPE_DOUBLE:
            case FD::CPPTYPE_FLOAT:
                if (!x.is_number() || !std::isfinite(x.get<double>()))
                    fail("a finite number");
                break;
            case FD::CPPTYPE_STRING:
                if (!x.is_string())
                    fail("a string");
                break;
            case FD::CPPTYPE_MESSAGE:
                if (!x.is_object())
                    fail("an object");
                checkJsonTypes(x, *f->message_type(), name);
                break;
            default:
                break;
            }
        };
        if (f->is_repeated()) {
            if (!v.is_array())
                fail("a list");
            for (const auto &x : v) {
                if (x.is_array() || (x.is_object() && f->cpp_type() != FD::CPPTYPE_MESSAGE))
                    fail("a list of single values");
                checkOne(x);
            }
        } else {
            checkOne(v);
        }
    }
}

// Clears in `base` every repeated field that `given` sets, in every sub-message.
void clearListsGiven(const google::protobuf::Message &given, google::protobuf::Message &base)
{
    using FD = google::protobuf::FieldDescriptor;
    const auto *reflection = given.GetReflection();
    std::vector<const FD *> fields;
    reflection->ListFields(given, &fields);
    for (const FD *f : fields) {
        if (f->is_repeated())
            base.GetReflection()->ClearField(&base, f);
        else if (f->cpp_type() == FD::CPPTYPE_MESSAGE)
            clearListsGiven(reflection->GetMessage(given, f), *base.GetReflection()->MutableMessage(&base, f));
    }
}

} // namespace

const std::string &defaultRunConfigJson()
{
    static const std::string json = kDefaultRunConfigJson;
    return json;
}

RunConfig defaultRunConfig()
{
    pb::RunConfig p;
    google::protobuf::util::JsonParseOptions options;
    auto status = google::protobuf::util::JsonStringToMessage(defaultRunConfigJson(), &p, options);
    if (!status.ok())
        throw Error("The embedded default run config is invalid: " + status.ToString());
    return fromProto(p);
}

RunConfig parseRunConfig(const std::string &json, const std::string &source, const RunConfig &base)
{
    pb::RunConfig user;
    const nlohmann::json tree = nlohmann::json::parse(json, nullptr, false);
    if (!tree.is_discarded()) {
        try {
            checkJsonTypes(tree, *pb::RunConfig::descriptor(), "");
        } catch (const Error &e) {
            throw Error("Run config \"" + source + "\": " + e.what());
        }
    }
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    auto status = google::protobuf::util::JsonStringToMessage(json, &user, options);
    if (!status.ok())
        throw Error("Run config \"" + source + "\": " + explainJsonError(status.ToString()));
    pb::RunConfig merged = toProto(base);
    clearListsGiven(user, merged); // a list given replaces the base list (MergeFrom would append)
    merged.MergeFrom(user);
    return fromProto(merged);
}

RunConfig loadRunConfigFile(const std::string &path, const RunConfig &base)
{
    // A run config is small; a larger file is not one (and is refused before it is read).
    RunConfig c = parseRunConfig(readRegularFile(path, "run config", 16u << 20), path, base);
    // model.file is relative to the config file (a run directory's config names its own copy).
    if (!c.modelFile.empty() && c.modelFile != base.modelFile) {
        if (c.model == base.model) // no model.name: the model is called after its file
            c.model = modelNameOfFile(c.modelFile);
        const auto slash = path.find_last_of('/');
        if (c.modelFile.front() != '/' && slash != std::string::npos)
            c.modelFile = path.substr(0, slash + 1) + c.modelFile;
    }
    // So are the data paths it sets and the key file; they are made absolute, so that the run
    // directory's copy of the config (what `resume` reads) still finds the data and the key.
    for (auto [value, old] : {std::pair{&c.data.path, &base.data.path}, {&c.data.testPath, &base.data.testPath},
                              {&c.data.targets, &base.data.targets}, {&c.initFrom, &base.initFrom}, {&c.initFromMap, &base.initFromMap},
                              {&c.checkpoint.encKeyFile, &base.checkpoint.encKeyFile}})
        if (!value->empty() && *value != *old && value->front() != '/')
            *value = std::filesystem::absolute(std::filesystem::path(path).parent_path() / *value).lexically_normal().string();
    return c;
}

std::string modelNameOfFile(const std::string &path)
{
    std::string base = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
    const auto dot = base.find('.');
    if (dot != std::string::npos && dot > 0)
        base.resize(dot);
    return base.empty() ? std::string("model") : base;
}

std::string runConfigToJson(const RunConfig &config)
{
    std::string out;
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = true;
    options.always_print_primitive_fields = true;
    options.preserve_proto_field_names = true;
    auto status = google::protobuf::util::MessageToJsonString(toProto(config), &out, options);
    if (!status.ok())
        throw Error("Cannot write the run config as JSON: " + status.ToString());
    return out;
}

std::vector<std::string> taskMetricNames(const std::string &task)
{
    if (task == "regression")
        return {"r2", "rmse", "mae"};
    if (task == "multilabel")
        return {"f1", "precision", "recall"};
    return {"accuracy", "top5"};
}

std::pair<std::string, bool> resolveMonitor(const CheckpointSettings &k, const std::string &task)
{
    std::string monitor = k.monitor;
    if (monitor == "auto")
        monitor = "eval_" + taskMetricNames(task).front();
    bool higherIsBetter = true;
    if (k.mode == "auto")
        higherIsBetter = !(monitor == "eval_loss" || monitor == "eval_rmse" || monitor == "eval_mae");
    else
        higherIsBetter = k.mode == "max";
    return {monitor, higherIsBetter};
}

void validateRunConfig(const RunConfig &c)
{
    bool known = !c.modelFile.empty(); // a model file needs no zoo name
    for (const auto &n : zooModelNames())
        known = known || n == c.model;
    if (!known) {
        std::string names;
        for (const auto &n : zooModelNames())
            names += (names.empty() ? "" : ", ") + n;
        throw Error("model.name \"" + c.model + "\" is not a zoo model (" + names + ").");
    }
    parseInitScheme(c.init);
    const DataSettings &d = c.data;
    check(d.dataset == "path" || d.dataset == "fashion-mnist" || d.dataset == "idx" || d.dataset == "csv",
          "data.dataset \"" + d.dataset + "\" is unknown (expected path, fashion-mnist, idx or csv).");
    if (d.dataset == "path") {
        check(!d.path.empty(), "data.dataset \"path\" needs data.path (the data file or folder; --data PATH).");
        check(std::isfinite(d.testSplit) && d.testSplit >= 0.0f && d.testSplit < 1.0f,
              "data.test_split must be a fraction in [0, 1), got " + std::to_string(d.testSplit) + ".");
        check(d.testSplit == 0.0f || d.testPath.empty(),
              "data.test_split and data.test_path both choose the test split; set one of them.");
    }
    for (auto [list, key] : {std::pair{&d.resize, "data.resize"}, {&d.centerCrop, "data.center_crop"}}) {
        check(list->empty() || list->size() == 2, std::string(key) + " must be [height, width] or [], got "
                                                       + std::to_string(list->size()) + " values.");
        for (int v : *list)
            check(v > 0 && v <= 8192, std::string(key) + " sizes must be in 1…8192, got " + std::to_string(v) + ".");
    }
    check(d.channels == 0 || d.channels == 1 || d.channels == 3,
          "data.channels must be 0 (as stored), 1 (grayscale) or 3 (RGB), got " + std::to_string(d.channels) + ".");
    check(d.normalize == "auto" || d.normalize == "none" || d.normalize == "standardize" || d.normalize == "given",
          "data.normalize \"" + d.normalize + "\" is unknown (expected auto, none, standardize or given).");
    check(d.featureMean.size() == d.featureStd.size(), "data.feature_mean has " + std::to_string(d.featureMean.size())
                                                           + " values but data.feature_std has " + std::to_string(d.featureStd.size()) + ".");
    check(d.normalize != "given" || !d.featureMean.empty(),
          "data.normalize \"given\" needs data.feature_mean and data.feature_std (one value per channel or feature).");
    for (float v : d.featureStd)
        check(std::isfinite(v) && v > 0.0f, "data.feature_std values must be positive.");
    for (float v : d.featureMean)
        check(std::isfinite(v), "data.feature_mean values must be finite.");
    check(d.stream == "auto" || d.stream == "on" || d.stream == "off",
          "data.stream \"" + d.stream + "\" is unknown (expected auto, on or off).");
    check(d.readThreads >= 0 && d.readThreads <= 1024, "data.read_threads must be in 0…1024, got " + std::to_string(d.readThreads) + ".");
    check(d.randomCropPadding >= 0 && d.randomCropPadding <= 256,
          "data.random_crop_padding must be in 0…256, got " + std::to_string(d.randomCropPadding) + ".");
    const TaskSettings &task = c.task;
    check(task.type == "classification" || task.type == "regression" || task.type == "multilabel",
          "task.type \"" + task.type + "\" is unknown (expected classification, regression or multilabel).");
    if (task.type == "classification")
        check(task.loss.empty() || task.loss == "cross-entropy",
              "task.loss \"" + task.loss + "\" does not fit a classification (its loss is cross-entropy).");
    if (task.type == "multilabel")
        check(task.loss.empty() || task.loss == "bce",
              "task.loss \"" + task.loss + "\" does not fit a multilabel task (its loss is bce, sigmoid binary cross-entropy).");
    if (task.type == "regression")
        check(task.loss.empty() || task.loss == "mse" || task.loss == "l1" || task.loss == "huber",
              "task.loss \"" + task.loss + "\" is unknown for regression (expected mse, l1 or huber).");
    check(std::isfinite(task.huberDelta) && task.huberDelta > 0.0f, "task.huber_delta must be positive.");
    check(!c.hidden.empty() || c.model != "mlp" || !c.modelFile.empty(), "model.hidden must list at least one layer size for mlp.");
    for (int h : c.hidden)
        check(h > 0 && h <= 65536, "model.hidden sizes must be in 1…65536, got " + std::to_string(h) + ".");
    check(c.initFrom.empty() ? c.initFromMap.empty() && !c.initFromStrict : true,
          "model.init_from_map and model.init_from_strict need model.init_from (the checkpoint to start from).");
    if (c.data.dataset == "idx")
        check(!c.data.trainImages.empty() && !c.data.trainLabels.empty() && !c.data.testImages.empty()
                  && !c.data.testLabels.empty(),
              "data.dataset \"idx\" needs data.train_images, data.train_labels, data.test_images and data.test_labels.");
    if (c.data.dataset == "csv")
        check(!c.data.trainCsv.empty() && !c.data.testCsv.empty(), "data.dataset \"csv\" needs data.train_csv and data.test_csv.");
    // A name is a name: runs/<name>-<time> must stay inside runs/.
    check(!c.name.empty(), "name must not be empty.");
    check(c.name.find('/') == std::string::npos && c.name.find('\\') == std::string::npos && c.name != "." && c.name != "..",
          "name \"" + c.name + "\" is a path; a run's name is a plain name (no '/'), its directory is chosen with --out.");
    check(std::none_of(c.name.begin(), c.name.end(), [](char ch) { return static_cast<unsigned char>(ch) < 0x20; }),
          "name must not contain control characters.");
    for (auto [v, key] : {std::pair{c.data.scale, "data.scale"}, {c.data.mean, "data.mean"}, {c.data.std, "data.std"}})
        check(std::isfinite(v), std::string(key) + " must be a finite number.");
    check(c.data.std > 0.0f, "data.std must be positive.");
    check(c.data.evalBatchSize > 0, "data.eval_batch_size must be positive.");
    check(c.training.epochs > 0, "training.epochs must be positive, got " + std::to_string(c.training.epochs) + ".");
    check(c.training.batchSize > 0, "training.batch_size must be positive, got " + std::to_string(c.training.batchSize) + ".");
    check(c.training.threads >= 0, "training.threads must be 0 (every core) or more.");
    check(c.training.threads <= kMaxThreads, "training.threads must be at most " + std::to_string(kMaxThreads) + ", got "
                                                 + std::to_string(c.training.threads) + ".");
    check(c.training.logEvery > 0, "training.log_every must be positive.");
    try {
        parseDevice(c.training.device);
    } catch (const Error &e) {
        throw Error(std::string("training.device: ") + e.what());
    }
    check(c.training.precision == "fp32" || c.training.precision == "bf16",
          "training.precision must be fp32 or bf16, got \"" + c.training.precision + "\".");
    check(c.training.precision == "fp32" || parseDevice(c.training.device).type == DeviceType::Cpu,
          "training.precision bf16 runs on the CPU; training.device is " + c.training.device + ".");
    check(std::isfinite(c.lr), "optimizer.lr must be a finite number.");
    check(c.lr > 0.0, "optimizer.lr must be positive.");
    makeOptimizer(c.optimizer);
    LrSchedule(c.schedule, c.lr, 1, 1);
    const CheckpointSettings &k = c.checkpoint;
    check(k.prefix.find('/') == std::string::npos, "checkpoint.prefix must not contain '/'.");
    for (auto [v, name] : {std::pair{k.saveCheckpointSteps, "save_checkpoint_steps"}, {k.saveCheckpointSeconds, "save_checkpoint_seconds"},
                           {k.keepCheckpointMax, "keep_checkpoint_max"}, {k.keepCheckpointPerNMinutes, "keep_checkpoint_per_n_minutes"},
                           {k.saveTopK, "save_top_k"}, {k.keepPeriod, "keep_period"}})
        check(v >= 0, std::string("checkpoint.") + name + " must be 0 or more, got " + std::to_string(v) + ".");
    {
        const auto names = taskMetricNames(c.task.type);
        bool knownMonitor = k.monitor == "auto" || k.monitor == "eval_loss";
        std::string list = "auto, eval_loss";
        for (const auto &m : names) {
            knownMonitor = knownMonitor || k.monitor == "eval_" + m;
            list += ", eval_" + m;
        }
        check(knownMonitor, "checkpoint.monitor \"" + k.monitor + "\" is unknown for a " + c.task.type + " task (expected " + list + ").");
    }
    check(k.mode == "auto" || k.mode == "max" || k.mode == "min",
          "checkpoint.mode \"" + k.mode + "\" is unknown (expected auto, max or min).");
    for (const auto &a : k.appendInfo)
        check(a == "epoch_num" || a == "step_num",
              "checkpoint.append_info \"" + a + "\" is unknown (MindSpore accepts epoch_num and step_num).");
    check(k.format == "mindspore" || k.format == "safetensors" || k.format == "cntk",
          "checkpoint.format \"" + k.format + "\" is unknown (expected mindspore, safetensors or cntk).");
    check(k.cntk.filename.find('/') == std::string::npos, "checkpoint.cntk.filename must not contain '/'.");
    check(k.cntk.frequency >= 0, "checkpoint.cntk.frequency must be 0 or more, got " + std::to_string(k.cntk.frequency) + ".");
    check(k.cntk.unit == "samples" || k.cntk.unit == "minibatches" || k.cntk.unit == "sweeps",
          "checkpoint.cntk.unit \"" + k.cntk.unit + "\" is unknown (expected samples, minibatches or sweeps).");
    if (k.enabled && k.format == "cntk")
        check(c.task.type == "classification", "checkpoint.format \"cntk\" writes CNTK's CrossEntropyWithSoftmax training function: "
                                               "it holds classification runs only; use format \"mindspore\" for a " + c.task.type + " task.");
    if (k.enabled && k.format == "cntk")
        check(k.saveCheckpointSteps == 0 && k.saveCheckpointSeconds == 0,
              "checkpoint: save_checkpoint_steps and save_checkpoint_seconds are MindSpore triggers; with format \"cntk\" "
              "set checkpoint.cntk.frequency and checkpoint.cntk.unit instead.");
    check(k.encMode.empty() || k.encMode == "AES-GCM" || k.encMode == "AES-CBC" || k.encMode == "SM4-CBC",
          "checkpoint.enc_mode \"" + k.encMode + "\" is unknown (MindSpore's modes are AES-GCM, AES-CBC and SM4-CBC).");
    if (!k.encKeyFile.empty()) {
        check(k.format == "mindspore", "checkpoint.enc_key_file encrypts MindSpore .ckpt files; CNTK checkpoints (format \"cntk\") "
                                       "are never encrypted.");
        check(!k.crcCheck, "checkpoint: enc_key_file and crc_check exclude each other (as in MindSpore's CheckpointConfig); "
                           "an encrypted checkpoint is checked by its AES-GCM tags.");
    }
    if (k.enabled && (k.format == "mindspore" || k.format == "safetensors"))
        check(k.saveCheckpointSteps || k.saveCheckpointSeconds || k.saveEveryEpoch || k.saveAtEnd,
              "checkpoint: nothing would ever be saved (set save_every_epoch, save_at_end, save_checkpoint_steps or "
              "save_checkpoint_seconds, or enabled: false).");
}

} // namespace netwright
