// SPDX-License-Identifier: Apache-2.0
// The CPU's float32 FMA peak, for tests/bench/train_vs_pytorch.py's "% of peak" line: measures the
// clock (a chain of dependent integer adds, one per cycle) and the FMA issue rate at the widest
// vector width the CPU has (many independent fused multiply-adds), on every thread at once so the
// all-core clock counts. Prints one JSON line:
//   {"threads": 2, "ghz": 3.30, "vector_bits": 512, "fma_per_cycle": 2, "peak_gflops": 422.4, "measured_gflops": 418.0,
//    "avx512_bf16": true, "bf16_dot_per_cycle": 2, "bf16_peak_gflops": 844.8, "bf16_measured_gflops": 840.1, "amx_bf16": false}
// peak_gflops = threads × ghz × fma_per_cycle × (vector_bits / 32) × 2. The widths are chosen at
// run time (__builtin_cpu_supports), so the program runs on any x86-64 CPU.
//
// Where the CPU has AVX512-BF16 it also measures the issue rate of VDPBF16PS, the bf16 dot product
// that oneDNN's bf16 kernels are built on without AMX: each does 16 lanes × 2 products, so
// bf16_peak_gflops = threads × ghz × bf16_dot_per_cycle × 16 × 2 × 2, and bf16_peak_gflops /
// peak_gflops is the most a bf16 product can gain over an fp32 one on this CPU. AMX tiles go beyond
// it; amx_bf16 says whether the CPU has them (their rate is not measured here, and whether the
// kernel lets a process use them, XCR0 and ARCH_REQ_XCOMP_PERM, is not checked: it is for the
// reader of the figures, not a test of what oneDNN will run).
#include <cpuid.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

// 16 independent FMA chains (enough to cover a 4-cycle latency on 2 or more FMA units), one
// function per vector width, each compiled for its instruction set; the sum keeps every FMA.
#define NW_FMA_LOOP(NAME, TARGET, V, SET, FMA, ADD)                                                                    \
    __attribute__((target(TARGET))) double NAME(long iterations, float &sink)                                          \
    {                                                                                                                  \
        V a[16];                                                                                                       \
        for (V &v : a)                                                                                                 \
            v = SET(1.0f);                                                                                             \
        const V m = SET(0.999999f), c = SET(1e-7f);                                                                    \
        const auto t0 = Clock::now();                                                                                  \
        for (long i = 0; i < iterations; ++i)                                                                          \
            for (V &v : a)                                                                                             \
                v = FMA(v, m, c);                                                                                      \
        const double s = std::chrono::duration<double>(Clock::now() - t0).count();                                    \
        V total = a[0];                                                                                                \
        for (int k = 1; k < 16; ++k)                                                                                   \
            total = ADD(total, a[k]);                                                                                  \
        float lanes[16] = {};                                                                                          \
        std::memcpy(lanes, &total, sizeof total);                                                                      \
        sink += lanes[0];                                                                                              \
        return s;                                                                                                      \
    }

#define NW_MULADD128(a, b, c) _mm_add_ps(_mm_mul_ps(a, b), c) // no FMA at the baseline: a multiply and an add
NW_FMA_LOOP(run512, "avx512f", __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps)
NW_FMA_LOOP(run256, "avx2,fma", __m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps)
NW_FMA_LOOP(run128, "sse4.2", __m128, _mm_set1_ps, NW_MULADD128, _mm_add_ps)

// The same 16 independent chains of bf16 dot products (VDPBF16PS: each lane adds two bf16
// products to its float32 sum).
__attribute__((target("avx512f,avx512bf16"))) double runDpBf16(long iterations, float &sink)
{
    __m512 a[16];
    for (__m512 &v : a)
        v = _mm512_set1_ps(1.0f);
    const __m512bh x = (__m512bh)_mm512_set1_epi16(0x3f80), y = (__m512bh)_mm512_set1_epi16(0x3380); // 1.0, about 6e-8
    const auto t0 = Clock::now();
    for (long i = 0; i < iterations; ++i)
        for (__m512 &v : a)
            v = _mm512_dpbf16_ps(v, x, y);
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    __m512 total = a[0];
    for (int k = 1; k < 16; ++k)
        total = _mm512_add_ps(total, a[k]);
    float lanes[16] = {};
    std::memcpy(lanes, &total, sizeof total);
    sink += lanes[0];
    return s;
}

// CPUID leaf 7: AVX512-BF16 is sub-leaf 1's EAX bit 5, AMX-BF16 sub-leaf 0's EDX bit 22. The
// AVX-512 state's OS support is what __builtin_cpu_supports("avx512f") checks.
bool cpuidBit(unsigned subleaf, int reg, unsigned bit)
{
    unsigned r[4] = {};
    if (!__get_cpuid_count(7, subleaf, &r[0], &r[1], &r[2], &r[3]))
        return false;
    return (r[reg] >> bit) & 1u;
}

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
    double (*run)(long, float &) = bits == 512 ? run512 : bits == 256 ? run256 : run128;
    std::atomic<float> sink{0.0f};
    const long addIters = 50'000'000, fmaIters = 20'000'000;
    double ghz = 0, fmaPerCycle = 0, measured = 0;
    for (int round = 0; round < 3; ++round) { // best of three: the clock ramps up in the first
        const double addS = onAllThreads(threads, [&] { return addChainSeconds(addIters); });
        const double fmaS = onAllThreads(threads, [&] { float local = 0.0f; const double t = run(fmaIters, local); sink.fetch_add(local); return t; });
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
                "\"measured_gflops\": %.1f",
                threads, ghz, bits, units, peak, measured);
    const bool bf16 = bits == 512 && cpuidBit(1, 0, 5);
    std::printf(", \"avx512_bf16\": %s", bf16 ? "true" : "false");
    if (bf16) {
        double dotPerCycle = 0, dotMeasured = 0;
        for (int round = 0; round < 3; ++round) {
            const double s = onAllThreads(threads, [&] { float local = 0.0f; const double t = runDpBf16(fmaIters, local); sink.fetch_add(local); return t; });
            const double instrPerNs = 16.0 * fmaIters / s / 1e9;
            dotPerCycle = std::max(dotPerCycle, instrPerNs / ghz);
            dotMeasured = std::max(dotMeasured, threads * instrPerNs * 16 * 2 * 2.0);
        }
        const double dotUnits = std::max(0.5, std::round(dotPerCycle * 2.0) / 2.0);
        std::printf(", \"bf16_dot_per_cycle\": %.1f, \"bf16_peak_gflops\": %.1f, \"bf16_measured_gflops\": %.1f", dotUnits,
                    threads * ghz * dotUnits * 16 * 2 * 2.0, dotMeasured);
    }
    std::printf(", \"amx_bf16\": %s}\n", cpuidBit(0, 3, 22) ? "true" : "false");
    return sink.load() == 12345.0f ? 1 : 0; // never: the FMA results are used

}
