// SPDX-License-Identifier: Apache-2.0
// The whole training state as neutral state entries (core/state_entry.h; DESIGN idea 2), which
// the MindSpore .ckpt and CNTK trainer-checkpoint writers map to their layouts: parameters and
// buffers under their MindSpore cell names, the optimizer slots under MindSpore's names,
// learning_rate, momentum, global_step, epoch_num, step_num — and, under "netwright.", the data
// cursor, every RNG state and the running epoch sums, so a resume continues bit for bit.
// Layer: engine/checkpoint.
#pragma once

#include "config/run_config.h"
#include "core/state_entry.h"
#include "formats/mindspore/ms_encryption.h"

#include <optional>
#include <string>
#include <vector>

namespace netwright {

class Trainer;

// Called between steps (from an observer, or before/after Trainer::run()).
TrainingState captureTrainingState(const Trainer &trainer);
// Restores everything captureTrainingState() wrote. Every parameter of the trainer must be present
// with its shape and dtype; errors name `source` and the entry.
void restoreTrainingState(Trainer &trainer, const TrainingState &entries, const std::string &source);

// The entry recording the shape of one training sample ([C,H,W], or [features]).
inline constexpr const char *kSampleShapeEntry = "netwright.data.sample_shape";
// That shape, when the entries record it (checkpoints written before it was recorded do not).
std::optional<Shape> recordedSampleShape(const TrainingState &entries);
// The task (classification, regression, multilabel), the model's outputs (classes or targets)
// and the class names (one a line), as the trainer recorded them.
inline constexpr const char *kTaskEntry = "netwright.data.task";
inline constexpr const char *kOutputsEntry = "netwright.data.outputs";
inline constexpr const char *kClassNamesEntry = "netwright.data.class_names";
std::optional<int64_t> recordedOutputs(const TrainingState &entries);
// A string entry's text, or "" when absent.
std::string recordedString(const TrainingState &entries, const std::string &name);
// How to read a checkpoint file: the key of an encrypted MindSpore .ckpt (empty: none given, and an
// encrypted file fails with the sentence that a key is needed).
struct TrainingStateReadOptions {
    mindspore::EncryptionKey key;
};
// The key a run config names (checkpoint.enc_key_file, checkpoint.enc_mode); empty when none.
mindspore::EncryptionKey checkpointKey(const CheckpointSettings &settings);
// The training state in a checkpoint file of any kind, told apart by content: a MindSpore .ckpt
// (plain or encrypted), a safetensors file, a PyTorch file, the model of a CNTK trainer checkpoint
// pair, or a NumPy .npz of named arrays (a state dict saved with np.savez). Throws Error naming the file.
TrainingState readTrainingStateFile(const std::string &path, const TrainingStateReadOptions &options = {});

} // namespace netwright
