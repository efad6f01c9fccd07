// SPDX-License-Identifier: Apache-2.0
#include "formats/safetensors/safetensors_format.h"

#include "formats/file_format.h"
#include "formats/safetensors/safetensors_file.h"

namespace netwright {

namespace {

ModelDescription describeSafetensors(std::string_view bytes, const std::string &path)
{
    const auto file = safetensors::decodeSafetensors(bytes, path);
    ModelDescription d;
    d.format = "safetensors";
    d.formatName = "safetensors";
    d.properties.emplace_back("tensors", std::to_string(file.tensors.size()));
    d.properties.emplace_back("header_bytes", std::to_string(file.headerBytes));
    d.properties.emplace_back("metadata_entries", std::to_string(file.metadata.size()));
    for (const auto &t : file.tensors) {
        ValueDescription v;
        v.name = t.name;
        v.dtype = t.dtype;
        v.shape.assign(t.tensor.shape().begin(), t.tensor.shape().end());
        v.value = t.tensor;
        d.parameters.push_back(std::move(v));
    }
    for (const auto &[key, text] : file.metadata) {
        ValueDescription v;
        v.name = "__metadata__." + key;
        v.dtype = "str";
        v.shapeKnown = false;
        v.text = text;
        d.parameters.push_back(std::move(v));
    }
    return d;
}

class SafetensorsFormat final : public FileFormat {
public:
    FormatInfo info() const override { return {"safetensors", "safetensors"}; }
    std::vector<std::string> extensions() const override { return {".safetensors"}; }
    int score(const FilePrefix &p) const override
    {
        if (p.bytes.size() < 10 || p.fileSize < 10)
            return 0;
        uint64_t n = 0;
        for (int i = 7; i >= 0; --i)
            n = (n << 8) | static_cast<uint8_t>(p.bytes[i]);
        if (p.bytes[8] != '{')
            return 0;
        if (n < 2 || n > safetensors::kMaxHeaderBytes || n > p.fileSize - 8)
            return 1; // a JSON header with a length that cannot be: a damaged file the reader names

        // '{' then optional spaces and a '"' (the first key) or '}': a JSON object.
        size_t i = 9;
        while (i < p.bytes.size() && (p.bytes[i] == ' ' || p.bytes[i] == '\n' || p.bytes[i] == '\t' || p.bytes[i] == '\r'))
            ++i;
        if (i < p.bytes.size() && p.bytes[i] != '"' && p.bytes[i] != '}')
            return 0;
        return 80;
    }
    ModelDescription describe(std::string_view bytes, const std::string &path) const override { return describeSafetensors(bytes, path); }
};

} // namespace

const FileFormat &safetensorsFileFormat()
{
    static const SafetensorsFormat format;
    return format;
}

} // namespace netwright
