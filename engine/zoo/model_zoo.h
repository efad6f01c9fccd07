// SPDX-License-Identifier: Apache-2.0
// Built-in models for 1×28×28 images and 10 classes: mlp, lenet5, cnn-small, cnn-bn. Layer:
// engine/zoo. Every model reads the graph input "input" [N,1,28,28] and writes "logits" [N,10];
// parameters carry MindSpore cell names (conv1.weight, fc1.bias, bn1.gamma, bn1.moving_mean …).
#pragma once

#include "graph/graph.h"
#include "zoo/initializers.h"

#include <string>
#include <vector>

namespace netwright {

struct ModelSpec {
    std::string name;
    int64_t channels = 1, height = 28, width = 28, classes = 10;
};

std::vector<std::string> zooModelNames();
// Throws Error listing the known names when spec.name is not one of them.
Graph buildZooModel(const ModelSpec &spec, InitScheme init, uint64_t seed);

} // namespace netwright
