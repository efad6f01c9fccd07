// SPDX-License-Identifier: Apache-2.0
// Small pieces every format reader shares: whole-file reads, parsing a protobuf message of up to
// 2 GiB (the runtime's own limit; the default cap is lower), and number formatting for attribute
// text. Layer: engine/formats.
#pragma once

#include "core/tensor.h"

#include <optional>
#include <string>
#include <string_view>

namespace google::protobuf {
class MessageLite;
}

namespace netwright {

// The whole file; throws Error naming it and the system's reason.
std::string readFileBytes(const std::string &path);
// Parses `bytes` as `message` up to protobuf's 2 GiB limit. partial: required fields may be
// missing (proto2 readers that check them themselves). False when the bytes do not parse.
bool parseMessage(std::string_view bytes, google::protobuf::MessageLite &message, bool partial = false);
// Why `bytes` do not parse as a protobuf message, when the reason is that the file ends early:
// " (the file ends at byte N inside field F, which declares L bytes; R remain)"; else "".
// Readers append it to their "does not parse" error.
std::string truncationNote(std::string_view bytes);
// An element type in ONNX's TensorProto.DataType numbering (0–16), which MindIR shares.
struct ElementType {
    const char *name;           // float32, int64, …
    std::optional<DType> dtype; // nullopt: no engine dtype (string, complex, undefined)
};
ElementType onnxElementType(int32_t type);
// The reverse: an engine dtype's number in that numbering (FLOAT = 1, INT64 = 7, …).
int32_t onnxElementNumber(DType type);

// A float for attribute text: %.9g (every float32 round-trips).
std::string formatNumber(double v);
// "[a,b,c]" for any range of integers (dims, attribute lists).
template<typename Range>
std::string formatInts(const Range &values)
{
    std::string s = "[";
    bool first = true;
    for (const auto v : values) {
        if (!first)
            s += ',';
        s += std::to_string(v);
        first = false;
    }
    return s + "]";
}

} // namespace netwright
