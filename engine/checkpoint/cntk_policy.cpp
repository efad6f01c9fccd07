// SPDX-License-Identifier: Apache-2.0
#include "checkpoint/cntk_policy.h"

#include <algorithm>
#include <limits>

namespace netwright::cntk_policy {

std::optional<uint64_t> Trigger::afterMinibatch(uint64_t total)
{
    const uint64_t index = indexOf(total);
    if (index == m_index)
        return std::nullopt;
    const uint64_t old = m_index;
    m_index = index;
    m_lastCalled = total;
    return old;
}

std::optional<uint64_t> Trigger::atEnd(uint64_t total)
{
    if (total == m_start) // nothing was trained since the start or the restore
        return std::nullopt;
    const bool partial = m_frequency == 0 || total % m_frequency != 0;
    if (!partial || total == m_lastCalled)
        return std::nullopt;
    m_lastCalled = total;
    return m_index;
}

void Trigger::restore(uint64_t total)
{
    m_index = indexOf(total);
    m_lastCalled = m_start = total;
}

std::string checkpointName(const std::string &filename, std::optional<uint64_t> index)
{
    return index ? filename + std::to_string(*index) : filename;
}

std::string findRestoreFile(const std::vector<std::string> &listing, const std::string &filename)
{
    auto listed = [&](const std::string &name) { return std::find(listing.begin(), listing.end(), name) != listing.end(); };
    if (listed(filename) && listed(filename + ".ckp"))
        return filename;
    std::string best;
    uint64_t bestIndex = 0;
    for (const auto &name : listing) {
        if (name.size() <= filename.size() || name.compare(0, filename.size(), filename) != 0)
            continue;
        const std::string suffix = name.substr(filename.size());
        if (suffix.find_first_not_of("0123456789") != std::string::npos || suffix.size() > 19)
            continue; // not a whole decimal number (and "N.ckp" itself is not a candidate)
        const uint64_t index = std::stoull(suffix);
        if (!listed(name + ".ckp"))
            continue;
        if (best.empty() || index > bestIndex) {
            best = name;
            bestIndex = index;
        }
    }
    return best;
}

} // namespace netwright::cntk_policy
