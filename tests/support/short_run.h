// SPDX-License-Identifier: Apache-2.0
// Test support: short training runs on real data. The first 602 training and 250 test images of
// Fashion-MNIST (602 with batch 20 leaves a last batch of 2, smaller than three ranks), a zoo
// model trainer on them, and a run recorded step by step with its final parameters on the host.
#pragma once

#include "config/run_config.h"
#include "data/dataset.h"
#include "data/minibatch_source.h"
#include "train/trainer.h"
#include "zoo/model_zoo.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

namespace netwright::testing {

inline std::shared_ptr<Dataset> firstSamples(const Dataset &all, int64_t n)
{
    auto d = std::make_shared<Dataset>();
    d->name = all.name;
    d->classes = all.classes;
    Shape shape = all.features.shape();
    shape[0] = n;
    d->features = Tensor(shape, all.features.dtype());
    std::memcpy(d->features.raw(), all.features.raw(), d->features.byteSize());
    d->labels = Tensor({n}, DType::Int64);
    std::memcpy(d->labels.raw(), all.labels.raw(), d->labels.byteSize());
    return d;
}

struct ShortData {
    std::shared_ptr<Dataset> train, test;
};

inline ShortData loadShortData(int64_t trainSamples = 602, int64_t testSamples = 250)
{
    const std::string fm = defaultFashionMnistDir();
    const Dataset train = loadIdxDataset(fm + "/train-images-idx3-ubyte.gz", fm + "/train-labels-idx1-ubyte.gz");
    const Dataset test = loadIdxDataset(fm + "/t10k-images-idx3-ubyte.gz", fm + "/t10k-labels-idx1-ubyte.gz");
    return {firstSamples(train, trainSamples), firstSamples(test, testSamples)};
}

// One epoch of a zoo model (Kaiming-uniform init, seed 5), batch 20 shuffled with seed 7, the
// default normalisation, evaluated in batches of 100.
inline std::unique_ptr<Trainer> makeShortTrainer(const ShortData &data, const std::string &model, const OptimizerSettings &opt,
                                                 double lr, Device device = Device::cpu())
{
    const RunConfig defaults = defaultRunConfig();
    const Normalization norm{defaults.data.scale, defaults.data.mean, defaults.data.std};
    ModelSpec spec;
    spec.name = model;
    TrainerSettings settings{1, 1, lr, {}};
    settings.device = device;
    return std::make_unique<Trainer>(buildZooModel(spec, InitScheme::KaimingUniform, 5),
                                     std::make_unique<DatasetSource>(data.train, 20, true, false, 7, norm),
                                     std::make_unique<DatasetSource>(data.test, 100, false, false, 0, norm), makeOptimizer(opt),
                                     settings);
}

struct ShortRun {
    std::map<std::string, std::vector<float>> parameters; // host copies, buffers included
    std::vector<float> losses, accuracies;                 // per step
    EvalInfo eval;
};

// Records every step and asks for a stop after global step `stopAt` (0: never).
class ShortRunRecorder final : public TrainingObserver {
public:
    ShortRunRecorder(ShortRun &run, std::stop_source &stop, int64_t stopAt) : m_run(run), m_stop(stop), m_stopAt(stopAt) {}
    void onStep(const StepInfo &s) override
    {
        m_run.losses.push_back(s.loss);
        m_run.accuracies.push_back(s.accuracy);
        if (s.globalStep == m_stopAt)
            m_stop.request_stop();
    }

private:
    ShortRun &m_run;
    std::stop_source &m_stop;
    int64_t m_stopAt;
};

// Runs `t` (to its end, or through global step stopAt), appending to `run`.
inline ShortRun finishRun(Trainer &t, int64_t stopAt = 0, ShortRun run = {})
{
    std::stop_source stop;
    ShortRunRecorder rec(run, stop, stopAt);
    t.addObserver(&rec);
    const TrainEndInfo end = t.run(stop.get_token());
    if (end.lastEvaluation)
        run.eval = *end.lastEvaluation;
    run.parameters.clear();
    for (const auto &[name, v] : t.graph().initializers)
        if (v.dtype() == DType::Float32) {
            const Tensor h = v.to(Device::cpu());
            run.parameters[name].assign(h.data(), h.data() + h.numel());
        }
    return run;
}

// The largest ‖a − b‖ / ‖b‖ over the parameters (L2 norms, each parameter on its own).
inline double worstRelativeDifference(const std::map<std::string, std::vector<float>> &a,
                                      const std::map<std::string, std::vector<float>> &b)
{
    double worst = 0.0;
    for (const auto &[name, v] : b) {
        const auto &w = a.at(name);
        double diff = 0.0, norm = 0.0;
        for (size_t i = 0; i < v.size(); ++i) {
            diff += (double(w[i]) - v[i]) * (double(w[i]) - v[i]);
            norm += double(v[i]) * v[i];
        }
        if (norm > 0)
            worst = std::max(worst, std::sqrt(diff / norm));
    }
    return worst;
}

} // namespace netwright::testing
