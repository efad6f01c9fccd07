// SPDX-License-Identifier: Apache-2.0
#include "formats/format_util.h"

#include "core/error.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/message_lite.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>

namespace netwright {

std::string readFileBytes(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error("Cannot read \"" + path + "\": " + std::strerror(errno) + ".");
    std::ostringstream s;
    s << in.rdbuf();
    if (in.bad())
        throw Error("Cannot read \"" + path + "\": " + std::strerror(errno) + ".");
    return std::move(s).str();
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
