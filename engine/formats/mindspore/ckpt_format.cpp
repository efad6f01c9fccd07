// SPDX-License-Identifier: Apache-2.0
#include "formats/mindspore/ckpt_format.h"

#include "formats/file_format.h"
#include "formats/mindspore/ckpt_file.h"

namespace netwright {

namespace {

ValueDescription tensorValue(const std::string &name, const std::string &dtype, const Tensor &t)
{
    ValueDescription v;
    v.name = name;
    v.dtype = dtype;
    v.shape.assign(t.shape().begin(), t.shape().end());
    v.value = t;
    return v;
}

ModelDescription describeCkpt(std::string_view bytes, const std::string &path)
{
    const auto file = mindspore::decodeCkpt(bytes, path, true);
    ModelDescription d;
    d.format = "mindspore-ckpt";
    d.formatName = "MindSpore checkpoint";
    d.properties.emplace_back("entries", std::to_string(file.entries.size()));
    d.properties.emplace_back("crc_trailer", file.hasCrc ? "verified" : "none");
    for (const auto &e : file.entries) {
        if (e.isString) {
            ValueDescription v;
            v.name = e.name;
            v.dtype = "str";
            v.shapeKnown = false;
            v.text = e.text;
            d.parameters.push_back(std::move(v));
        } else {
            d.parameters.push_back(tensorValue(e.name, mindspore::mindsporeTypeName(e.tensor.dtype()), e.tensor));
        }
    }
    return d;
}

class CkptFormat final : public FileFormat {
public:
    FormatInfo info() const override { return {"mindspore-ckpt", "MindSpore checkpoint"}; }
    std::vector<std::string> extensions() const override { return {".ckpt"}; }
    int score(const FilePrefix &p) const override
    {
        // Checkpoint: repeated value (1) = {tag (1, string), tensor (2)}
        const auto &f = p.fields;
        if (f.empty() || f[0].number != 1 || f[0].type != 2 || f[0].payload.empty() || f[0].payload[0] != 0x0a)
            return 0;
        for (const auto &x : f)
            if (x.number != 1 || x.type != 2)
                return 20; // a CRC trailer or junk after the records: still the best guess
        return 70;
    }
    ModelDescription describe(std::string_view bytes, const std::string &path) const override { return describeCkpt(bytes, path); }
};

} // namespace

const FileFormat &mindsporeCkptFileFormat()
{
    static const CkptFormat format;
    return format;
}

} // namespace netwright
