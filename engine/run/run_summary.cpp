// SPDX-License-Identifier: Apache-2.0
#include "run/run_summary.h"

#include "core/error.h"
#include "run/run_directory.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>
#include <system_error>

namespace netwright::run {

namespace {

void note(RunSummary &s, const std::string &metric, double value)
{
    if (std::find(s.metricNames.begin(), s.metricNames.end(), metric) == s.metricNames.end())
        s.metricNames.push_back(metric);
    s.final[metric] = value;
    if (!std::isfinite(value))
        return;
    const auto it = s.best.find(metric);
    if (it == s.best.end() || (higherIsBetter(metric) ? value > it->second : value < it->second))
        s.best[metric] = value;
}

// A file's modification time in seconds since the Unix epoch; nullopt when it is not there.
std::optional<double> modified(const std::string &path)
{
    std::error_code ec;
    const auto t = std::filesystem::last_write_time(path, ec);
    if (ec)
        return std::nullopt;
    const auto sys = std::chrono::file_clock::to_sys(t);
    return std::chrono::duration<double>(sys.time_since_epoch()).count();
}

void flatten(const nlohmann::json &o, const std::string &prefix, FlatConfig &out)
{
    for (auto it = o.begin(); it != o.end(); ++it) {
        const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
        if (it->is_object())
            flatten(*it, key, out);
        else
            out[key] = it->dump();
    }
}

std::optional<double> lookup(const std::map<std::string, double> &m, const std::string &k)
{
    const auto it = m.find(k);
    return it == m.end() ? std::nullopt : std::optional<double>(it->second);
}

} // namespace

bool higherIsBetter(const std::string &metric)
{
    return !(metric == "loss" || metric == "rmse" || metric == "mae");
}

std::optional<double> RunSummary::bestMain() const
{
    return lookup(best, mainMetric());
}

std::optional<double> RunSummary::bestOf(const std::string &metric) const
{
    return lookup(best, metric);
}

std::optional<double> RunSummary::finalOf(const std::string &metric) const
{
    return lookup(final, metric);
}

RunSummary summarizeRun(const std::string &path)
{
    RunSummary s;
    s.dir = path;
    s.name = std::filesystem::path(path).lexically_normal().filename().string();
    if (s.name.empty()) // "runs/a/"
        s.name = std::filesystem::path(path).lexically_normal().parent_path().filename().string();
    const RunDirectory dir(path);
    if (dir.hasConfig()) {
        try {
            s.config = dir.readConfig();
            s.hasConfig = true;
            s.task = s.config.task.type;
            s.epochs = s.config.training.epochs;
        } catch (const Error &) {
            // the trainer reports what is wrong with it
        }
    }
    for (const auto &m : dir.metrics().records) {
        if (m.type == MetricsRecord::Type::Eval) {
            if (m.hasAccuracy)
                note(s, "accuracy", m.accuracy);
            for (const auto &x : m.metrics)
                note(s, x.name, x.value);
            note(s, "loss", m.loss);
            s.epochsDone = std::max(s.epochsDone, m.epoch);
        } else if (m.type == MetricsRecord::Type::End) {
            s.finished = !m.stopped;
        } else if (m.type == MetricsRecord::Type::Step) {
            s.finished = false; // steps after an end: a resumed run still going
        }
    }
    // The task's metrics first, in its own order; loss last.
    std::vector<std::string> ordered;
    for (const auto &n : taskMetricNames(s.task))
        if (std::count(s.metricNames.begin(), s.metricNames.end(), n))
            ordered.push_back(n);
    for (const auto &n : s.metricNames)
        if (n != "loss" && !std::count(ordered.begin(), ordered.end(), n))
            ordered.push_back(n);
    if (std::count(s.metricNames.begin(), s.metricNames.end(), "loss"))
        ordered.push_back("loss");
    s.metricNames = ordered;

    // Wall time from the run's first write (its config) to its last (the metrics log, a checkpoint
    // record): a run resumed after a pause counts the pause too.
    const auto log = dir.historyLog();
    double first = 0, last = 0;
    const auto seen = [&](double t) {
        if (t > 0) {
            first = first == 0 ? t : std::min(first, t);
            last = std::max(last, t);
        }
    };
    for (const auto &e : log.events)
        if (e.time)
            seen(*e.time);
    for (const auto &f : {dir.configPath(), dir.metricsPath()})
        if (const auto t = modified(f))
            seen(*t);
    if (s.hasConfig && dir.hasMetrics() && last > first)
        s.seconds = last - first;
    // The best checkpoint as export and eval choose it: by the monitored metric (the task's main
    // one where the monitor is the loss), else the newest kept.
    std::string monitor = "eval_" + s.mainMetric();
    bool higher = true;
    if (s.hasConfig) {
        std::tie(monitor, higher) = resolveMonitor(s.config.checkpoint, s.task);
        if (monitor == "eval_loss")
            std::tie(monitor, higher) = resolveMonitor({}, s.task);
    }
    const std::string name = monitor.substr(5);
    std::optional<double> bestValue;
    const auto rows = log.exists ? dir.history() : std::vector<run::CheckpointRow>{};
    for (const auto &r : rows) {
        if (r.status != "kept")
            continue;
        ++s.checkpoints;
        const auto v = r.metric(name);
        if (v && std::isfinite(*v) && (!bestValue || (higher ? *v > *bestValue : *v < *bestValue))) {
            bestValue = v;
            s.bestCheckpoint = r.file;
        }
    }
    if (!bestValue)
        for (const auto &r : rows)
            if (r.status == "kept")
                s.bestCheckpoint = r.file;
    return s;
}

FlatConfig flatRunConfig(const RunConfig &config)
{
    FlatConfig out;
    flatten(nlohmann::json::parse(runConfigToJson(config)), std::string(), out);
    out.erase("name");
    if (const auto it = out.find("model.file"); it != out.end()) {
        const auto file = nlohmann::json::parse(it->second);
        if (file.is_string())
            it->second = nlohmann::json(std::filesystem::path(file.get<std::string>()).filename().string()).dump();
    }
    return out;
}

std::vector<std::string> differingKeys(const std::vector<FlatConfig> &configs)
{
    std::set<std::string> all;
    for (const auto &c : configs)
        for (const auto &[k, _] : c)
            all.insert(k);
    std::vector<std::string> out;
    for (const std::string &k : all) {
        const auto value = [&k](const FlatConfig &c) {
            const auto it = c.find(k);
            return it == c.end() ? std::optional<std::string>() : std::optional<std::string>(it->second);
        };
        const auto first = value(configs.front());
        for (const auto &c : configs)
            if (value(c) != first) {
                out.push_back(k);
                break;
            }
    }
    return out;
}

std::string dataLabel(const RunConfig &c)
{
    const DataSettings &d = c.data;
    const auto fileName = [](const std::string &p) { return std::filesystem::path(p).filename().string(); };
    if (!d.path.empty())
        return fileName(d.path);
    if (!d.trainCsv.empty())
        return fileName(d.trainCsv);
    if (!d.trainImages.empty())
        return d.dataset + " (" + fileName(d.trainImages) + ")";
    return d.dataset;
}

} // namespace netwright::run
