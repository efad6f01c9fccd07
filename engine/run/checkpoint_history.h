// SPDX-License-Identifier: Apache-2.0
// checkpoints.jsonl: the record of every checkpoint a run saved, linked, failed to save and
// deleted, with its rule. One typed event, one writer (real JSON: any file name or prefix is
// escaped), one reader (a line that does not parse is an error naming the file and line; a cut
// last line is left out and said). Layer: engine/run.
#pragma once

#include "train/observer.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace netwright::run {

struct HistoryEvent {
    enum class Kind { GraphMeta, Saved, Metrics, Linked, Deleted, Failed };
    Kind kind = Kind::Saved;
    std::string file;
    std::string reason;   // Saved, Failed: the trigger (save_every_epoch, stopped, exception_save, …)
    std::string rule;     // Deleted, Linked: the keep rule (keep_checkpoint_max, save_last, …)
    std::string target;   // Linked: the checkpoint the link names; Saved with reason "fork_point": the parent run's checkpoint it is a copy of
    int64_t epoch = 0, globalStep = 0, bytes = 0;
    bool hasEpoch = true, hasBytes = true; // a breakpoint save records neither
    std::optional<double> time;            // seconds since the Unix epoch
    std::optional<double> evalAccuracy, evalLoss;
    std::vector<Metric> evalMetrics; // the task's other metrics ("eval_r2", "eval_top5" … in the line)
};

const char *historyEventName(HistoryEvent::Kind kind); // "saved", "graph_meta", …
// The event as one JSON line, newline included.
std::string historyEventLine(const HistoryEvent &event);
// Appends the event to `path` in one write; throws Error naming the file.
void appendHistoryEvent(const std::string &path, const HistoryEvent &event);

// A checkpoint as `netwright history` and the window list it.
struct CheckpointRow {
    std::string file, reason, status = "kept", rule; // status: kept, replaced, deleted, missing
    std::string forkedFrom; // the fork point of a forked run: the parent run's checkpoint (its path) this is a copy of
    int64_t epoch = 0, step = 0, bytes = 0;
    double time = 0; // seconds since the Unix epoch
    std::optional<double> accuracy, loss;
    std::vector<Metric> metrics; // the task's other evaluation metrics (r2, rmse, top5 …)
    // accuracy, loss or one of `metrics` by name ("accuracy", "r2" …).
    std::optional<double> metric(const std::string &name) const;
};

struct HistoryLog {
    bool exists = false;           // the run has a checkpoints.jsonl
    std::vector<HistoryEvent> events;
    int64_t tornLine = 0;          // a cut last line that was left out (0: none)
};

// Parses the events of `text` (the contents of `path`). Unknown event kinds (written by a later
// version) are skipped; a known one with a wrong field is an error naming file, line and key.
HistoryLog parseHistory(const std::string &text, const std::string &path);
// A missing file is an empty history (exists = false).
HistoryLog readHistory(const std::string &path);
// Every checkpoint ever saved, in order, with its latest metrics and status (a kept checkpoint
// no longer in `directory` is "missing").
std::vector<CheckpointRow> historyRows(const HistoryLog &log, const std::string &directory);

} // namespace netwright::run
