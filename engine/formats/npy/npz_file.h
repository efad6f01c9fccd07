// SPDX-License-Identifier: Apache-2.0
// NumPy .npz archives (np.savez, np.savez_compressed): a zip holding one .npy member per array,
// stored or deflated; training data comes as arrays "x" and "y". Read through libzip, which this
// header keeps to itself. A member's declared size is checked against the archive before anything
// is allocated, and its real size and CRC against the declaration. Layer: engine/formats.
#pragma once

#include "core/tensor.h"

#include <string>
#include <vector>

namespace netwright {

// The arrays in the archive at `path`: its members named "<name>.npy", without the suffix, in
// archive order (members of other names are not arrays and are left out). Throws Error naming
// the file when it is not a regular file or not a readable zip archive.
std::vector<std::string> npzArrayNames(const std::string &path);
// The array `name` (the member "<name>.npy"), decoded as decodeNpy() does: a host tensor in C
// order. Throws Error naming the archive, the member and the problem: no such array (the message
// lists those present), a damaged or oversized member (a zip bomb's declared size is refused
// before allocating), a CRC mismatch, or decodeNpy()'s refusals with "<path>/<name>.npy" as the
// source.
Tensor readNpzArray(const std::string &path, const std::string &name);

} // namespace netwright
