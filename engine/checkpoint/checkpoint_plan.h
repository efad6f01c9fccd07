// SPDX-License-Identifier: Apache-2.0
// The retention preview (`netwright train --plan`): drives a dry-run CheckpointManager through
// the steps, evaluations and end of the configured run, so the preview is decided by the same
// code as the run. Time-based rules see a clock advancing by an assumed step time; metrics are
// unknown before training, so best-K cannot pick yet. Layer: engine/checkpoint.
#pragma once

#include "config/run_config.h"

#include <string>
#include <vector>

namespace netwright {

struct PlanShape {
    int64_t epochs = 1;
    int64_t trainSamples = 0;   // samples in the training split
    int64_t batchSize = 64;
    bool dropLast = false;
    double stepSeconds = 0.1;   // the assumed time of one step (time-based rules)
    double evalSeconds = 1.0;   // the assumed time of one evaluation
};

// The checkpoints.jsonl lines the run would write (saved, deleted, linked, graph_meta), in order.
// `directory`'s current files count (the prefix clash rule); nothing is written there.
std::vector<std::string> planCheckpoints(const CheckpointSettings &settings, const std::string &directory,
                                         const std::string &model, const PlanShape &shape);

} // namespace netwright
