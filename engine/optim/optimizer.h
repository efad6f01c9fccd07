// SPDX-License-Identifier: Apache-2.0
// Optimizers over named parameters: SGD (momentum, Nesterov, L2 weight decay), Adam (L2) and
// AdamW (decoupled decay), with PyTorch's update rules. Layer: engine/optim. State is keyed by
// parameter NAME with MindSpore's slot names (moments.<p>, moment1.<p>, moment2.<p>,
// beta1_power, beta2_power), so a checkpoint can hold it and restore it exactly.
#pragma once

#include "core/tensor.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace netwright {

struct OptimizerSettings {
    std::string name = "sgd"; // sgd, adam, adamw
    double momentum = 0.0;
    bool nesterov = false;
    double weightDecay = 0.0;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
};

struct ParameterRef {
    std::string name;
    Tensor *value;       // updated in place
    const Tensor *grad;
};

class Optimizer {
public:
    virtual ~Optimizer() = default;
    // One update of every parameter with learning rate lr. Deterministic for a thread count.
    virtual void step(const std::vector<ParameterRef> &params, double lr) = 0;
    // Slot tensors by MindSpore name; restoring them continues bit-identically.
    virtual std::map<std::string, Tensor> state() const = 0;
    virtual void loadState(const std::map<std::string, Tensor> &state) = 0;
    virtual std::string name() const = 0;
    // Scalar hyper-parameters MindSpore's optimizers store beside their slots ("momentum" for
    // Momentum); informational in a checkpoint — the run config is what restores them.
    virtual std::map<std::string, float> hyperparameters() const { return {}; }
};

// Throws Error naming the optimizer when the name or a setting is invalid.
std::unique_ptr<Optimizer> makeOptimizer(const OptimizerSettings &settings);

} // namespace netwright
