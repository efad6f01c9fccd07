// SPDX-License-Identifier: Apache-2.0
// The training loop: epochs × minibatches, an evaluation on the test split after every epoch,
// observers told of every step, a stop token checked between steps. Layer: engine/train.
// Deterministic for a given seed and thread count: every RNG is seeded from the run seed.
#pragma once

#include "autodiff/executor.h"
#include "data/minibatch_source.h"
#include "optim/lr_schedule.h"
#include "optim/optimizer.h"
#include "train/observer.h"

#include <memory>
#include <stop_token>
#include <vector>

namespace netwright {

// Where training stands between two steps: with the parameters and the optimizer slots, this is
// everything a checkpoint needs for an exact resume.
struct TrainerProgress {
    int64_t globalStep = 0;
    SourceState data;          // the training source's cursor after the last step
    Rng::State dropout{};      // the dropout stream
    double epochLossSum = 0.0; // the running sums of the epoch in progress (for its summary)
    int64_t epochCorrect = 0, epochSamples = 0;
};

struct TrainerSettings {
    int64_t epochs = 1;
    uint64_t seed = 1;
    double baseLr = 0.01;
    ScheduleSettings schedule;
};

class Trainer {
public:
    // model: a graph reading "input" and writing its single output (the logits [N, classes]).
    // The trainer appends a SoftmaxCrossEntropyLoss against the fed "labels".
    Trainer(Graph model, std::unique_ptr<MinibatchSource> train, std::unique_ptr<MinibatchSource> test,
            std::unique_ptr<Optimizer> optimizer, TrainerSettings settings);

    void addObserver(TrainingObserver *observer) { m_observers.push_back(observer); }
    // Trains to the configured epoch count or until stop is requested (then returns after the
    // current step). Throws Error on bad data or a model that does not fit it.
    TrainEndInfo run(std::stop_token stop = {});
    // Loss and accuracy of the current parameters on the test split.
    EvalInfo evaluate(int64_t epoch);

    // The training graph: the model plus the loss node; its initializers are the live parameters.
    Graph &graph() { return m_graph; }
    const Graph &graph() const { return m_graph; }
    int64_t globalStep() const { return m_globalStep; }
    Optimizer &optimizer() { return *m_optimizer; }
    const Optimizer &optimizer() const { return *m_optimizer; }
    const TrainerSettings &settings() const { return m_settings; }
    // Valid between steps (in an observer, or before/after run()).
    TrainerProgress progress() const;
    // Continues from `p` at the next run(); throws Error when the data cursor does not fit.
    void restoreProgress(const TrainerProgress &p);

private:
    std::vector<ParameterRef> parameterRefs();

    Graph m_graph;
    std::string m_logits;
    std::unique_ptr<MinibatchSource> m_train, m_test;
    std::unique_ptr<Optimizer> m_optimizer;
    TrainerSettings m_settings;
    std::unique_ptr<Executor> m_executor;
    Rng m_dropoutRng;
    int64_t m_globalStep = 0;
    double m_epochLossSum = 0.0;
    int64_t m_epochCorrect = 0, m_epochSamples = 0;
    std::vector<TrainingObserver *> m_observers;
};

// Fraction of rows whose arg-max equals the label; logits [N,C], labels [N] int64.
int64_t countCorrect(const Tensor &logits, const Tensor &labels);

} // namespace netwright
