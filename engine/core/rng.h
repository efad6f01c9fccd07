// SPDX-License-Identifier: Apache-2.0
// Seeded, serialisable random numbers (xoshiro256**): the same seed gives the same stream on
// every platform, and the 4-word state can be saved into a checkpoint and restored exactly.
#pragma once

#include <array>
#include <cstdint>

namespace netwright {

class Rng {
public:
    using State = std::array<uint64_t, 4>;

    explicit Rng(uint64_t seed = 0) { reseed(seed); }
    void reseed(uint64_t seed);

    uint64_t nextU64();
    // Uniform in [0, 1) with 24 bits of precision.
    float uniform();
    // Uniform integer in [0, bound), unbiased.
    uint64_t below(uint64_t bound);
    // Standard normal (Box–Muller, no cached second value so the state alone is the whole state).
    float normal();

    State state() const { return m_s; }
    void setState(const State &s) { m_s = s; }

private:
    State m_s{};
};

// Mixes a seed with a stream id so that separate consumers (init, shuffle, dropout) get
// independent streams from one user seed.
uint64_t deriveSeed(uint64_t seed, uint64_t stream);

} // namespace netwright
