// SPDX-License-Identifier: Apache-2.0
// Turns a RunConfig into a ready Trainer: loads the data, builds the zoo model, the sources,
// the optimizer and the schedule. Layer: engine/train. Both faces (CLI, window) start here.
#pragma once

#include "config/run_config.h"
#include "train/trainer.h"

#include <memory>

namespace netwright {

struct TrainingData {
    std::shared_ptr<const Dataset> train, test;
};

// Loads the datasets the config names; errors name the missing or broken file.
TrainingData loadTrainingData(const DataSettings &data);
// Validates the config, sets the kernel thread count, builds everything. Throws Error.
std::unique_ptr<Trainer> makeTrainer(const RunConfig &config, const TrainingData &data);

} // namespace netwright
