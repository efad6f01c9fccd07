// SPDX-License-Identifier: Apache-2.0
// MindSpore's checkpoint policy, as ModelCheckpoint/CheckpointConfig behave
// (../shared/formats/mindspore-checkpoint-policy.md, sections 1–2): validation and precedence,
// the prefix clash rule, `prefix-epoch_step.ckpt` naming, the steps/seconds save decision and the
// keep-max / keep-per-n-minutes deletion rules. Pure decisions over a directory listing and a clock,
// so they can be tested with an injected clock. Layer: engine/checkpoint.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace netwright::ms_policy {

struct Config {
    int64_t saveCheckpointSteps = 1;
    int64_t saveCheckpointSeconds = 0;
    int64_t keepCheckpointMax = 5;
    int64_t keepCheckpointPerNMinutes = 0;
};

// Validates like CheckpointConfig's constructor and applies its precedence: steps win over
// seconds (seconds becomes 0), keep-max wins over per-n-minutes, and with neither keep rule only
// the newest file is kept (keep-max 1). Throws Error naming the field.
Config normalize(Config c);

struct FileInfo {
    std::string name;  // file name within the directory
    double mtime = 0;  // seconds
};

// The clash rule (_chg_ckpt_file_name_if_same_exist): "CKP" becomes "CKP_1", "CKP_2", … when the
// directory already holds checkpoints of that prefix. breakpointFiles: apply it to
// "*_breakpoint.ckpt" files only (the exception_save variant).
std::string resolvePrefix(const std::vector<std::string> &listing, const std::string &prefix, bool breakpointFiles = false);

// The file name ending of checkpoint.format ("mindspore": ".ckpt", "safetensors": ".safetensors"),
// as MindSpore's CheckpointConfig(format=…) names its files.
std::string checkpointExtension(const std::string &format);

// `{prefix}-{epoch}_{stepInEpoch}.ckpt`; stepInEpoch = ((globalStep − 1) mod stepsPerEpoch) + 1.
std::string checkpointName(const std::string &prefix, int64_t epoch, int64_t globalStep, int64_t stepsPerEpoch,
                           const std::string &extension = ".ckpt");
// `{prefix}-{epoch}_{stepInEpoch}_breakpoint.ckpt`.
std::string breakpointName(const std::string &prefix, int64_t epoch, int64_t globalStep, int64_t stepsPerEpoch,
                           const std::string &extension = ".ckpt");

// A file the keep rule may delete: `extension`, starts with `prefix-`, no letter in the middle part.
bool isManaged(const std::string &file, const std::string &prefix, const std::string &extension = ".ckpt");

// The save decision of ModelCheckpoint._save_ckpt, with its state.
class SaveTrigger {
public:
    SaveTrigger(const Config &normalized, double constructionTime)
        : m_c(normalized), m_lastTime(constructionTime), m_lastTimeForKeep(constructionTime) {}
    // Whether step `globalStep` (1-based) saves at time `now`; updates the state when it does.
    bool decide(int64_t globalStep, double now, bool force);
    double lastTimeForKeep() const { return m_lastTimeForKeep; }
    int64_t lastTriggeredStep() const { return m_lastTriggeredStep; }

private:
    Config m_c;
    int64_t m_lastTriggeredStep = 0;
    double m_lastTime, m_lastTimeForKeep;
};

// The keep rule (CheckpointManager), applied just before a new file is written: the names to
// delete from `listing`. lastTimeForKeep is the previous save's time (or construction).
std::vector<std::string> filesToDelete(const std::vector<FileInfo> &listing, const std::string &prefix,
                                       const Config &normalized, double now, double lastTimeForKeep,
                                       const std::string &extension = ".ckpt");

} // namespace netwright::ms_policy
