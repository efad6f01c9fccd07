// SPDX-License-Identifier: Apache-2.0
#include "formats/onnx/onnx_tensor.h"

#include "core/error.h"

#include <optional>
#include "formats/format_util.h"
#include "formats/raw_tensor.h"

namespace netwright::onnx_format {

namespace {

// Copies a typed repeated field into the tensor, after checking the count.
template<typename Field, typename T>
Tensor fromTyped(DType type, const std::vector<int64_t> &dims, const Field &field, const std::string &what)
{
    const int64_t n = checkedNumel(dims, what);
    if (field.size() != n)
        throw Error(what + ": " + std::to_string(field.size()) + " values for the shape " + shapeToString(dims) + ".");
    Tensor t(Shape(dims.begin(), dims.end()), type);
    for (int64_t i = 0; i < n; ++i)
        t.dataAs<T>()[i] = static_cast<T>(field.Get(static_cast<int>(i)));
    return t;
}

} // namespace

std::optional<Tensor> onnxTensor(const onnx::TensorProto &p, const std::string &what, ExternalDataReader *external)
{
    const ElementType type = onnxElementType(p.data_type());
    const std::vector<int64_t> dims(p.dims().begin(), p.dims().end());
    if (!type.dtype || (p.data_location() == onnx::TensorProto::EXTERNAL && !external))
        return std::nullopt;
    const DType t = *type.dtype;
    if (p.data_location() == onnx::TensorProto::EXTERNAL) {
        std::string location;
        std::optional<uint64_t> offset, length;
        for (const auto &e : p.external_data()) {
            if (e.key() == "location") {
                location = e.value();
            } else if (e.key() == "offset" || e.key() == "length") {
                const std::string &v = e.value();
                check(!v.empty() && v.size() <= 19 && v.find_first_not_of("0123456789") == std::string::npos,
                      what + ": its external data " + e.key() + " \"" + v + "\" is not a byte count.");
                (e.key() == "offset" ? offset : length) = std::stoull(v);
            }
        }
        check(!p.has_raw_data(), what + ": it holds both raw data and external data.");
        return external->read(location, offset, length, t, dims, what);
    }
    if (p.has_raw_data())
        return tensorFromRaw(t, dims, p.raw_data(), what);
    switch (t) {
    case DType::Float32: return fromTyped<decltype(p.float_data()), float>(t, dims, p.float_data(), what);
    case DType::Float64: return fromTyped<decltype(p.double_data()), double>(t, dims, p.double_data(), what);
    case DType::Int64: return fromTyped<decltype(p.int64_data()), int64_t>(t, dims, p.int64_data(), what);
    case DType::UInt64:
    case DType::UInt32: {
        if (t == DType::UInt64)
            return fromTyped<decltype(p.uint64_data()), uint64_t>(t, dims, p.uint64_data(), what);
        return fromTyped<decltype(p.uint64_data()), uint32_t>(t, dims, p.uint64_data(), what);
    }
    case DType::Int32: return fromTyped<decltype(p.int32_data()), int32_t>(t, dims, p.int32_data(), what);
    case DType::Int16: return fromTyped<decltype(p.int32_data()), int16_t>(t, dims, p.int32_data(), what);
    case DType::Int8: return fromTyped<decltype(p.int32_data()), int8_t>(t, dims, p.int32_data(), what);
    case DType::UInt16: return fromTyped<decltype(p.int32_data()), uint16_t>(t, dims, p.int32_data(), what);
    case DType::UInt8: return fromTyped<decltype(p.int32_data()), uint8_t>(t, dims, p.int32_data(), what);
    case DType::Bool: return fromTyped<decltype(p.int32_data()), uint8_t>(t, dims, p.int32_data(), what);
    case DType::Float16:
    case DType::BFloat16: // the bit patterns, one per int32
        return fromTyped<decltype(p.int32_data()), uint16_t>(t, dims, p.int32_data(), what);
    }
    return std::nullopt;
}


} // namespace netwright::onnx_format
