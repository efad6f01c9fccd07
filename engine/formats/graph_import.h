// SPDX-License-Identifier: Apache-2.0
// What the importers of graph formats (MindIR, AIR, CNTK model-v2) share once the nodes are
// built: which initializers the optimizer may train — float tensors at least one consumer sends a
// gradient into; BatchNorm statistics, shapes and bounds stay buffers — and the final check that
// the wiring holds, reported against the file. Layer: engine/formats.
#pragma once

#include "graph/graph.h"

#include <string>

namespace netwright {

// Sets graph.trainable from the consumers' kernels.
void markTrainableParameters(Graph &graph);
// graph.validate(), rethrown as "Cannot import "<source>" as <format>: …".
void validateImported(Graph &graph, const std::string &source, const std::string &format);

} // namespace netwright
