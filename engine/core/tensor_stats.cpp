// SPDX-License-Identifier: Apache-2.0
#include "core/tensor_stats.h"

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

TensorStats computeStats(const Tensor &t)
{
    TensorStats s;
    s.count = t.numel();
    double sum = 0.0;
    for (int64_t i = 0; i < s.count; ++i) {
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
    for (int64_t i = 0; i < s.count; ++i) {
        const double v = elementAsDouble(t, i);
        if (std::isfinite(v))
            ss += (v - s.mean) * (v - s.mean);
    }
    s.std = std::sqrt(ss / static_cast<double>(s.finite));
    return s;
}

} // namespace netwright
