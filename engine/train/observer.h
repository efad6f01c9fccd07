// SPDX-License-Identifier: Apache-2.0
// What the Trainer reports, and the plain observer interface it reports through. Layer:
// engine/train. Observers run on the training thread and must return quickly; the app adapts
// them to queued Qt signals. Epochs and steps are 1-based here, as users count them.
#pragma once

#include "core/device.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace netwright {

// One named figure of a task: accuracy, top5, r2, rmse, mae, f1, precision, recall, f1[label].
struct Metric {
    std::string name;
    double value = 0.0;
    bool operator==(const Metric &) const = default;
};

struct TrainBeginInfo {
    int64_t epochs = 0, stepsPerEpoch = 0, startGlobalStep = 0;
    int64_t trainSamples = 0, testSamples = 0, parameters = 0, batchSize = 0;
    int threads = 1; // kernel threads per rank
    int ranks = 1;   // data-parallel processes (MPI world size); batchSize is the global batch
    Device device;   // where the kernels run (this rank's device)
    bool images = true; // the samples are images [C,H,W] (progress counts img/s, else samples/s)
    bool bf16 = false;  // the step's products and convolutions run in bf16 (training.precision bf16)
};

struct StepInfo {
    int64_t epoch = 0, step = 0, stepsPerEpoch = 0, globalStep = 0, epochs = 0, batchSize = 0;
    float loss = 0.0f;     // the mean loss of this minibatch (the task's loss)
    float accuracy = 0.0f; // classification: fraction of this minibatch classified right
    double lr = 0.0;       // the rate this step's update used
    Metric metric;         // the task's step figure: accuracy, mae (regression) or f1 (multilabel)
};

struct EpochInfo {
    int64_t epoch = 0, globalStep = 0, samples = 0;
    double trainLoss = 0.0, trainAccuracy = 0.0; // sample-weighted means over the epoch
    bool hasAccuracy = true;                     // a classification (trainAccuracy means something)
};

struct EvalInfo {
    int64_t epoch = 0, globalStep = 0, samples = 0, correct = 0;
    double loss = 0.0, accuracy = 0.0; // accuracy, correct: classification
    std::vector<Metric> metrics;       // the task's metrics, its main one first (task_metrics.h)
    // The value of metric `name` ("loss", "accuracy", "r2" …), or nullopt.
    std::optional<double> metric(const std::string &name) const
    {
        if (name == "loss")
            return loss;
        for (const auto &m : metrics)
            if (m.name == name)
                return m.value;
        return std::nullopt;
    }
};

struct TrainEndInfo {
    bool stopped = false; // the stop token ended training early
    int64_t globalStep = 0, epochsDone = 0;
    std::optional<EvalInfo> lastEvaluation;
    // Data-parallel: FNV-1a of every parameter's bytes, checked equal on all ranks at the end
    // (0 for a one-process run).
    uint64_t parameterChecksum = 0;
};

class TrainingObserver {
public:
    virtual ~TrainingObserver() = default;
    virtual void onTrainBegin(const TrainBeginInfo &) {}
    virtual void onStep(const StepInfo &) {}
    virtual void onEpochEnd(const EpochInfo &) {}
    virtual void onEvaluation(const EvalInfo &) {}
    virtual void onTrainEnd(const TrainEndInfo &) {}
};

} // namespace netwright
