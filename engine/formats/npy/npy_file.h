// SPDX-License-Identifier: Apache-2.0
// NumPy .npy files: the magic "\x93NUMPY", a version, a little-endian header length, a Python-
// literal header dict {'descr', 'fortran_order', 'shape'} padded to 64 bytes, then the raw data.
// We write version 1.0, little-endian, C order (the tensor inspector's "Export .npy"); we read
// versions 1.0-3.0 of every numeric dtype numpy writes (training data). Layer: engine/formats.
#pragma once

#include "core/tensor.h"

#include <string>

namespace netwright {

std::string encodeNpy(const Tensor &t);
// Atomic, like every write: the previous file survives a failed save.
void writeNpy(const std::string &path, const Tensor &t);

// The array in `bytes`, a whole .npy file, as a host tensor in C order with host byte order:
// bool, (u)int8..64 and float16/32/64, little-, big- or native-endian, C or Fortran order, any
// rank (a 0-d array gives shape []). Hostile bytes are refused before anything is allocated:
// throws Error "Cannot read "<what>" as a NumPy array: <problem>." for a bad magic, an unknown
// version, a header that runs past the file or is not the dict numpy writes, object/string/
// structured dtypes, a shape whose byte size overflows, truncated data and trailing bytes.
// `what` names the source in that message: a path, or "<archive>/<member>" for an .npz member.
Tensor decodeNpy(const std::string &bytes, const std::string &what);
// decodeNpy() of a regular file (core/file_io: a FIFO or a directory is refused, never opened
// for a blocking read), naming `path` in errors.
Tensor readNpy(const std::string &path);

// Where a .npy file's data lies, from its header alone (the file's size checked against it), for
// reading samples on demand: element i of the C-order data is at dataOffset + i · itemsize.
struct NpyLayout {
    Shape shape;
    DType dtype = DType::Float32;
    bool fortranOrder = false, swapBytes = false;
    uint64_t dataOffset = 0;
};
NpyLayout readNpyLayout(const std::string &path);

} // namespace netwright
