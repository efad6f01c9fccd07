// SPDX-License-Identifier: Apache-2.0
// Loading a checkpoint's named tensors into a model (fine-tuning, `load-check`): which model
// parameters a file's tensors match by name and shape, which are missing, unexpected or of another
// shape, with suggested renames (MindSpore ↔ PyTorch BatchNorm names, DataParallel's "module.",
// close names) and BatchNorm folded into the convolutions of exports that folded it. Layer:
// engine/checkpoint. Never changes a model until everything it loads is checked.
#pragma once

#include "core/state_entry.h"
#include "graph/graph.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace netwright {

// A model's parameters by name and shape, in graph order: the trainable initializers and the
// BatchNorm statistics (constants such as shape operands are not parameters).
struct ModelParameter {
    std::string name;
    Shape shape;
};
std::vector<ModelParameter> modelParameters(const Graph &graph);

// An initializer that reaches several consumers through Identity nodes (what torch.onnx's
// constant folding writes for equal folded biases) becomes one initializer per Identity output,
// so each can take its own value. The model computes the same. Returns how many were untied.
int untieIdentityInitializers(Graph &graph);

// Renames applied to a checkpoint's names before matching, in file order: {file name, model name}.
using WeightRenames = std::vector<std::pair<std::string, std::string>>;
// A --map file: a JSON object {"from": "to", …}, or lines "from to" (blank lines skipped; a #
// starts a comment that runs to the end of its line). Throws Error naming the file and the line or key that is wrong.
WeightRenames readWeightMapFile(const std::string &path);

enum class WeightStatus { Matched, Missing, Unexpected, ShapeMismatch, Ignored };
const char *weightStatusName(WeightStatus status); // "matched", "missing", …

struct WeightRow {
    WeightStatus status = WeightStatus::Matched;
    std::string modelName; // empty for unexpected and ignored entries
    std::string fileName;  // the name in the file; empty for missing parameters
    Shape modelShape, fileShape;
    std::string how; // matched: "name", "map", "folded with BatchNorm bn1", "conv order"; ignored: why
};

struct WeightSuggestion {
    std::string from, to; // a file name and the model name it likely is: a --map line
    std::string why;
};

struct WeightMatchReport {
    std::vector<WeightRow> rows;            // model parameters in graph order, then the file's leftovers
    std::vector<WeightSuggestion> suggestions;
    std::vector<std::string> unusedRenames; // --map entries that name no tensor in the file
    std::map<std::string, Tensor> values;   // what loading writes: model name → float32 host tensor
    int count(WeightStatus status) const;
    bool complete() const; // nothing missing, unexpected or of another shape, every rename used
    // "2 missing (conv1.weight, bn1.weight), 1 unexpected (x), …" — the strict mode's complaint.
    std::string problems() const;
};

// Matches a checkpoint's entries (readTrainingStateFile) against a model. Training-state entries
// (optimizer slots, step counters, "netwright.*", strings, num_batches_tracked) are ignored.
// Throws Error when a rename collides with another name in the file.
WeightMatchReport matchWeights(const Graph &model, const TrainingState &file, const WeightRenames &renames);

// Reads `checkpointPath` (any checkpoint format readTrainingStateFile reads) and the --map file
// ("" for none) and matches them against `model`, changing nothing. Strict: anything missing,
// unexpected or of another shape is an Error naming the file and them. Either way, a file of which
// nothing matches is an Error.
WeightMatchReport matchWeightsFile(const Graph &model, const std::string &checkpointPath, const std::string &mapPath, bool strict);
// One line for a console: "Started from "x.npz": 62 of 62 parameters loaded (40 with BatchNorm folded in)."
std::string loadSummary(const WeightMatchReport &report, const std::string &checkpointPath);

// --init-from: reads `checkpointPath` (any checkpoint format readTrainingStateFile reads), unties
// Identity-shared initializers, matches and writes what matched into `model`'s initializers.
// Strict: anything missing, unexpected or of another shape is an Error naming the file and them,
// and the model is left as it was. Lenient: what matches is loaded, the report says the rest.
WeightMatchReport loadWeightsInto(Graph &model, const std::string &checkpointPath, const std::string &mapPath, bool strict);

} // namespace netwright
