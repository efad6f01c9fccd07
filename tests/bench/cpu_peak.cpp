// SPDX-License-Identifier: Apache-2.0
// The CPU's float32 FMA peak, for tests/bench/train_vs_pytorch.py's "% of peak" line: measures the
// clock (a chain of dependent integer adds, one per cycle) and the FMA issue rate at the widest
// vector width the CPU has (many independent fused multiply-adds), on every thread at once so the
// all-core clock counts. Prints one JSON line:
//   {"threads": 2, "ghz": 3.30, "vector_bits": 512, "fma_per_cycle": 2, "peak_gflops": 422.4, "measured_gflops": 418.0}
// peak_gflops = threads × ghz × fma_per_cycle × (vector_bits / 32) × 2. The widths are chosen at
// run time (__builtin_cpu_supports), so the program runs on any x86-64 CPU.
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// 16 dependent adds per iteration: 16 cycles whatever the CPU.
double addChainSeconds(long iterations)
{
    long x = 0;
    const auto t0 = Clock::now();
    for (long i = 0; i < iterations; ++i)
        asm volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                     "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                     "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                     "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0"
                     : "+r"(x));
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (x != iterations * 16)
        std::abort();
    return s;
}

// 16 independent FMA chains (enough to cover 4-cycle latency on 2 or more FMA units).
template<typename V, V (*Fma)(V, V, V), V (*Set)(float)> double fmaSeconds(long iterations)
{
    V a[16];
    for (V &v : a)
        v = Set(1.0f);
    const V m = Set(0.999999f), c = Set(1e-7f);
    const auto t0 = Clock::now();
    for (long i = 0; i < iterations; ++i)
        for (V &v : a) {
            v = Fma(v, m, c);
            asm volatile("" : "+x"(v)); // keep every FMA
        }
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    return s;
}

__attribute__((target("avx512f"))) __m512 fma512(__m512 a, __m512 b, __m512 c) { return _mm512_fmadd_ps(a, b, c); }
__attribute__((target("avx512f"))) __m512 set512(float f) { return _mm512_set1_ps(f); }
__attribute__((target("avx2,fma"))) __m256 fma256(__m256 a, __m256 b, __m256 c) { return _mm256_fmadd_ps(a, b, c); }
__attribute__((target("avx2,fma"))) __m256 set256(float f) { return _mm256_set1_ps(f); }
__m128 mul128(__m128 a, __m128 b, __m128 c) { return _mm_add_ps(_mm_mul_ps(a, b), c); } // no FMA: a multiply and an add
__m128 set128(float f) { return _mm_set1_ps(f); }

__attribute__((target("avx512f"))) double run512(long n) { return fmaSeconds<__m512, fma512, set512>(n); }
__attribute__((target("avx2,fma"))) double run256(long n) { return fmaSeconds<__m256, fma256, set256>(n); }
double run128(long n) { return fmaSeconds<__m128, mul128, set128>(n); }

// Runs fn on `threads` threads at once; the slowest thread's time.
template<typename F> double onAllThreads(int threads, F fn)
{
    std::vector<double> times(static_cast<size_t>(threads));
    std::vector<std::thread> pool;
    std::atomic<int> ready{0};
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            ready.fetch_add(1);
            while (ready.load() < threads) {
            }
            times[static_cast<size_t>(t)] = fn();
        });
    for (auto &th : pool)
        th.join();
    return *std::max_element(times.begin(), times.end());
}

} // namespace

int main(int argc, char **argv)
{
    const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
    __builtin_cpu_init();
    const int bits = __builtin_cpu_supports("avx512f") ? 512 : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 256 : 128;
    double (*run)(long) = bits == 512 ? run512 : bits == 256 ? run256 : run128;
    const long addIters = 50'000'000, fmaIters = 20'000'000;
    double ghz = 0, fmaPerCycle = 0, measured = 0;
    for (int round = 0; round < 3; ++round) { // best of three: the clock ramps up in the first
        const double addS = onAllThreads(threads, [&] { return addChainSeconds(addIters); });
        const double fmaS = onAllThreads(threads, [&] { return run(fmaIters); });
        const double g = 16.0 * addIters / addS / 1e9;
        const double instrPerNs = 16.0 * fmaIters / fmaS / 1e9;
        ghz = std::max(ghz, g);
        fmaPerCycle = std::max(fmaPerCycle, instrPerNs / g);
        measured = std::max(measured, threads * instrPerNs * (bits / 32) * 2.0);
    }
    // The issue rate is a whole number of units (or a half, where 512-bit FMAs take two passes).
    const double units = std::max(0.5, std::round(fmaPerCycle * 2.0) / 2.0);
    const double peak = threads * ghz * units * (bits / 32) * 2.0;
    std::printf("{\"threads\": %d, \"ghz\": %.2f, \"vector_bits\": %d, \"fma_per_cycle\": %.1f, \"peak_gflops\": %.1f, "
                "\"measured_gflops\": %.1f}\n",
                threads, ghz, bits, units, peak, measured);
    return 0;
}
