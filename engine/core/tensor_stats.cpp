// SPDX-License-Identifier: Apache-2.0
#include "core/tensor_stats.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace netwright {

namespace {
double halfToDouble(uint16_t h)
{
    const int sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    double v;
    if (exp == 0)
        v = std::ldexp(static_cast<double>(man), -24);
    else if (exp == 31)
        v = man ? NAN : INFINITY;
    else
        v = std::ldexp(static_cast<double>(man | 0x400), exp - 25);
    return sign ? -v : v;
}
} // namespace

double elementAsDouble(const Tensor &t, int64_t i)
{
    switch (t.dtype()) {
    case DType::Float32: return t.dataAs<float>()[i];
    case DType::Float64: return t.dataAs<double>()[i];
    case DType::Float16: return halfToDouble(t.dataAs<uint16_t>()[i]);
    case DType::BFloat16: {
        const uint32_t bits = static_cast<uint32_t>(t.dataAs<uint16_t>()[i]) << 16;
        float f;
        std::memcpy(&f, &bits, 4);
        return f;
    }
    case DType::Int64: return static_cast<double>(t.dataAs<int64_t>()[i]);
    case DType::Int32: return t.dataAs<int32_t>()[i];
    case DType::Int16: return t.dataAs<int16_t>()[i];
    case DType::Int8: return t.dataAs<int8_t>()[i];
    case DType::UInt64: return static_cast<double>(t.dataAs<uint64_t>()[i]);
    case DType::UInt32: return t.dataAs<uint32_t>()[i];
    case DType::UInt16: return t.dataAs<uint16_t>()[i];
    case DType::UInt8: return t.dataAs<uint8_t>()[i];
    case DType::Bool: return t.dataAs<uint8_t>()[i] ? 1.0 : 0.0;
    }
    return 0.0;
}

namespace {

// Two passes over the elements [begin, end): min, max, mean, then the spread around the mean.
TensorStats rangeStats(const Tensor &t, int64_t begin, int64_t end)
{
    TensorStats s;
    s.count = end - begin;
    double sum = 0.0;
    for (int64_t i = begin; i < end; ++i) {
        const double v = elementAsDouble(t, i);
        if (std::isnan(v)) {
            ++s.nans;
            continue;
        }
        if (std::isinf(v)) {
            ++s.infinities;
            continue;
        }
        if (s.finite == 0)
            s.min = s.max = v;
        s.min = std::min(s.min, v);
        s.max = std::max(s.max, v);
        sum += v;
        ++s.finite;
    }
    if (s.finite == 0)
        return s;
    s.mean = sum / static_cast<double>(s.finite);
    double ss = 0.0;
    for (int64_t i = begin; i < end; ++i) {
        const double v = elementAsDouble(t, i);
        if (std::isfinite(v))
            ss += (v - s.mean) * (v - s.mean);
    }
    s.std = std::sqrt(ss / static_cast<double>(s.finite));
    return s;
}

// Chan et al.'s pairwise update: the statistics of a and b together.
TensorStats combine(const TensorStats &a, const TensorStats &b)
{
    if (b.finite == 0 || a.finite == 0) {
        TensorStats s = b.finite == 0 ? a : b;
        s.count = a.count + b.count;
        s.nans = a.nans + b.nans;
        s.infinities = a.infinities + b.infinities;
        return s;
    }
    TensorStats s;
    s.count = a.count + b.count;
    s.nans = a.nans + b.nans;
    s.infinities = a.infinities + b.infinities;
    s.finite = a.finite + b.finite;
    s.min = std::min(a.min, b.min);
    s.max = std::max(a.max, b.max);
    const double na = static_cast<double>(a.finite), nb = static_cast<double>(b.finite), n = na + nb;
    const double delta = b.mean - a.mean;
    s.mean = a.mean + delta * nb / n;
    const double m2 = a.std * a.std * na + b.std * b.std * nb + delta * delta * na * nb / n;
    s.std = std::sqrt(m2 / n);
    return s;
}

} // namespace

TensorStats computeStats(const Tensor &t)
{
    return rangeStats(t, 0, t.numel());
}

TensorStats computeStreamingStats(const Tensor &t)
{
    const int64_t perChunk = std::max<int64_t>(1, static_cast<int64_t>(kStatsChunkBytes / dtypeSize(t.dtype())));
    if (t.numel() <= perChunk) { // bit for bit what computeStats says
        const TensorStats s = computeStats(t);
        releaseIfMapped(t.raw(), t.byteSize());
        return s;
    }
    TensorStats s;
    for (int64_t begin = 0; begin < t.numel(); begin += perChunk) {
        const int64_t end = std::min(t.numel(), begin + perChunk);
        s = begin == 0 ? rangeStats(t, begin, end) : combine(s, rangeStats(t, begin, end));
        const uint64_t size = dtypeSize(t.dtype());
        releaseIfMapped(static_cast<const char *>(t.raw()) + static_cast<uint64_t>(begin) * size, static_cast<uint64_t>(end - begin) * size);
    }
    return s;
}

} // namespace netwright
