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

} // namespace netwright
