// SPDX-License-Identifier: Apache-2.0
#include "data/minibatch_source.h"

#include "core/error.h"

#include <cstring>
#include <numeric>
#include <thread>

namespace netwright {

namespace {
FeatureNormalization fromScalar(const Normalization &n)
{
    check(n.std != 0.0f, "data.std must not be 0.");
    return {n.scale, {n.mean}, {n.std}, 1};
}
} // namespace

DatasetSource::DatasetSource(std::shared_ptr<const Dataset> data, int64_t batchSize, bool shuffle, bool dropLast,
                             uint64_t seed, Normalization norm)
    : DatasetSource(std::move(data), batchSize, shuffle, dropLast, seed, fromScalar(norm), Augmentation{})
{
}

DatasetSource::DatasetSource(std::shared_ptr<const Dataset> data, int64_t batchSize, bool shuffle, bool dropLast,
                             uint64_t seed, FeatureNormalization norm, Augmentation augmentation)
    : m_data(std::move(data)), m_batchSize(batchSize), m_shuffle(shuffle), m_dropLast(dropLast), m_norm(std::move(norm)),
      m_augment(augmentation), m_rng(seed)
{
    check(m_batchSize > 0, "training.batch_size must be positive, got " + std::to_string(batchSize) + ".");
    check(m_data->size() > 0, "The dataset \"" + m_data->name + "\" is empty.");
    check(!m_dropLast || m_data->size() >= m_batchSize, "The dataset \"" + m_data->name + "\" has fewer samples ("
                                                            + std::to_string(m_data->size()) + ") than one batch.");
    check(m_norm.mean.size() == m_norm.std.size() && m_norm.inner > 0, "The feature normalisation is inconsistent.");
    const Shape sample = m_data->sampleShape();
    check(!m_augment.active() || sample.size() == 3,
          "Random crops and flips apply to images [C,H,W]; \"" + m_data->name + "\" has samples of shape " + shapeToString(sample) + ".");
    int64_t per = 1;
    for (int64_t d : sample)
        per *= d;
    m_a.assign(static_cast<size_t>(per), m_norm.scale);
    m_c.assign(static_cast<size_t>(per), 0.0f);
    const auto k = static_cast<int64_t>(m_norm.mean.size());
    for (int64_t e = 0; k > 0 && e < per; ++e) {
        const auto c = static_cast<size_t>((e / m_norm.inner) % k);
        check(m_norm.std[c] != 0.0f, "data.std must not be 0.");
        m_a[static_cast<size_t>(e)] = m_norm.scale / m_norm.std[c];
        m_c[static_cast<size_t>(e)] = -m_norm.mean[c] / m_norm.std[c];
    }
    beginEpoch();
}

void DatasetSource::beginEpoch()
{
    m_epochRng = m_rng.state();
    m_order.resize(static_cast<size_t>(m_data->size()));
    std::iota(m_order.begin(), m_order.end(), 0);
    if (m_shuffle)
        for (size_t i = m_order.size() - 1; i > 0; --i)
            std::swap(m_order[i], m_order[m_rng.below(i + 1)]);
    m_position = 0;
}

int64_t DatasetSource::samplesPerEpoch() const
{
    return m_dropLast ? batchesPerEpoch() * m_batchSize : m_data->size();
}

int64_t DatasetSource::batchesPerEpoch() const
{
    return m_dropLast ? m_data->size() / m_batchSize : (m_data->size() + m_batchSize - 1) / m_batchSize;
}

std::optional<Minibatch> DatasetSource::next()
{
    const int64_t n = m_data->size();
    const int64_t remaining = n - m_position;
    if (remaining <= 0 || (m_dropLast && remaining < m_batchSize)) {
        ++m_epoch;
        beginEpoch();
        return std::nullopt;
    }
    const int64_t b = std::min(m_batchSize, remaining);
    Shape shape = m_data->sampleShape();
    int64_t sample = 1;
    for (int64_t d : shape)
        sample *= d;
    shape.insert(shape.begin(), b);
    Minibatch mb;
    mb.features = Tensor(shape);
    mb.epoch = m_epoch;
    mb.index = m_position / m_batchSize;
    const bool bytes = m_data->featureType() == DType::UInt8;
    const float *a = m_a.data(), *c = m_c.data();
    float *dst = mb.features.data();
    const size_t labelRow = m_data->labels.byteSize() / static_cast<size_t>(n);
    Shape labelShape = m_data->labels.shape();
    labelShape[0] = b;
    mb.labels = Tensor(labelShape, m_data->labels.dtype());
    const size_t sampleBytes = static_cast<size_t>(sample) * dtypeSize(m_data->featureType());
    if (m_data->streamed())
        readStreamed(b, sampleBytes);
    for (int64_t i = 0; i < b; ++i) {
        const int64_t src = m_order[static_cast<size_t>(m_position + i)];
        const void *values = m_data->streamed() ? static_cast<const void *>(m_staging.data() + static_cast<size_t>(i) * sampleBytes)
                                                : static_cast<const uint8_t *>(m_data->features.raw()) + static_cast<size_t>(src) * sampleBytes;
        float *out = dst + i * sample;
        if (m_augment.active()) {
            augmentSample(src, values, out);
        } else if (bytes) {
            const auto *p = static_cast<const uint8_t *>(values);
            for (int64_t k = 0; k < sample; ++k)
                out[k] = static_cast<float>(p[k]) * a[k] + c[k];
        } else {
            const auto *p = static_cast<const float *>(values);
            for (int64_t k = 0; k < sample; ++k)
                out[k] = p[k] * a[k] + c[k];
        }
        std::memcpy(static_cast<uint8_t *>(mb.labels.raw()) + static_cast<size_t>(i) * labelRow,
                    static_cast<const uint8_t *>(m_data->labels.raw()) + static_cast<size_t>(src) * labelRow, labelRow);
    }
    m_position += b;
    return mb;
}

void DatasetSource::readStreamed(int64_t b, size_t sampleBytes)
{
    // The batch's samples from disk, decoded on up to m_readThreads threads (each a contiguous
    // share); the first failing sample's error, whichever thread met it.
    m_staging.resize(static_cast<size_t>(b) * sampleBytes);
    const int threads = static_cast<int>(std::min<int64_t>(std::max(1, m_readThreads), b));
    std::vector<std::exception_ptr> errors(static_cast<size_t>(b));
    auto work = [&](int t) {
        for (int64_t i = b * t / threads; i < b * (t + 1) / threads; ++i) {
            try {
                m_data->readSample(m_order[static_cast<size_t>(m_position + i)], m_staging.data() + static_cast<size_t>(i) * sampleBytes);
            } catch (...) {
                errors[static_cast<size_t>(i)] = std::current_exception();
            }
        }
    };
    std::vector<std::jthread> pool; // joined however this returns
    for (int t = 1; t < threads; ++t)
        pool.emplace_back(work, t);
    work(0);
    pool.clear();
    for (const auto &e : errors)
        if (e)
            std::rethrow_exception(e);
}

void DatasetSource::augmentSample(int64_t src, const void *values, float *out) const
{
    // One stream per (seed, epoch, sample): a resumed run draws the very same crops and flips.
    Rng rng(deriveSeed(deriveSeed(m_augment.seed, static_cast<uint64_t>(m_epoch)), static_cast<uint64_t>(src)));
    const Shape s = m_data->sampleShape();
    const int64_t C = s[0], H = s[1], W = s[2], p = m_augment.padding;
    const int64_t oy = p ? static_cast<int64_t>(rng.below(static_cast<uint64_t>(2 * p + 1))) - p : 0;
    const int64_t ox = p ? static_cast<int64_t>(rng.below(static_cast<uint64_t>(2 * p + 1))) - p : 0;
    const bool flip = m_augment.horizontalFlip && rng.uniform() < 0.5f;
    const bool bytes = m_data->featureType() == DType::UInt8;
    const auto *pb = bytes ? static_cast<const uint8_t *>(values) : nullptr;
    const auto *pf = bytes ? nullptr : static_cast<const float *>(values);
    for (int64_t ch = 0; ch < C; ++ch)
        for (int64_t y = 0; y < H; ++y)
            for (int64_t x = 0; x < W; ++x) {
                // crop of the zero-padded image, then the flip of that crop
                const int64_t cx = flip ? W - 1 - x : x;
                const int64_t sy = y + oy, sx = cx + ox;
                const int64_t e = (ch * H + y) * W + x;
                float v = 0.0f;
                if (sy >= 0 && sy < H && sx >= 0 && sx < W) {
                    const int64_t at = (ch * H + sy) * W + sx;
                    v = bytes ? static_cast<float>(pb[at]) : pf[at];
                }
                out[e] = v * m_a[static_cast<size_t>(e)] + m_c[static_cast<size_t>(e)];
            }
}

SourceState DatasetSource::saveState() const
{
    return {m_epoch, m_position, m_epochRng};
}

void DatasetSource::restoreState(const SourceState &state)
{
    check(state.position >= 0 && state.position <= m_data->size() && state.epoch >= 0,
          "Cannot restore the data cursor: position " + std::to_string(state.position) + " is outside the "
              + std::to_string(m_data->size()) + "-sample dataset \"" + m_data->name + "\".");
    m_epoch = state.epoch;
    m_rng.setState(state.shuffleRng);
    beginEpoch();
    m_position = state.position;
}

PrefetchingSource::PrefetchingSource(std::unique_ptr<MinibatchSource> inner, int depth)
    : m_inner(std::move(inner)), m_depth(static_cast<size_t>(std::max(1, depth)))
{
    m_delivered = m_inner->saveState();
    start();
}

PrefetchingSource::~PrefetchingSource()
{
    stop();
}

void PrefetchingSource::start()
{
    m_stop = false;
    m_queue.clear();
    m_thread = std::thread([this] { produce(); });
}

void PrefetchingSource::stop()
{
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_cv.notify_all();
    if (m_thread.joinable())
        m_thread.join();
    m_queue.clear(); // whatever was prefetched belongs to the old position
}

void PrefetchingSource::produce()
{
    while (true) {
        Item item;
        try {
            item.batch = m_inner->next();
            item.state = m_inner->saveState();
        } catch (...) {
            item.error = std::current_exception();
        }
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [this] { return m_queue.size() < m_depth || m_stop; });
        if (m_stop)
            return;
        const bool failed = item.error != nullptr;
        m_queue.push_back(std::move(item));
        m_cv.notify_all();
        if (failed)
            return;
    }
}

std::optional<Minibatch> PrefetchingSource::next()
{
    std::unique_lock lock(m_mutex);
    m_cv.wait(lock, [this] { return !m_queue.empty(); });
    if (m_queue.front().error)
        std::rethrow_exception(m_queue.front().error); // stays queued: the source is broken from here on
    Item item = std::move(m_queue.front());
    m_queue.pop_front();
    m_delivered = item.state;
    m_cv.notify_all();
    return std::move(item.batch);
}

void PrefetchingSource::restoreState(const SourceState &state)
{
    stop();
    try {
        m_inner->restoreState(state); // validates before it changes anything
    } catch (...) {
        m_inner->restoreState(m_delivered); // carry on from where the consumer is
        start();
        throw;
    }
    m_delivered = m_inner->saveState();
    start();
}

} // namespace netwright
