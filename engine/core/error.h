// SPDX-License-Identifier: Apache-2.0
// The one typed error the engine throws; the app catches it at its boundary and prints
// what() as one sentence. Layer: engine/core. what() always names the file/key/node at fault.
#pragma once

#include <stdexcept>
#include <string>

namespace netwright {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string &message) : std::runtime_error(message) {}
};

// Throws Error(message) when condition is false. For user-facing checks, not programmer bugs.
inline void check(bool condition, const std::string &message)
{
    if (!condition)
        throw Error(message);
}

} // namespace netwright
