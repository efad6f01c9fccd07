// SPDX-License-Identifier: Apache-2.0
#include "formats/format_util.h"

#include "core/error.h"
#include "core/file_io.h"
#include "formats/protobuf_wire.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/message_lite.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>

namespace netwright {

namespace {

// protobuf's own "[libprotobuf ERROR …]" lines would reach stderr beside our error, which already
// names the file, the format and the field: the library's log goes nowhere instead (FATAL stays
// fatal: protobuf aborts after the handler returns).
void quietProtobufLog(google::protobuf::LogLevel, const char *, int, const std::string &) {}

[[maybe_unused]] const bool kProtobufLogQuiet = [] {
    google::protobuf::SetLogHandler(&quietProtobufLog);
    return true;
}();

} // namespace

std::string readFileBytes(const std::string &path)
{
    return readRegularFile(path);
}

std::string truncationNote(std::string_view bytes)
{
    // The top-level fields: a file cut short ends inside one of them (a nested cut is inside the
    // top-level field that holds it).
    size_t pos = 0;
    auto varint = [&](uint64_t &v) { return wire::readVarint(bytes, pos, v); };
    while (pos < bytes.size()) {
        const size_t start = pos;
        uint64_t key = 0, len = 0;
        if (!varint(key))
            return " (the file ends at byte " + std::to_string(bytes.size()) + " inside the key of a field that starts at byte "
                   + std::to_string(start) + ")";
        const uint64_t field = key >> 3, type = key & 7;
        const std::string where = " (the file ends at byte " + std::to_string(bytes.size()) + " inside field " + std::to_string(field)
                                  + " at byte " + std::to_string(start);
        switch (type) {
        case 0:
            if (!varint(len))
                return where + ")";
            break;
        case 1:
        case 5:
            if (bytes.size() - pos < (type == 1 ? 8u : 4u))
                return where + ")";
            pos += type == 1 ? 8 : 4;
            break;
        case 2:
            if (!varint(len))
                return where + ")";
            if (len > bytes.size() - pos)
                return where + ", which declares " + std::to_string(len) + " bytes; " + std::to_string(bytes.size() - pos) + " remain)";
            pos += len;
            break;
        default:
            return ""; // not a cut: damaged bytes, or another format
        }
    }
    return "";
}

bool parseMessage(std::string_view bytes, google::protobuf::MessageLite &message, bool partial)
{
    if (bytes.size() > INT_MAX)
        return false;
    google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t *>(bytes.data()), static_cast<int>(bytes.size()));
    in.SetTotalBytesLimit(INT_MAX);
    const bool ok = partial ? message.ParsePartialFromCodedStream(&in) : message.ParseFromCodedStream(&in);
    return ok && in.ConsumedEntireMessage();
}

ElementType onnxElementType(int32_t t)
{
    switch (t) {
    case 1: return {"float32", DType::Float32};
    case 2: return {"uint8", DType::UInt8};
    case 3: return {"int8", DType::Int8};
    case 4: return {"uint16", DType::UInt16};
    case 5: return {"int16", DType::Int16};
    case 6: return {"int32", DType::Int32};
    case 7: return {"int64", DType::Int64};
    case 8: return {"string", std::nullopt};
    case 9: return {"bool", DType::Bool};
    case 10: return {"float16", DType::Float16};
    case 11: return {"float64", DType::Float64};
    case 12: return {"uint32", DType::UInt32};
    case 13: return {"uint64", DType::UInt64};
    case 14: return {"complex64", std::nullopt};
    case 15: return {"complex128", std::nullopt};
    case 16: return {"bfloat16", DType::BFloat16};
    default: return {"undefined", std::nullopt};
    }
}

int32_t onnxElementNumber(DType type)
{
    for (int32_t t = 1; t <= 16; ++t)
        if (onnxElementType(t).dtype == type)
            return t;
    return 0;
}

std::string formatNumber(double v)
{
    char b[40];
    std::snprintf(b, sizeof b, "%.9g", v);
    return b;
}

} // namespace netwright
