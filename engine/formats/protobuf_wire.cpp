// SPDX-License-Identifier: Apache-2.0
#include "formats/protobuf_wire.h"

#include "core/error.h"

namespace netwright::wire {

void putVarint(std::string &out, uint64_t v)
{
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

size_t varintSize(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        ++n;
    }
    return n;
}

void putKey(std::string &out, uint32_t field, WireType type)
{
    putVarint(out, (static_cast<uint64_t>(field) << 3) | type);
}

void putLen(std::string &out, uint32_t field, std::string_view bytes)
{
    putKey(out, field, kLen);
    putVarint(out, bytes.size());
    out.append(bytes);
}

void Reader::fail(const std::string &problem) const
{
    throw Error(m_context + ": " + problem + " (at byte " + std::to_string(fileOffset()) + ").");
}

bool readVarint(std::string_view bytes, size_t &pos, uint64_t &value)
{
    value = 0;
    for (int shift = 0; shift < 64 && pos < bytes.size(); shift += 7) {
        const auto b = static_cast<uint8_t>(bytes[pos++]);
        value |= static_cast<uint64_t>(b & 0x7f) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

uint64_t Reader::varint()
{
    uint64_t v = 0;
    const size_t start = m_pos;
    if (readVarint(m_bytes, m_pos, v))
        return v;
    if (m_pos >= m_bytes.size() && m_pos - start < 10)
        fail("the data ends inside a varint");
    fail("a varint is longer than 10 bytes");
}

uint32_t Reader::key(WireType &type)
{
    const uint64_t k = varint();
    const uint64_t field = k >> 3;
    const uint32_t t = static_cast<uint32_t>(k & 7);
    if (field == 0 || field > 0x1fffffff)
        fail("invalid field number " + std::to_string(field));
    if (t != kVarint && t != kFixed64 && t != kLen && t != kFixed32)
        fail("field " + std::to_string(field) + " has unsupported wire type " + std::to_string(t));
    type = static_cast<WireType>(t);
    return static_cast<uint32_t>(field);
}

std::string_view Reader::lengthDelimited()
{
    const uint64_t n = varint();
    if (n > remaining())
        fail("a length of " + std::to_string(n) + " bytes runs past the end (" + std::to_string(remaining()) + " remain)");
    const std::string_view v = m_bytes.substr(m_pos, static_cast<size_t>(n));
    m_pos += static_cast<size_t>(n);
    return v;
}

void Reader::skip(WireType type)
{
    switch (type) {
    case kVarint: varint(); return;
    case kFixed64:
        if (remaining() < 8)
            fail("the data ends inside a 64-bit field");
        m_pos += 8;
        return;
    case kFixed32:
        if (remaining() < 4)
            fail("the data ends inside a 32-bit field");
        m_pos += 4;
        return;
    case kLen: lengthDelimited(); return;
    }
}

} // namespace netwright::wire
