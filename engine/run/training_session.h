// SPDX-License-Identifier: Apache-2.0
// Everything one training run needs around its Trainer, set up once for `train`, `resume`,
// `batch`'s children, each MPI rank and the window's worker thread alike: the checkpoint a resume
// restores (and the metrics log cut back to it), the metrics log, the checkpoint manager, the
// caller's observers, the breakpoint checkpoint on failure (checkpoint.exception_save) and the
// stop on SIGINT/SIGTERM. Only the writer (one process, or rank 0) touches the run directory.
// Thread affinity: the thread that calls run(). Layer: engine/run.
#pragma once

#include "config/run_config.h"
#include "run/run_directory.h"
#include "train/observer.h"

#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

namespace netwright {

class Trainer;
class CheckpointManager;
class RunLock;
struct CheckpointRecord;

class TrainingSession {
public:
    struct Options {
        bool writer = true;        // writes the run directory (one process, or rank 0 of a job)
        bool stopOnSignal = false; // SIGINT/SIGTERM stop training at the next step boundary
        // The caller's observers see each report before the checkpoint manager (the console's
        // progress line comes before the step's "checkpoint …" note); false: after it (the
        // window's bridge, which holds a paused run, then never holds a checkpoint that is due).
        bool observersBeforeCheckpoints = true;
    };

    // What refuses a start, checked before the run directory is made (a refused start writes
    // nothing): a model.init_from file that does not fit the trainer's model (strict, or nothing
    // matches), and what checkCpu refuses. Throws Error naming the file; reads, changes nothing.
    static void checkStart(const RunConfig &config, const Trainer &trainer);
    // What the CPU refuses, also before a resume: a bad NETWRIGHT_CPU_LEVEL, and training.precision
    // bf16 where the CPU level has no bf16 (the sentence names the CPU and its level).
    static void checkCpu(const RunConfig &config);

    // `config` is the run's (validated); `trainer` was built from it and outlives the session.
    TrainingSession(RunConfig config, RunDirectory directory, Trainer &trainer, Options options);
    ~TrainingSession();
    TrainingSession(const TrainingSession &) = delete;
    TrainingSession &operator=(const TrainingSession &) = delete;

    // Told what the session did on its own (a temporary file removed, a cut log line dropped, no
    // checkpoint yet): one sentence each. Default: nothing is said.
    void setNoteSink(std::function<void(const std::string &)> sink) { m_note = std::move(sink); }
    // Observers the caller adds (progress, the window's bridge), after the session's own.
    void addObserver(TrainingObserver *observer) { m_observers.push_back(observer); }
    // Told of every checkpoint written (its path), on the training thread.
    void setSavedCallback(std::function<void(const std::string &path, const CheckpointRecord &)> cb) { m_onSaved = std::move(cb); }

    // Resume: cleans what a killed writer left, chooses the checkpoint (the writer chooses;
    // `agree` gives every rank the writer's choice), restores it into the trainer and cuts the
    // metrics log back to it. Returns the file restored ("" when there is none yet). Throws
    // Error when every checkpoint is damaged, unless startOver.
    std::string restore(bool startOver = false, const std::function<std::string(std::string)> &agree = {});
    const std::string &resumedFrom() const { return m_resumedFrom; }

    // The writer of a new (or restarted) run records its config (and model file) before training.
    void writeConfig() const;

    // Trains to the end or a stop request. A failure (Error) saves a breakpoint checkpoint first
    // when checkpoint.exception_save asks for one (said through the note sink), then rethrows.
    TrainEndInfo run(std::stop_token stop = {});

    // The newest checkpoint this session wrote (a file name in the directory; empty: none).
    std::string newestCheckpoint() const;
    const RunDirectory &directory() const { return m_dir; }
    const RunConfig &config() const { return m_config; }

private:
    void note(const std::string &text) const;

    RunConfig m_config;
    RunDirectory m_dir;
    Trainer &m_trainer;
    Options m_options;
    std::function<void(const std::string &)> m_note;
    std::vector<TrainingObserver *> m_observers;
    std::function<void(const std::string &, const CheckpointRecord &)> m_onSaved;
    std::string m_resumedFrom;
    int64_t m_lastStepSave = 0;
    std::unique_ptr<CheckpointManager> m_checkpoints;
    std::unique_ptr<RunLock> m_lock; // the writer's: no second process trains this run meanwhile
};

} // namespace netwright
