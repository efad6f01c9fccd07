// SPDX-License-Identifier: Apache-2.0
// The neutral unit of a training state: a named tensor or a named string. A whole training state
// (parameters, optimizer slots, cursor, RNG states — checkpoint/training_state.h) is a list of
// them; each checkpoint format maps it to its own layout (MindSpore .ckpt entries, CNTK's model +
// .ckp pair). Layer: engine/core.
#pragma once

#include "core/tensor.h"

#include <string>
#include <vector>

namespace netwright {

struct StateEntry {
    std::string name;
    Tensor tensor;           // numeric entries; a scalar has shape []
    bool isString = false;   // a string entry: `text` holds it (UTF-8)
    std::string text;

    static StateEntry ofTensor(std::string name, Tensor t) { return {std::move(name), std::move(t), false, {}}; }
    static StateEntry ofString(std::string name, std::string s) { return {std::move(name), {}, true, std::move(s)}; }
};

using TrainingState = std::vector<StateEntry>;

} // namespace netwright
