// SPDX-License-Identifier: Apache-2.0
#include "data/minibatch_source.h"

#include "core/error.h"

#include <numeric>

namespace netwright {

DatasetSource::DatasetSource(std::shared_ptr<const Dataset> data, int64_t batchSize, bool shuffle, bool dropLast,
                             uint64_t seed, Normalization norm)
    : m_data(std::move(data)), m_batchSize(batchSize), m_shuffle(shuffle), m_dropLast(dropLast), m_norm(norm), m_rng(seed)
{
    check(m_batchSize > 0, "training.batch_size must be positive, got " + std::to_string(batchSize) + ".");
    check(m_data->size() > 0, "The dataset \"" + m_data->name + "\" is empty.");
    check(!m_dropLast || m_data->size() >= m_batchSize, "The dataset \"" + m_data->name + "\" has fewer samples ("
                                                            + std::to_string(m_data->size()) + ") than one batch.");
    check(m_norm.std != 0.0f, "data.std must not be 0.");
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
    Shape shape = m_data->features.shape();
    const int64_t sample = m_data->features.numel() / n;
    shape[0] = b;
    Minibatch mb;
    mb.features = Tensor(shape);
    mb.labels = Tensor({b}, DType::Int64);
    mb.epoch = m_epoch;
    mb.index = m_position / m_batchSize;
    const float a = m_norm.scale / m_norm.std, c = -m_norm.mean / m_norm.std;
    float *dst = mb.features.data();
    for (int64_t i = 0; i < b; ++i) {
        const int64_t src = m_order[static_cast<size_t>(m_position + i)];
        if (m_data->features.dtype() == DType::UInt8) {
            const uint8_t *p = m_data->features.dataAs<uint8_t>() + src * sample;
            for (int64_t k = 0; k < sample; ++k)
                dst[i * sample + k] = static_cast<float>(p[k]) * a + c;
        } else {
            const float *p = m_data->features.data() + src * sample;
            for (int64_t k = 0; k < sample; ++k)
                dst[i * sample + k] = p[k] * a + c;
        }
        mb.labels.dataAs<int64_t>()[i] = m_data->labels.dataAs<int64_t>()[src];
    }
    m_position += b;
    return mb;
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

PrefetchingSource::PrefetchingSource(std::unique_ptr<MinibatchSource> inner) : m_inner(std::move(inner))
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
    m_full = false;
    m_error = nullptr;
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
    m_full = false; // whatever was prefetched belongs to the old position
    m_slot.reset();
}

void PrefetchingSource::produce()
{
    while (true) {
        std::optional<Minibatch> item;
        SourceState state;
        std::exception_ptr error;
        try {
            item = m_inner->next();
            state = m_inner->saveState();
        } catch (...) {
            error = std::current_exception();
        }
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [this] { return !m_full || m_stop; });
        if (m_stop)
            return;
        m_slot = std::move(item);
        m_slotState = state;
        m_error = error;
        m_full = true;
        m_cv.notify_all();
        if (error)
            return;
    }
}

std::optional<Minibatch> PrefetchingSource::next()
{
    std::unique_lock lock(m_mutex);
    m_cv.wait(lock, [this] { return m_full; });
    if (m_error)
        std::rethrow_exception(m_error);
    std::optional<Minibatch> item = std::move(m_slot);
    m_delivered = m_slotState;
    m_full = false;
    m_cv.notify_all();
    return item;
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
