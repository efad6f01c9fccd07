// SPDX-License-Identifier: Apache-2.0
// The figures a model is summed up by — parameter values and bytes, the tensors Constant nodes
// hold, how often each op occurs — for `netwright inspect` and the window's model properties
// (Netron's "model" sidebar). Layer: engine/formats.
#pragma once

#include "formats/model_description.h"

#include <cstdint>
#include <map>
#include <string>

namespace netwright {

// values: the elements of floating-point parameters (the weights, Constant-held ones included);
// bytes: of every parameter tensor the file holds; heldByNodes: tensors Constant nodes hold.
struct ParameterTotals {
    int64_t values = 0, bytes = 0, heldByNodes = 0;
};
ParameterTotals parameterTotals(const std::vector<ValueDescription> &parameters);

// Op type → how many nodes (subgraphs' included).
std::map<std::string, int> opHistogram(const ModelDescription &model);

} // namespace netwright
