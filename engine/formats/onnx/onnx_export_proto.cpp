// SPDX-License-Identifier: Apache-2.0
#include "formats/onnx/onnx_export_proto.h"

namespace netwright::onnx_format {

int32_t onnxType(DType t)
{
    switch (t) {
    case DType::Float32: return onnx::TensorProto::FLOAT;
    case DType::Float64: return onnx::TensorProto::DOUBLE;
    case DType::Float16: return onnx::TensorProto::FLOAT16;
    case DType::BFloat16: return onnx::TensorProto::BFLOAT16;
    case DType::Int64: return onnx::TensorProto::INT64;
    case DType::Int32: return onnx::TensorProto::INT32;
    case DType::Int16: return onnx::TensorProto::INT16;
    case DType::Int8: return onnx::TensorProto::INT8;
    case DType::UInt64: return onnx::TensorProto::UINT64;
    case DType::UInt32: return onnx::TensorProto::UINT32;
    case DType::UInt16: return onnx::TensorProto::UINT16;
    case DType::UInt8: return onnx::TensorProto::UINT8;
    case DType::Bool: return onnx::TensorProto::BOOL;
    }
    return onnx::TensorProto::UNDEFINED;
}

bool isFloat(DType t)
{
    return t == DType::Float32 || t == DType::Float64 || t == DType::Float16 || t == DType::BFloat16;
}

void fillTensor(onnx::TensorProto &p, const std::string &name, const Tensor &t)
{
    p.set_name(name);
    p.set_data_type(onnxType(t.dtype()));
    for (int64_t d : t.shape())
        p.add_dims(d);
    p.set_raw_data(static_cast<const char *>(t.raw()), t.byteSize()); // little-endian, C order
}

void fillInitializer(onnx::TensorProto &p, const std::string &name, const Tensor &t, ExternalDataPlan *plan)
{
    if (!plan || t.byteSize() < plan->threshold || t.byteSize() == 0) {
        fillTensor(p, name, t);
        return;
    }
    p.set_name(name);
    p.set_data_type(onnxType(t.dtype()));
    for (int64_t d : t.shape())
        p.add_dims(d);
    p.set_data_location(onnx::TensorProto::EXTERNAL);
    const uint64_t offset = plan->add(t);
    const std::pair<const char *, std::string> entries[] = {
        {"location", plan->location}, {"offset", std::to_string(offset)}, {"length", std::to_string(t.byteSize())}};
    for (const auto &[key, value] : entries) {
        auto *e = p.add_external_data();
        e->set_key(key);
        e->set_value(value);
    }
}

Tensor scalarTensor(DType type, double v)
{
    Tensor t({}, type);
    switch (type) {
    case DType::Float32: *t.dataAs<float>() = static_cast<float>(v); break;
    case DType::Float64: *t.dataAs<double>() = v; break;
    case DType::Int64: *t.dataAs<int64_t>() = static_cast<int64_t>(v); break;
    case DType::Int32: *t.dataAs<int32_t>() = static_cast<int32_t>(v); break;
    case DType::Int16: *t.dataAs<int16_t>() = static_cast<int16_t>(v); break;
    case DType::Int8: *t.dataAs<int8_t>() = static_cast<int8_t>(v); break;
    case DType::UInt64: *t.dataAs<uint64_t>() = static_cast<uint64_t>(v); break;
    case DType::UInt32: *t.dataAs<uint32_t>() = static_cast<uint32_t>(v); break;
    case DType::UInt16: *t.dataAs<uint16_t>() = static_cast<uint16_t>(v); break;
    case DType::UInt8: *t.dataAs<uint8_t>() = static_cast<uint8_t>(v); break;
    case DType::Bool: *t.dataAs<uint8_t>() = v != 0; break;
    default: return {};
    }
    return t;
}

std::optional<std::vector<int64_t>> intsOf(const Tensor &t)
{
    if (t.dtype() == DType::Int64)
        return std::vector<int64_t>(t.dataAs<int64_t>(), t.dataAs<int64_t>() + t.numel());
    if (t.dtype() == DType::Int32)
        return std::vector<int64_t>(t.dataAs<int32_t>(), t.dataAs<int32_t>() + t.numel());
    return std::nullopt;
}

bool fillAttribute(onnx::AttributeProto &a, const std::string &name, const Attribute &value)
{
    a.set_name(name);
    if (const auto *i = std::get_if<int64_t>(&value)) {
        a.set_type(onnx::AttributeProto::INT);
        a.set_i(*i);
    } else if (const auto *f = std::get_if<float>(&value)) {
        a.set_type(onnx::AttributeProto::FLOAT);
        a.set_f(*f);
    } else if (const auto *s = std::get_if<std::string>(&value)) {
        a.set_type(onnx::AttributeProto::STRING);
        a.set_s(*s);
    } else if (const auto *is = std::get_if<std::vector<int64_t>>(&value)) {
        a.set_type(onnx::AttributeProto::INTS);
        for (int64_t x : *is)
            a.add_ints(x);
    } else if (const auto *fs = std::get_if<std::vector<float>>(&value)) {
        a.set_type(onnx::AttributeProto::FLOATS);
        for (float x : *fs)
            a.add_floats(x);
    } else if (const auto *ss = std::get_if<std::vector<std::string>>(&value)) {
        a.set_type(onnx::AttributeProto::STRINGS);
        for (const auto &x : *ss)
            a.add_strings(x);
    } else if (const auto *t = std::get_if<Tensor>(&value)) {
        a.set_type(onnx::AttributeProto::TENSOR);
        fillTensor(*a.mutable_t(), "", *t);
    } else {
        return false;
    }
    return true;
}

int64_t irVersionFor(int64_t opset)
{
    return opset <= 11 ? 6 : opset <= 14 ? 7 : 8;
}

} // namespace netwright::onnx_format
