// SPDX-License-Identifier: Apache-2.0
// The one owner of a run directory (DESIGN idea 8). It alone knows the layout —
//   config.json        the run config as run, every key (model.file names the copy beside it)
//   metrics.jsonl      every step, epoch and evaluation (run/metrics_log.h)
//   checkpoints.jsonl  every checkpoint saved, linked and deleted, with its rule (run/checkpoint_history.h)
//   events.out.tfevents.*  TensorBoard's copy of the metrics, one file per session (run/tensorboard_log.h)
//   <prefix>-…ckpt, <prefix>-graph.meta, CNTK <name>[N] + .ckp pairs, the copied model file
// — and every change to it goes through here: creating and naming runs, the config, the two logs,
// the checkpoint a resume restores, forking at a checkpoint, deleting one with its record, and the
// clean-up of what a killed writer left. Readers (history, the window) may read a run that another
// process is still writing: a log's unfinished last line is left out. Layer: engine/run.
#pragma once

#include "config/run_config.h"
#include "run/checkpoint_history.h"
#include "run/metrics_log.h"

#include <string>
#include <vector>

namespace netwright {

class RunDirectory {
public:
    static constexpr const char *kConfigFile = "config.json";
    static constexpr const char *kMetricsFile = "metrics.jsonl";
    static constexpr const char *kHistoryFile = "checkpoints.jsonl";

    // A run directory at `path` (not checked: open() and create() check).
    explicit RunDirectory(std::string path = {});

    // --out when given, else runs/<name>-<yyyyMMdd-HHmmss> (then -2, -3, … when taken) under the
    // working directory. Nothing is created.
    static std::string defaultPath(const std::string &out, const std::string &runName);
    // Creates the directory defaultPath() names. Refuses a path that is a file, and one that
    // already holds a run unless `continuing`. Throws Error.
    static RunDirectory create(const std::string &out, const std::string &runName, bool continuing = false);
    // An existing run: a directory with a config.json (or the complete temporary config a kill
    // left). Throws Error naming the path and what it is instead.
    static RunDirectory open(const std::string &path);
    // Whether `path` looks like a run directory (a directory holding config.json).
    static bool isRunDirectory(const std::string &path);

    const std::string &path() const { return m_path; }
    // `<dir>/<name>`.
    std::string file(const std::string &name) const;
    std::string configPath() const { return file(kConfigFile); }
    std::string metricsPath() const { return file(kMetricsFile); }
    std::string historyPath() const { return file(kHistoryFile); }
    static std::string graphMetaName(const std::string &prefix) { return prefix + "-graph.meta"; }
    bool hasConfig() const;
    bool hasMetrics() const;

    // The run's config over the defaults (model.file resolved beside it). Throws Error.
    RunConfig readConfig() const;
    // Writes config.json atomically. A model file (model.file) is copied in first, unless it is
    // there already, and the config names the copy relative to itself — so the directory holds
    // what was trained, and resume, export and a moved directory still find it.
    void writeConfig(RunConfig config) const;
    // The model file the config names (its copy in the directory), or empty.
    std::string modelFile() const;

    MetricsLogContents metrics() const { return readMetricsLog(metricsPath()); }
    run::HistoryLog historyLog() const { return run::readHistory(historyPath()); }
    std::vector<run::CheckpointRow> history() const;
    void appendHistory(const run::HistoryEvent &event) const { run::appendHistoryEvent(historyPath(), event); }

    // The writer's first act on an existing run: a config.json a kill left only as its complete
    // temporary file is put in place, and every temporary file of our naming (atomic writes,
    // save_last links, CNTK pending .ckp staging) is removed. Returns what it did, one line each.
    std::vector<std::string> recover() const;
    // The checkpoint a resume restores (empty: none yet). When checkpoint files are there but
    // none reads back, throws Error naming each and its fault (unless `startOver`: then empty).
    std::string restoreCheckpoint(const RunConfig &config, bool startOver = false) const;
    // A cut last line of metrics.jsonl is removed (before the log is appended to). Returns its
    // line number, 0 when there was none.
    int64_t dropTornMetricsLine() const;

    // A new run directory beside this one, `<dir>-from-<checkpoint>` (then -2, …), holding the
    // config, the checkpoint (a CNTK pair whole), the model file and the metrics (and TensorBoard
    // events files) up to that
    // checkpoint (no end record), its history starting with that checkpoint's row as reason
    // "fork_point" naming this run's file: `resume` of it continues from that checkpoint.
    // Throws Error; nothing is left behind on failure.
    RunDirectory fork(const std::string &checkpointFile) const;
    // Deletes a checkpoint (a CNTK pair whole) and records it with `rule` in the history.
    void deleteCheckpoint(const std::string &checkpointFile, const std::string &rule) const;
    // A run killed before its first checkpoint: removes what it wrote (logs, config, graph
    // dump, temporary files, batch.log and a copied model) so it can start again. Refuses
    // (Error) when the directory holds a file a run did not write.
    void clearUnstarted() const;

private:
    std::string m_path;
};

} // namespace netwright
