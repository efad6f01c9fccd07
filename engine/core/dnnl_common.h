// SPDX-License-Identifier: Apache-2.0
// Internal to the engine: what the oneDNN-backed code (core/blas.cpp, ops/conv_dnnl.cpp,
// ops/conv_block_dnnl.cpp) shares — one CPU engine, the OpenMP team size oneDNN threads over, and
// the user-scratchpad attribute.
#pragma once

#include "core/cpu_level.h"
#include "core/parallel.h"

#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

namespace netwright::dnnlutil {

inline dnnl::engine &cpuEngine()
{
    static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    return engine;
}

// Call before making or running a primitive: fixes oneDNN's instruction set to the CPU level in
// use (before its first kernel), and sets the OpenMP team oneDNN threads over to the engine's
// thread count (one inside a parallel region). Returns that count; a primitive made for one count
// runs deterministically for it.
inline int prepareThreads()
{
    cpu::activeLevel();
    const bool nested = inParallelRegion();
    if (!nested && omp_get_max_threads() != threadCount())
        omp_set_num_threads(threadCount());
    return nested ? 1 : threadCount();
}

// Runs a reorder from `from` into `to`, on one thread when it moves fewer than 65,536 elements
// (weights, their gradients, a small batch's input): a 288-element reorder took 4.6 µs over two
// threads and 0.2 µs on one, 50,176 elements 9.2 and 2.5 µs; at 200,704 two threads win (46 against
// 84 µs). Measured on the 2-core EPYC of docs/benchmarks.md.
inline void reorderInto(const dnnl::reorder &r, dnnl::stream &stream, dnnl::memory from, dnnl::memory to)
{
    int64_t elements = 1;
    for (int64_t d : from.get_desc().dims())
        elements *= d;
    const SerialBelow team(elements, 65536);
    r.execute(stream, from, to);
}

// A primitive attribute with the scratchpad ours (no allocation per run).
inline dnnl::primitive_attr userScratchpad()
{
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return attr;
}

} // namespace netwright::dnnlutil
