// SPDX-License-Identifier: Apache-2.0
// CNTK's checkpoint policy, as training_session's CheckpointConfig behaves
// (../shared/formats/mindspore-checkpoint-policy.md, section 3): the frequency trigger with its
// index rule, the final partial-period checkpoint, preserve_all naming and the restore scan.
// Pure decisions, testable without training. Layer: engine/checkpoint.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace netwright::cntk_policy {

// TrainingSession's checkpoint action. `total` counts the configured unit (samples, minibatches
// or sweeps) since the start of training; frequency 0 means "only at the end" (sys.maxsize).
class Trigger {
public:
    explicit Trigger(uint64_t frequency) : m_frequency(frequency) {}
    // After each minibatch: the index to save with, when floor(total / frequency) moved on (the
    // OLD index, as CNTK does; a minibatch crossing several multiples saves once).
    std::optional<uint64_t> afterMinibatch(uint64_t total);
    // After the loop: the index of the final partial period's checkpoint, if one is due.
    std::optional<uint64_t> atEnd(uint64_t total);
    // After a restore: the action's index recomputed from the restored count.
    void restore(uint64_t total);
    uint64_t index() const { return m_index; }

private:
    uint64_t indexOf(uint64_t total) const { return m_frequency ? total / m_frequency : 0; }
    uint64_t m_frequency;
    uint64_t m_index = 0, m_lastCalled = 0, m_start = 0;
};

// `filename` + decimal index (no separator, no padding) with preserve_all; `filename` without.
std::string checkpointName(const std::string &filename, std::optional<uint64_t> index);

// The restore rule: `filename` if it is in the listing (with its .ckp), otherwise the largest N
// such that `filename`N and `filename`N.ckp are both listed (N all decimal digits); "" for none.
std::string findRestoreFile(const std::vector<std::string> &listing, const std::string &filename);

} // namespace netwright::cntk_policy
