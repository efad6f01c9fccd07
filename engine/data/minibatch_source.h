// SPDX-License-Identifier: Apache-2.0
// Where minibatches come from. Layer: engine/data. A source walks epochs of minibatches;
// saveState() captures exactly where it is (epoch, position, shuffle RNG) so that
// restoreState() on a fresh source yields the very same following minibatches.
#pragma once

#include "core/rng.h"
#include "core/tensor.h"
#include "data/dataset.h"

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace netwright {

struct Minibatch {
    Tensor features; // [B, sample…] float32, normalised
    Tensor labels;   // [B] int64 classes, or [B, T] float32 values
    int64_t epoch = 0;  // 0-based epoch this batch belongs to
    int64_t index = 0;  // 0-based batch index within the epoch
};

struct SourceState {
    int64_t epoch = 0;    // 0-based epoch the cursor is in
    int64_t position = 0; // samples of that epoch already delivered
    Rng::State shuffleRng{}; // RNG state before the epoch's permutation was drawn
    bool operator==(const SourceState &) const = default;
};

class MinibatchSource {
public:
    virtual ~MinibatchSource() = default;
    // The next minibatch of the current epoch, or nullopt when the epoch is over; the source then
    // stands at the start of the next epoch.
    virtual std::optional<Minibatch> next() = 0;
    virtual SourceState saveState() const = 0;
    virtual void restoreState(const SourceState &state) = 0;
    virtual int64_t batchesPerEpoch() const = 0;
    virtual int64_t samplesPerEpoch() const = 0;
    virtual Shape sampleShape() const = 0;
    // Samples per full minibatch (the last one of an epoch may be shorter).
    virtual int64_t batchSize() const = 0;
};

// One scale, mean and std for every value (the fashion-mnist, idx and csv datasets' keys).
struct Normalization {
    float scale = 1.0f; // x' = (x * scale - mean) / std
    float mean = 0.0f;
    float std = 1.0f;
};

// How features become the model's input: x' = (x·scale − mean[k]) / std[k], where k is the
// channel (images [C,H,W]: (element index within the sample / inner) mod K) or the feature
// (K = the last dimension, inner = 1). An empty mean means x' = x·scale.
struct FeatureNormalization {
    float scale = 1.0f;
    std::vector<float> mean, std;
    int64_t inner = 1;
    bool operator==(const FeatureNormalization &) const = default;
};

// Training-only image augmentation, drawn per sample from (seed, epoch, sample index): the same
// sample in the same epoch gets the same crop and flip however the run was interrupted.
struct Augmentation {
    int64_t padding = 0;  // pad by this many zero pixels, then crop back at a random place
    bool horizontalFlip = false;
    uint64_t seed = 0;
    bool active() const { return padding > 0 || horizontalFlip; }
};

// Minibatches from an in-memory Dataset, reshuffled each epoch from a seeded stream.
class DatasetSource final : public MinibatchSource {
public:
    DatasetSource(std::shared_ptr<const Dataset> data, int64_t batchSize, bool shuffle, bool dropLast, uint64_t seed,
                  Normalization norm);
    DatasetSource(std::shared_ptr<const Dataset> data, int64_t batchSize, bool shuffle, bool dropLast, uint64_t seed,
                  FeatureNormalization norm, Augmentation augmentation);
    std::optional<Minibatch> next() override;
    SourceState saveState() const override;
    void restoreState(const SourceState &state) override;
    int64_t batchesPerEpoch() const override;
    int64_t samplesPerEpoch() const override;
    Shape sampleShape() const override { return m_data->sampleShape(); }
    int64_t batchSize() const override { return m_batchSize; }
    // Streamed data: how many threads read (decode) a minibatch's samples (default: every core).
    void setReadThreads(int threads) { m_readThreads = std::max(1, threads); }

private:
    void beginEpoch();
    void augmentSample(int64_t src, const void *values, float *out) const;
    void readStreamed(int64_t batch, size_t sampleBytes);

    std::shared_ptr<const Dataset> m_data;
    int64_t m_batchSize;
    bool m_shuffle, m_dropLast;
    FeatureNormalization m_norm;
    Augmentation m_augment;
    std::vector<float> m_a, m_c; // per element of a sample: x' = x·a + c
    std::vector<uint8_t> m_staging; // a streamed batch's raw samples
    int m_readThreads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    Rng m_rng;
    Rng::State m_epochRng{};
    std::vector<int64_t> m_order;
    int64_t m_epoch = 0, m_position = 0;
};

// Wraps a source and prepares the next minibatches on a background thread while the current one
// trains, up to `depth` ahead (a bounded queue: memory stays bounded however large the data).
// saveState() reports the position after the last batch handed out, not the prefetched ones, so
// checkpoints stay exact.
class PrefetchingSource final : public MinibatchSource {
public:
    explicit PrefetchingSource(std::unique_ptr<MinibatchSource> inner, int depth = 1);
    ~PrefetchingSource() override;
    std::optional<Minibatch> next() override;
    SourceState saveState() const override { return m_delivered; }
    void restoreState(const SourceState &state) override;
    int64_t batchesPerEpoch() const override { return m_inner->batchesPerEpoch(); }
    int64_t samplesPerEpoch() const override { return m_inner->samplesPerEpoch(); }
    Shape sampleShape() const override { return m_inner->sampleShape(); }
    int64_t batchSize() const override { return m_inner->batchSize(); }

private:
    void start();
    void stop();
    void produce();

    std::unique_ptr<MinibatchSource> m_inner;
    std::thread m_thread;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    struct Item {
        std::optional<Minibatch> batch;
        SourceState state; // the inner source's cursor after this item
        std::exception_ptr error;
    };
    size_t m_depth;
    bool m_stop = false;
    std::deque<Item> m_queue;
    SourceState m_delivered;
};

} // namespace netwright
