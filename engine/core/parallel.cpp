// SPDX-License-Identifier: Apache-2.0
#include "core/parallel.h"

#include "core/blas.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <thread>

namespace netwright {

namespace {
int g_threads = 0;
}

void setThreadCount(int threads)
{
    if (threads <= 0)
        threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    g_threads = threads;
    omp_set_num_threads(threads);
    omp_set_dynamic(0);
}

int threadCount()
{
    if (g_threads == 0)
        setThreadCount(0);
    return g_threads;
}

bool inParallelRegion()
{
    return omp_in_parallel() != 0;
}

void parallelFor(int64_t n, const std::function<void(int64_t, int64_t, int)> &fn, int64_t minPerThread)
{
    if (n <= 0)
        return;
    const int64_t maxUseful = std::max<int64_t>(1, n / std::max<int64_t>(1, minPerThread));
    const int threads = static_cast<int>(std::min<int64_t>(threadCount(), maxUseful));
    if (threads <= 1 || omp_in_parallel()) {
        fn(0, n, 0);
        return;
    }
    const blas::Precision precision = blas::precision(); // the caller's scope holds on every worker
#pragma omp parallel num_threads(threads)
    {
        const blas::PrecisionScope scope(precision);
        const int t = omp_get_thread_num();
        const int nt = omp_get_num_threads();
        const int64_t begin = n * t / nt;
        const int64_t end = n * (t + 1) / nt;
        if (begin < end)
            fn(begin, end, t);
    }
}

SerialBelow::SerialBelow(int64_t work, int64_t threshold)
    : m_previous(omp_get_max_threads()), m_serial(!inParallelRegion() && work < threshold)
{
    m_threads = inParallelRegion() || m_serial ? 1 : m_previous;
    if (m_serial)
        omp_set_num_threads(1);
}

SerialBelow::~SerialBelow()
{
    if (m_serial)
        omp_set_num_threads(m_previous);
}

void parallelCopy(void *dst, const void *src, size_t bytes)
{
    auto *d = static_cast<char *>(dst);
    const auto *s = static_cast<const char *>(src);
    parallelFor(static_cast<int64_t>(bytes), [=](int64_t b0, int64_t b1, int) {
        std::memcpy(d + b0, s + b0, static_cast<size_t>(b1 - b0));
    }, int64_t(64) << 10);
}

void parallelFill(float *dst, int64_t n, float value)
{
    parallelFor(n, [=](int64_t i0, int64_t i1, int) { std::fill(dst + i0, dst + i1, value); }, int64_t(16) << 10);
}

} // namespace netwright
