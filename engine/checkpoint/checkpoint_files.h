// SPDX-License-Identifier: Apache-2.0
// Where a CheckpointManager's files live. On disk: the run directory (temporary files a kill left
// are cleaned, CNTK pair saves it interrupted are finished, checkpoints written through atomic
// writes, the history appended to checkpoints.jsonl). Simulated: the dry run of `train --plan`,
// which starts from the directory's listing and records what the run would write and delete —
// so the plan is decided by the same manager code as the run, not by a mode threaded through it.
// Layer: engine/checkpoint.
#pragma once

#include "checkpoint/mindspore_policy.h"

#include <functional>
#include <future>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace netwright {

namespace run {
struct HistoryEvent;
}

class CheckpointFiles {
public:
    virtual ~CheckpointFiles() = default;

    // Before anything is decided: what a killed writer left is finished or removed (`cntkFile`:
    // the CNTK checkpoint name whose pending pair saves to complete; empty for MindSpore).
    virtual void recover(const std::string &cntkFile) = 0;
    // The regular files, by name, with their modification times (seconds since the epoch).
    virtual std::vector<ms_policy::FileInfo> listing() const = 0;
    virtual bool exists(const std::string &file) const = 0;
    virtual void remove(const std::string &file, std::error_code &ec) = 0;
    // Writes checkpoint `file` through `write` (which returns the bytes written); on a background
    // thread when `async`, its future then holding the size or the write's exception. A
    // synchronous write's failure is thrown from here.
    virtual std::future<int64_t> save(const std::string &file, double time, std::function<int64_t()> write, bool async) = 0;
    // Whether save() has finished when it returns (the simulation's always has).
    virtual bool savesAtOnce() const = 0;
    // `link` becomes a second name of `target`; throws Error naming both when it cannot.
    virtual void link(const std::string &link, const std::string &target, double time) = 0;
    // The graph dump, written by `write(path)` (never called by the simulation).
    virtual void writeGraphMeta(const std::string &file, const std::function<void(const std::string &path)> &write) = 0;
    // One history event (on disk: appended to the run's checkpoints.jsonl; a failure to append
    // is not an error — the history is a record, not the checkpoint).
    virtual void record(const run::HistoryEvent &event) = 0;
    // Whether evaluations carry real metrics (a simulation runs before training: it knows none).
    virtual bool knowsMetrics() const = 0;
};

// The regular files of `directory` (hidden ones too), by name, with their modification times.
std::vector<ms_policy::FileInfo> listRegularFiles(const std::string &directory);

// The run directory `directory` on disk.
std::unique_ptr<CheckpointFiles> diskCheckpointFiles(std::string directory);

// The dry run: the directory's current (non-hidden) files plus what the run would write.
class SimulatedCheckpointFiles final : public CheckpointFiles {
public:
    explicit SimulatedCheckpointFiles(const std::string &directory);
    void recover(const std::string &) override {}
    std::vector<ms_policy::FileInfo> listing() const override { return m_files; }
    bool exists(const std::string &file) const override;
    void remove(const std::string &file, std::error_code &ec) override;
    std::future<int64_t> save(const std::string &file, double time, std::function<int64_t()> write, bool async) override;
    bool savesAtOnce() const override { return true; }
    void link(const std::string &link, const std::string &target, double time) override;
    void writeGraphMeta(const std::string &, const std::function<void(const std::string &)> &) override {}
    void record(const run::HistoryEvent &event) override;
    bool knowsMetrics() const override { return false; }
    // The history lines the run would write, in order.
    const std::vector<std::string> &log() const { return m_log; }

private:
    std::vector<ms_policy::FileInfo> m_files;
    std::vector<std::string> m_log;
};

} // namespace netwright
