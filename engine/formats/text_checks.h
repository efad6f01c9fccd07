// SPDX-License-Identifier: Apache-2.0
// Tests the format scorers share on short byte strings. Layer: engine/formats.
#pragma once

#include <algorithm>
#include <cctype>
#include <string_view>

namespace netwright {

// Non-empty printable ASCII.
inline bool printable(std::string_view s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

// "0.1.1": digits and dots, short.
inline bool versionLike(std::string_view s)
{
    return !s.empty() && s.size() < 16 && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; });
}

} // namespace netwright
