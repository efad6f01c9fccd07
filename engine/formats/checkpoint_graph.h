// SPDX-License-Identifier: Apache-2.0
// A checkpoint seen with its graph: MindSpore's ModelCheckpoint (and every Netwright run) writes
// `<prefix>-graph.meta` once beside `<prefix>-<epoch>_<step>.ckpt`, `<prefix>-last.ckpt`, … . The
// graph dump holds the network but no values, the checkpoint the values but no network: together
// they are the model as Netron would show it. Layer: engine/formats.
#pragma once

#include "formats/model_description.h"

#include <string>

namespace netwright {

// The `<prefix>-graph.meta` beside a .ckpt file: the prefix is the file name up to its last '-'
// (cnn-small-3_63.ckpt → cnn-small-graph.meta), else the whole stem (net.ckpt → net-graph.meta).
// Empty when there is none.
std::string graphMetaBeside(const std::string &checkpointPath);

// The checkpoint with the dump's graph: nodes, inputs and outputs from `graph`, the parameters
// (with values) and properties from `checkpoint`, plus a "graph" property naming `graphFile`.
// The format stays the checkpoint's.
ModelDescription withGraph(ModelDescription checkpoint, const ModelDescription &graph, const std::string &graphFile);

} // namespace netwright
