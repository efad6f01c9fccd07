// SPDX-License-Identifier: Apache-2.0
#include "formats/cntk/dictionary.h"

#include "core/error.h"
#include "formats/format_util.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace netwright::cntk::dict {

namespace {
Value typed(Value::Type type)
{
    Value v;
    v.set_version(1);
    v.set_value_type(type);
    return v;
}
} // namespace

Dictionary make()
{
    Dictionary d;
    d.set_version(1);
    return d;
}

Value sizeT(uint64_t x)
{
    Value v = typed(Value::SizeT);
    v.set_size_t_value(x);
    return v;
}

Value integer(int32_t x)
{
    Value v = typed(Value::Int);
    v.set_int_value(x);
    return v;
}

Value boolean(bool x)
{
    Value v = typed(Value::Bool);
    v.set_bool_value(x);
    return v;
}

Value real(double x)
{
    Value v = typed(Value::Double);
    v.set_double_value(x);
    return v;
}

Value string(const std::string &x)
{
    Value v = typed(Value::String);
    v.set_string_value(x);
    return v;
}

Value shape(const std::vector<uint64_t> &dims)
{
    Value v = typed(Value::NDShape);
    auto *s = v.mutable_nd_shape_value(); // set even for a scalar's empty shape
    for (uint64_t d : dims)
        s->add_shape_dim(d);
    return v;
}

Value axis(int32_t index, const std::string &name, bool ordered)
{
    Value v = typed(Value::Axis);
    auto *a = v.mutable_axis_value();
    a->set_static_axis_idx(index);
    a->set_name(name);
    a->set_is_ordered_dynamic_axis(ordered);
    return v;
}

Value vector(std::vector<Value> items)
{
    Value v = typed(Value::Vector);
    auto *out = v.mutable_vector_value()->mutable_value();
    out->Reserve(static_cast<int>(items.size()));
    for (auto &item : items)
        *out->Add() = std::move(item);
    return v;
}

Value dictionary(Dictionary d)
{
    Value v = typed(Value::Dictionary);
    *v.mutable_dictionary_value() = std::move(d);
    return v;
}

Value array(const Tensor &t, const std::vector<uint64_t> &cntkShape)
{
    Value v = typed(Value::NDArrayView);
    auto *a = v.mutable_nd_array_view_value();
    auto *s = a->mutable_shape();
    for (uint64_t d : cntkShape)
        s->add_shape_dim(d);
    if (t.dtype() == DType::Float32) {
        a->set_data_type(CNTK::proto::NDArrayView::Float);
        auto *values = a->mutable_float_values()->mutable_value();
        values->Resize(static_cast<int>(t.numel()), 0.0f);
        std::copy_n(t.data(), t.numel(), values->mutable_data());
    } else if (t.dtype() == DType::Float64) {
        a->set_data_type(CNTK::proto::NDArrayView::Double);
        auto *values = a->mutable_double_values()->mutable_value();
        values->Resize(static_cast<int>(t.numel()), 0.0);
        std::copy_n(t.dataAs<double>(), t.numel(), values->mutable_data());
    } else {
        throw Error("CNTK arrays hold float32 or float64 values, not " + dtypeName(t.dtype()) + ".");
    }
    return v;
}

std::vector<uint64_t> reversed(const Shape &shape)
{
    return std::vector<uint64_t>(shape.rbegin(), shape.rend());
}

void put(Dictionary &d, const std::string &key, Value v)
{
    (*d.mutable_data())[key] = std::move(v);
}

std::string serialize(const Dictionary &d)
{
    std::string out;
    {
        google::protobuf::io::StringOutputStream raw(&out);
        google::protobuf::io::CodedOutputStream coded(&raw);
        coded.SetSerializationDeterministic(true); // sorted map keys: the same state gives the same bytes
        d.SerializeToCodedStream(&coded);
    }
    return out;
}

Dictionary parse(std::string_view bytes, const std::string &source)
{
    Dictionary d;
    if (!parseMessage(bytes, d))
        throw Error("\"" + source + "\" is not a CNTK v2 Dictionary (the protobuf does not parse)" + truncationNote(bytes) + ".");
    if (d.version() == 0)
        throw Error("\"" + source + "\" is not a CNTK v2 file (its Dictionary has no version).");
    return d;
}

const Value *find(const Dictionary &d, const std::string &key)
{
    const auto it = d.data().find(key);
    return it == d.data().end() ? nullptr : &it->second;
}

uint64_t getSizeT(const Dictionary &d, const std::string &key, const std::string &source)
{
    const Value *v = find(d, key);
    if (!v || v->value_case() != Value::kSizeTValue)
        throw Error("\"" + source + "\": \"" + key + "\" is missing or not a SizeT value.");
    return v->size_t_value();
}

std::string getString(const Dictionary &d, const std::string &key, const std::string &source)
{
    const Value *v = find(d, key);
    if (!v || v->value_case() != Value::kStringValue)
        throw Error("\"" + source + "\": \"" + key + "\" is missing or not a String value.");
    return v->string_value();
}

Tensor toTensor(const CNTK::proto::NDArrayView &v, const std::string &source, const std::string &what)
{
    Shape shape(v.shape().shape_dim().rbegin(), v.shape().shape_dim().rend());
    for (int64_t d : shape)
        check(d >= 0, "\"" + source + "\": " + what + " has a dimension that does not fit.");
    const int64_t n = shapeNumel(shape);
    if (v.storage_format() != CNTK::proto::NDArrayView::Dense)
        throw Error("\"" + source + "\": " + what + " is a sparse array, which Netwright does not read.");
    auto fits = [&](int64_t count) {
        if (count != n)
            throw Error("\"" + source + "\": " + what + " has " + std::to_string(count) + " values for shape "
                        + shapeToString(shape) + " (" + std::to_string(n) + " expected).");
    };
    switch (v.values_case()) {
    case CNTK::proto::NDArrayView::kFloatValues: {
        fits(v.float_values().value_size());
        Tensor t(shape, DType::Float32);
        std::copy_n(v.float_values().value().data(), n, t.data());
        return t;
    }
    case CNTK::proto::NDArrayView::kDoubleValues: {
        fits(v.double_values().value_size());
        Tensor t(shape, DType::Float64);
        std::copy_n(v.double_values().value().data(), n, t.dataAs<double>());
        return t;
    }
    case CNTK::proto::NDArrayView::kBytesValue: {
        fits(static_cast<int64_t>(v.bytes_value().value().size()));
        Tensor t(shape, DType::Int8);
        std::memcpy(t.raw(), v.bytes_value().value().data(), static_cast<size_t>(n));
        return t;
    }
    case CNTK::proto::NDArrayView::kSint32Values: {
        fits(v.sint32_values().value_size());
        Tensor t(shape, DType::Int16);
        for (int64_t i = 0; i < n; ++i)
            t.dataAs<int16_t>()[i] = static_cast<int16_t>(v.sint32_values().value(static_cast<int>(i)));
        return t;
    }
    default:
        if (n == 0)
            return Tensor(shape, DType::Float32);
        throw Error("\"" + source + "\": " + what + " has no values (an array over 2 GB framing is not supported).");
    }
}

std::string readFile(const std::string &path)
{
    return readFileBytes(path);
}

} // namespace netwright::cntk::dict
