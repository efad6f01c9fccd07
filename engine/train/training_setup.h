// SPDX-License-Identifier: Apache-2.0
// Turns a RunConfig into a ready Trainer: loads the data, builds the zoo model, the sources,
// the optimizer and the schedule. Layer: engine/train. Both faces (CLI, window) start here.
#pragma once

#include "config/run_config.h"
#include "data/data_source.h"
#include "train/trainer.h"

#include <memory>
#include <optional>

namespace netwright {

struct TrainingData {
    std::shared_ptr<const Dataset> train, test;
    FeatureNormalization normalization; // what the sources apply (resolved on the training split)
    std::string kind;                   // "Fashion-MNIST", "image folder", "CSV table" …
    std::string splitNote;              // where the test split comes from
};

// The size a model file fixes for its images ([N,C,H,W] with known H and W; C when 1 or 3), which
// image data is brought to when data.resize is not given; nullopt when it fixes none (or the file
// cannot be read: building the model then names the problem).
std::optional<ImageGeometry> modelFileGeometry(const RunConfig &config);
// Loads the datasets the config names, for its task (and, for images, the model file's input
// size when data.resize is not given); errors name the missing or broken file and the sample.
TrainingData loadTrainingData(const RunConfig &config);
// A model file (ONNX, MindIR, AIR, CNTK model-v2) made ready for the trainer: one float input,
// renamed "input", with a free batch dimension, fitting samples of shape `sample` (flat rows of
// 784 values are viewed as [1,28,28] when the model takes images); one output, logits [N, C] with
// C ≥ classes. Throws Error naming the file and what does not fit.
Graph loadTrainableModelFile(const std::string &path, const Shape &sample, int64_t classes,
                             const std::string &task = "classification");
// The run's model before training: the zoo model the config names, sized for samples of shape
// `sample` with `classes` outputs (the class count, or the targets per sample; 0: unknown, the
// zoo's 10), or config.modelFile made trainable. `dataName` names the data in errors. Throws Error.
Graph buildRunModel(const RunConfig &config, const Shape &sample, int64_t classes, const std::string &dataName);
// Validates the config, sets the kernel thread count, starts training.device (throwing the
// backend's reason when it cannot be used), builds everything (the zoo model, or
// config.modelFile). Throws Error.
std::unique_ptr<Trainer> makeTrainer(const RunConfig &config, const TrainingData &data);

} // namespace netwright
