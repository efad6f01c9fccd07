// SPDX-License-Identifier: Apache-2.0
#include "train/trainer.h"

#include "core/error.h"
#include "core/parallel.h"

namespace netwright {

namespace {
constexpr uint64_t kDropoutStream = 3;
}

int64_t countCorrect(const Tensor &logits, const Tensor &labels)
{
    const int64_t n = logits.dim(0), c = logits.dim(1);
    const float *l = logits.data();
    const int64_t *y = labels.dataAs<int64_t>();
    int64_t correct = 0;
    for (int64_t i = 0; i < n; ++i) {
        int64_t best = 0;
        for (int64_t k = 1; k < c; ++k)
            if (l[i * c + k] > l[i * c + best])
                best = k;
        correct += best == y[i];
    }
    return correct;
}

Trainer::Trainer(Graph model, std::unique_ptr<MinibatchSource> train, std::unique_ptr<MinibatchSource> test,
                 std::unique_ptr<Optimizer> optimizer, TrainerSettings settings)
    : m_graph(std::move(model)), m_train(std::move(train)), m_test(std::move(test)), m_optimizer(std::move(optimizer)),
      m_settings(std::move(settings)), m_dropoutRng(deriveSeed(m_settings.seed, kDropoutStream))
{
    check(m_graph.outputs.size() == 1, "Model \"" + m_graph.name + "\" must have exactly one output (the logits) to train.");
    check(m_graph.inputs.size() == 1, "Model \"" + m_graph.name + "\" must have exactly one input to train.");
    m_logits = m_graph.outputs[0].name;
    // Check the data against the model before the first step, naming the node that does not fit.
    Shape inShape = m_train->sampleShape();
    inShape.insert(inShape.begin(), 1);
    const auto &declared = m_graph.inputs[0].shape;
    bool fits = declared.size() == inShape.size();
    for (size_t d = 1; fits && d < declared.size(); ++d)
        fits = declared[d] < 0 || declared[d] == inShape[d];
    check(fits, "Model \"" + m_graph.name + "\" expects input " + shapeToString(declared) + " but the data gives samples of shape "
                    + shapeToString(m_train->sampleShape()) + ".");
    m_graph.inferShapes({{m_graph.inputs[0].name, inShape}});
    m_graph.inputs.push_back({"labels", {-1}, DType::Int64});
    m_graph.addNode("SoftmaxCrossEntropyLoss", "loss", {m_logits, "labels"}, {"loss"}, {{"reduction", std::string("mean")}});
    m_graph.outputs.push_back({"loss", {}, DType::Float32});
    m_executor = std::make_unique<Executor>(m_graph);
    m_executor->setDropoutRng(&m_dropoutRng);
}

std::vector<ParameterRef> Trainer::parameterRefs()
{
    std::vector<ParameterRef> refs;
    for (const auto &name : m_graph.trainable)
        refs.push_back({name, &m_graph.initializers.at(name), &m_executor->gradient(name)});
    return refs;
}

TrainerProgress Trainer::progress() const
{
    return {m_globalStep, m_train->saveState(), m_dropoutRng.state(), m_epochLossSum, m_epochCorrect, m_epochSamples};
}

void Trainer::restoreProgress(const TrainerProgress &p)
{
    check(p.globalStep >= 0 && p.epochSamples >= 0 && p.epochCorrect >= 0 && p.epochCorrect <= p.epochSamples,
          "Cannot restore training progress: the step counters are inconsistent.");
    m_train->restoreState(p.data);
    m_globalStep = p.globalStep;
    m_dropoutRng.setState(p.dropout);
    m_epochLossSum = p.epochLossSum;
    m_epochCorrect = p.epochCorrect;
    m_epochSamples = p.epochSamples;
}

EvalInfo Trainer::evaluate(int64_t epoch)
{
    EvalInfo info;
    info.epoch = epoch;
    info.globalStep = m_globalStep;
    double lossSum = 0.0;
    m_test->restoreState({});
    while (auto mb = m_test->next()) {
        m_executor->forward({{m_graph.inputs[0].name, mb->features}, {"labels", mb->labels}}, false);
        const int64_t b = mb->labels.dim(0);
        lossSum += static_cast<double>(m_executor->value("loss").data()[0]) * static_cast<double>(b);
        info.correct += countCorrect(m_executor->value(m_logits), mb->labels);
        info.samples += b;
    }
    info.loss = info.samples ? lossSum / static_cast<double>(info.samples) : 0.0;
    info.accuracy = info.samples ? static_cast<double>(info.correct) / static_cast<double>(info.samples) : 0.0;
    return info;
}

TrainEndInfo Trainer::run(std::stop_token stop)
{
    const int64_t stepsPerEpoch = m_train->batchesPerEpoch();
    const int64_t totalSteps = stepsPerEpoch * m_settings.epochs;
    const LrSchedule schedule(m_settings.schedule, m_settings.baseLr, stepsPerEpoch, totalSteps);
    TrainBeginInfo begin{m_settings.epochs, stepsPerEpoch, m_globalStep, m_train->samplesPerEpoch(), m_test->samplesPerEpoch(),
                         m_graph.parameterCount(), 0, threadCount()};
    for (auto *o : m_observers)
        o->onTrainBegin(begin);

    TrainEndInfo end;
    const std::string &input = m_graph.inputs[0].name;
    for (int64_t epoch = m_train->saveState().epoch; epoch < m_settings.epochs; ++epoch) {
        // Members, not locals: a resumed run continues the sums of the epoch it stopped in.
        double &lossSum = m_epochLossSum;
        int64_t &correct = m_epochCorrect, &samples = m_epochSamples;
        while (auto mb = m_train->next()) {
            const double lr = schedule.at(m_globalStep);
            m_executor->forward({{input, mb->features}, {"labels", mb->labels}}, true);
            m_executor->backward("loss");
            m_optimizer->step(parameterRefs(), lr);
            ++m_globalStep;
            const int64_t b = mb->labels.dim(0);
            StepInfo step;
            step.epoch = epoch + 1;
            step.step = mb->index + 1;
            step.stepsPerEpoch = stepsPerEpoch;
            step.globalStep = m_globalStep;
            step.epochs = m_settings.epochs;
            step.batchSize = b;
            step.loss = m_executor->value("loss").data()[0];
            const int64_t ok = countCorrect(m_executor->value(m_logits), mb->labels);
            step.accuracy = static_cast<float>(ok) / static_cast<float>(b);
            step.lr = lr;
            lossSum += static_cast<double>(step.loss) * static_cast<double>(b);
            correct += ok;
            samples += b;
            for (auto *o : m_observers)
                o->onStep(step);
            if (stop.stop_requested()) {
                end.stopped = true;
                break;
            }
        }
        if (end.stopped)
            break;
        EpochInfo ei{epoch + 1, m_globalStep, samples, samples ? lossSum / static_cast<double>(samples) : 0.0,
                     samples ? static_cast<double>(correct) / static_cast<double>(samples) : 0.0};
        lossSum = 0.0;
        correct = 0;
        samples = 0;
        for (auto *o : m_observers)
            o->onEpochEnd(ei);
        const EvalInfo eval = evaluate(epoch + 1);
        end.lastEvaluation = eval;
        end.epochsDone = epoch + 1;
        for (auto *o : m_observers)
            o->onEvaluation(eval);
    }
    end.globalStep = m_globalStep;
    for (auto *o : m_observers)
        o->onTrainEnd(end);
    return end;
}

} // namespace netwright
