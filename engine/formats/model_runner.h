// SPDX-License-Identifier: Apache-2.0
// Inference of a model file, for `netwright run` and the window: the model read by content (ONNX,
// MindIR, AIR, CNTK model-v2), input tensors read from .npy or ONNX TensorProto (.pb) files and
// bound to the model's inputs (in order, or by name), checked against each input's element type
// and shape, and every output returned in the model's output order. Layer: engine/formats.
#pragma once

#include "graph/graph.h"

#include <string>
#include <utility>
#include <vector>

namespace netwright {

// A tensor file by content: NumPy .npy (the "\x93NUMPY" magic) or a serialized ONNX TensorProto.
// Error naming `path` when it is neither, or when its bytes do not hold what they declare.
Tensor readTensorFile(const std::string &path);

// One --input: a file for the next input in the model's order, or NAME=FILE.
struct InputArgument {
    std::string name; // empty: positional
    std::string path;
};
InputArgument parseInputArgument(const std::string &text);

// The feeds for `graph`: every input bound exactly once. Errors name the input and the file: an
// unknown name, an input bound twice or never, a file of another element type, or a shape that
// does not fit the input's (both shapes named, -1 = a dimension the model leaves free).
std::map<std::string, Tensor> bindInputs(const Graph &graph, const std::vector<InputArgument> &inputs);

struct ModelOutput {
    std::string name;
    Tensor value;
};

// Runs `graph` forward in inference mode on `feeds` and returns its outputs in order (host copies).
std::vector<ModelOutput> runModel(Graph &graph, const std::map<std::string, Tensor> &feeds);

} // namespace netwright
