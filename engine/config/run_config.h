// SPDX-License-Identifier: Apache-2.0
// The run config as plain C++ (the schema is proto/run_config.proto; the JSON is parsed strictly
// through protobuf's JSON support, so unknown keys and wrong types are errors naming the key).
// Layer: engine/config. Widgets and the CLI see these structs, never protobuf classes.
#pragma once

#include "optim/lr_schedule.h"
#include "optim/optimizer.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace netwright {

struct DataSettings {
    std::string dataset;                // path, fashion-mnist, idx, csv
    std::string trainImages, trainLabels, testImages, testLabels;
    std::string trainCsv, testCsv;
    bool csvHeader = false;
    bool shuffle = true;
    bool dropLast = false;
    float scale = 1.0f, mean = 0.0f, std = 1.0f; // fashion-mnist, idx, csv: x' = (x·scale − mean) / std
    int evalBatchSize = 1000;
    // dataset "path" (see proto/run_config.proto for every key)
    std::string path, testPath;
    float testSplit = 0.0f;
    std::string label;                  // CSV target column(s), comma-separated
    std::string targets;                // .npy targets beside .npy features
    std::vector<int> resize, centerCrop; // [H, W] or empty
    int channels = 0;                   // 0 = as stored
    std::string normalize = "auto";     // auto, none, standardize, given
    std::vector<float> featureMean, featureStd;
    int randomCropPadding = 0;
    bool horizontalFlip = false;
    std::string stream = "auto";        // auto, on, off
    int readThreads = 0;                // 0 = every core
};

struct TaskSettings {
    std::string type = "classification"; // classification, regression, multilabel
    std::string loss;                    // "" = the task's own; regression: mse, l1, huber
    float huberDelta = 1.0f;
};

struct TrainingSettings {
    int epochs = 1;
    int batchSize = 64;
    uint32_t seed = 1;
    int threads = 0; // 0 = every core
    int logEvery = 100;
    std::string device = "cpu"; // cpu, cuda or cuda:N (see core/device.h parseDevice)
    // fp32, or bf16: the training step's matrix multiplies and convolutions take bfloat16 inputs and
    // accumulate in fp32 (core/blas.h); weights, gradients, optimizer state, loss and checkpoints stay fp32.
    std::string precision = "fp32";
};

struct CheckpointSettings {
    bool enabled = true;
    std::string prefix;                     // empty: the model name
    int saveCheckpointSteps = 0;
    int saveCheckpointSeconds = 0;
    int keepCheckpointMax = 5;
    int keepCheckpointPerNMinutes = 0;
    bool saveEveryEpoch = true;
    bool saveAtEnd = true;
    std::string monitor = "auto";           // auto (the task's main metric), eval_loss, eval_<metric>
    std::string mode = "auto";              // auto (the metric's own), max, min
    int saveTopK = 1;
    int keepPeriod = 0;
    bool crcCheck = false;
    std::vector<std::string> appendInfo{"epoch_num", "step_num"};
    bool asyncSave = false;
    bool exceptionSave = false;
    bool restore = false;
    std::string format = "mindspore";       // mindspore, cntk
    bool saveLast = false;
    std::string encKeyFile;                 // non-empty: checkpoints are encrypted with the key in this file (its path only is kept)
    std::string encMode;                    // "" (AES-GCM), AES-GCM, AES-CBC, SM4-CBC
    struct Cntk {
        std::string filename;               // empty: <model>.dnn
        int64_t frequency = 1;
        std::string unit = "sweeps";        // samples, minibatches, sweeps
        bool preserveAll = false;
    } cntk;
};

struct LoggingSettings {
    bool tensorboard = true; // TensorBoard event files beside metrics.jsonl (run/tensorboard_log.h)
};

struct RunConfig {
    std::string name;
    std::string model;     // a zoo model, or (with modelFile) the run's name for the model
    std::string modelFile; // a model file to train instead (model.file); empty: the zoo model
    std::string init;
    std::vector<int> hidden{256, 128}; // mlp hidden layer sizes
    std::string initFrom;    // model.init_from: a checkpoint a new run starts from (fine-tuning); empty: none
    std::string initFromMap; // model.init_from_map: renames of its tensors
    bool initFromStrict = false; // model.init_from_strict
    DataSettings data;
    TaskSettings task;
    OptimizerSettings optimizer;
    double lr = 0.01;
    ScheduleSettings schedule;
    TrainingSettings training;
    CheckpointSettings checkpoint;
    LoggingSettings logging;
};

// What a model file's runs are called: its name without directory and extensions ("resnet18"
// for "/m/resnet18.onnx").
std::string modelNameOfFile(const std::string &path);

// The embedded default (resources/configs/default.json, compiled in).
RunConfig defaultRunConfig();
const std::string &defaultRunConfigJson();
// Parses JSON over `base`: keys present in the text override it. `source` names the file in
// errors: `Run config "run.json": unknown key "optimizer.lrr".`
RunConfig parseRunConfig(const std::string &json, const std::string &source, const RunConfig &base);
RunConfig loadRunConfigFile(const std::string &path, const RunConfig &base);
// Every key, defaults included: what a run directory records as "the config as run".
std::string runConfigToJson(const RunConfig &config);
// The evaluation metrics a task reports, its main one first: classification accuracy, top5;
// regression r2, rmse, mae; multilabel f1, precision, recall (means over the labels).
std::vector<std::string> taskMetricNames(const std::string &task);
// checkpoint.monitor and .mode with "auto" resolved: ("eval_accuracy", true) …
std::pair<std::string, bool> resolveMonitor(const CheckpointSettings &checkpoint, const std::string &task);
// Range and name checks; throws Error naming the key.
void validateRunConfig(const RunConfig &config);

} // namespace netwright
