// SPDX-License-Identifier: Apache-2.0
#include "core/rng.h"

#include <cmath>

namespace netwright {

namespace {
uint64_t splitmix64(uint64_t &x)
{
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
} // namespace

void Rng::reseed(uint64_t seed)
{
    uint64_t x = seed;
    for (auto &w : m_s)
        w = splitmix64(x);
}

uint64_t Rng::nextU64()
{
    const uint64_t result = rotl(m_s[1] * 5, 7) * 9;
    const uint64_t t = m_s[1] << 17;
    m_s[2] ^= m_s[0];
    m_s[3] ^= m_s[1];
    m_s[1] ^= m_s[2];
    m_s[0] ^= m_s[3];
    m_s[2] ^= t;
    m_s[3] = rotl(m_s[3], 45);
    return result;
}

float Rng::uniform()
{
    return static_cast<float>(nextU64() >> 40) * (1.0f / 16777216.0f);
}

uint64_t Rng::below(uint64_t bound)
{
    if (bound <= 1)
        return 0;
    const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t x;
    do {
        x = nextU64();
    } while (x >= limit);
    return x % bound;
}

float Rng::normal()
{
    // u1 in (0, 1] so log() is finite.
    const double u1 = (static_cast<double>(nextU64() >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    const double u2 = static_cast<double>(nextU64() >> 11) * (1.0 / 9007199254740992.0);
    return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2));
}

uint64_t deriveSeed(uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL);
    splitmix64(x);
    return splitmix64(x);
}

} // namespace netwright
