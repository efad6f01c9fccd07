// SPDX-License-Identifier: Apache-2.0
// The one way the engine reads a whole file: regular files only (a FIFO, a device, a directory or a
// symlink loop is refused with what it is, never opened for a blocking read), with the size known
// before anything is allocated. Layer: engine/core.
#pragma once

#include <cstdint>
#include <string>

namespace netwright {

// Throws Error naming `path` when it is not a regular file ("is a directory", "is a FIFO", "is a
// character device", "is a symbolic link loop", "does not exist"). `what` names the role in the
// message ("run config", "model file"); empty: just the path.
void requireRegularFile(const std::string &path, const std::string &what = {});
// The whole regular file; throws Error naming it and the reason (as requireRegularFile, or the
// system's read error). maxBytes: refuse larger files before reading them.
std::string readRegularFile(const std::string &path, const std::string &what = {}, uint64_t maxBytes = UINT64_MAX);
// Up to `count` bytes from the start of a regular file (detection reads a bounded prefix).
std::string readFilePrefix(const std::string &path, uint64_t count, const std::string &what = {});
// The size of a regular file in bytes (requireRegularFile's checks first).
uint64_t regularFileSize(const std::string &path, const std::string &what = {});

} // namespace netwright
