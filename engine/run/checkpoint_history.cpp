// SPDX-License-Identifier: Apache-2.0
#include "run/checkpoint_history.h"

#include "core/error.h"
#include "run/jsonl.h"

#include <filesystem>

namespace netwright::run {

namespace {

constexpr std::pair<HistoryEvent::Kind, const char *> kNames[] = {
    {HistoryEvent::Kind::GraphMeta, "graph_meta"}, {HistoryEvent::Kind::Saved, "saved"},     {HistoryEvent::Kind::Metrics, "metrics"},
    {HistoryEvent::Kind::Linked, "linked"},        {HistoryEvent::Kind::Deleted, "deleted"}, {HistoryEvent::Kind::Failed, "failed"},
};

Json toJson(const HistoryEvent &e)
{
    using K = HistoryEvent::Kind;
    Json j;
    j["event"] = historyEventName(e.kind);
    j["file"] = e.file;
    switch (e.kind) {
    case K::GraphMeta:
        j["global_step"] = e.globalStep;
        break;
    case K::Saved:
        j["reason"] = e.reason;
        if (!e.target.empty())
            j["target"] = e.target;
        if (e.hasEpoch)
            j["epoch"] = e.epoch;
        j["global_step"] = e.globalStep;
        if (e.hasBytes)
            j["bytes"] = e.bytes;
        if (e.time)
            j["time"] = *e.time;
        if (e.evalAccuracy)
            j["eval_accuracy"] = *e.evalAccuracy;
        if (e.evalLoss)
            j["eval_loss"] = *e.evalLoss;
        for (const auto &m : e.evalMetrics)
            j["eval_" + m.name] = m.value;
        break;
    case K::Metrics:
        if (e.evalAccuracy || e.evalMetrics.empty())
            j["eval_accuracy"] = e.evalAccuracy.value_or(0.0);
        j["eval_loss"] = e.evalLoss.value_or(0.0);
        for (const auto &m : e.evalMetrics)
            j["eval_" + m.name] = m.value;
        break;
    case K::Linked:
        j["target"] = e.target;
        j["rule"] = e.rule;
        break;
    case K::Deleted:
        j["rule"] = e.rule;
        if (e.time)
            j["time"] = *e.time;
        break;
    case K::Failed:
        j["reason"] = e.reason;
        j["global_step"] = e.globalStep;
        break;
    }
    return j;
}

std::optional<double> optionalNumber(const JsonlFields &f, const char *key)
{
    // null: a non-finite metric (JSON has no NaN), read back as NaN
    return f.present(key) ? std::optional<double>(f.number(key)) : std::nullopt;
}

} // namespace

const char *historyEventName(HistoryEvent::Kind kind)
{
    for (const auto &[k, name] : kNames)
        if (k == kind)
            return name;
    return "unknown";
}

std::string historyEventLine(const HistoryEvent &event)
{
    return jsonlLine(toJson(event));
}

void appendHistoryEvent(const std::string &path, const HistoryEvent &event)
{
    appendJsonlLine(path, toJson(event));
}

namespace {

HistoryLog toHistory(const JsonlText &parsed, const std::string &path)
{
    HistoryLog log;
    log.exists = true;
    log.tornLine = parsed.tornLine;
    for (const auto &line : parsed.lines) {
        const JsonlFields f(line, path);
        const std::string name = f.text("event");
        HistoryEvent e;
        bool known = false;
        for (const auto &[k, n] : kNames)
            if (name == n) {
                e.kind = k;
                known = true;
            }
        if (!known)
            continue; // an event of a later version
        e.file = f.text("file");
        e.reason = f.textOr("reason", {});
        e.rule = f.textOr("rule", {});
        e.target = f.textOr("target", {});
        e.hasEpoch = f.has("epoch");
        e.epoch = f.integerOr("epoch", 0);
        e.globalStep = f.integerOr("global_step", 0);
        e.hasBytes = f.has("bytes");
        e.bytes = f.integerOr("bytes", 0);
        e.time = optionalNumber(f, "time");
        e.evalAccuracy = optionalNumber(f, "eval_accuracy");
        e.evalLoss = optionalNumber(f, "eval_loss");
        for (const auto &item : line.value.items()) {
            const std::string &key = item.key();
            if (key.rfind("eval_", 0) != 0 || key == "eval_accuracy" || key == "eval_loss")
                continue;
            e.evalMetrics.push_back({key.substr(5), f.number(key.c_str())});
        }
        log.events.push_back(std::move(e));
    }
    return log;
}

} // namespace

HistoryLog parseHistory(const std::string &text, const std::string &path)
{
    return toHistory(parseJsonl(text, path), path);
}

HistoryLog readHistory(const std::string &path)
{
    std::error_code ec;
    if (!std::filesystem::exists(std::filesystem::symlink_status(path, ec)))
        return {};
    return toHistory(readJsonl(path, true), path);
}

std::vector<CheckpointRow> historyRows(const HistoryLog &log, const std::string &directory)
{
    auto onDisk = [&](const std::string &file) {
        std::error_code ec;
        return std::filesystem::exists(std::filesystem::path(directory) / file, ec);
    };
    std::vector<CheckpointRow> rows;
    auto find = [&](const std::string &file) -> CheckpointRow * {
        for (auto it = rows.rbegin(); it != rows.rend(); ++it)
            if (it->file == file)
                return &*it;
        return nullptr;
    };
    for (const auto &e : log.events) {
        switch (e.kind) {
        case HistoryEvent::Kind::Saved: {
            CheckpointRow r;
            r.file = e.file;
            r.reason = e.reason;
            if (e.reason == "fork_point")
                r.forkedFrom = e.target;
            r.epoch = e.epoch;
            r.step = e.globalStep;
            r.bytes = e.bytes;
            r.time = e.time.value_or(0.0);
            r.accuracy = e.evalAccuracy;
            r.loss = e.evalLoss;
            r.metrics = e.evalMetrics;
            if (CheckpointRow *old = find(r.file); old && old->status == "kept")
                old->status = "replaced";
            rows.push_back(std::move(r));
            break;
        }
        case HistoryEvent::Kind::Metrics:
            if (CheckpointRow *r = find(e.file)) {
                r->accuracy = e.evalAccuracy;
                r->loss = e.evalLoss;
                r->metrics = e.evalMetrics;
            }
            break;
        case HistoryEvent::Kind::Deleted:
            if (CheckpointRow *r = find(e.file)) {
                r->status = "deleted";
                r->rule = e.rule;
            }
            break;
        default:
            break;
        }
    }
    for (auto &r : rows)
        if (r.status == "kept" && !onDisk(r.file))
            r.status = "missing";
    return rows;
}

std::optional<double> CheckpointRow::metric(const std::string &name) const
{
    if (name == "accuracy")
        return accuracy;
    if (name == "loss")
        return loss;
    for (const auto &m : metrics)
        if (m.name == name)
            return m.value;
    return std::nullopt;
}

} // namespace netwright::run
