// SPDX-License-Identifier: Apache-2.0
// What `netwright export`, `netwright convert` and the export wizard export: a run directory
// (its best checkpoint by test accuracy, else its newest), a checkpoint in one (restored into the
// run's model), or a model file of any graph format — with where it came from, recorded in the
// exported file. Layer: app/cli.
#pragma once

#include "graph/graph.h"
#include "train/trainer.h"

#include <QString>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace netwright::cli {

struct ExportSource {
    std::unique_ptr<Trainer> trainer; // a run's checkpoint restored into its model
    Graph imported;                   // or a model file's graph
    std::string description;          // "<checkpoint> (global step N)" or "<file> (ONNX)"
    QString defaultBase;              // the output path without extension
    std::vector<std::pair<std::string, std::string>> metadata; // netwright.source, …_sha256, …
    const Graph &graph() const { return trainer ? trainer->graph() : imported; }
};

// Throws Error naming the path and the problem.
ExportSource loadExportSource(const QString &path);

} // namespace netwright::cli
