// SPDX-License-Identifier: Apache-2.0
// What a run directory's logs say about the run, read through its owner (engine/run) while another
// process may still write it: the task's metrics (best and final evaluation), epochs, whether it
// finished, its kept and best checkpoints, its training time. One reader for `batch`, `sweep` and
// `compare`. Layer: app/cli.
#pragma once

#include "config/run_config.h"

#include <QString>
#include <QStringList>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace netwright::cli {

struct RunSummary {
    QString dir, name;                 // name: the directory's own name
    bool hasConfig = false;
    RunConfig config;                  // the config as run (valid when hasConfig)
    std::string task = "classification";
    // The task's evaluation metrics, its main one first ("accuracy", "top5" · "r2", "rmse", "mae" ·
    // "f1", …), then "loss" — those that were evaluated.
    std::vector<std::string> metricNames;
    std::map<std::string, double> best, final; // by metric name; best: max, or min for loss, rmse, mae
    int64_t epochsDone = 0, epochs = 0;
    bool finished = false;             // the metrics log ends with a run that was not stopped
    int checkpoints = 0;               // kept
    QString bestCheckpoint;            // the kept checkpoint with the best monitored metric, else the newest kept
    std::optional<double> seconds;     // wall time from its config to its last log write (pauses included)

    // The task's main metric ("accuracy", "r2", "f1"); its best value, when evaluated.
    std::string mainMetric() const { return taskMetricNames(task).front(); }
    std::optional<double> bestMain() const;
};

// Whether a higher value of the metric is the better one (false for loss, rmse, mae).
bool higherIsBetter(const std::string &metric);
// Reads `dir`; a directory with no logs (yet) is a run with nothing done. Throws Error naming the
// file for a damaged log.
RunSummary summarizeRun(const QString &dir);
// A metric's value as the tables show it: accuracy-like figures in %, the others to 4 decimals.
QString metricText(const std::string &metric, std::optional<double> value);

} // namespace netwright::cli
