// SPDX-License-Identifier: Apache-2.0
#include "formats/npy/npy_file.h"

#include "core/atomic_file.h"
#include "core/error.h"

namespace netwright {

namespace {

const char *descr(DType t)
{
    switch (t) {
    case DType::Float32: return "<f4";
    case DType::Float64: return "<f8";
    case DType::Float16: return "<f2";
    case DType::BFloat16: return "<V2"; // numpy has no bfloat16: two opaque bytes per element
    case DType::Int64: return "<i8";
    case DType::Int32: return "<i4";
    case DType::Int16: return "<i2";
    case DType::Int8: return "|i1";
    case DType::UInt64: return "<u8";
    case DType::UInt32: return "<u4";
    case DType::UInt16: return "<u2";
    case DType::UInt8: return "|u1";
    case DType::Bool: return "|b1";
    }
    return "|u1";
}

} // namespace

std::string encodeNpy(const Tensor &t)
{
    std::string shape = "(";
    for (size_t i = 0; i < t.shape().size(); ++i)
        shape += std::to_string(t.shape()[i]) + (t.shape().size() == 1 ? "," : i + 1 < t.shape().size() ? ", " : "");
    shape += ")";
    std::string header = std::string("{'descr': '") + descr(t.dtype()) + "', 'fortran_order': False, 'shape': " + shape + ", }";
    // magic (6) + version (2) + length (2) + header + '\n', padded with spaces to a multiple of 64
    const size_t unpadded = 10 + header.size() + 1;
    header.append((64 - unpadded % 64) % 64, ' ');
    header += '\n';
    check(header.size() <= 0xffff, "The .npy header is too long for format version 1.0.");
    std::string out("\x93NUMPY\x01\x00", 8);
    out += static_cast<char>(header.size() & 0xff);
    out += static_cast<char>(header.size() >> 8);
    out += header;
    out.append(static_cast<const char *>(t.raw()), t.byteSize());
    return out;
}

void writeNpy(const std::string &path, const Tensor &t)
{
    writeFileAtomically(path, encodeNpy(t));
}

} // namespace netwright
