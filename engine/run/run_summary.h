// SPDX-License-Identifier: Apache-2.0
// What a run directory's logs say about the run, read through its owner (RunDirectory) while
// another process may still write it: the task's metrics (best and final evaluation), epochs,
// whether it finished, its kept and best checkpoints, its training time; and its config as
// flattened key paths, to name what differs between runs. One reader for `batch`, `sweep`,
// `compare` and the window's run comparison. Layer: engine/run.
#pragma once

#include "config/run_config.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace netwright::run {

struct RunSummary {
    std::string dir, name;             // name: the directory's own name
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
    std::string bestCheckpoint;        // the kept checkpoint with the best monitored metric, else the newest kept
    std::optional<double> seconds;     // wall time from its config to its last log write (pauses included)

    // The task's main metric ("accuracy", "r2", "f1"); its best value, when evaluated.
    std::string mainMetric() const { return taskMetricNames(task).front(); }
    std::optional<double> bestMain() const;
    std::optional<double> bestOf(const std::string &metric) const;
    std::optional<double> finalOf(const std::string &metric) const;
};

// Whether a higher value of the metric is the better one (false for loss, rmse, mae).
bool higherIsBetter(const std::string &metric);
// Reads `dir`; a directory with no logs (yet) is a run with nothing done. Throws Error naming the
// file for a damaged log.
RunSummary summarizeRun(const std::string &dir);

// A run config as flattened key paths ("optimizer.lr") → the value as compact JSON text ("0.01",
// "\"adam\"", "[64,32]": lists stay whole values). A run's own labels are not settings: its
// `name` is left out and a model file copied into its directory is compared by its file name.
using FlatConfig = std::map<std::string, std::string>;
FlatConfig flatRunConfig(const RunConfig &config);
// The key paths whose values are not the same in every config (a key one config lacks differs),
// in name order.
std::vector<std::string> differingKeys(const std::vector<FlatConfig> &configs);
// What the run trained on, in a few words: the file or folder name ("fashion-mnist.npz"), or the
// dataset with its training images' file ("idx (train-images-idx3-ubyte)"), or the dataset's name.
std::string dataLabel(const RunConfig &config);

} // namespace netwright::run
