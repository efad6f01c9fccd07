// SPDX-License-Identifier: Apache-2.0
#include "formats/mindspore/graph_meta_format.h"

#include "formats/file_format.h"
#include "formats/mindspore/graph_meta.h"

namespace netwright {

namespace {

class GraphMetaFormat final : public FileFormat {
public:
    FormatInfo info() const override { return {"mindspore-graph-meta", "MindSpore graph dump (anf_ir)"}; }
    std::vector<std::string> extensions() const override { return {".meta"}; }
    int score(const FilePrefix &p) const override
    {
        // anf_ir ModelProto: ir_version (1, varint 1), then the graph (4)
        const auto &f = p.fields;
        return f.size() >= 2 && f[0].number == 1 && f[0].type == 0 && f[0].varint == 1 && f[1].number == 4 && f[1].type == 2 ? 90 : 0;
    }
    ModelDescription describe(std::string_view bytes, const std::string &path) const override
    {
        return mindspore::describeGraphMeta(bytes, path);
    }
};

} // namespace

const FileFormat &graphMetaFileFormat()
{
    static const GraphMetaFormat format;
    return format;
}

} // namespace netwright
