// SPDX-License-Identifier: Apache-2.0
// Built-in models sized by the data: mlp (any sample shape, flattened; hidden layer sizes
// given), lenet5, cnn-small and cnn-bn (images [C,H,W]). Layer: engine/zoo. Every model reads
// the graph input "input" [N, sample…] and writes "logits" [N, classes] (classes: the class count,
// or the regression targets / multilabel labels per sample); parameters carry MindSpore cell
// names (conv1.weight, fc1.bias, bn1.gamma, bn1.moving_mean …).
#pragma once

#include "graph/graph.h"
#include "zoo/initializers.h"

#include <string>
#include <vector>

namespace netwright {

struct ModelSpec {
    std::string name;
    int64_t channels = 1, height = 28, width = 28, classes = 10;
    // mlp: the sample shape it flattens (empty: [channels, height, width]) and its hidden layers.
    Shape sample;
    std::vector<int64_t> hidden{256, 128};
};

std::vector<std::string> zooModelNames();
// Throws Error listing the known names when spec.name is not one of them.
Graph buildZooModel(const ModelSpec &spec, InitScheme init, uint64_t seed);

} // namespace netwright
