// SPDX-License-Identifier: Apache-2.0
// Dropout's mask, shared by the CPU kernel and the CUDA kernel so both devices (and every
// data-parallel rank) drop the same elements: element `index` of the global batch is kept when
// dropoutUniform(key, index) ≥ ratio, key being one draw from the dropout stream per call.
// Layer: engine/ops. Plain C++17, also compiled by nvcc.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define NETWRIGHT_HOST_DEVICE __host__ __device__
#else
#define NETWRIGHT_HOST_DEVICE
#endif

namespace netwright {

// A uniform number in [0, 1) for position `index` under `key` (SplitMix64's finaliser).
inline NETWRIGHT_HOST_DEVICE float dropoutUniform(uint64_t key, uint64_t index)
{
    uint64_t z = key + (index + 1) * 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return static_cast<float>(z >> 40) * (1.0f / 16777216.0f);
}

} // namespace netwright
