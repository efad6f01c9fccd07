// SPDX-License-Identifier: Apache-2.0
// Writes a run's checkpoints as the configured policy says, and keeps the right ones: MindSpore's
// save triggers, naming and keep rules, plus a checkpoint per epoch (after its evaluation), one at
// the end (also when stopped), the best K by an evaluation metric and every keep_period-th step.
// A file any keep rule wants is kept; the newest checkpoint and the one the run resumed from are
// never deleted; deletions happen only after the new file is safely on disk. Every save and
// deletion is recorded, with its rule, in <dir>/checkpoints.jsonl. Layer: engine/checkpoint.
#pragma once

#include "checkpoint/checkpoint_files.h"
#include "checkpoint/cntk_policy.h"
#include "checkpoint/save_policy.h"
#include "checkpoint/mindspore_policy.h"
#include "config/run_config.h"
#include "formats/mindspore/ms_encryption.h"
#include "train/observer.h"

#include <functional>
#include <future>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace netwright {

class Trainer;
namespace run {
struct HistoryEvent;
}

struct CheckpointRecord {
    std::string file; // name within the directory
    int64_t epoch = 0, globalStep = 0;
    std::optional<double> evalAccuracy, evalLoss;
    std::vector<Metric> evalMetrics; // the task's other metrics (top5, r2, rmse, f1 …)
    // The value of "eval_accuracy", "eval_loss" or "eval_<metric>" when recorded.
    std::optional<double> monitored(const std::string &monitor) const;
};

class CheckpointManager final : public TrainingObserver {
public:
    using Clock = std::function<double()>; // wall-clock seconds; injectable for tests

    // settings must have passed validateRunConfig(); prefix "" means defaultPrefix. resumedFrom:
    // the file (in `directory`) this run restored, protected from deletion.
    CheckpointManager(Trainer &trainer, const CheckpointSettings &settings, std::string directory, std::string defaultPrefix,
                      std::string resumedFrom = {}, Clock clock = {});
    // A dry run for `netwright train --plan`: the same decisions over a simulated listing (the
    // directory's current files plus what the run would write); nothing is written or deleted.
    // The history it would log is in planLog().
    CheckpointManager(const CheckpointSettings &settings, std::string directory, std::string defaultPrefix, Clock clock);
    const std::vector<std::string> &planLog() const;
    ~CheckpointManager() override;

    void onTrainBegin(const TrainBeginInfo &b) override;
    void onStep(const StepInfo &s) override;
    void onEvaluation(const EvalInfo &e) override;
    void onTrainEnd(const TrainEndInfo &e) override;

    // Told of every checkpoint written (path), on the training thread.
    void setSavedCallback(std::function<void(const std::string &path, const CheckpointRecord &)> cb) { m_onSaved = std::move(cb); }
    const std::string &prefix() const { return m_prefix; }
    // MindSpore's exception_save: writes `{prefix}-{epoch}_{stepInEpoch}_breakpoint.ckpt` (the
    // prefix after the clash rule for breakpoint files) with the state of the last finished step,
    // a name no keep rule touches. Returns its path.
    std::string saveBreakpoint();
    // A resumed run continues the save_checkpoint_steps chain where the checkpoint says it was
    // (entry "netwright.checkpoint.last_step_save"), so it saves at the same steps as a run that
    // was never interrupted.
    void continueStepChain(int64_t lastStepSave) { m_policy->continueStepChain(lastStepSave); }
    const std::vector<CheckpointRecord> &records() const { return m_records; }
    // The newest checkpoint written (empty before the first).
    std::string latest() const { return m_records.empty() ? std::string() : m_records.back().file; }

private:
    // A save whose file is being (or has been) written; finished on the training thread.
    struct Pending {
        std::string path, reason;
        double time = 0;
        CheckpointRecord record;
        std::vector<std::string> windowDeletions;
        std::future<int64_t> done; // the file size, or the write's exception
    };
    void init(const std::string &defaultPrefix);
    void setMetrics(CheckpointRecord &r, const EvalInfo &e) const;
    // Writes what the policy requested (with the evaluation's metrics when it follows one).
    void save(const SaveRequest &request, const EvalInfo *eval);
    SavePosition position() const;
    // CNTK format: the count of the configured unit (samples, minibatches, sweeps) so far.
    uint64_t cntkUnits() const;
    void linkLast(const std::string &file);
    // Records, logs and applies retention for a finished save; throws Error if it failed.
    void finishPending(bool wait);
    void retain(const std::vector<std::string> &windowDeletions);
    void log(const run::HistoryEvent &event);
    // The writer of this run's state at this point, for `path` stamped with `now`.
    std::function<int64_t()> stateWriter(const std::string &path, double now);

    std::vector<ms_policy::FileInfo> listing() const;

    CheckpointSettings m_s;
    std::string m_monitor;        // checkpoint.monitor with "auto" resolved for the task
    bool m_higherIsBetter = true; // checkpoint.mode resolved
    std::string m_dir, m_prefix, m_resumedFrom;
    Clock m_clock;
    int64_t m_stepsPerEpoch = 1;
    int64_t m_lastSavedStep = -1;
    double m_lastTimeForKeep = 0;
    std::vector<CheckpointRecord> m_records; // this run's checkpoints still on disk, oldest first
    std::function<void(const std::string &, const CheckpointRecord &)> m_onSaved;
    std::optional<Pending> m_pending;
    bool m_graphMetaWritten = false;
    std::unique_ptr<SavePolicy> m_policy; // when to save and under which name (MindSpore's or CNTK's)
    int64_t m_samplesPerEpoch = 1;
    std::unique_ptr<CheckpointFiles> m_files;        // the run directory, or a dry run's simulation of it
    SimulatedCheckpointFiles *m_simulation = nullptr; // m_files when it is the simulation
    Trainer *m_trainer = nullptr;                     // null in a dry run
    mindspore::EncryptionKey m_key;                   // checkpoint.enc_key_file's key (empty: plain files); never logged
    int64_t m_cursorEpoch = 1, m_cursorPosition = 0, m_globalStep = 0; // where the data stands (1-based epoch)
};

// The newest checkpoint in `directory` that reads back completely (CRC checked when present),
// by the global step it records; empty when there is none. Broken files are skipped; encrypted
// ones are opened with `key` (those it does not open are skipped too).
std::string findNewestValidCheckpoint(const std::string &directory, const mindspore::EncryptionKey &key = {});

// CNTK's restore-on-start for `filename` in `directory`: saves a crash interrupted are completed
// or discarded first, then `filename` if present, else the largest `filename`N with its .ckp
// (cntk_policy::findRestoreFile); a pair that does not read back is skipped for the next one.
// Empty when there is none.
std::string findCntkRestoreFile(const std::string &directory, const std::string &filename);
// The file name CNTK-format checkpoints of this config use (checkpoint.cntk.filename or <model>.dnn).
std::string cntkFilename(const CheckpointSettings &settings, const std::string &model);
// The checkpoint a resume of a run in `directory` restores, by the run's checkpoint format:
// findCntkRestoreFile for "cntk", else findNewestValidCheckpoint. Empty when there is none.
std::string findRestoreCheckpoint(const CheckpointSettings &settings, const std::string &model, const std::string &directory);

} // namespace netwright
