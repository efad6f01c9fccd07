// SPDX-License-Identifier: Apache-2.0
#include "formats/cntk/cntk_format.h"

#include "core/error.h"
#include "formats/cntk/cntk_model.h"
#include "formats/cntk/trainer_checkpoint.h"
#include "formats/file_format.h"
#include "formats/format_util.h"

namespace netwright {

namespace {

ModelDescription describeCntkModel(std::string_view bytes, const std::string &path)
{
    const cntk::Model m = cntk::decodeModel(bytes, path);
    ModelDescription d;
    d.format = "cntk-model";
    d.formatName = "CNTK model-v2";
    if (!m.uid.empty())
        d.properties.emplace_back("uid", m.uid);
    d.properties.emplace_back("root", m.root);
    if (!m.name.empty())
        d.properties.emplace_back("name", m.name);
    for (const auto &v : m.variables) {
        ValueDescription x;
        x.name = v.name.empty() || v.name == v.uid ? v.uid : v.name + " (" + v.uid + ")";
        x.dtype = v.dataType;
        x.shape.assign(v.cntkShape.rbegin(), v.cntkShape.rend()); // row-major, as the values
        if (v.value)
            x.value = *v.value;
        if (v.kind == cntk::VariableKind::Parameter || v.kind == cntk::VariableKind::Constant)
            d.parameters.push_back(std::move(x));
        else if (v.kind == cntk::VariableKind::Output)
            d.outputs.push_back(std::move(x)); // some writers list the function's outputs among its variables
        else
            d.inputs.push_back(std::move(x));
    }
    for (const auto &f : m.functions) {
        NodeDescription n;
        n.name = f.name.empty() || f.name == f.uid ? f.uid : f.name + " (" + f.uid + ")";
        n.opType = f.opName;
        n.inputs = f.inputs;
        n.outputs.push_back(f.uid + "_Output_0");
        d.nodes.push_back(std::move(n));
    }
    if (d.outputs.empty() && !m.functions.empty())
        d.outputs.push_back({m.functions.back().uid + "_Output_0", "", {}, false, {}, std::nullopt, {}, {}});
    return d;
}

ModelDescription describeCntkCheckpoint(const std::string &path)
{
    const auto l = cntk::listTrainerCheckpoint(path);
    ModelDescription d;
    d.format = "cntk-ckp";
    d.formatName = "CNTK trainer checkpoint";
    d.properties.emplace_back("version", std::to_string(l.version));
    d.properties.emplace_back("learners", std::to_string(l.learners));
    if (!l.modelFile.empty())
        d.properties.emplace_back("model", l.modelFile);
    for (const auto &i : l.items) {
        ValueDescription v;
        v.name = i.path;
        v.dtype = i.tensor ? dtypeName(i.tensor->dtype()) : i.type;
        if (i.tensor) {
            v.shape.assign(i.tensor->shape().begin(), i.tensor->shape().end());
            v.value = *i.tensor;
        } else {
            v.shapeKnown = false;
            v.text = i.text;
        }
        d.parameters.push_back(std::move(v));
    }
    return d;
}

class CntkFormat final : public FileFormat {
public:
    FormatInfo info() const override { return {"cntk-v2", "CNTK v2 (model or trainer checkpoint)"}; }
    std::vector<std::string> extensions() const override { return {".model", ".dnn", ".cmf", ".cntk", ".ckp"}; }
    int score(const FilePrefix &p) const override
    {
        // Dictionary: version (1, varint) then map entries (2) = {key (1, string), value (2)}
        // (CNTK 2.x writes version 1; later 2.x builds write 2)
        const auto &f = p.fields;
        return f.size() >= 2 && f[0].number == 1 && f[0].type == 0 && f[0].varint >= 1 && f[0].varint <= 3 && f[1].number == 2 && f[1].type == 2
                       && !f[1].payload.empty() && f[1].payload[0] == 0x0a
                   ? 90
                   : 0;
    }
    ModelDescription describe(std::string_view bytes, const std::string &path) const override
    {
        // A model or a trainer checkpoint, by its keys — unless the file is cut short.
        if (const std::string cut = truncationNote(bytes); !cut.empty())
            throw Error("Cannot read \"" + path + "\" as CNTK v2: the Dictionary does not parse" + cut + ".");
        const cntk::FileKind kind = cntk::classify(path);
        if (kind == cntk::FileKind::TrainerCheckpoint)
            return describeCntkCheckpoint(path);
        if (kind == cntk::FileKind::Model)
            return describeCntkModel(bytes, path);
        throw Error("\"" + path + "\" starts like a CNTK v2 Dictionary but is neither a CNTK model (no \"primitive_functions\") nor a "
                    "trainer checkpoint (no \"Learners\").");
    }
    std::optional<GraphFormat> graphFormat() const override
    {
        return GraphFormat{"cntk-model", "cntk", "CNTK model-v2", ".model", {".model", ".dnn", ".cmf"}, "CNTK 2.x (C.load_model)"};
    }
    bool holdsGraph(const std::string &path) const override { return cntk::classify(path) == cntk::FileKind::Model; }
    Graph importGraph(std::string_view bytes, const std::string &path) const override { return cntk::importModel(bytes, path); }
    std::string exportGraph(const Graph &model, const GraphExportOptions &) const override { return cntk::encodeInferenceModel(model); }
};

} // namespace

const FileFormat &cntkFileFormat()
{
    static const CntkFormat format;
    return format;
}

} // namespace netwright
