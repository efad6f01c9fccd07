// SPDX-License-Identifier: Apache-2.0
#include "run/tfrecord.h"

#include <boost/crc.hpp>

#include <cstring>

namespace netwright::tfrecord {

namespace {

// Castagnoli polynomial 0x1EDC6F41, reflected in and out, initial and final XOR all ones.
using Crc32c = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

void putLe64(std::string &out, uint64_t v)
{
    for (int i = 0; i < 8; ++i)
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void putLe32(std::string &out, uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t le(std::string_view bytes, size_t at, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i)
        v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
    return v;
}

} // namespace

uint32_t crc32c(std::string_view bytes)
{
    Crc32c crc;
    crc.process_bytes(bytes.data(), bytes.size());
    return crc.checksum();
}

uint32_t maskedCrc32c(std::string_view bytes)
{
    const uint32_t crc = crc32c(bytes);
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

std::string frame(std::string_view data)
{
    std::string out;
    out.reserve(data.size() + 16);
    putLe64(out, data.size());
    putLe32(out, maskedCrc32c(out));
    out.append(data);
    putLe32(out, maskedCrc32c(data));
    return out;
}

Records parse(std::string_view bytes)
{
    Records out;
    size_t at = 0;
    while (at < bytes.size()) {
        const size_t left = bytes.size() - at;
        const std::string offset = "at byte " + std::to_string(at);
        if (left < 12) {
            out.problem = "a record header cut short " + offset;
            break;
        }
        if (static_cast<uint32_t>(le(bytes, at + 8, 4)) != maskedCrc32c(bytes.substr(at, 8))) {
            out.problem = "the length CRC does not match " + offset;
            break;
        }
        const uint64_t length = le(bytes, at, 8);
        if (length > left - 12 || left - 12 - length < 4) {
            out.problem = "a record of " + std::to_string(length) + " bytes cut short " + offset;
            break;
        }
        const std::string_view data = bytes.substr(at + 12, length);
        if (static_cast<uint32_t>(le(bytes, at + 12 + length, 4)) != maskedCrc32c(data)) {
            out.problem = "the data CRC does not match " + offset;
            break;
        }
        out.records.emplace_back(data);
        at += 16 + length;
        out.validBytes = at;
    }
    return out;
}

} // namespace netwright::tfrecord
