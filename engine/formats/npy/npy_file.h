// SPDX-License-Identifier: Apache-2.0
// NumPy .npy files (format version 1.0): the magic "\x93NUMPY", a little-endian header length,
// a Python-literal header dict {'descr', 'fortran_order', 'shape'} padded to 64 bytes, then the
// raw little-endian C-order data. What the tensor inspector's "Export .npy" writes, loadable with
// numpy.load. Layer: engine/formats.
#pragma once

#include "core/tensor.h"

#include <string>

namespace netwright {

std::string encodeNpy(const Tensor &t);
// Atomic, like every write: the previous file survives a failed save.
void writeNpy(const std::string &path, const Tensor &t);

} // namespace netwright
