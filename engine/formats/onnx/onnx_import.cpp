// SPDX-License-Identifier: Apache-2.0
#include "formats/onnx/onnx_import.h"

#include "core/error.h"
#include "formats/format_util.h"
#include "formats/graph_import.h"
#include "formats/onnx/onnx_tensor.h"
#include "ops/op.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>

namespace netwright::onnx_format {

namespace {

// Opsets 1–17 import; nodes whose meaning changed along the way are rewritten into the opset-13+
// form the kernels implement (upgradeNode), so the engine's IR has one meaning per op type.
constexpr int64_t kMinOpset = 1, kMaxOpset = 17;

ValueInfo valueInfo(const onnx::ValueInfoProto &v, const std::string &source)
{
    ValueInfo info;
    info.name = v.name();
    check(v.type().has_tensor_type(), "Cannot import \"" + source + "\": graph value \"" + v.name() + "\" is not a tensor.");
    const auto &t = v.type().tensor_type();
    const ElementType type = onnxElementType(t.elem_type());
    check(type.dtype.has_value(), "Cannot import \"" + source + "\": graph value \"" + v.name() + "\" has the element type "
                                      + type.name + ", which the engine has no tensors for.");
    info.dtype = *type.dtype;
    for (const auto &d : t.shape().dim())
        info.shape.push_back(d.has_dim_value() ? d.dim_value() : -1); // a symbolic dim (the batch) is fixed at run time
    return info;
}

// The Constant node's value, whatever attribute carries it.
Tensor constantValue(const onnx::NodeProto &n, const std::string &source)
{
    const std::string what = "Cannot import \"" + source + "\": Constant \"" + n.output(0) + "\"";
    for (const auto &a : n.attribute()) {
        if (a.name() == "value") {
            auto t = onnxTensor(a.t(), what);
            check(t.has_value(), what + " is not a numeric tensor.");
            return *t;
        }
        if (a.name() == "value_float")
            return Tensor::full({}, a.f());
        if (a.name() == "value_floats")
            return Tensor::fromVector({static_cast<int64_t>(a.floats_size())}, std::vector<float>(a.floats().begin(), a.floats().end()));
        if (a.name() == "value_int")
            return Tensor::fromInt64({}, {a.i()});
        if (a.name() == "value_ints")
            return Tensor::fromInt64({static_cast<int64_t>(a.ints_size())}, std::vector<int64_t>(a.ints().begin(), a.ints().end()));
    }
    throw Error(what + " has no value the engine reads (sparse or string constants are not supported).");
}

// Adds `node` to `graph` in the form the kernels implement (opset 13+): the changes of meaning
// between opsets are rewritten here, once, instead of in every kernel and exporter. Kernels take
// both the attribute and the input form where an operand only moved (axes, pads, split, clip
// bounds, the dropout ratio, TopK's k).
void upgradeNode(Graph &graph, Node node, int64_t opset)
{
    const std::string &op = node.opType;
    if ((op == "Softmax" || op == "LogSoftmax" || op == "Hardmax") && opset < 13) {
        // Before 13 these flattened the input to 2-D at `axis` (default 1) and normalised each
        // row; since 13 they work along the one axis (default −1). Flatten, normalise the last
        // axis, and reshape back to the input's shape.
        const std::string x = node.inputs.at(0), y = node.outputs.at(0), base = node.name;
        const int64_t axis = node.attrInt("axis", 1);
        graph.addNode("Flatten", base + "/flatten", {x}, {base + "/2d"}, {{"axis", axis}});
        graph.addNode("Shape", base + "/shape", {x}, {base + "/shape_of_input"});
        node.inputs = {base + "/2d"};
        node.outputs = {base + "/normalised_2d"};
        node.attributes = {{"axis", int64_t{-1}}};
        graph.nodes.push_back(std::move(node));
        graph.addNode("Reshape", base + "/reshape", {base + "/normalised_2d", base + "/shape_of_input"}, {y});
        return;
    }
    if (op == "Upsample" || (op == "Resize" && opset < 11)) {
        // Upsample (deprecated in 10) and Resize-10: output = floor(input · scale), source
        // coordinate = output coordinate / scale (asymmetric), nearest rounding down.
        node.attributes["coordinate_transformation_mode"] = std::string("asymmetric");
        if (node.attrString("mode", "nearest") == "nearest")
            node.attributes["nearest_mode"] = std::string("floor");
    }
    if (op == "Upsample") { // deprecated in 10: Resize with the same scales and no roi
        node.opType = "Resize";
        if (node.inputs.size() < 2) { // opset 7–8: scales as an attribute
            const std::string scales = node.name + "/scales";
            std::vector<float> values;
            if (auto it = node.attributes.find("scales"); it != node.attributes.end())
                if (auto v = std::get_if<std::vector<float>>(&it->second))
                    values = *v;
            graph.addParameter(scales, Tensor::fromVector({static_cast<int64_t>(values.size())}, values), false);
            node.inputs.push_back(scales);
        }
        node.attributes.erase("scales");
        node.inputs.insert(node.inputs.begin() + 1, ""); // roi
        graph.nodes.push_back(std::move(node));
        return;
    }
    if (op == "Resize" && opset < 11) { // opset 10: X, scales
        node.inputs.insert(node.inputs.begin() + 1, "");
        graph.nodes.push_back(std::move(node));
        return;
    }
    if (op == "BatchNormalization" && opset < 14 && node.outputs.size() > 1) {
        // Before 14, more than one output meant training mode (Y, running mean and variance,
        // then the batch's saved mean and variance, which nothing reads): 14's training_mode=1.
        node.attributes["training_mode"] = int64_t{1};
        if (node.outputs.size() > 3)
            node.outputs.resize(3);
    }
    if (op == "Scatter") // deprecated in 11: the same as ScatterElements
        node.opType = "ScatterElements";
    graph.nodes.push_back(std::move(node));
}

struct ImportContext {
    const std::string &source;
    int64_t opset;
    std::set<std::string> missing; // op types without a kernel, in every graph and subgraph
    ExternalDataReader *external = nullptr; // the data files beside the model (mapped)
};

constexpr int kMaxSubgraphDepth = 32;

void importNodes(const onnx::GraphProto &g, Graph &graph, ImportContext &ctx, std::set<std::string> &constants, int depth);

// A subgraph value: its type may be left out (a Loop body's carried value), or lack a shape; the
// kernel types the subgraph's inputs from the values it feeds at run time.
ValueInfo subgraphValueInfo(const onnx::ValueInfoProto &v, const std::string &source)
{
    const bool untyped = !v.has_type() || v.type().value_case() == onnx::TypeProto::VALUE_NOT_SET
                         || (v.type().has_tensor_type() && v.type().tensor_type().elem_type() == 0);
    if (!untyped)
        return valueInfo(v, source);
    ValueInfo info;
    info.name = v.name();
    return info;
}

// The names a graph reads without defining them (its own nodes' inputs, nested subgraphs' free
// names already among their owners' inputs, and outputs that pass an outer value through): the
// values it captures from enclosing scopes, in order of first use.
std::vector<std::string> freeNames(const Graph &g)
{
    std::set<std::string> defined;
    for (const auto &in : g.inputs)
        defined.insert(in.name);
    for (const auto &[name, t] : g.initializers)
        defined.insert(name);
    for (const Node &n : g.nodes)
        for (const auto &o : n.outputs)
            defined.insert(o);
    std::vector<std::string> out;
    std::set<std::string> seen;
    auto use = [&](const std::string &name) {
        if (!name.empty() && !defined.count(name) && seen.insert(name).second)
            out.push_back(name);
    };
    for (const Node &n : g.nodes)
        for (const auto &i : n.inputs)
            use(i);
    for (const auto &o : g.outputs)
        use(o.name);
    return out;
}

// A GRAPH attribute (If's branches, Loop's and Scan's body) as a Graph: the same node import as
// the top graph, its own initializers and Constant nodes, inputs and outputs whose types may lack
// shapes. Its wiring is checked with the captured outer names standing in as inputs.
std::shared_ptr<Graph> importSubgraph(const onnx::GraphProto &g, const std::string &name, ImportContext &ctx, int depth)
{
    check(depth < kMaxSubgraphDepth, "Cannot import \"" + ctx.source + "\": subgraphs nest more than "
                                         + std::to_string(kMaxSubgraphDepth) + " deep.");
    auto graph = std::make_shared<Graph>();
    graph->name = name;
    std::set<std::string> initialized;
    for (const auto &t : g.initializer()) {
        auto value = onnxTensor(t, "Cannot import \"" + ctx.source + "\": initializer \"" + t.name() + "\" of " + name, ctx.external);
        check(value.has_value(), "Cannot import \"" + ctx.source + "\": initializer \"" + t.name() + "\" of " + name
                                     + " is not numeric, which the importer does not read.");
        graph->addParameter(t.name(), *value, false);
        initialized.insert(t.name());
    }
    for (const auto &v : g.input())
        if (!initialized.count(v.name()))
            graph->inputs.push_back(subgraphValueInfo(v, ctx.source));
    for (const auto &v : g.output())
        graph->outputs.push_back(subgraphValueInfo(v, ctx.source));
    std::set<std::string> constants;
    importNodes(g, *graph, ctx, constants, depth);
    const size_t declared = graph->inputs.size();
    for (const auto &f : freeNames(*graph))
        graph->inputs.push_back(ValueInfo{f, {}, DType::Float32});
    try {
        graph->validate(); // sorts the nodes too
    } catch (const Error &e) {
        throw Error("Cannot import \"" + ctx.source + "\": in " + name + ": " + e.what());
    }
    graph->inputs.resize(declared);
    return graph;
}

// Imports g's nodes into `graph` (Constant nodes become its parameters, listed in `constants`);
// a node with subgraphs gets their captured outer names appended as implicit inputs.
void importNodes(const onnx::GraphProto &g, Graph &graph, ImportContext &ctx, std::set<std::string> &constants, int depth)
{
    const std::string &source = ctx.source;
    std::set<std::string> names;
    int index = 0;
    for (const auto &n : g.node()) {
        ++index;
        if (n.op_type() == "Constant" && (n.domain().empty() || n.domain() == "ai.onnx")) {
            check(n.output_size() == 1, "Cannot import \"" + source + "\": a Constant node needs one output.");
            graph.addParameter(n.output(0), constantValue(n, source), false);
            constants.insert(n.output(0));
            continue;
        }
        std::string name = n.name().empty() ? n.op_type() + "_" + std::to_string(index) : n.name();
        while (!names.insert(name).second)
            name += "_";
        std::map<std::string, Attribute> attributes;
        std::vector<std::string> captured;
        for (const auto &a : n.attribute()) {
            switch (a.type()) {
            case onnx::AttributeProto::INT: attributes[a.name()] = static_cast<int64_t>(a.i()); break;
            case onnx::AttributeProto::FLOAT: attributes[a.name()] = a.f(); break;
            case onnx::AttributeProto::STRING: attributes[a.name()] = a.s(); break;
            case onnx::AttributeProto::INTS: attributes[a.name()] = std::vector<int64_t>(a.ints().begin(), a.ints().end()); break;
            case onnx::AttributeProto::FLOATS: attributes[a.name()] = std::vector<float>(a.floats().begin(), a.floats().end()); break;
            case onnx::AttributeProto::STRINGS: attributes[a.name()] = std::vector<std::string>(a.strings().begin(), a.strings().end()); break;
            case onnx::AttributeProto::TENSOR:
                if (auto t = onnxTensor(a.t(), "Cannot import \"" + source + "\": attribute " + a.name() + " of \"" + name + "\""))
                    attributes[a.name()] = *t;
                break;
            case onnx::AttributeProto::GRAPH: {
                auto sub = importSubgraph(a.g(), graph.name + "/" + name + "." + a.name(), ctx, depth + 1);
                for (const auto &f : freeNames(*sub))
                    if (std::find(captured.begin(), captured.end(), f) == captured.end())
                        captured.push_back(f);
                attributes[a.name()] = std::move(sub);
                break;
            }
            default:
                ctx.missing.insert(n.op_type()); // GRAPHS and sparse tensors: kept for inspection only
                break;
            }
        }
        const bool foreignDomain = !n.domain().empty() && n.domain() != "ai.onnx";
        const std::string opType = foreignDomain ? n.domain() + "::" + n.op_type() : n.op_type();
        Node node{name, opType, std::vector<std::string>(n.input().begin(), n.input().end()),
                  std::vector<std::string>(n.output().begin(), n.output().end()), std::move(attributes)};
        if (opType == "Scan" && ctx.opset < 9) // Scan-8: a batch axis first, and sequence_lens as input 0
            node.attributes["netwright.scan8_batch"] = int64_t{1};
        node.inputs.insert(node.inputs.end(), captured.begin(), captured.end());
        node.implicitInputs = captured.size();
        const size_t before = graph.nodes.size();
        upgradeNode(graph, std::move(node), ctx.opset);
        for (size_t k = before; k < graph.nodes.size(); ++k)
            if (!hasKernel(graph.nodes[k].opType)) // after the rewrites of older opsets
                ctx.missing.insert(graph.nodes[k].opType);
    }
}

} // namespace

OnnxImport importOnnx(std::string_view bytes, const std::string &source)
{
    onnx::ModelProto model;
    if (!parseMessage(bytes, model) || !model.has_graph())
        throw Error("Cannot import \"" + source + "\" as ONNX: the ModelProto does not parse or has no graph" + truncationNote(bytes) + ".");
    OnnxImport out;
    for (const auto &o : model.opset_import())
        if (o.domain().empty() || o.domain() == "ai.onnx")
            out.opset = o.version();
    if (out.opset == 0) {
        std::string domains;
        for (const auto &o : model.opset_import())
            domains += (domains.empty() ? "" : ", ") + o.domain() + " " + std::to_string(o.version());
        throw Error("Cannot import \"" + source + "\": it imports no standard ONNX opset (only " + (domains.empty() ? "none" : domains)
                    + "); Netwright runs the ai.onnx ops of opsets " + std::to_string(kMinOpset) + "–" + std::to_string(kMaxOpset) + ".");
    }
    check(out.opset >= kMinOpset && out.opset <= kMaxOpset,
          "Cannot import \"" + source + "\": it uses ONNX opset " + std::to_string(out.opset) + "; Netwright imports opsets "
              + std::to_string(kMinOpset) + "–" + std::to_string(kMaxOpset) + ".");
    const onnx::GraphProto &g = model.graph();
    Graph &graph = out.graph;
    graph.name = g.name().empty() ? "onnx" : g.name();

    ExternalDataReader external(source);
    ImportContext ctx{source, out.opset, {}, &external};
    std::set<std::string> initialized;
    for (const auto &t : g.initializer()) {
        auto value = onnxTensor(t, "Cannot import \"" + source + "\": initializer \"" + t.name() + "\"", &external);
        check(value.has_value(), "Cannot import \"" + source + "\": initializer \"" + t.name()
                                     + "\" is not numeric, which the importer does not read.");
        graph.addParameter(t.name(), *value, false);
        initialized.insert(t.name());
    }
    for (const auto &v : g.input())
        if (!initialized.count(v.name()))
            graph.inputs.push_back(valueInfo(v, source));
    for (const auto &v : g.output())
        graph.outputs.push_back(valueInfo(v, source));

    std::set<std::string> constants;
    importNodes(g, graph, ctx, constants, 0);
    out.missingOps.assign(ctx.missing.begin(), ctx.missing.end());
    try {
        graph.validate();
    } catch (const Error &e) {
        throw Error("Cannot import \"" + source + "\": " + e.what());
    }
    // Every float initializer a gradient reaches trains; Constant nodes' values never do.
    markTrainableParameters(graph);
    for (const auto &c : constants)
        graph.trainable.erase(c);
    return out;
}

Tensor decodeTensorProto(std::string_view bytes, const std::string &source)
{
    onnx::TensorProto p;
    if (!parseMessage(bytes, p))
        throw Error("Cannot read \"" + source + "\" as a tensor: it is neither a NumPy .npy file nor an ONNX TensorProto"
                    + truncationNote(bytes) + ".");
    auto t = onnxTensor(p, "Cannot read \"" + source + "\"");
    if (!t)
        throw Error("Cannot read \"" + source + "\": the TensorProto holds " + onnxElementType(p.data_type()).name
                    + (p.data_location() == onnx::TensorProto::EXTERNAL ? " values in an external file" : " values")
                    + ", which the engine has no tensors for.");
    return *t;
}

OnnxImport importOnnxFile(const std::string &path)
{
    return importOnnx(readFileBytes(path), path);
}

} // namespace netwright::onnx_format
