// SPDX-License-Identifier: Apache-2.0
#include "formats/air/air_format.h"

#include "formats/air/air_export.h"
#include "formats/air/air_import.h"
#include "formats/air/air_reader.h"
#include "formats/file_format.h"
#include "formats/text_checks.h"

namespace netwright {

namespace {

class AirFormat final : public FileFormat {
public:
    FormatInfo info() const override { return {"air", "Ascend AIR (GE ModelDef)"}; }
    std::vector<std::string> extensions() const override { return {".air"}; }
    int score(const FilePrefix &p) const override
    {
        // ModelDef: name (1), version (2), custom_version (3), graph (7), attr (11); MindSpore
        // leaves 1–3 empty, so a file usually starts with the graph.
        const auto &f = p.fields;
        bool graph = false;
        for (const auto &x : f) {
            if (x.number == 7 && x.type == 2)
                graph = true;
            else if (!((x.number == 1 && x.type == 2 && printable(x.payload)) || (x.number == 2 && x.type == 0) || (x.number == 3 && x.type == 2)
                       || (x.number == 11 && x.type == 2)))
                return 0;
        }
        return graph ? (f[0].number == 7 ? 75 : 60) : 0;
    }
    ModelDescription describe(std::string_view bytes, const std::string &path) const override { return air::describeAir(bytes, path); }
    std::optional<GraphFormat> graphFormat() const override { return GraphFormat{"air", "air", "Ascend AIR", ".air", {".air"}, "Ascend's atc compiler"}; }
    Graph importGraph(std::string_view bytes, const std::string &path) const override { return air::importAir(bytes, path); }
    std::string exportGraph(const Graph &model, const GraphExportOptions &options) const override
    {
        air::AirExportOptions o;
        o.dynamicBatch = options.dynamicBatch;
        return air::exportAir(model, o);
    }
};

} // namespace

const FileFormat &airFileFormat()
{
    static const AirFormat format;
    return format;
}

} // namespace netwright
