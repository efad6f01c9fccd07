// SPDX-License-Identifier: Apache-2.0
#include "run/metrics_log.h"

#include "core/atomic_file.h"
#include "core/error.h"
#include "run/jsonl.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace netwright {

using run::Json;
using Type = MetricsRecord::Type;

namespace {

constexpr std::pair<Type, const char *> kTypes[] = {{Type::Step, "step"}, {Type::Epoch, "epoch"}, {Type::Eval, "eval"}, {Type::End, "end"}};

Json toJson(const MetricsRecord &r)
{
    Json j;
    switch (r.type) {
    case Type::Step:
        j["type"] = "step";
        j["epoch"] = r.epoch;
        j["step"] = r.step;
        j["global_step"] = r.globalStep;
        j["batch_size"] = r.batchSize;
        j["loss"] = r.loss;
        if (r.hasAccuracy)
            j["accuracy"] = r.accuracy;
        for (const auto &m : r.metrics)
            j[m.name] = m.value;
        j["lr"] = r.lr;
        break;
    case Type::Epoch:
        j["type"] = "epoch";
        j["epoch"] = r.epoch;
        j["global_step"] = r.globalStep;
        j["samples"] = r.samples;
        j["train_loss"] = r.trainLoss;
        if (r.hasAccuracy)
            j["train_accuracy"] = r.trainAccuracy;
        break;
    case Type::Eval:
        j["type"] = "eval";
        j["epoch"] = r.epoch;
        j["global_step"] = r.globalStep;
        j["split"] = "test";
        j["samples"] = r.samples;
        if (r.hasAccuracy)
            j["correct"] = r.correct;
        j["loss"] = r.loss;
        if (r.hasAccuracy)
            j["accuracy"] = r.accuracy;
        for (const auto &m : r.metrics)
            j[m.name] = m.value;
        break;
    case Type::End:
        j["type"] = "end";
        j["global_step"] = r.globalStep;
        j["epochs_done"] = r.epochsDone;
        j["stopped"] = r.stopped;
        break;
    }
    return j;
}

} // namespace

std::string metricsRecordLine(const MetricsRecord &record)
{
    return run::jsonlLine(toJson(record));
}

MetricsLogContents readMetricsLog(const std::string &path)
{
    MetricsLogContents out;
    std::error_code ec;
    if (!std::filesystem::exists(std::filesystem::symlink_status(path, ec)))
        return out;
    out.exists = true;
    const run::JsonlText text = run::readJsonl(path, true);
    out.tornLine = text.tornLine;
    for (const auto &line : text.lines) {
        const run::JsonlFields f(line, path);
        const std::string type = f.text("type");
        MetricsRecord r;
        bool known = false;
        for (const auto &[t, name] : kTypes)
            if (type == name) {
                r.type = t;
                known = true;
            }
        if (!known)
            f.fail("type", "is \"" + type + "\", not step, epoch, eval or end");
        r.globalStep = f.integer("global_step");
        // The task's figures: every numeric key the record type does not define itself.
        auto readMetrics = [&](std::initializer_list<const char *> own) {
            for (const auto &item : line.value.items()) {
                const std::string &key = item.key();
                if (std::any_of(own.begin(), own.end(), [&](const char *k) { return key == k; }))
                    continue;
                r.metrics.push_back({key, f.number(key.c_str())});
            }
        };
        switch (r.type) {
        case Type::Step:
            r.epoch = f.integer("epoch");
            r.step = f.integer("step");
            r.batchSize = f.integer("batch_size");
            r.loss = f.number("loss");
            r.hasAccuracy = f.present("accuracy");
            r.accuracy = r.hasAccuracy ? f.number("accuracy") : 0.0;
            r.lr = f.number("lr");
            readMetrics({"type", "epoch", "step", "global_step", "batch_size", "loss", "accuracy", "lr"});
            break;
        case Type::Epoch:
            r.epoch = f.integer("epoch");
            r.samples = f.integer("samples");
            r.trainLoss = f.number("train_loss");
            r.hasAccuracy = f.present("train_accuracy");
            r.trainAccuracy = r.hasAccuracy ? f.number("train_accuracy") : 0.0;
            break;
        case Type::Eval:
            r.epoch = f.integer("epoch");
            r.samples = f.integer("samples");
            r.hasAccuracy = f.present("accuracy");
            r.correct = r.hasAccuracy ? f.integer("correct") : 0;
            r.loss = f.number("loss");
            r.accuracy = r.hasAccuracy ? f.number("accuracy") : 0.0;
            readMetrics({"type", "epoch", "global_step", "split", "samples", "correct", "loss", "accuracy"});
            break;
        case Type::End:
            r.epochsDone = f.integer("epochs_done");
            r.stopped = f.boolean("stopped");
            break;
        }
        out.records.push_back(r);
    }
    return out;
}

MetricsLog::MetricsLog(const std::string &path, bool append) : m_path(path), m_file(std::fopen(path.c_str(), append ? "ab" : "wb"))
{
    if (!m_file)
        throw Error("Cannot create the metrics log \"" + path + "\": " + std::strerror(errno) + ".");
}

MetricsLog::~MetricsLog()
{
    if (m_file)
        std::fclose(m_file);
}

void MetricsLog::write(const MetricsRecord &record)
{
    const std::string line = metricsRecordLine(record);
    if (std::fwrite(line.data(), 1, line.size(), m_file) != line.size() || std::fflush(m_file) != 0)
        throw Error("Cannot write the metrics log \"" + m_path + "\": " + std::strerror(errno) + ".");
    if (m_sink)
        m_sink(record);
}

void MetricsLog::truncateAfter(const std::string &path, int64_t globalStep, bool afterEpochEnd)
{
    const MetricsLogContents log = readMetricsLog(path);
    if (!log.exists)
        throw Error("Cannot read the metrics log \"" + path + "\": it does not exist.");
    std::string kept;
    for (const auto &r : log.records) {
        if (r.type == Type::End)
            continue;
        if (r.globalStep < globalStep || (r.globalStep == globalStep && (r.type == Type::Step || afterEpochEnd)))
            kept += metricsRecordLine(r);
    }
    writeFileAtomically(path, kept);
}

void MetricsLog::onStep(const StepInfo &s)
{
    MetricsRecord r;
    r.type = Type::Step;
    r.epoch = s.epoch;
    r.step = s.step;
    r.globalStep = s.globalStep;
    r.batchSize = s.batchSize;
    r.loss = s.loss;
    r.accuracy = s.accuracy;
    r.hasAccuracy = s.metric.name.empty() || s.metric.name == "accuracy";
    if (!r.hasAccuracy)
        r.metrics.push_back(s.metric);
    r.lr = s.lr;
    write(r);
}

void MetricsLog::onEpochEnd(const EpochInfo &e)
{
    MetricsRecord r;
    r.type = Type::Epoch;
    r.epoch = e.epoch;
    r.globalStep = e.globalStep;
    r.samples = e.samples;
    r.trainLoss = e.trainLoss;
    r.trainAccuracy = e.trainAccuracy;
    r.hasAccuracy = e.hasAccuracy;
    write(r);
}

void MetricsLog::onEvaluation(const EvalInfo &e)
{
    MetricsRecord r;
    r.type = Type::Eval;
    r.epoch = e.epoch;
    r.globalStep = e.globalStep;
    r.samples = e.samples;
    r.correct = e.correct;
    r.loss = e.loss;
    r.accuracy = e.accuracy;
    r.hasAccuracy = e.metrics.empty() || e.metrics.front().name == "accuracy";
    for (const auto &m : e.metrics)
        if (m.name != "accuracy")
            r.metrics.push_back(m);
    write(r);
}

void MetricsLog::onTrainEnd(const TrainEndInfo &e)
{
    MetricsRecord r;
    r.type = Type::End;
    r.globalStep = e.globalStep;
    r.epochsDone = e.epochsDone;
    r.stopped = e.stopped;
    write(r);
}

} // namespace netwright
