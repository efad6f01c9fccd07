// SPDX-License-Identifier: Apache-2.0
// CPU threading for kernels (OpenMP underneath). Work is split into one contiguous chunk per
// thread, always the same way for a given thread count, so results are deterministic.
#pragma once

#include <cstdint>
#include <functional>

namespace netwright {

// Sets the number of kernel threads (0 = every core). Call before training, not during.
void setThreadCount(int threads);
int threadCount();
bool inParallelRegion();

// Runs fn(begin, end, threadIndex) over [0, n) split into contiguous chunks, one per thread;
// serial when n is below minPerThread * 2 or when already inside a parallel region.
void parallelFor(int64_t n, const std::function<void(int64_t, int64_t, int)> &fn, int64_t minPerThread = 1);

// A kernel's bulk copy (dst ← src, `bytes` bytes, not overlapping) and clear (n floats ← value)
// in host memory, over the threads when big (from 128 KiB): one thread copies well below what the
// memory can take, and a serial copy leaves the other cores idle.
void parallelCopy(void *dst, const void *src, size_t bytes);
void parallelFill(float *dst, int64_t n, float value);

// For its scope, OpenMP work started on this thread (a oneDNN primitive, sgemm) runs on one thread
// when `work` is below `threshold`: a small job gains less from a second thread than opening the
// parallel region costs (and, on a busy machine, waking the other threads). threads() is the team
// size such work sees: 1 when serial or already inside a parallel region, the team size otherwise.
class SerialBelow {
public:
    SerialBelow(int64_t work, int64_t threshold);
    ~SerialBelow();
    SerialBelow(const SerialBelow &) = delete;
    SerialBelow &operator=(const SerialBelow &) = delete;
    int threads() const { return m_threads; }

private:
    int m_previous;
    bool m_serial;
    int m_threads;
};

} // namespace netwright
