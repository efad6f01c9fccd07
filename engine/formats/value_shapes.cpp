// SPDX-License-Identifier: Apache-2.0
#include "formats/value_shapes.h"

#include "core/error.h"
#include "formats/graph_formats.h"
#include "graph/shape_analysis.h"

namespace netwright {

ValueShapes valueShapes(const std::string &path, const ModelDescription &model)
{
    ValueShapes out;
    // The names a user sees: what the file states first, the engine's inference over it.
    auto add = [&](const ValueDescription &v) {
        if (v.name.empty())
            return;
        ValueDescription &slot = out.values[v.name];
        if (slot.name.empty() || (!slot.shapeKnown && v.shapeKnown)) {
            slot.name = v.name;
            slot.dtype = v.dtype;
            slot.shape = v.shape;
            slot.shapeKnown = v.shapeKnown && v.text.empty();
            slot.dimNames = v.dimNames;
        }
    };
    for (const auto *list : {&model.inputs, &model.parameters, &model.values, &model.outputs})
        for (const auto &v : *list)
            add(v);
    for (const auto &n : model.nodes)
        for (const auto &o : n.outputs)
            if (!o.empty() && !out.values.count(o)) {
                ValueDescription v;
                v.name = o;
                v.shapeKnown = false;
                out.values[o] = v;
            }

    std::map<std::string, AnalysedValue> analysed;
    try {
        if (!detectGraphFormat(path)) {
            out.note = "the format has no graph the engine imports; the shapes are those the file states";
            return out;
        }
        const Graph graph = importGraphFile(path);
        std::map<std::string, std::vector<std::string>> dimNames;
        for (const auto &in : model.inputs)
            dimNames[in.name] = in.dimNames;
        analysed = analyseShapes(graph, dimNames, &out.assumed);
    } catch (const Error &e) {
        out.note = std::string("the engine does not import the graph (") + e.what() + "); the shapes are those the file states";
        return out;
    }
    for (auto &[name, v] : out.values) {
        const auto it = analysed.find(name);
        if (it == analysed.end())
            continue;
        const AnalysedValue &a = it->second;
        if (!a.shapeKnown) {
            if (!v.shapeKnown && v.dtype.empty())
                v.dtype = dtypeName(a.dtype);
            continue;
        }
        // Named dimensions the file states are kept where the engine only knows them as free.
        std::vector<std::string> names = a.dimNames;
        if (v.shapeKnown && v.shape.size() == a.shape.size())
            for (size_t i = 0; i < names.size(); ++i)
                if (names[i].empty() && a.shape[i] < 0 && i < v.dimNames.size())
                    names[i] = v.dimNames[i];
        v.dtype = dtypeName(a.dtype);
        v.shape = a.shape;
        v.dimNames = std::move(names);
        v.shapeKnown = true;
    }
    return out;
}

} // namespace netwright
