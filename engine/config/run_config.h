// SPDX-License-Identifier: Apache-2.0
// The run config as plain C++ (the schema is proto/run_config.proto; the JSON is parsed strictly
// through protobuf's JSON support, so unknown keys and wrong types are errors naming the key).
// Layer: engine/config. Widgets and the CLI see these structs, never protobuf classes.
#pragma once

#include "optim/lr_schedule.h"
#include "optim/optimizer.h"

#include <cstdint>
#include <string>
#include <vector>

namespace netwright {

struct DataSettings {
    std::string dataset;                // fashion-mnist, idx, csv
    std::string trainImages, trainLabels, testImages, testLabels;
    std::string trainCsv, testCsv;
    bool csvHeader = false;
    bool shuffle = true;
    bool dropLast = false;
    float scale = 1.0f, mean = 0.0f, std = 1.0f;
    int evalBatchSize = 1000;
};

struct TrainingSettings {
    int epochs = 1;
    int batchSize = 64;
    uint32_t seed = 1;
    int threads = 0; // 0 = every core
    int logEvery = 100;
    std::string device = "cpu"; // cpu, cuda or cuda:N (see core/device.h parseDevice)
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
    std::string monitor = "eval_accuracy";  // eval_accuracy, eval_loss
    std::string mode = "max";               // max, min
    int saveTopK = 1;
    int keepPeriod = 0;
    bool crcCheck = false;
    std::vector<std::string> appendInfo{"epoch_num", "step_num"};
    bool asyncSave = false;
    bool exceptionSave = false;
    bool restore = false;
    std::string format = "mindspore";       // mindspore, cntk
    bool saveLast = false;
    struct Cntk {
        std::string filename;               // empty: <model>.dnn
        int64_t frequency = 1;
        std::string unit = "sweeps";        // samples, minibatches, sweeps
        bool preserveAll = false;
    } cntk;
};

struct RunConfig {
    std::string name;
    std::string model;     // a zoo model, or (with modelFile) the run's name for the model
    std::string modelFile; // a model file to train instead (model.file); empty: the zoo model
    std::string init;
    DataSettings data;
    OptimizerSettings optimizer;
    double lr = 0.01;
    ScheduleSettings schedule;
    TrainingSettings training;
    CheckpointSettings checkpoint;
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
// Range and name checks; throws Error naming the key.
void validateRunConfig(const RunConfig &config);

} // namespace netwright
