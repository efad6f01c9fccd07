// SPDX-License-Identifier: Apache-2.0
#include "formats/pytorch/pytorch_format.h"

#include "formats/file_format.h"
#include "formats/pytorch/pytorch_file.h"

namespace netwright {

namespace {

ModelDescription describePytorch(std::string_view bytes, const std::string &path)
{
    const auto file = pytorch::decodePytorch(bytes, path);
    ModelDescription d;
    d.format = "pytorch";
    d.formatName = "PyTorch checkpoint";
    d.properties.emplace_back("layout", file.legacy ? "legacy torch.save stream (before PyTorch 1.6)" : "zip archive \"" + file.archiveName + "\"");
    if (!file.version.empty())
        d.properties.emplace_back(file.legacy ? "protocol_version" : "version", file.version);
    size_t tensors = 0;
    for (const auto &e : file.entries)
        tensors += e.tensor.defined();
    d.properties.emplace_back("tensors", std::to_string(tensors));
    d.properties.emplace_back("other_entries", std::to_string(file.entries.size() - tensors));
    for (const auto &e : file.entries) {
        ValueDescription v;
        v.name = e.name;
        if (e.tensor.defined()) {
            v.dtype = dtypeName(e.tensor.dtype());
            v.shape.assign(e.tensor.shape().begin(), e.tensor.shape().end());
            v.value = e.tensor;
        } else {
            v.dtype = e.pyType;
            v.shapeKnown = false;
            v.text = e.text;
        }
        d.parameters.push_back(std::move(v));
    }
    return d;
}

class PytorchFormat final : public FileFormat {
public:
    FormatInfo info() const override { return {"pytorch", "PyTorch checkpoint"}; }
    std::vector<std::string> extensions() const override { return {".pt", ".pth", ".bin"}; }
    int score(const FilePrefix &p) const override
    {
        // Not protobuf: the first zip member <name>/data.pkl, or the legacy magic-number pickle.
        return pytorch::isZipCheckpoint(p.bytes) || pytorch::isLegacyCheckpoint(p.bytes) ? 90 : 0;
    }
    ModelDescription describe(std::string_view bytes, const std::string &path) const override { return describePytorch(bytes, path); }
};

} // namespace

const FileFormat &pytorchFileFormat()
{
    static const PytorchFormat format;
    return format;
}

} // namespace netwright
