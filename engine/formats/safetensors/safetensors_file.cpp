// SPDX-License-Identifier: Apache-2.0
#include "formats/safetensors/safetensors_file.h"

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/file_view.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>

namespace netwright::safetensors {

namespace {

using Json = nlohmann::ordered_json;

struct TypeName {
    DType type;
    const char *name;
};

constexpr TypeName kTypes[] = {
    {DType::Float64, "F64"}, {DType::Float32, "F32"}, {DType::Float16, "F16"}, {DType::BFloat16, "BF16"},
    {DType::Int64, "I64"},   {DType::Int32, "I32"},   {DType::Int16, "I16"},   {DType::Int8, "I8"},
    {DType::UInt64, "U64"},  {DType::UInt32, "U32"},  {DType::UInt16, "U16"},  {DType::UInt8, "U8"},
    {DType::Bool, "BOOL"},
};

std::string cannot(const std::string &source) { return "Cannot read \"" + source + "\" as safetensors: "; }

DType typeOf(const std::string &name, const std::string &what, const std::string &source)
{
    for (const auto &t : kTypes)
        if (name == t.name)
            return t.type;
    std::string list;
    for (const auto &t : kTypes)
        list += (list.empty() ? "" : " ") + std::string(t.name);
    throw Error(cannot(source) + what + " has dtype \"" + name + "\", which Netwright does not read (it reads " + list + ").");
}

uint64_t readLe64(const char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = (v << 8) | static_cast<uint8_t>(p[i]);
    return v;
}

std::string hexOf(const void *data, size_t size)
{
    static const char digits[] = "0123456789abcdef";
    std::string s(size * 2, '0');
    const auto *b = static_cast<const uint8_t *>(data);
    for (size_t i = 0; i < size; ++i) {
        s[2 * i] = digits[b[i] >> 4];
        s[2 * i + 1] = digits[b[i] & 15];
    }
    return s;
}

int hexDigit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

Shape shapeOf(const Json &j, const std::string &what, const std::string &source)
{
    check(j.is_array() && j.size() <= 64, cannot(source) + what + " has a shape that is not a list of at most 64 dimensions.");
    Shape s;
    for (const auto &d : j) {
        check(d.is_number_unsigned() || (d.is_number_integer() && d.get<int64_t>() >= 0),
              cannot(source) + what + " has a shape dimension that is not a non-negative integer.");
        const uint64_t v = d.get<uint64_t>();
        check(v <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()), cannot(source) + what + " has a dimension too large.");
        s.push_back(static_cast<int64_t>(v));
    }
    return s;
}

// numel × dtype size, or an Error when it overflows.
uint64_t byteCount(const Shape &shape, DType type, const std::string &what, const std::string &source)
{
    uint64_t n = dtypeSize(type);
    for (const int64_t d : shape) {
        if (d != 0 && n > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(d))
            throw Error(cannot(source) + what + " has shape " + shapeToString(shape) + ", whose byte count overflows.");
        n *= static_cast<uint64_t>(d);
    }
    return n;
}

// A tensor kept in __metadata__: "DTYPE [d0,d1] HEX".
std::string encodeMetaTensor(const Tensor &t)
{
    std::string dims;
    for (const int64_t d : t.shape())
        dims += (dims.empty() ? "" : ",") + std::to_string(d);
    const Tensor host = t.device() == Device::cpu() ? t : t.hostCopy();
    return safetensorsTypeName(t.dtype()) + " [" + dims + "] " + hexOf(host.raw(), host.byteSize());
}

Tensor decodeMetaTensor(const std::string &key, const std::string &value, const std::string &source)
{
    const std::string what = "__metadata__ entry \"" + key + "\"";
    const size_t sp1 = value.find(' ');
    const size_t open = value.find('[');
    const size_t close = value.find(']');
    check(sp1 != std::string::npos && open == sp1 + 1 && close != std::string::npos && close + 1 < value.size() + 1,
          cannot(source) + what + " is not \"DTYPE [dims] HEX\".");
    const DType type = typeOf(value.substr(0, sp1), what, source);
    Shape shape;
    const std::string dims = value.substr(open + 1, close - open - 1);
    size_t pos = 0;
    while (pos < dims.size()) {
        size_t comma = dims.find(',', pos);
        if (comma == std::string::npos)
            comma = dims.size();
        const std::string d = dims.substr(pos, comma - pos);
        check(!d.empty() && d.size() < 18 && std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; }),
              cannot(source) + what + " has a dimension \"" + d + "\" that is not a number.");
        shape.push_back(std::stoll(d));
        check(shape.size() <= 64, cannot(source) + what + " has more than 64 dimensions.");
        pos = comma + 1;
    }
    const std::string hex = close + 1 < value.size() && value[close + 1] == ' ' ? value.substr(close + 2) : std::string();
    const uint64_t bytes = byteCount(shape, type, what, source);
    check(hex.size() / 2 == bytes && hex.size() % 2 == 0,
          cannot(source) + what + " holds " + std::to_string(hex.size() / 2) + " bytes, expected " + std::to_string(bytes) + " for "
              + safetensorsTypeName(type) + " " + shapeToString(shape) + ".");
    Tensor t(shape, type);
    auto *out = static_cast<uint8_t *>(t.raw());
    for (size_t i = 0; i < bytes; ++i) {
        const int hi = hexDigit(hex[2 * i]), lo = hexDigit(hex[2 * i + 1]);
        check(hi >= 0 && lo >= 0, cannot(source) + what + " has a character that is not a hex digit.");
        out[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return t;
}

bool inTensors(const StateEntry &e) { return !e.isString && e.name.rfind("netwright.", 0) != 0; }

// The header and the order of the tensors in the data buffer.
std::string headerOf(const TrainingState &entries, std::vector<const Tensor *> &order, std::vector<Tensor> &hostCopies)
{
    Json header = Json::object();
    Json meta = Json::object();
    Json layout = Json::array();
    uint64_t offset = 0;
    hostCopies.reserve(entries.size());
    for (const auto &e : entries) {
        check(e.name != "__metadata__", "A training-state entry cannot be named \"__metadata__\" in a safetensors file.");
        check(!header.contains(e.name) && !meta.contains(e.name) && e.name != kLayoutKey,
              "The entry \"" + e.name + "\" appears twice; a safetensors header holds each name once.");
        if (inTensors(e)) {
            const Tensor *t = &e.tensor;
            if (!(t->device() == Device::cpu())) {
                hostCopies.push_back(t->hostCopy());
                t = &hostCopies.back();
            }
            Json info = Json::object();
            info["dtype"] = safetensorsTypeName(t->dtype());
            info["shape"] = Json::array();
            for (const int64_t d : t->shape())
                info["shape"].push_back(d);
            info["data_offsets"] = Json::array({offset, offset + t->byteSize()});
            offset += t->byteSize();
            header[e.name] = std::move(info);
            order.push_back(t);
            layout.push_back(Json::array({e.name, "tensor"}));
        } else if (e.isString) {
            meta[e.name] = e.text;
            layout.push_back(Json::array({e.name, "string"}));
        } else {
            meta[e.name] = encodeMetaTensor(e.tensor);
            layout.push_back(Json::array({e.name, "metadata-tensor"}));
        }
    }
    meta[kLayoutKey] = layout.dump();
    Json all = Json::object();
    all["__metadata__"] = std::move(meta);
    for (auto &[k, v] : header.items())
        all[k] = v;
    std::string text;
    try {
        text = all.dump(-1, ' ', false, Json::error_handler_t::strict);
    } catch (const Json::exception &) {
        throw Error("A safetensors header holds UTF-8 names and strings; an entry name or string here is not valid UTF-8.");
    }
    // The data buffer starts 8-aligned, as the reference writer pads it (with spaces).
    while ((8 + text.size()) % 8 != 0)
        text += ' ';
    return text;
}

std::string lengthBytes(uint64_t n)
{
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i)
        s[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    return s;
}

} // namespace

std::string safetensorsTypeName(DType type)
{
    for (const auto &t : kTypes)
        if (t.type == type)
            return t.name;
    throw Error("safetensors has no dtype for " + netwright::dtypeName(type) + ".");
}

SafetensorsFile decodeSafetensors(std::string_view bytes, const std::string &source, const FileView *view)
{
    check(bytes.size() >= 8, cannot(source) + "the file holds " + std::to_string(bytes.size())
                                 + " bytes, fewer than the 8-byte header length.");
    const uint64_t n = readLe64(bytes.data());
    check(n <= kMaxHeaderBytes, cannot(source) + "the header length is " + std::to_string(n) + " bytes, more than the limit of "
                                    + std::to_string(kMaxHeaderBytes) + ".");
    check(n <= bytes.size() - 8, cannot(source) + "the header length is " + std::to_string(n) + " bytes, but only "
                                     + std::to_string(bytes.size() - 8) + " bytes follow it.");
    check(n >= 2 && bytes[8] == '{', cannot(source) + "the header does not start with '{'.");
    const std::string_view text = bytes.substr(8, n);
    Json header;
    try {
        // The parser callback bounds the nesting (a header is two levels deep, metadata three).
        header = Json::parse(text.begin(), text.end(), [&](int depth, Json::parse_event_t, Json &) {
            if (depth > 8)
                throw Error(cannot(source) + "the header nests deeper than 8 levels.");
            return true;
        });
    } catch (const Json::exception &e) {
        throw Error(cannot(source) + "the header is not valid JSON (" + e.what() + ").");
    }
    check(header.is_object(), cannot(source) + "the header is not a JSON object.");
    SafetensorsFile out;
    out.headerBytes = n;
    const std::string_view buffer = bytes.substr(8 + n);
    struct Span {
        uint64_t begin, end;
        size_t index;
    };
    std::vector<Span> spans;
    std::vector<Shape> shapes;
    std::vector<DType> types;
    for (const auto &[key, value] : header.items()) {
        if (key == "__metadata__") {
            check(value.is_object(), cannot(source) + "__metadata__ is not an object of strings.");
            for (const auto &[mk, mv] : value.items()) {
                check(mv.is_string(), cannot(source) + "__metadata__ entry \"" + mk + "\" is not a string.");
                out.metadata.emplace_back(mk, mv.get<std::string>());
            }
            continue;
        }
        const std::string what = "tensor \"" + key + "\"";
        check(value.is_object(), cannot(source) + what + " is not an object {dtype, shape, data_offsets}.");
        check(value.contains("dtype") && value["dtype"].is_string(), cannot(source) + what + " has no dtype.");
        check(value.contains("shape"), cannot(source) + what + " has no shape.");
        check(value.contains("data_offsets") && value["data_offsets"].is_array() && value["data_offsets"].size() == 2
                  && value["data_offsets"][0].is_number_unsigned() && value["data_offsets"][1].is_number_unsigned(),
              cannot(source) + what + " has no data_offsets [begin, end] of non-negative integers.");
        const DType type = typeOf(value["dtype"].get<std::string>(), what, source);
        const Shape shape = shapeOf(value["shape"], what, source);
        const uint64_t begin = value["data_offsets"][0].get<uint64_t>(), end = value["data_offsets"][1].get<uint64_t>();
        check(begin <= end, cannot(source) + what + " has data_offsets [" + std::to_string(begin) + ", " + std::to_string(end)
                                + "] that end before they begin.");
        check(end <= buffer.size(), cannot(source) + what + " has data_offsets [" + std::to_string(begin) + ", " + std::to_string(end)
                                        + "] past the end of the " + std::to_string(buffer.size()) + "-byte data buffer.");
        const uint64_t expected = byteCount(shape, type, what, source);
        check(end - begin == expected, cannot(source) + what + " (" + value["dtype"].get<std::string>() + " " + shapeToString(shape)
                                           + ") needs " + std::to_string(expected) + " bytes, but its data_offsets span "
                                           + std::to_string(end - begin) + ".");
        spans.push_back({begin, end, out.tensors.size()});
        shapes.push_back(shape);
        types.push_back(type);
        out.tensors.push_back({key, value["dtype"].get<std::string>(), {}});
    }
    // The tensors tile the data buffer: sorted by offset, each begins where the one before ends.
    std::stable_sort(spans.begin(), spans.end(), [](const Span &a, const Span &b) { return a.begin < b.begin || (a.begin == b.begin && a.end < b.end); });
    uint64_t at = 0;
    for (const auto &s : spans) {
        const std::string &name = out.tensors[s.index].name;
        check(s.begin >= at, cannot(source) + "tensor \"" + name + "\" (bytes " + std::to_string(s.begin) + " to " + std::to_string(s.end)
                                 + ") overlaps the tensor before it, which ends at " + std::to_string(at) + ".");
        check(s.begin == at, cannot(source) + "tensor \"" + name + "\" begins at byte " + std::to_string(s.begin)
                                 + " of the data buffer, leaving a gap after byte " + std::to_string(at) + ".");
        at = s.end;
    }
    check(at == buffer.size(), cannot(source) + "the tensors cover " + std::to_string(at) + " bytes of the " + std::to_string(buffer.size())
                                   + "-byte data buffer.");
    std::vector<SafetensorsTensor> ordered;
    ordered.reserve(spans.size());
    for (const auto &s : spans) {
        SafetensorsTensor t = std::move(out.tensors[s.index]);
        t.tensor = Tensor(shapes[s.index], types[s.index]);
        if (s.end > s.begin)
            std::memcpy(t.tensor.raw(), buffer.data() + s.begin, s.end - s.begin);
        if (view) // copied: its pages may go, so a pass over a large file keeps a bounded resident set
            view->release(8 + n + s.begin, s.end - s.begin);
        ordered.push_back(std::move(t));
    }
    out.tensors = std::move(ordered);
    return out;
}

SafetensorsFile readSafetensors(const std::string &path)
{
    const auto view = FileView::open(path, "safetensors file");
    return decodeSafetensors(view->bytes(), path, view.get());
}

TrainingState stateFromSafetensors(const SafetensorsFile &file, const std::string &source)
{
    TrainingState out;
    const auto layoutIt = std::find_if(file.metadata.begin(), file.metadata.end(), [](const auto &m) { return m.first == kLayoutKey; });
    if (layoutIt == file.metadata.end()) {
        for (const auto &t : file.tensors)
            out.push_back(StateEntry::ofTensor(t.name, t.tensor));
        for (const auto &[k, v] : file.metadata)
            out.push_back(StateEntry::ofString(k, v));
        return out;
    }
    Json layout;
    try {
        layout = Json::parse(layoutIt->second, [&](int depth, Json::parse_event_t, Json &) {
            if (depth > 4)
                throw Error(cannot(source) + "__metadata__ entry \"" + kLayoutKey + "\" nests deeper than 4 levels.");
            return true;
        });
    } catch (const Json::exception &) {
        throw Error(cannot(source) + "__metadata__ entry \"" + kLayoutKey + "\" is not a JSON list.");
    }
    check(layout.is_array(), cannot(source) + "__metadata__ entry \"" + kLayoutKey + "\" is not a JSON list.");
    std::map<std::string, const SafetensorsTensor *> tensors;
    for (const auto &t : file.tensors)
        tensors[t.name] = &t;
    std::map<std::string, const std::string *> meta;
    for (const auto &[k, v] : file.metadata)
        meta[k] = &v;
    size_t tensorCount = 0;
    for (const auto &item : layout) {
        check(item.is_array() && item.size() == 2 && item[0].is_string() && item[1].is_string(),
              cannot(source) + "__metadata__ entry \"" + kLayoutKey + "\" has an item that is not [name, kind].");
        const std::string name = item[0].get<std::string>(), kind = item[1].get<std::string>();
        if (kind == "tensor") {
            const auto it = tensors.find(name);
            check(it != tensors.end(), cannot(source) + kLayoutKey + " lists the tensor \"" + name + "\", which the header lacks.");
            out.push_back(StateEntry::ofTensor(name, it->second->tensor));
            ++tensorCount;
        } else {
            const auto it = meta.find(name);
            check(it != meta.end(), cannot(source) + kLayoutKey + " lists the entry \"" + name + "\", which __metadata__ lacks.");
            if (kind == "string")
                out.push_back(StateEntry::ofString(name, *it->second));
            else if (kind == "metadata-tensor")
                out.push_back(StateEntry::ofTensor(name, decodeMetaTensor(name, *it->second, source)));
            else
                throw Error(cannot(source) + kLayoutKey + " gives the entry \"" + name + "\" the unknown kind \"" + kind + "\".");
        }
    }
    check(tensorCount == file.tensors.size(), cannot(source) + "the header holds " + std::to_string(file.tensors.size())
                                                  + " tensors, but " + kLayoutKey + " lists " + std::to_string(tensorCount) + ".");
    return out;
}

TrainingState readSafetensorsState(const std::string &path)
{
    return stateFromSafetensors(readSafetensors(path), path);
}

std::string encodeSafetensorsState(const TrainingState &entries)
{
    std::vector<const Tensor *> order;
    std::vector<Tensor> hostCopies;
    const std::string header = headerOf(entries, order, hostCopies);
    std::string out = lengthBytes(header.size()) + header;
    for (const Tensor *t : order)
        out.append(static_cast<const char *>(t->raw()), t->byteSize());
    return out;
}

void writeSafetensorsState(const std::string &path, const TrainingState &entries)
{
    std::vector<const Tensor *> order;
    std::vector<Tensor> hostCopies;
    const std::string header = headerOf(entries, order, hostCopies);
    AtomicFileWriter w(path);
    w.write(lengthBytes(header.size()));
    w.write(header);
    for (const Tensor *t : order)
        w.write(t->raw(), t->byteSize());
    w.commit();
}

} // namespace netwright::safetensors
