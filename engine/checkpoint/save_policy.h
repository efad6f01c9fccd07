// SPDX-License-Identifier: Apache-2.0
// When a run saves and under which name, behind one interface: MindSpore's ModelCheckpoint
// (every N steps or seconds, every epoch after its evaluation, at the end; then its keep rules,
// the graph dump and save_last) or CNTK's checkpointing (every N samples, minibatches or sweeps,
// the final partial period, preserve_all's plain name; one file overwritten or every file kept).
// CheckpointManager asks the policy, writes what it requests, records it and applies the keep
// rules the policy says apply; `--plan` asks the same policy over simulated files.
// Layer: engine/checkpoint.
#pragma once

#include "config/run_config.h"
#include "train/observer.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace netwright {

struct SaveRequest {
    int64_t epoch = 0, globalStep = 0;
    const char *reason = "";
    std::string name; // empty: MindSpore's <prefix>-<epoch>_<step>.ckpt
};

// Where the run stands, as the policies see it.
struct SavePosition {
    int64_t lastSavedStep = -1; // the step of the newest save (or the one the run resumed at)
    uint64_t units = 0;         // CNTK: samples, minibatches or sweeps so far (checkpoint.cntk.unit)
    double now = 0;             // the manager's clock
};

class SavePolicy {
public:
    virtual ~SavePolicy() = default;

    // At the start of training (a resumed run: at its restored position).
    virtual void begin(const SavePosition &) {}
    virtual std::optional<SaveRequest> afterStep(const StepInfo &s, const SavePosition &p) = 0;
    virtual std::optional<SaveRequest> afterEvaluation(const EvalInfo &e, const SavePosition &p) = 0;
    // The save when training ends (also when stopped) …
    virtual std::optional<SaveRequest> atEnd(const TrainEndInfo &e, int64_t epoch, const SavePosition &p) = 0;
    // … and one more once that is on disk (`exists` asks the run's files).
    virtual std::optional<SaveRequest> afterEnd(const TrainEndInfo &, int64_t, const std::function<bool(const std::string &)> &)
    {
        return std::nullopt;
    }
    // MindSpore's keep rules, graph dump and save_last apply; else CNTK's pairs are written and
    // nothing is deleted by a rule.
    virtual bool mindsporeFiles() const = 0;
    // CNTK's checkpoint file name (its pending pair saves are completed at start); empty otherwise.
    virtual std::string cntkFile() const { return {}; }

    // The save_checkpoint_steps chain, carried in every checkpoint so a resumed run saves at the
    // same steps as an uninterrupted one.
    int64_t stepChain() const { return m_stepChain; }
    void continueStepChain(int64_t lastStepSave) { m_stepChain = lastStepSave; }

protected:
    int64_t m_stepChain = 0;
};

// The policy checkpoint.format names; `defaultPrefix` names CNTK's file when the config does not;
// `startTime`: the clock when the run starts (the seconds trigger counts from it).
std::unique_ptr<SavePolicy> makeSavePolicy(const CheckpointSettings &settings, const std::string &defaultPrefix, double startTime);

} // namespace netwright
