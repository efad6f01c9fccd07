// SPDX-License-Identifier: Apache-2.0
// CNTK trainer checkpoints (../shared/formats/cntk-v2.md, section 9): the pair `<file>` (the
// training function in model-v2 format) + `<file>.ckp` (a Dictionary with Version, Learners and
// ExternalState). Our whole training state travels in the pair: parameters and buffers in the
// model, the optimizer slots as the learner's smoothed gradients (Adam's m and v stacked as
// [rows, 2·cols] like CNTK's Adam), the data cursor under ExternalState.TrainingMinibatchSource,
// and the rest (RNG states, schedule position, epoch sums) under ExternalState.netwright.
//
// The pair is committed safely: the .ckp is staged durably as `.<file>.ckp.pending` first, then
// the model replaces `<file>` atomically, then the staged .ckp is renamed into place. The .ckp
// records the model's CRC-32 and size, so a model and a .ckp from different saves are detected,
// and recoverInterruptedSave() completes or discards a save a crash cut short. Layer: engine/formats.
#pragma once

#include "core/state_entry.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace netwright {
class Graph;
}

namespace netwright::cntk {

struct LearnerCounters {
    uint64_t samples = 0, minibatches = 0, sweeps = 0;
    double learningRate = 0;
};

// Writes the pair for `modelPath`; a failure leaves the previous pair (if any) loadable.
void writeTrainerCheckpoint(const std::string &modelPath, const Graph &trainingGraph, const TrainingState &state,
                            const LearnerCounters &counters);
// The state written by writeTrainerCheckpoint, as entries for restoreTrainingState(). Throws
// Error naming the file when it is missing, damaged, or the two files are from different saves.
TrainingState readTrainerCheckpoint(const std::string &modelPath);
// A `.<file>.ckp.pending` left by a crash: renamed into place when `<file>` is the model it was
// staged with, deleted otherwise. Returns true when a save was completed.
bool recoverInterruptedSave(const std::string &modelPath);
// `<dir>/.<name>.ckp.pending` for `<dir>/<name>`.
std::string pendingPath(const std::string &modelPath);

// One leaf of a .ckp Dictionary, for `netwright inspect`.
struct StateItem {
    std::string path;              // "Learners[0].sample_count", …
    std::string type;              // CNTK value type: SizeT, Double, String, NDArrayView, …
    std::string text;              // scalars and short summaries
    std::optional<Tensor> tensor;  // NDArrayView values
};

struct TrainerCheckpointListing {
    uint64_t version = 0;          // 0: a version-0 checkpoint (no "Version" key)
    size_t learners = 0;
    std::string modelFile;         // the companion model when found beside it ("" otherwise)
    std::vector<StateItem> items;
};

// Lists every leaf of a .ckp file (any CNTK 2.x layout, including distributed learners); numeric
// maps such as learning-rate schedules are summarised in one item. Parameter uids are given with
// their names from the companion model: `companionModel`, or else `<file>` when it is beside the .ckp.
TrainerCheckpointListing listTrainerCheckpoint(const std::string &ckpPath, const std::string &companionModel = {});

} // namespace netwright::cntk
