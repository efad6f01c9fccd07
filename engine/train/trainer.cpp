// SPDX-License-Identifier: Apache-2.0
#include "train/trainer.h"

#include "core/error.h"
#include "core/parallel.h"
#include "dist/communicator.h"
#include "train/task_metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace netwright {

namespace {
constexpr uint64_t kDropoutStream = 3;

// Rows [lo, hi) of a minibatch, copied (a rank trains on its slice only).
Minibatch sliceRows(const Minibatch &mb, int64_t lo, int64_t hi)
{
    Minibatch out;
    out.epoch = mb.epoch;
    out.index = mb.index;
    const int64_t rows = mb.labels.dim(0);
    const int64_t sample = rows ? mb.features.numel() / rows : 0;
    Shape shape = mb.features.shape();
    shape[0] = hi - lo;
    out.features = Tensor(shape);
    std::memcpy(out.features.data(), mb.features.data() + lo * sample, static_cast<size_t>((hi - lo) * sample) * sizeof(float));
    Shape labelShape = mb.labels.shape();
    labelShape[0] = hi - lo;
    out.labels = Tensor(labelShape, mb.labels.dtype());
    const size_t labelRow = rows ? mb.labels.byteSize() / static_cast<size_t>(rows) : 0;
    std::memcpy(out.labels.raw(), static_cast<const uint8_t *>(mb.labels.raw()) + static_cast<size_t>(lo) * labelRow,
                static_cast<size_t>(hi - lo) * labelRow);
    return out;
}

// Element 0 of a tensor on any device (the loss).
float scalarOf(const Tensor &t)
{
    return t.device().type == DeviceType::Cpu ? t.data()[0] : t.to(Device::cpu()).data()[0];
}

// dst ← `src` (dst.numel() host floats), wherever dst lives.
void assignFromHost(Tensor &dst, const float *src)
{
    if (dst.device().type == DeviceType::Cpu) {
        std::memcpy(dst.data(), src, dst.byteSize());
        return;
    }
    Tensor host(dst.shape());
    std::memcpy(host.data(), src, host.byteSize());
    dst.copyFrom(host);
}

// What every rank tells the others after each step.
struct RankRecord {
    Rng::State dropout;
    double lossSum;
    int64_t correct;
    int64_t stop;
};

// Set once by the CUDA backend as it starts (NCCL). Here, beside the trainer that uses it, so that
// every program that trains — the workbench window without the CLI too — holds the symbol that
// libnetwright-cuda.so resolves in it when loaded.
DeviceCollectiveFactory g_cudaCollective = nullptr;

} // namespace

std::pair<int64_t, int64_t> shardRows(int64_t rows, int rank, int world)
{
    return {rows * rank / world, rows * (rank + 1) / world};
}

int64_t shardSamplesBefore(int64_t position, int64_t batchSize, int rank, int world)
{
    if (batchSize <= 0)
        return 0;
    const auto [lo, hi] = shardRows(batchSize, rank, world);
    const auto [plo, phi] = shardRows(position % batchSize, rank, world);
    return position / batchSize * (hi - lo) + (phi - plo);
}

int64_t countCorrect(const Tensor &deviceLogits, const Tensor &deviceLabels)
{
    const Tensor logits = deviceLogits.to(Device::cpu()), labels = deviceLabels.to(Device::cpu());
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

std::string nonFiniteLossMessage(float loss, int64_t globalStep, int64_t epoch, int64_t step, int64_t stepsPerEpoch, double lr)
{
    char rate[32];
    std::snprintf(rate, sizeof rate, "%g", lr);
    return std::string("The loss became ") + (std::isnan(loss) ? "NaN" : "infinite") + " at global step " + std::to_string(globalStep)
           + " (epoch " + std::to_string(epoch) + ", step " + std::to_string(step) + " of " + std::to_string(stepsPerEpoch)
           + "); training stopped before that step's update. The learning rate was " + rate
           + ": lower it (optimizer.lr), or check the data for extreme values.";
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
    const Shape outShape = m_graph.inferShapes({{m_graph.inputs[0].name, inShape}}).at(m_logits);
    const std::string &task = m_settings.task;
    check(outShape.size() == 2, "Model \"" + m_graph.name + "\" writes " + shapeToString(outShape) + "; training needs [N, outputs].");
    const int64_t outputs = outShape[1];
    m_outputs = outputs;
    if (task == "classification") {
        check(m_settings.outputs <= outputs, "Model \"" + m_graph.name + "\" has " + std::to_string(outputs)
                                                 + " outputs, but the data has " + std::to_string(m_settings.outputs) + " classes.");
        m_graph.inputs.push_back({"labels", {-1}, DType::Int64});
        m_graph.addNode("SoftmaxCrossEntropyLoss", "loss", {m_logits, "labels"}, {"loss"}, {{"reduction", std::string("mean")}});
    } else {
        check(m_settings.outputs == 0 || m_settings.outputs == outputs,
              "Model \"" + m_graph.name + "\" has " + std::to_string(outputs) + " outputs, but the data has "
                  + std::to_string(m_settings.outputs) + (task == "regression" ? " targets" : " labels") + " per sample.");
        m_graph.inputs.push_back({"labels", {-1, outputs}, DType::Float32});
        const std::string &loss = m_settings.loss;
        const std::string op = task == "multilabel" ? "SigmoidBinaryCrossEntropyLoss"
                               : loss == "l1"       ? "L1Loss"
                               : loss == "huber"    ? "HuberLoss"
                                                    : "MeanSquaredErrorLoss";
        std::map<std::string, Attribute> attrs{{"reduction", std::string("mean")}};
        if (op == "HuberLoss")
            attrs["delta"] = m_settings.huberDelta;
        m_graph.addNode(op, "loss", {m_logits, "labels"}, {"loss"}, attrs);
    }
    m_stepSums = std::make_unique<MetricSums>(task, outputs, m_settings.labelNames);
    m_evalSums = std::make_unique<MetricSums>(task, outputs, m_settings.labelNames);
    m_graph.outputs.push_back({"loss", {}, DType::Float32});
    m_executor = std::make_unique<Executor>(m_graph, m_settings.device);
    m_executor->setDropoutRng(&m_dropoutRng);
}

Trainer::~Trainer() = default;

void Trainer::setDeviceCollective(std::unique_ptr<DeviceCollective> collective)
{
    check(!collective || collective->device() == m_settings.device,
          "The device collective runs on " + (collective ? collective->device().toString() : std::string()) + ", the trainer on "
              + m_settings.device.toString() + ".");
    m_deviceCollective = std::move(collective);
}

std::vector<ParameterRef> Trainer::parameterRefs()
{
    std::vector<ParameterRef> refs;
    size_t i = 0;
    for (const auto &name : m_graph.trainable) {
        const Tensor *grad = m_comm ? &m_reducedGrads[i++] : &m_executor->gradient(name);
        refs.push_back({name, &m_graph.initializers.at(name), grad});
    }
    return refs;
}

void Trainer::setCommunicator(Communicator *communicator)
{
    m_comm = communicator && communicator->size() > 1 ? communicator : nullptr;
    m_reducedGrads.clear();
    m_rankAveraged.clear();
    m_rankDropout.assign(static_cast<size_t>(worldSize()), Rng::State{});
    if (!m_comm)
        return;
    for (const auto &name : m_graph.trainable)
        m_reducedGrads.emplace_back(m_graph.initializers.at(name).shape(), DType::Float32, m_settings.device);
    for (const auto &node : m_graph.nodes)
        if (node.opType == "BatchNormalization")
            for (size_t i = 3; i < 5 && i < node.inputs.size(); ++i)
                if (m_graph.initializers.count(node.inputs[i]))
                    m_rankAveraged.push_back(node.inputs[i]);
}

int Trainer::rank() const
{
    return m_comm ? m_comm->rank() : 0;
}

int Trainer::worldSize() const
{
    return m_comm ? m_comm->size() : 1;
}

bool Trainer::finished() const
{
    return m_train->saveState().epoch >= m_settings.epochs;
}

TrainerProgress Trainer::progress() const
{
    TrainerProgress p;
    p.globalStep = m_globalStep;
    p.data = m_train->saveState();
    p.dropout = m_dropoutRng.state();
    p.epochLossSum = m_epochLossSum;
    p.epochCorrect = m_epochCorrect;
    p.epochSamples = m_epochSamples;
    p.worldSize = worldSize();
    p.rankDropout = m_comm ? m_rankDropout : std::vector<Rng::State>{p.dropout};
    p.batchSize = m_train->batchSize();
    return p;
}

void Trainer::gatherRankState(bool stopRequested, double lossSum, int64_t correct, GlobalStep *out)
{
    const RankRecord mine{m_dropoutRng.state(), lossSum, correct, stopRequested ? 1 : 0};
    std::vector<RankRecord> all(static_cast<size_t>(worldSize()));
    m_comm->allGather(&mine, sizeof mine, all.data());
    GlobalStep g;
    for (size_t r = 0; r < all.size(); ++r) { // rank order: the same sums on every rank
        m_rankDropout[r] = all[r].dropout;
        g.lossSum += all[r].lossSum;
        g.correct += all[r].correct;
        g.stopAll = g.stopAll || all[r].stop != 0;
    }
    if (out)
        *out = g;
}

void Trainer::synchronizeRanks()
{
    // Every rank must train the same model: compare the parameter layout, then start all ranks
    // from rank 0's values (as DistributedDataParallel does), whatever their own init gave.
    std::string layout;
    for (const auto &[name, t] : m_graph.initializers)
        if (t.dtype() == DType::Float32)
            layout += name + shapeToString(t.shape()) + ";";
    std::string root = layout;
    m_comm->broadcast(root, 0);
    const int64_t same = root == layout ? 1 : 0;
    std::vector<int64_t> all(static_cast<size_t>(worldSize()));
    m_comm->allGather(&same, sizeof same, all.data());
    for (size_t r = 0; r < all.size(); ++r)
        check(all[r] == 1, "Rank " + std::to_string(r) + " of " + std::to_string(all.size()) + " built a different model \""
                               + m_graph.name + "\" than rank 0; every rank must run the same config.");
    std::string bytes;
    if (rank() == 0)
        for (const auto &[name, t] : m_graph.initializers)
            if (t.dtype() == DType::Float32) {
                const Tensor host = t.to(Device::cpu());
                bytes.append(static_cast<const char *>(host.raw()), host.byteSize());
            }
    m_comm->broadcast(bytes, 0);
    size_t at = 0;
    for (auto &[name, t] : m_graph.initializers)
        if (t.dtype() == DType::Float32) {
            assignFromHost(t, reinterpret_cast<const float *>(bytes.data() + at));
            at += t.byteSize();
        }
    gatherRankState(false, 0.0, 0, nullptr);
}

Trainer::GlobalStep Trainer::distributedStep(const Minibatch &mb, double lr, bool stopRequested)
{
    const int64_t b = mb.labels.dim(0);
    const auto [lo, hi] = shardRows(b, rank(), worldSize());
    const int64_t mine = hi - lo;
    double lossSum = 0.0;
    int64_t correct = 0;
    if (mine > 0) {
        const Minibatch shard = sliceRows(mb, lo, hi);
        m_executor->setRowOffset(lo);
        {
            const blas::PrecisionScope mixed(m_settings.precision);
            m_executor->forward({{m_graph.inputs[0].name, shard.features}, {"labels", shard.labels}}, true);
            m_executor->backward("loss");
        }
        lossSum = static_cast<double>(scalarOf(m_executor->value("loss"))) * static_cast<double>(mine);
        m_stepSums->reset();
        m_stepSums->add(m_executor->value(m_logits), shard.labels);
        correct = m_stepSums->correct();
    } else {
        m_stepSums->reset();
    }
    // The loss is this rank's mean; weighting by its share of the global batch makes the sum over
    // ranks the gradient of the global mean. A rank without rows this step (a last batch smaller
    // than the ranks) contributes zeros.
    const float weight = static_cast<float>(static_cast<double>(mine) / static_cast<double>(b));
    if (m_deviceCollective)
        reduceOnDevice(weight);
    else
        reduceThroughHost(weight);
    m_optimizer->step(parameterRefs(), lr);
    GlobalStep g;
    gatherRankState(stopRequested, lossSum, correct, &g);
    if (m_settings.task != "classification") // the step figure over the global batch
        m_comm->allReduceSum(m_stepSums->sums().data(), m_stepSums->sums().size());
    return g;
}

void Trainer::reduceThroughHost(float weight)
{
    size_t count = 0;
    for (const auto &g : m_reducedGrads)
        count += static_cast<size_t>(g.numel());
    for (const auto &name : m_rankAveraged)
        count += static_cast<size_t>(m_graph.initializers.at(name).numel());
    m_reduceBuffer.resize(count);
    if (weight == 0.0f) {
        std::fill(m_reduceBuffer.begin(), m_reduceBuffer.end(), 0.0f);
    } else {
        // MPI sums host memory: on a device the gradients come down here.
        float *dst = m_reduceBuffer.data();
        for (const auto &name : m_graph.trainable) {
            const Tensor g = m_executor->gradient(name).to(Device::cpu());
            const float *src = g.data();
            for (int64_t i = 0; i < g.numel(); ++i)
                *dst++ = src[i] * weight;
        }
        for (const auto &name : m_rankAveraged) {
            const Tensor t = m_graph.initializers.at(name).to(Device::cpu());
            for (int64_t i = 0; i < t.numel(); ++i)
                *dst++ = t.data()[i] * weight;
        }
    }
    m_comm->allReduceSum(m_reduceBuffer.data(), m_reduceBuffer.size());
    const float *src = m_reduceBuffer.data();
    for (auto &g : m_reducedGrads) {
        assignFromHost(g, src);
        src += g.numel();
    }
    for (const auto &name : m_rankAveraged) {
        Tensor &t = m_graph.initializers.at(name);
        assignFromHost(t, src);
        src += t.numel();
    }
}

void Trainer::reduceOnDevice(float weight)
{
    const Device device = m_settings.device;
    const DeviceMemory *memory = deviceMemory(device.type);
    check(memory != nullptr, "The " + device.toString() + " backend has not been started.");
    int64_t count = 0;
    for (const auto &g : m_reducedGrads)
        count += g.numel();
    for (const auto &name : m_rankAveraged)
        count += m_graph.initializers.at(name).numel();
    if (!m_deviceReduceBuffer.defined() || m_deviceReduceBuffer.numel() != count)
        m_deviceReduceBuffer = Tensor({count}, DType::Float32, device);
    float *buffer = m_deviceReduceBuffer.data(); // device memory: offsets only, never dereferenced here
    if (weight == 0.0f) {
        m_deviceReduceBuffer.fill(0.0f);
    } else {
        int64_t at = 0;
        auto pack = [&](const Tensor &t) {
            memory->copy(buffer + at, false, t.data(), false, t.byteSize());
            at += t.numel();
        };
        for (const auto &name : m_graph.trainable)
            pack(m_executor->gradient(name));
        for (const auto &name : m_rankAveraged)
            pack(m_graph.initializers.at(name));
        const DeviceArithmetic *arithmetic = deviceArithmetic(device.type);
        if (arithmetic && arithmetic->scale) {
            arithmetic->scale(buffer, count, weight);
        } else {
            Tensor host = m_deviceReduceBuffer.to(Device::cpu());
            for (int64_t i = 0; i < count; ++i)
                host.data()[i] *= weight;
            m_deviceReduceBuffer.copyFrom(host);
        }
    }
    m_deviceCollective->allReduceSum(buffer, static_cast<size_t>(count));
    int64_t at = 0;
    auto unpack = [&](Tensor &t) {
        memory->copy(t.data(), false, buffer + at, false, t.byteSize());
        at += t.numel();
    };
    for (auto &g : m_reducedGrads)
        unpack(g);
    for (const auto &name : m_rankAveraged)
        unpack(m_graph.initializers.at(name));
}

void Trainer::restoreProgress(const TrainerProgress &p)
{
    check(p.globalStep >= 0 && p.epochSamples >= 0 && p.epochCorrect >= 0 && p.epochCorrect <= p.epochSamples,
          "Cannot restore training progress: the step counters are inconsistent.");
    m_train->restoreState(p.data);
    m_globalStep = p.globalStep;
    // Every rank draws the same dropout keys (the masks depend on the global row, see Dropout),
    // so a rank the checkpoint has no stream for — a run resumed with more ranks — takes rank 0's.
    const size_t r = static_cast<size_t>(rank());
    m_dropoutRng.setState(r < p.rankDropout.size() ? p.rankDropout[r] : p.dropout);
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
    m_evalSums->reset();
    m_test->restoreState({});
    while (auto mb = m_test->next()) {
        // Data-parallel: each rank evaluates its rows of every batch and the sums are combined.
        const auto [lo, hi] = shardRows(mb->labels.dim(0), rank(), worldSize());
        if (hi == lo)
            continue;
        const Minibatch part = m_comm ? sliceRows(*mb, lo, hi) : std::move(*mb);
        m_executor->setRowOffset(lo);
        m_executor->forward({{m_graph.inputs[0].name, part.features}, {"labels", part.labels}}, false);
        const int64_t b = part.labels.dim(0);
        lossSum += static_cast<double>(scalarOf(m_executor->value("loss"))) * static_cast<double>(b);
        m_evalSums->add(m_executor->value(m_logits), part.labels);
    }
    if (m_comm) {
        m_comm->allReduceSum(&lossSum, 1);
        m_comm->allReduceSum(m_evalSums->sums().data(), m_evalSums->sums().size());
    }
    info.samples = m_evalSums->samples();
    info.correct = m_evalSums->correct();
    info.loss = info.samples ? lossSum / static_cast<double>(info.samples) : 0.0;
    info.metrics = m_evalSums->metrics();
    info.accuracy = m_settings.task == "classification" ? info.metrics.front().value : 0.0;
    return info;
}

TrainEndInfo Trainer::run(std::stop_token stop)
{
    const int64_t stepsPerEpoch = m_train->batchesPerEpoch();
    const int64_t totalSteps = stepsPerEpoch * m_settings.epochs;
    const LrSchedule schedule(m_settings.schedule, m_settings.baseLr, stepsPerEpoch, totalSteps);
    if (m_comm) {
        check(m_train->batchSize() >= worldSize(), "The minibatch of " + std::to_string(m_train->batchSize()) + " samples cannot be split across "
                                                       + std::to_string(worldSize()) + " ranks; use a batch of at least one sample per rank.");
        synchronizeRanks();
    }
    TrainBeginInfo begin{m_settings.epochs, stepsPerEpoch, m_globalStep, m_train->samplesPerEpoch(), m_test->samplesPerEpoch(),
                         m_graph.parameterCount(), m_train->batchSize(), threadCount(), worldSize(), m_settings.device,
                         m_train->sampleShape().size() == 3 || m_train->sampleShape() == Shape{784}};
    begin.bf16 = m_settings.precision == blas::Precision::Bf16;
    for (auto *o : m_observers)
        o->onTrainBegin(begin);

    TrainEndInfo end;
    const std::string &input = m_graph.inputs[0].name;
    // The buffers a training forward updates in place (BatchNorm's running statistics), found
    // once; on the CPU their bytes are copied aside before each step (into tensors allocated here)
    // and put back when that step's loss is not finite.
    std::vector<Tensor *> buffers;
    for (auto &[name, t] : m_graph.initializers)
        if (t.dtype() == DType::Float32 && !m_graph.trainable.count(name))
            buffers.push_back(&t);
    const bool keepBuffers = !m_comm && m_settings.device.type == DeviceType::Cpu;
    std::vector<Tensor> buffersBefore;
    if (keepBuffers)
        for (const Tensor *b : buffers)
            buffersBefore.push_back(b->hostCopy());
    for (int64_t epoch = m_train->saveState().epoch; epoch < m_settings.epochs; ++epoch) {
        // Members, not locals: a resumed run continues the sums of the epoch it stopped in.
        double &lossSum = m_epochLossSum;
        int64_t &correct = m_epochCorrect, &samples = m_epochSamples;
        while (true) {
            // Where everything stood before this step, for a loss that turns out non-finite: the
            // data cursor, the dropout stream and (on the CPU) the buffers. Cheap: a few scalars
            // and the buffers' bytes, no parameters, no allocation.
            const SourceState cursorBefore = m_train->saveState();
            const Rng::State dropoutBefore = m_dropoutRng.state();
            for (size_t i = 0; i < buffersBefore.size(); ++i)
                buffersBefore[i].copyFrom(*buffers[i]);
            auto mb = m_train->next();
            if (!mb)
                break;
            const double lr = schedule.at(m_globalStep);
            const int64_t b = mb->labels.dim(0);
            GlobalStep global;
            float loss = 0.0f; // this batch's mean; read once (on a device it is a download)
            if (m_comm) {
                global = distributedStep(*mb, lr, stop.stop_requested());
                loss = static_cast<float>(global.lossSum / static_cast<double>(b));
                if (!std::isfinite(loss)) // data parallel: known only after the step's update
                    throw NonFiniteLossError(nonFiniteLossMessage(loss, m_globalStep + 1, epoch + 1, mb->index + 1, stepsPerEpoch, lr)
                                                 + " (Data parallel: that step's update is already applied, so no breakpoint "
                                                   "checkpoint is saved; resume from the newest checkpoint with a lower rate.)",
                                             false);
            } else {
                {
                    const blas::PrecisionScope mixed(m_settings.precision);
                    m_executor->forward({{input, mb->features}, {"labels", mb->labels}}, true);
                }
                loss = scalarOf(m_executor->value("loss"));
                if (!std::isfinite(loss)) {
                    // Before the update: the parameters and optimizer state are the last finite
                    // ones; put back what the forward and the batch moved, so the state is
                    // exactly the previous step's (a checkpoint of it resumes bit for bit).
                    for (size_t i = 0; i < buffersBefore.size(); ++i)
                        buffers[i]->copyFrom(buffersBefore[i]);
                    m_dropoutRng.setState(dropoutBefore);
                    m_train->restoreState(cursorBefore);
                    throw NonFiniteLossError(nonFiniteLossMessage(loss, m_globalStep + 1, epoch + 1, mb->index + 1, stepsPerEpoch, lr),
                                             keepBuffers || buffers.empty());
                }
                {
                    const blas::PrecisionScope mixed(m_settings.precision);
                    m_executor->backward("loss");
                }
                m_optimizer->step(parameterRefs(), lr);
                global.lossSum = static_cast<double>(loss) * static_cast<double>(b);
                m_stepSums->reset();
                m_stepSums->add(m_executor->value(m_logits), mb->labels);
                global.correct = m_stepSums->correct();
            }
            ++m_globalStep;
            StepInfo step;
            step.epoch = epoch + 1;
            step.step = mb->index + 1;
            step.stepsPerEpoch = stepsPerEpoch;
            step.globalStep = m_globalStep;
            step.epochs = m_settings.epochs;
            step.batchSize = b;
            step.loss = loss;
            const int64_t ok = global.correct;
            step.accuracy = static_cast<float>(ok) / static_cast<float>(b);
            step.metric = m_stepSums->stepMetric();
            step.lr = lr;
            lossSum += static_cast<double>(step.loss) * static_cast<double>(b);
            correct += ok;
            samples += b;
            for (auto *o : m_observers)
                o->onStep(step);
            // Data-parallel ranks stop together: on the step whose exchange carried a request.
            if (m_comm ? global.stopAll : stop.stop_requested()) {
                end.stopped = true;
                break;
            }
        }
        if (end.stopped)
            break;
        EpochInfo ei{epoch + 1, m_globalStep, samples, samples ? lossSum / static_cast<double>(samples) : 0.0,
                     samples ? static_cast<double>(correct) / static_cast<double>(samples) : 0.0,
                     m_settings.task == "classification"};
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
    if (m_comm) {
        // The ranks applied the same updates to the same values: check that they agree, bit for bit.
        uint64_t hash = 14695981039346656037ULL;
        for (const auto &[name, t] : m_graph.initializers)
            if (t.dtype() == DType::Float32) {
                const Tensor host = t.to(Device::cpu());
                for (size_t i = 0; i < host.byteSize(); ++i)
                    hash = (hash ^ static_cast<const unsigned char *>(host.raw())[i]) * 1099511628211ULL;
            }
        std::vector<uint64_t> all(static_cast<size_t>(worldSize()));
        m_comm->allGather(&hash, sizeof hash, all.data());
        for (size_t r = 1; r < all.size(); ++r)
            check(all[r] == all[0], "After global step " + std::to_string(m_globalStep) + " the parameters of rank " + std::to_string(r)
                                        + " differ from rank 0's; the ranks did not train the same model.");
        end.parameterChecksum = hash;
    }
    for (auto *o : m_observers)
        o->onTrainEnd(end);
    return end;
}

void registerDeviceCollectiveFactory(DeviceType type, DeviceCollectiveFactory factory)
{
    if (type == DeviceType::Cuda)
        g_cudaCollective = factory;
}

std::unique_ptr<DeviceCollective> makeDeviceCollective(Communicator &host, Device device)
{
    if (device.type != DeviceType::Cuda || !g_cudaCollective)
        return nullptr;
    return g_cudaCollective(host, device);
}

} // namespace netwright
