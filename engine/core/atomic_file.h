// SPDX-License-Identifier: Apache-2.0
// Atomic file writes (DESIGN idea 3): temp file in the same directory, write, fsync, rename,
// fsync the directory. A crash at any instant leaves either the old file or the new one.
#pragma once

#include <string>
#include <string_view>

namespace netwright {

// Throws Error naming the path and the system's reason; the old file is untouched on failure.
void writeFileAtomically(const std::string &path, std::string_view bytes);

} // namespace netwright
