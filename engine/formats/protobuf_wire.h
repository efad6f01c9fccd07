// SPDX-License-Identifier: Apache-2.0
// Protobuf wire format by hand, for the formats where generated code cannot do what we need:
// byte-exact output, streaming of multi-GiB files, and hostile input (every length is checked
// against the bytes that remain; nesting has a depth limit). Layer: engine/formats.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace netwright::wire {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

// Appends to `out`.
void putVarint(std::string &out, uint64_t v);
void putKey(std::string &out, uint32_t field, WireType type);
void putLen(std::string &out, uint32_t field, std::string_view bytes);
size_t varintSize(uint64_t v);

// The one varint decoder: reads a varint at `pos` of `bytes`, advancing `pos`. False when the bytes
// end inside it or it is longer than 10 bytes (pos then points past what was read).
bool readVarint(std::string_view bytes, size_t &pos, uint64_t &value);

// Reads from a bounded byte range; every failure throws netwright::Error with `context` (e.g.
// `Cannot read "a.ckpt" as MindSpore checkpoint`) and the offset from the start of the file.
class Reader {
public:
    Reader(std::string_view bytes, std::string context, uint64_t baseOffset = 0)
        : m_bytes(bytes), m_context(std::move(context)), m_base(baseOffset) {}

    bool atEnd() const { return m_pos >= m_bytes.size(); }
    size_t position() const { return m_pos; }
    uint64_t fileOffset() const { return m_base + m_pos; }
    size_t remaining() const { return m_bytes.size() - m_pos; }

    uint64_t varint();
    // A field key; returns the field number and sets `type`.
    uint32_t key(WireType &type);
    // A length-delimited payload, checked against what remains.
    std::string_view lengthDelimited();
    void skip(WireType type);
    [[noreturn]] void fail(const std::string &problem) const;

    const std::string &context() const { return m_context; }

private:
    std::string_view m_bytes;
    std::string m_context;
    uint64_t m_base;
    size_t m_pos = 0;
};

} // namespace netwright::wire
