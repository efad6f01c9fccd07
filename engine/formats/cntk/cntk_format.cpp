// SPDX-License-Identifier: Apache-2.0
#include "formats/cntk/cntk_format.h"

#include "core/error.h"
#include "formats/cntk/cntk_model.h"
#include "formats/cntk/trainer_checkpoint.h"
#include "formats/file_format.h"
#include "formats/format_util.h"

#include <map>
#include <set>

namespace netwright {

namespace {

namespace {

std::string nodeName(const cntk::Function &f)
{
    return f.name.empty() || f.name == f.uid ? f.uid : f.name + " (" + f.uid + ")";
}

// The function uid an input names ("Plus12_Output_0" → "Plus12"), or "" for a variable.
std::string producerOf(const std::string &input, const std::map<std::string, size_t> &index)
{
    const size_t at = input.rfind("_Output_");
    const std::string uid = at == std::string::npos ? input : input.substr(0, at);
    return index.count(uid) ? uid : std::string();
}

// The model's functions as nodes, each Block (a composite layer) followed by its primitives as
// its body: graph "<owner's graph>/<block node>.<block op>", as an ONNX If's branches are named,
// so the graph view frames them under the Block. CNTK lists a Block's primitives (its composite,
// by its root) before the Block among the model's functions; their placeholders are renamed to
// the values the Block feeds them, so the body's edges come from where its inputs are made.
void blockGraphNodes(const cntk::Model &m, std::vector<NodeDescription> &out)
{
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < m.functions.size(); ++i)
        index[m.functions[i].uid] = i;
    // Each Block's members: what its root reaches through functions, not through the Block's own
    // inputs (the placeholders) nor into an inner Block's primitives (those are the inner one's).
    std::vector<int> owner(m.functions.size(), -1);
    std::vector<std::vector<size_t>> members(m.functions.size());
    for (size_t b = 0; b < m.functions.size(); ++b) {
        const cntk::Function &block = m.functions[b];
        if (block.blockRoot.empty() || !index.count(block.blockRoot))
            continue;
        std::vector<size_t> stack{index.at(block.blockRoot)};
        std::vector<bool> seen(m.functions.size(), false);
        while (!stack.empty()) {
            const size_t i = stack.back();
            stack.pop_back();
            if (seen[i] || i == b)
                continue;
            seen[i] = true;
            owner[i] = static_cast<int>(b); // an inner Block stops the walk: its primitives are its own
            for (const std::string &in : m.functions[i].inputs)
                if (const std::string uid = producerOf(in, index); !uid.empty())
                    stack.push_back(index.at(uid));
        }
    }
    for (size_t i = 0; i < m.functions.size(); ++i)
        if (owner[i] >= 0)
            members[static_cast<size_t>(owner[i])].push_back(i);

    auto emit = [&](auto &self, size_t i, const std::string &graph, const std::map<std::string, std::string> &placeholders) -> void {
        const cntk::Function &f = m.functions[i];
        NodeDescription n;
        n.name = nodeName(f);
        n.opType = f.blockOpName.empty() ? f.opName : f.blockOpName;
        n.graph = graph;
        for (const std::string &in : f.inputs) {
            const auto p = placeholders.find(in);
            n.inputs.push_back(p == placeholders.end() ? in : p->second);
        }
        n.outputs.push_back(f.uid + "_Output_0");
        if (!f.blockOpName.empty())
            n.attributes.push_back({"block", std::to_string(members[i].size()) + " primitive functions"});
        out.push_back(std::move(n));
        if (members[i].empty())
            return;
        std::map<std::string, std::string> inner = placeholders;
        for (const auto &[placeholder, input] : f.blockArguments) {
            const auto p = placeholders.find(input);
            inner[placeholder] = p == placeholders.end() ? input : p->second;
        }
        const std::string body = graph + "/" + out.back().name + "." + (f.blockOpName.empty() ? std::string("block") : f.blockOpName);
        for (const size_t j : members[i])
            self(self, j, body, inner);
    };
    for (size_t i = 0; i < m.functions.size(); ++i)
        if (owner[i] < 0)
            emit(emit, i, std::string(), {});
}

} // namespace

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
    // A Block's placeholders are its composite's own (blockGraphNodes renames them to the values
    // the Block feeds in), not inputs of the model.
    std::set<std::string> placeholders;
    for (const auto &f : m.functions)
        for (const auto &[placeholder, input] : f.blockArguments)
            placeholders.insert(placeholder);
    for (const auto &v : m.variables) {
        if (placeholders.count(v.uid))
            continue;
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
    blockGraphNodes(m, d.nodes);
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
