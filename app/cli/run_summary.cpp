// SPDX-License-Identifier: Apache-2.0
#include "cli/run_summary.h"

#include "core/error.h"
#include "run/run_directory.h"

#include <QDateTime>
#include <QFileInfo>

#include <algorithm>
#include <cmath>

namespace netwright::cli {

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

} // namespace

bool higherIsBetter(const std::string &metric)
{
    return !(metric == "loss" || metric == "rmse" || metric == "mae");
}

std::optional<double> RunSummary::bestMain() const
{
    const auto it = best.find(mainMetric());
    return it == best.end() ? std::nullopt : std::optional<double>(it->second);
}

RunSummary summarizeRun(const QString &path)
{
    RunSummary s;
    s.dir = path;
    s.name = QFileInfo(path).fileName();
    const RunDirectory dir(path.toStdString());
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
    for (const auto &f : {QString::fromStdString(dir.configPath()), QString::fromStdString(dir.metricsPath())}) {
        const QFileInfo info(f);
        if (info.exists())
            seen(info.lastModified().toMSecsSinceEpoch() / 1000.0);
    }
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
            s.bestCheckpoint = QString::fromStdString(r.file);
        }
    }
    if (!bestValue)
        for (const auto &r : rows)
            if (r.status == "kept")
                s.bestCheckpoint = QString::fromStdString(r.file);
    return s;
}

QString metricText(const std::string &metric, std::optional<double> value)
{
    if (!value)
        return QStringLiteral("-");
    if (metric == "accuracy" || metric == "top5")
        return QString::number(100.0 * *value, 'f', 2) + QStringLiteral(" %");
    return QString::number(*value, 'f', 4);
}

} // namespace netwright::cli
