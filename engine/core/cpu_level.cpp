// SPDX-License-Identifier: Apache-2.0
#include "core/cpu_level.h"

#include "core/error.h"

#include <oneapi/dnnl/dnnl.h>

#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <mutex>

namespace netwright::cpu {

namespace {

constexpr std::array<std::string_view, 5> kNames{"baseline", "avx2", "avx512", "avx512-bf16", "amx"};
constexpr std::array<std::string_view, 5> kDescriptions{
    "x86-64-v2: SSE4.2", "x86-64-v3: AVX2, FMA", "x86-64-v4: AVX-512 F/BW/DQ/VL",
    "x86-64-v4 + AVX512-BF16", "x86-64-v4 + AVX512-BF16 + AMX-BF16 tiles"};

struct Cpuid {
    uint32_t a = 0, b = 0, c = 0, d = 0;
};

Cpuid cpuid(uint32_t leaf, uint32_t subleaf)
{
    Cpuid r;
    if (!__get_cpuid_count(leaf, subleaf, &r.a, &r.b, &r.c, &r.d))
        return {};
    return r;
}

bool bit(uint32_t word, int n) { return (word >> n) & 1u; }

uint64_t xcr0()
{
    uint32_t lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (static_cast<uint64_t>(hi) << 32) | lo;
}

Level detect()
{
    const Cpuid l1 = cpuid(1, 0);
    const bool osxsave = bit(l1.c, 27);
    if (!osxsave || !bit(l1.c, 28)) // no AVX, or the OS does not save its registers
        return Level::Baseline;
    const uint64_t xcr = xcr0();
    if ((xcr & 0x6) != 0x6)
        return Level::Baseline;
    const Cpuid l7 = cpuid(7, 0), l7s1 = cpuid(7, 1), ext = cpuid(0x80000001, 0);
    const bool v3 = bit(l1.c, 12) /*FMA*/ && bit(l1.c, 29) /*F16C*/ && bit(l1.c, 22) /*MOVBE*/ && bit(l7.b, 5) /*AVX2*/
                    && bit(l7.b, 3) /*BMI1*/ && bit(l7.b, 8) /*BMI2*/ && bit(ext.c, 5) /*LZCNT*/;
    if (!v3)
        return Level::Baseline;
    const bool v4 = bit(l7.b, 16) /*F*/ && bit(l7.b, 17) /*DQ*/ && bit(l7.b, 28) /*CD*/ && bit(l7.b, 30) /*BW*/
                    && bit(l7.b, 31) /*VL*/ && (xcr & 0xe0) == 0xe0; // opmask and ZMM state saved
    if (!v4)
        return Level::Avx2;
    if (!bit(l7s1.a, 5)) // AVX512_BF16
        return Level::Avx512;
    const bool amx = bit(l7.d, 24) /*AMX-TILE*/ && bit(l7.d, 22) /*AMX-BF16*/ && (xcr & 0x60000) == 0x60000;
    if (!amx)
        return Level::Avx512Bf16;
    // Linux hands out the 8 KiB tile-data state only to a process that asks for it.
    constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    if (syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) != 0)
        return Level::Avx512Bf16;
    return Level::Amx;
}

dnnl_cpu_isa_t dnnlIsa(Level level)
{
    switch (level) {
    case Level::Baseline:
        return dnnl_cpu_isa_sse41;
    case Level::Avx2:
        return dnnl_cpu_isa_avx2;
    case Level::Avx512:
        return dnnl_cpu_isa_avx512_core;
    case Level::Avx512Bf16:
        return dnnl_cpu_isa_avx512_core_bf16;
    case Level::Amx:
        return dnnl_cpu_isa_avx512_core_amx;
    }
    return dnnl_cpu_isa_sse41;
}

std::string_view dnnlIsaName(dnnl_cpu_isa_t isa)
{
    switch (isa) {
    case dnnl_cpu_isa_sse41:
        return "sse41";
    case dnnl_cpu_isa_avx:
        return "avx";
    case dnnl_cpu_isa_avx2:
        return "avx2";
    case dnnl_cpu_isa_avx2_vnni:
        return "avx2_vnni";
    case dnnl_cpu_isa_avx512_core:
        return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni:
        return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16:
        return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx:
        return "avx512_core_amx";
    default:
        return "other";
    }
}

std::string levelList(Level upTo)
{
    std::string s;
    for (int i = 0; i <= static_cast<int>(upTo); ++i)
        s += (i ? ", " : "") + std::string(kNames[static_cast<size_t>(i)]);
    return s;
}

} // namespace

std::string_view levelName(Level level) { return kNames[static_cast<size_t>(level)]; }

std::string_view levelDescription(Level level) { return kDescriptions[static_cast<size_t>(level)]; }

std::optional<Level> parseLevel(std::string_view name)
{
    for (size_t i = 0; i < kNames.size(); ++i)
        if (kNames[i] == name)
            return static_cast<Level>(i);
    return std::nullopt;
}

Level detectedLevel()
{
    static const Level level = detect();
    return level;
}

Level activeLevel()
{
    // Decided once; a bad override is reported on every call, so each caller's error names it.
    static std::once_flag once;
    static Level level = Level::Baseline;
    static std::string failure;
    std::call_once(once, [] {
        const Level best = detectedLevel();
        level = best;
        if (const char *env = std::getenv("NETWRIGHT_CPU_LEVEL"); env && *env) {
            const std::optional<Level> wanted = parseLevel(env);
            if (!wanted)
                failure = "NETWRIGHT_CPU_LEVEL=" + std::string(env) + " is not a CPU level; use one of "
                          + levelList(Level::Amx) + ".";
            else if (*wanted > best)
                failure = "NETWRIGHT_CPU_LEVEL=" + std::string(env) + " is above what this CPU (" + cpuModelName()
                          + ") supports: " + levelList(best) + ".";
            else
                level = *wanted;
        }
        // Before oneDNN generates its first kernel; later calls would be refused.
        dnnl_set_max_cpu_isa(dnnlIsa(level));
    });
    if (!failure.empty())
        throw Error(failure);
    return level;
}

std::vector<Level> supportedLevels()
{
    std::vector<Level> levels;
    for (int i = 0; i <= static_cast<int>(detectedLevel()); ++i)
        levels.push_back(static_cast<Level>(i));
    return levels;
}

bool hasBf16() { return activeLevel() >= Level::Avx512Bf16; }

std::string cpuModelName()
{
    static const std::string name = [] {
        std::ifstream in("/proc/cpuinfo");
        std::string line;
        while (std::getline(in, line))
            if (line.rfind("model name", 0) == 0) {
                const size_t colon = line.find(':');
                if (colon != std::string::npos && colon + 2 <= line.size())
                    return line.substr(colon + 2);
            }
        return std::string("unknown CPU");
    }();
    return name;
}

std::string describeLevel()
{
    const Level level = activeLevel();
    const dnnl_version_t *v = dnnl_version();
    std::string s = std::string(levelName(level)) + " (" + std::string(levelDescription(level)) + "; CPU: " + cpuModelName()
                    + ", best " + std::string(levelName(detectedLevel()));
    if (level != detectedLevel())
        s += ", capped by NETWRIGHT_CPU_LEVEL";
    s += "; oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) + " "
         + std::string(dnnlIsaName(dnnl_get_effective_cpu_isa())) + ")";
    return s;
}

} // namespace netwright::cpu
