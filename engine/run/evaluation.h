// SPDX-License-Identifier: Apache-2.0
// Evaluates a trained model on data, for `netwright eval` and the window's Evaluate: the source is
// a run directory (its best checkpoint by the task's metric, else its newest), a checkpoint in one
// or a model file; the data the run's test split exactly as training made it (same files, seed
// and split, its normalisation), or any data source `train` reads, normalised as the checkpoint
// recorded. Runs on the CPU in inference mode. Layer: engine/run.
#pragma once

#include "data/dataset.h"
#include "formats/mindspore/ms_encryption.h"
#include "train/evaluation_report.h"

#include <cstdint>
#include <memory>
#include <string>

namespace netwright {

struct EvaluationRequest {
    std::string source;    // a run directory, a checkpoint in one, or a model file
    std::string dataPath;  // "" = the run's test split; else a data path as data.path reads it
    int64_t batchSize = 0; // 0 = the run's data.eval_batch_size (a model file: 256)
    mindspore::EncryptionKey key; // opens an encrypted MindIR model file (a run's checkpoints: its config's key)
};

struct Evaluation {
    EvaluationReport report;
    std::string source;     // as given
    std::string checkpoint; // the checkpoint evaluated (its path); "" for a model file
    int64_t globalStep = -1; // the checkpoint's step; -1 for a model file
    std::string model;      // the run's model name, or the model file's format
    std::string data;       // what was evaluated: "the test split of \"…\"", "\"…/test\"", …
    // The samples evaluated, in report order (prediction i is sample i): the window's gallery.
    std::shared_ptr<const Dataset> samples;
};

// Throws Error naming the file and the problem: a run with no checkpoint, a model file without
// --data, data whose samples do not fit the model's input or whose labels the model has no output
// for.
Evaluation evaluateModel(const EvaluationRequest &request);

} // namespace netwright
