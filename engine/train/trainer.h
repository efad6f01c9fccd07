// SPDX-License-Identifier: Apache-2.0
// The training loop: epochs × minibatches, an evaluation on the test split after every epoch,
// observers told of every step, a stop token checked between steps. Layer: engine/train.
// Deterministic for a given seed and thread count: every RNG is seeded from the run seed.
// Data-parallel over a Communicator: each rank runs its slice of every global minibatch, the
// gradients are summed across ranks, and every rank applies the same update.
#pragma once

#include "autodiff/executor.h"
#include "core/blas.h"
#include "core/error.h"
#include "data/minibatch_source.h"
#include "optim/lr_schedule.h"
#include "optim/optimizer.h"
#include "train/observer.h"

#include <memory>
#include <stop_token>
#include <string>
#include <vector>

namespace netwright {

class Communicator;
class DeviceCollective;
class MetricSums;

// Where training stands between two steps: with the parameters and the optimizer slots, this is
// everything a checkpoint needs for an exact resume.
struct TrainerProgress {
    int64_t globalStep = 0;
    SourceState data;          // the training source's cursor after the last step
    Rng::State dropout{};      // the dropout stream
    double epochLossSum = 0.0; // the running sums of the epoch in progress (for its summary)
    int64_t epochCorrect = 0, epochSamples = 0;
    // Data-parallel: how many ranks trained, and each rank's dropout stream (rank order; [0] is
    // `dropout`). The data cursor above is the global one, which every rank shares.
    int worldSize = 1;
    std::vector<Rng::State> rankDropout;
    int64_t batchSize = 0; // the global minibatch size (for each rank's share of the cursor)
};

// Rows [first, second) of a global minibatch of `rows` that rank `rank` of `world` trains on:
// contiguous, in rank order, sizes differing by at most one.
std::pair<int64_t, int64_t> shardRows(int64_t rows, int rank, int world);
// Samples rank `rank` of `world` has taken from the first `position` samples of an epoch that is
// cut into minibatches of `batchSize`.
int64_t shardSamplesBefore(int64_t position, int64_t batchSize, int rank, int world);

struct TrainerSettings {
    int64_t epochs = 1;
    uint64_t seed = 1;
    double baseLr = 0.01;
    ScheduleSettings schedule;
    // Where the parameters live and the kernels run; its backend must be started (startDevice).
    // The results are the CPU's within float rounding; checkpoints hold host tensors either way.
    Device device = Device::cpu();
    // The precision of the training step's matrix multiplies and convolutions (forward and
    // backward); evaluation always runs fp32. Bf16 needs cpu::hasBf16() (TrainingSession::checkStart).
    blas::Precision precision = blas::Precision::Fp32;
    // What is learnt (config/run_config.h TaskSettings): the loss node appended to the model and
    // the metrics reported. outputs: the classes or targets the data has (0: not checked).
    std::string task = "classification";
    std::string loss;        // "" = the task's own; regression: mse, l1, huber
    float huberDelta = 1.0f;
    int64_t outputs = 0;
    std::vector<std::string> labelNames; // multilabel: names of the labels (per-label F1)
    // What the data looked like, recorded in checkpoints so that export and evaluation need no
    // data: the class names and the feature normalisation.
    std::vector<std::string> classNames;
    FeatureNormalization normalization;
};

// A step's loss was NaN or infinite: the run stops before that step's update (the parameters are
// the last finite ones), and the session saves a breakpoint checkpoint of them.
class NonFiniteLossError : public Error {
public:
    NonFiniteLossError(const std::string &message, bool lastFiniteStateKept)
        : Error(message), m_kept(lastFiniteStateKept) {}
    // The trainer holds exactly the state after the last finite step (one process on the CPU;
    // not data-parallel, where the update comes before the loss is known).
    bool lastFiniteStateKept() const { return m_kept; }

private:
    bool m_kept;
};
std::string nonFiniteLossMessage(float loss, int64_t globalStep, int64_t epoch, int64_t step, int64_t stepsPerEpoch, double lr);

class Trainer {
public:
    // model: a graph reading "input" and writing its single output [N, outputs] (class logits,
    // regression values or multilabel logits). The trainer appends the task's loss against the
    // fed "labels" ([N] int64 classes, or [N, T] float32 targets).
    Trainer(Graph model, std::unique_ptr<MinibatchSource> train, std::unique_ptr<MinibatchSource> test,
            std::unique_ptr<Optimizer> optimizer, TrainerSettings settings);
    ~Trainer();

    void addObserver(TrainingObserver *observer) { m_observers.push_back(observer); }
    void removeObserver(TrainingObserver *observer) { std::erase(m_observers, observer); }
    // Trains as one rank of a data-parallel job (call before restoreProgress() and run(); the
    // communicator must outlive the trainer). Every rank must build the same trainer. run() then
    // starts from rank 0's parameters, and a stop requested on any rank stops all of them at the
    // same step (one step after the request).
    void setCommunicator(Communicator *communicator);
    // Data-parallel on a device: sum the gradients with this collective (NCCL) in device memory
    // instead of through the host communicator. Its device must be settings().device.
    void setDeviceCollective(std::unique_ptr<DeviceCollective> collective);
    int rank() const;
    int worldSize() const;
    // Trains to the configured epoch count or until stop is requested (then returns after the
    // current step). Throws Error on bad data or a model that does not fit it.
    TrainEndInfo run(std::stop_token stop = {});
    // Loss and accuracy of the current parameters on the test split.
    EvalInfo evaluate(int64_t epoch);

    // The training graph: the model plus the loss node; its initializers are the live parameters
    // (on settings().device: read them with Tensor::to(Device::cpu()) or hostCopy()).
    Graph &graph() { return m_graph; }
    const Graph &graph() const { return m_graph; }
    int64_t globalStep() const { return m_globalStep; }
    // The shape of one training sample (without the batch dimension), e.g. [1,28,28].
    Shape sampleShape() const { return m_train->sampleShape(); }
    Optimizer &optimizer() { return *m_optimizer; }
    const Optimizer &optimizer() const { return *m_optimizer; }
    const TrainerSettings &settings() const { return m_settings; }
    // The model's outputs per sample: classes, regression targets or multilabel labels.
    int64_t outputs() const { return m_outputs; }
    // Samples of the training and test splits per epoch (what a resume checks is unchanged).
    int64_t trainSamples() const { return m_train->samplesPerEpoch(); }
    int64_t testSamples() const { return m_test->samplesPerEpoch(); }
    // Valid between steps (in an observer, or before/after run()).
    TrainerProgress progress() const;
    // Continues from `p` at the next run(); throws Error when the data cursor does not fit.
    void restoreProgress(const TrainerProgress &p);
    // Every epoch has been trained (a restored finished run): run() would train nothing.
    bool finished() const;

private:
    std::vector<ParameterRef> parameterRefs();
    // One data-parallel step on this rank's rows of `mb`: forward, backward, the all-reduce and
    // the update. Returns the global loss sum and correct count; sets stopAll when any rank had
    // asked to stop.
    struct GlobalStep {
        double lossSum = 0.0;
        int64_t correct = 0;
        bool stopAll = false;
    };
    GlobalStep distributedStep(const Minibatch &mb, double lr, bool stopRequested);
    void synchronizeRanks();
    // The sum over ranks of this rank's gradients (and averaged buffers) × weight, into
    // m_reducedGrads and the buffers: through host memory and the communicator, or on the device.
    void reduceThroughHost(float weight);
    void reduceOnDevice(float weight);
    void gatherRankState(bool stopRequested, double lossSum, int64_t correct, GlobalStep *out);

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
    Communicator *m_comm = nullptr;
    std::vector<Rng::State> m_rankDropout; // every rank's stream after the last step
    std::vector<Tensor> m_reducedGrads;    // trainable order: the summed gradients the update uses
    std::vector<std::string> m_rankAveraged; // BatchNormalization running statistics
    std::vector<float> m_reduceBuffer;
    std::unique_ptr<DeviceCollective> m_deviceCollective;
    Tensor m_deviceReduceBuffer;
    std::unique_ptr<MetricSums> m_stepSums, m_evalSums;
    int64_t m_outputs = 0;
};

// Rows whose arg-max equals the label; logits [N,C], labels [N] int64, on any device.
int64_t countCorrect(const Tensor &logits, const Tensor &labels);

} // namespace netwright
