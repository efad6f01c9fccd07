// SPDX-License-Identifier: Apache-2.0
// The instruction-set level the CPU kernels run at. The engine is compiled for x86-64-v2, so one
// binary runs on every x86-64 CPU of the last decade; its matrix multiplies and convolutions come
// from oneDNN, which generates them at run time for the level chosen here (AVX2, AVX-512,
// AVX512-BF16, AMX). The level is the CPU's best unless NETWRIGHT_CPU_LEVEL caps it (to run the
// baseline code on a newer CPU, as tests do). Results are deterministic for a given level and
// thread count; between levels they differ within float rounding.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netwright::cpu {

enum class Level { Baseline = 0, Avx2 = 1, Avx512 = 2, Avx512Bf16 = 3, Amx = 4 };

// "baseline", "avx2", "avx512", "avx512-bf16", "amx": the names NETWRIGHT_CPU_LEVEL takes.
std::string_view levelName(Level level);
// The instruction sets a level stands for, for messages: "x86-64-v3: AVX2, FMA".
std::string_view levelDescription(Level level);
std::optional<Level> parseLevel(std::string_view name);

// The best level this CPU and operating system support (cpuid, XCR0, and Linux's permission for
// AMX tile data).
Level detectedLevel();

// The level in use: detectedLevel(), or NETWRIGHT_CPU_LEVEL's if that is set and not above it.
// The first call fixes it for the process and tells oneDNN; an unknown or unsupported
// NETWRIGHT_CPU_LEVEL throws netwright::Error naming the value and the levels this CPU has.
Level activeLevel();

// Every level from baseline up to detectedLevel(), for tests that compare each with the baseline.
std::vector<Level> supportedLevels();

// One of three builds of a kernel by the active level: x86-64-v4 for the AVX-512 levels (avx512,
// avx512-bf16, amx), v3 for avx2, else v2 (see ops/activation_isa.h).
template<typename F> F byLevel(F v2, F v3, F v4)
{
    const Level level = activeLevel();
    return level >= Level::Avx512 ? v4 : level >= Level::Avx2 ? v3 : v2;
}

// True where bf16 matrix multiplies run natively (AVX512-BF16 or AMX at the active level).
bool hasBf16();

// One line for `netwright --version`: the level in use, what the CPU supports, the CPU model and
// the ISA oneDNN's kernels use, e.g.
// "avx512-bf16 (x86-64-v4 + AVX512-BF16; CPU: AMD EPYC, best avx512-bf16; oneDNN 2.6.3 avx512_core_bf16)".
std::string describeLevel();

// The CPU's model name from /proc/cpuinfo ("unknown CPU" where there is none).
std::string cpuModelName();

} // namespace netwright::cpu
