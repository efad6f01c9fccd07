// SPDX-License-Identifier: Apache-2.0
#include "checkpoint/checkpoint_plan.h"

#include "checkpoint/checkpoint_manager.h"
#include "core/error.h"

#include <algorithm>

namespace netwright {

std::vector<std::string> planCheckpoints(const CheckpointSettings &settings, const std::string &directory, const std::string &model,
                                         const PlanShape &shape)
{
    check(shape.trainSamples > 0 && shape.batchSize > 0, "The plan needs a training split and a batch size.");
    const int64_t steps = shape.dropLast ? shape.trainSamples / shape.batchSize
                                         : (shape.trainSamples + shape.batchSize - 1) / shape.batchSize;
    const int64_t perEpoch = shape.dropLast ? steps * shape.batchSize : shape.trainSamples;
    double clock = 0;
    CheckpointManager m(settings, directory, model, [&] { return clock; });
    TrainBeginInfo begin;
    begin.epochs = shape.epochs;
    begin.stepsPerEpoch = steps;
    begin.trainSamples = perEpoch;
    begin.batchSize = shape.batchSize;
    m.onTrainBegin(begin);
    int64_t global = 0;
    for (int64_t epoch = 1; epoch <= shape.epochs; ++epoch) {
        for (int64_t step = 1; step <= steps; ++step) {
            StepInfo s;
            s.epoch = epoch;
            s.step = step;
            s.stepsPerEpoch = steps;
            s.globalStep = ++global;
            s.epochs = shape.epochs;
            s.batchSize = std::min(shape.batchSize, perEpoch - (step - 1) * shape.batchSize);
            clock += shape.stepSeconds;
            m.onStep(s);
        }
        clock += shape.evalSeconds;
        EvalInfo e;
        e.epoch = epoch;
        e.globalStep = global;
        m.onEvaluation(e);
    }
    TrainEndInfo end;
    end.globalStep = global;
    end.epochsDone = shape.epochs;
    m.onTrainEnd(end);
    return m.planLog();
}

} // namespace netwright
