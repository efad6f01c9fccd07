// SPDX-License-Identifier: Apache-2.0
#include "formats/onnx/onnx_format.h"

#include "formats/file_format.h"
#include "formats/onnx/onnx_export.h"
#include "formats/onnx/onnx_import.h"
#include "formats/onnx/onnx_reader.h"

namespace netwright {

namespace {

class OnnxFormat final : public FileFormat {
public:
    FormatInfo info() const override { return {"onnx", "ONNX"}; }
    std::vector<std::string> extensions() const override { return {".onnx"}; }
    int score(const FilePrefix &p) const override
    {
        // ModelProto: ir_version (1, varint 3…12) then string/graph/opset fields
        const auto &f = p.fields;
        if (f.empty() || f[0].number != 1 || f[0].type != 0 || f[0].varint < 3 || f[0].varint > 12)
            return 0;
        for (size_t i = 1; i < f.size(); ++i) {
            const bool known = (f[i].number >= 2 && f[i].number <= 8 && (f[i].type == 2 || f[i].number == 5)) || f[i].number == 14
                               || f[i].number == 20 || f[i].number == 25;
            if (!known)
                return 0;
        }
        return 80;
    }
    ModelDescription describe(std::string_view bytes, const std::string &path) const override
    {
        return onnx_format::describeOnnx(bytes, path);
    }
    std::optional<GraphFormat> graphFormat() const override { return GraphFormat{"onnx", "onnx", "ONNX", ".onnx", {".onnx"}, "onnxruntime and every ONNX runtime"}; }
    Graph importGraph(std::string_view bytes, const std::string &path) const override
    {
        return std::move(onnx_format::importOnnx(bytes, path).graph);
    }
    std::string exportGraph(const Graph &model, const GraphExportOptions &options) const override
    {
        onnx_format::OnnxExportOptions o;
        o.opset = options.opset;
        o.dynamicBatch = options.dynamicBatch;
        o.producerVersion = options.producerVersion;
        o.metadata = options.metadata;
        o.externalData = options.externalData;
        return onnx_format::exportOnnx(model, o);
    }
};

} // namespace

const FileFormat &onnxFileFormat()
{
    static const OnnxFormat format;
    return format;
}

} // namespace netwright
