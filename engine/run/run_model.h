// SPDX-License-Identifier: Apache-2.0
// A run's model at one of its checkpoints, restored from the run's config and the checkpoint
// alone (DESIGN idea 9): no dataset is loaded, so a run whose data files were moved away still
// exports, shows its graph and compares its checkpoints. And what `export`, `convert`, the export
// wizard and the window export: a run directory (its best checkpoint by test accuracy, else its
// newest), a checkpoint in one, or a model file of any graph format — with where it came from,
// recorded in the exported file. Layer: engine/run.
#pragma once

#include "config/run_config.h"
#include "formats/file_format.h"
#include "formats/mindspore/ms_encryption.h"
#include "graph/graph.h"
#include "run/checkpoint_history.h"
#include "run/run_directory.h"

#include <string>
#include <utility>
#include <vector>

namespace netwright {

struct RunModel {
    RunConfig config;
    Graph model;            // the model (no loss) with the checkpoint's parameters and buffers
    int64_t globalStep = 0; // the step the checkpoint was taken at
    // What the checkpoint records of the data ("" where it was written before they were):
    std::string task;          // classification, regression, multilabel
    std::string classNames;    // one a line
    std::string normalization; // "(x * 0.00392157 - [0.49, 0.48, 0.45]) / [0.25, 0.24, 0.26] per channel"
};

// Throws Error naming the file and the problem (a missing or mismatched parameter included).
// Checkpoints written before the sample shape was recorded in them need the run's data once.
RunModel restoreRunModel(const RunDirectory &dir, const std::string &checkpointFile);

// A checkpoint a SOURCE argument names: a run directory's best checkpoint by the run's monitored
// metric (test accuracy for a classification, R² for a regression …), else the one resume would
// restore; or a checkpoint file in a run directory. With its history row (its metrics) when it
// has one. Throws Error naming the path ("… has no checkpoint to <verb> yet.").
struct RunCheckpoint {
    RunDirectory dir;
    std::string file; // a file name in dir
    std::optional<run::CheckpointRow> row;
};
RunCheckpoint chooseRunCheckpoint(const std::string &path, const std::string &verb = "export");

// The graph format of a model file (ONNX, MindIR, AIR, CNTK model-v2); nullopt for anything else,
// a CNTK trainer checkpoint's model in its run included.
// `key` opens an encrypted MindIR file.
std::optional<GraphFormat> modelFileFormat(const std::string &path, const mindspore::EncryptionKey &key = {});

struct ExportSource {
    Graph model;             // the graph to export, with its weights
    std::string description; // "<checkpoint> (global step N)" or "<file> (ONNX)"
    std::string defaultBase; // the output path without extension
    std::vector<std::pair<std::string, std::string>> metadata; // netwright.source, …_sha256, …
    const Graph &graph() const { return model; }
};

// Throws Error naming the path and the problem. `key` opens an encrypted MindIR model file; a run's
// own checkpoints are opened with the key its config names.
ExportSource loadExportSource(const std::string &path, const mindspore::EncryptionKey &key = {});

// The SHA-256 of a file's bytes as 64 hex digits (OpenSSL).
std::string fileSha256(const std::string &path);

} // namespace netwright
