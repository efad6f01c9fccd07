// SPDX-License-Identifier: Apache-2.0
#include "formats/mindspore/mindir_format.h"

#include "formats/file_format.h"
#include "formats/mindspore/mindir_export.h"
#include "formats/mindspore/mindir_import.h"
#include "formats/mindspore/mindir_reader.h"
#include "formats/text_checks.h"

namespace netwright {

namespace {

class MindirFormat final : public FileFormat {
public:
    FormatInfo info() const override { return {"mindir", "MindSpore MindIR"}; }
    std::vector<std::string> extensions() const override { return {".mindir"}; }
    int score(const FilePrefix &p) const override
    {
        // ModelProto: ir_version (1, "0.1.1") then producer_name (2, "MindSpore")
        const auto &f = p.fields;
        if (f.size() < 2 || f[0].number != 1 || f[0].type != 2 || !versionLike(f[0].payload))
            return 0;
        return f[1].number == 2 && f[1].type == 2 && printable(f[1].payload) ? 90 : 40;
    }
    ModelDescription describe(std::string_view bytes, const std::string &path) const override
    {
        return mindspore::describeMindir(bytes, path);
    }
    std::optional<GraphFormat> graphFormat() const override
    {
        return GraphFormat{"mindir", "mindir", "MindSpore MindIR", ".mindir", {".mindir"}, "MindSpore (mindspore.load, MindSpore Lite)"};
    }
    Graph importGraph(std::string_view bytes, const std::string &path) const override { return mindspore::importMindir(bytes, path); }
    std::string exportGraph(const Graph &model, const GraphExportOptions &options) const override
    {
        mindspore::MindirExportOptions o;
        o.dynamicBatch = options.dynamicBatch;
        o.userInfo = options.metadata;
        o.externalData = options.externalData;
        return mindspore::exportMindir(model, o);
    }
};

} // namespace

const FileFormat &mindirFileFormat()
{
    static const MindirFormat format;
    return format;
}

} // namespace netwright
