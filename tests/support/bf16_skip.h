// SPDX-License-Identifier: Apache-2.0
// The bf16 tests' way out on a CPU without bf16 (or under a NETWRIGHT_CPU_LEVEL cap below it):
// say why and exit 77, which ctest (SKIP_RETURN_CODE 77 in tests/CMakeLists.txt) reports as
// "Skipped" — never as passed.
#pragma once

#include "core/cpu_level.h"

#include <cstdio>
#include <string>

namespace netwright::test {

// Prints "SKIP: this CPU (…) runs the … level, without AVX512-BF16 or AMX: <what>." and returns 77.
inline int skipWithoutBf16(const char *what)
{
    std::printf("SKIP: this CPU (%s) runs the %s level, without AVX512-BF16 or AMX: %s.\n", cpu::cpuModelName().c_str(),
                std::string(cpu::levelName(cpu::activeLevel())).c_str(), what);
    return 77;
}

} // namespace netwright::test
