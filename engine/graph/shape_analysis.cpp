// SPDX-License-Identifier: Apache-2.0
#include "graph/shape_analysis.h"

#include "core/error.h"
#include "ops/op.h"

#include <algorithm>
#include <memory>
#include <optional>

namespace netwright {

namespace {

// As Graph::inferShapes: results of at most this many elements are folded to constants.
constexpr int64_t kFoldLimit = 1 << 16;
constexpr int kMaxDepth = 32;

// One probe: every value's shape and type for one choice of the inputs' free dimensions.
struct Probe {
    std::map<std::string, Shape> shapes;
    std::map<std::string, DType> types;
    std::map<std::string, const Tensor *> constants;
    std::map<std::string, Tensor> folded; // node-stable storage for the constants above
};

const Graph *graphAttribute(const Node &node, const char *key)
{
    auto it = node.attributes.find(key);
    if (it == node.attributes.end())
        return nullptr;
    const auto *g = std::get_if<std::shared_ptr<Graph>>(&it->second);
    return g && *g ? g->get() : nullptr;
}

size_t explicitInputs(const Node &node)
{
    return node.inputs.size() - std::min(node.implicitInputs, node.inputs.size());
}

void walk(const Graph &g, Probe &p, int depth);

// A subgraph's declared inputs as the op feeds them (If: none; Loop: the iteration number, the
// condition and the carried values; Scan: the states and one slice of each scanned input).
void walkSubgraph(const Node &n, const char *key, Probe &p, int depth)
{
    const Graph *body = graphAttribute(n, key);
    if (!body || depth >= kMaxDepth)
        return;
    auto feed = [&](size_t k, const Shape *shape, DType type) {
        if (k >= body->inputs.size())
            return;
        p.types[body->inputs[k].name] = type;
        if (shape)
            p.shapes[body->inputs[k].name] = *shape;
        else
            p.shapes.erase(body->inputs[k].name);
    };
    auto known = [&](size_t i) -> const Shape * {
        if (i >= n.inputs.size() || n.inputs[i].empty())
            return nullptr;
        auto it = p.shapes.find(n.inputs[i]);
        return it == p.shapes.end() ? nullptr : &it->second;
    };
    auto typeOf = [&](size_t i) {
        auto it = i < n.inputs.size() ? p.types.find(n.inputs[i]) : p.types.end();
        return it == p.types.end() ? DType::Float32 : it->second;
    };
    const size_t explicitCount = explicitInputs(n);
    if (n.opType == "Loop") {
        const Shape scalar;
        feed(0, &scalar, DType::Int64);
        feed(1, &scalar, DType::Bool);
        for (size_t k = 2; k < explicitCount; ++k)
            feed(k, known(k), typeOf(k));
    } else if (n.opType == "Scan") {
        const bool batched = n.attrInt("netwright.scan8_batch", 0) != 0;
        const size_t first = batched ? 1 : 0;
        const int64_t scanIn = n.attrInt("num_scan_inputs", -1);
        const size_t total = explicitCount - std::min(first, explicitCount);
        if (scanIn < 1 || static_cast<size_t>(scanIn) > total)
            return;
        const size_t states = total - static_cast<size_t>(scanIn);
        const std::vector<int64_t> axes = n.attrInts("scan_input_axes", std::vector<int64_t>(static_cast<size_t>(scanIn), 0));
        for (size_t k = 0; k < total; ++k) {
            const Shape *s = known(first + k);
            std::optional<Shape> declared;
            if (s) {
                declared = *s;
                if (batched && !declared->empty())
                    declared->erase(declared->begin());
                if (k >= states) {
                    const size_t j = k - states;
                    int64_t axis = batched || j >= axes.size() ? 0 : axes[j];
                    const auto rank = static_cast<int64_t>(declared->size());
                    axis = axis < 0 ? axis + rank : axis;
                    if (axis >= 0 && axis < rank)
                        declared->erase(declared->begin() + axis);
                    else
                        declared.reset();
                }
            }
            feed(k, declared ? &*declared : nullptr, typeOf(first + k));
        }
    } else {
        // If's branches take no inputs; another op's subgraph: its inputs as the file declares them.
        for (size_t k = 0; k < body->inputs.size(); ++k) {
            const ValueInfo &in = body->inputs[k];
            const bool fixed = std::all_of(in.shape.begin(), in.shape.end(), [](int64_t d) { return d >= 0; });
            feed(k, fixed && !in.shape.empty() ? &in.shape : nullptr, in.dtype);
        }
    }
    walk(*body, p, depth + 1);
}

// An If whose rule gave no shapes — its condition is not known ahead of a run and its branches
// disagree, or one refuses these inputs (Silero VAD's 8 kHz branch on a 16 kHz frame) — takes
// them from the branches walked above: the one the condition picks when known, else the ones
// that agree; a branch that refuses the inputs cannot be the one that runs.
void ifFromBranches(const Node &n, Probe &p)
{
    const Graph *branches[2] = {graphAttribute(n, "then_branch"), graphAttribute(n, "else_branch")};
    if (!branches[0] || !branches[1])
        return;
    const auto cond = n.inputs.empty() ? p.constants.end() : p.constants.find(n.inputs[0]);
    int only = -1;
    if (cond != p.constants.end() && cond->second->numel() == 1) {
        const Tensor &c = *cond->second;
        only = c.dtype() == DType::Bool || c.dtype() == DType::UInt8 ? (c.dataAs<uint8_t>()[0] ? 0 : 1)
               : c.dtype() == DType::Int64                         ? (c.dataAs<int64_t>()[0] ? 0 : 1)
                                                                   : -1;
    }
    for (size_t k = 0; k < n.outputs.size(); ++k) {
        if (n.outputs[k].empty() || p.shapes.count(n.outputs[k]))
            continue;
        std::optional<Shape> shape;
        bool conflict = false;
        for (int b = 0; b < 2; ++b) {
            if ((only >= 0 && b != only) || k >= branches[b]->outputs.size())
                continue;
            const auto s = p.shapes.find(branches[b]->outputs[k].name);
            if (s == p.shapes.end())
                continue;
            conflict = conflict || (shape && *shape != s->second);
            shape = s->second;
            const auto t = p.types.find(branches[b]->outputs[k].name);
            if (t != p.types.end())
                p.types[n.outputs[k]] = t->second;
        }
        if (shape && !conflict)
            p.shapes[n.outputs[k]] = *shape;
    }
}

void walk(const Graph &g, Probe &p, int depth)
{
    for (const auto &[name, t] : g.initializers) {
        p.shapes[name] = t.shape();
        p.types[name] = t.dtype();
        if (t.device().type == DeviceType::Cpu)
            p.constants[name] = &t;
    }
    for (const Node &n : g.nodes) {
        std::vector<Shape> in;
        std::vector<const Tensor *> constIn;
        std::vector<DType> inTypes;
        bool allKnown = true, allConstant = true;
        for (const auto &i : n.inputs) {
            const auto t = p.types.find(i);
            inTypes.push_back(i.empty() || t == p.types.end() ? DType::Float32 : t->second);
            if (i.empty()) {
                in.emplace_back();
                constIn.push_back(nullptr);
                continue;
            }
            const auto s = p.shapes.find(i);
            allKnown = allKnown && s != p.shapes.end();
            in.push_back(s == p.shapes.end() ? Shape{} : s->second);
            const auto c = p.constants.find(i);
            constIn.push_back(c == p.constants.end() ? nullptr : c->second);
            allConstant = allConstant && c != p.constants.end();
        }
        for (const auto &o : n.outputs) { // a name met again (a sibling branch) starts unknown
            p.shapes.erase(o);
            p.constants.erase(o);
        }
        const OpKernel *op = nullptr;
        try {
            op = &kernelFor(n.opType, DeviceType::Cpu, n);
            const std::vector<DType> types = op->outputTypes(n, inTypes);
            for (size_t k = 0; k < n.outputs.size() && k < types.size(); ++k)
                if (!n.outputs[k].empty())
                    p.types[n.outputs[k]] = types[k];
        } catch (const Error &) {
            // no kernel, or types it refuses: the outputs keep no type (float32 is assumed)
        }
        if (op && allKnown) {
            try {
                std::vector<Tensor> values;
                if (op->allocatesOutputs() && allConstant && !isRandomOp(n.opType))
                    values = evaluateNode(n, constIn);
                std::vector<Shape> out;
                if (!values.empty())
                    for (const Tensor &v : values)
                        out.push_back(v.defined() ? v.shape() : Shape{});
                else
                    out = op->inferShapes(n, in, constIn);
                for (size_t k = 0; k < n.outputs.size() && k < out.size(); ++k)
                    if (!n.outputs[k].empty())
                        p.shapes[n.outputs[k]] = out[k];
                if (values.empty()) {
                    if (auto v = op->valueFromShapes(n, in)) {
                        values.push_back(std::move(*v));
                    } else if (allConstant && !n.outputs.empty() && !isRandomOp(n.opType)) {
                        int64_t total = 0;
                        for (const Shape &s : out)
                            total += shapeNumel(s);
                        if (total <= kFoldLimit)
                            values = evaluateNode(n, constIn);
                    }
                }
                for (size_t k = 0; k < values.size() && k < n.outputs.size(); ++k)
                    if (!n.outputs[k].empty() && values[k].defined()) {
                        p.types[n.outputs[k]] = values[k].dtype();
                        Tensor &slot = p.folded[n.outputs[k]];
                        slot = std::move(values[k]);
                        p.constants[n.outputs[k]] = &slot;
                    }
            } catch (const Error &) {
                // the rule refuses these inputs: what it did not set stays unknown
            }
        }
        for (const char *key : {"then_branch", "else_branch", "body"})
            walkSubgraph(n, key, p, depth);
        if (n.opType == "If")
            ifFromBranches(n, p);
    }
}

// Two sizes per free dimension, of the form scale·prime: whole through an image model's stride-32
// pyramid (scale 32 or 512), and no halving or doubling of one equals another dimension's probe.
// Only shapes are computed, never data.
std::pair<int64_t, int64_t> probeSizes(size_t symbol, int64_t scale)
{
    static const int64_t primes[] = {5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61};
    const size_t count = sizeof(primes) / sizeof(primes[0]);
    const int64_t base = scale * (symbol < count ? primes[symbol] : 67 + 2 * static_cast<int64_t>(symbol));
    return {base, 2 * base};
}

// The analysis at one scale of probe sizes. `symbols`: "" (every unnamed free dimension), then
// the named ones in order of first use.
std::map<std::string, AnalysedValue> analyseAt(const Graph &graph, const std::map<std::string, std::vector<std::string>> &inputDimNames,
                                               int64_t scale, const AssumedDimension *fixed = nullptr)
{
    std::vector<std::string> symbols{""};
    auto symbolOf = [&](const std::string &name) {
        for (size_t i = 0; i < symbols.size(); ++i)
            if (symbols[i] == name)
                return i;
        symbols.push_back(name);
        return symbols.size() - 1;
    };
    Probe a, b;
    for (const ValueInfo &in : graph.inputs) {
        const auto names = inputDimNames.find(in.name);
        Shape sa = in.shape, sb = in.shape;
        for (size_t i = 0; i < in.shape.size(); ++i) {
            if (in.shape[i] >= 0)
                continue;
            if (fixed && fixed->input == in.name && fixed->axis == i) {
                sa[i] = sb[i] = fixed->size;
                continue;
            }
            const std::string name = names != inputDimNames.end() && i < names->second.size() ? names->second[i] : std::string();
            const auto [x, y] = probeSizes(symbolOf(name), scale);
            sa[i] = x;
            sb[i] = y;
        }
        a.shapes[in.name] = sa;
        b.shapes[in.name] = sb;
        a.types[in.name] = b.types[in.name] = in.dtype;
    }
    walk(graph, a, 0);
    walk(graph, b, 0);

    std::map<std::string, AnalysedValue> out;
    for (const auto &[name, type] : a.types)
        out[name].dtype = type;
    for (const auto &[name, sa] : a.shapes) {
        AnalysedValue &v = out[name];
        const auto sb = b.shapes.find(name);
        if (sb == b.shapes.end() || sb->second.size() != sa.size())
            continue; // known at one size only: its shape is not a function of the inputs' shapes
        v.shapeKnown = true;
        v.shape = sa;
        v.dimNames.assign(sa.size(), std::string());
        for (size_t i = 0; i < sa.size(); ++i) {
            if (sa[i] == sb->second[i])
                continue;
            v.shape[i] = -1;
            for (size_t s = 1; s < symbols.size(); ++s)
                if (probeSizes(s, scale) == std::pair(sa[i], sb->second[i]))
                    v.dimNames[i] = symbols[s];
        }
    }
    return out;
}

size_t knownCount(const std::map<std::string, AnalysedValue> &values)
{
    return static_cast<size_t>(std::count_if(values.begin(), values.end(), [](const auto &v) { return v.second.shapeKnown; }));
}

} // namespace

std::map<std::string, AnalysedValue> analyseShapes(const Graph &graph, const std::map<std::string, std::vector<std::string>> &inputDimNames,
                                                   std::vector<AssumedDimension> *assumed)
{
    // Small probes keep within what folds ahead of a run (PP-OCRv4's attention sizes); large ones
    // fit windows a small size cannot (openWakeWord's 512-sample STFT). The one that knows more wins.
    std::vector<AssumedDimension> freeDims;
    for (const ValueInfo &in : graph.inputs)
        for (size_t i = 0; i < in.shape.size(); ++i)
            if (in.shape[i] < 0)
                freeDims.push_back({in.name, i, 0});
    auto best = analyseAt(graph, inputDimNames, 32);
    if (freeDims.empty())
        return best;
    auto large = analyseAt(graph, inputDimNames, 512);
    if (knownCount(large) > knownCount(best))
        best = std::move(large);
    if (knownCount(best) == best.size())
        return best;

    // Some values stay unknown at every probe: a model may take one size of a free dimension only
    // (a frame length, a batch of one), which no pair of probes can meet.
    std::optional<AssumedDimension> chosen;
    for (const AssumedDimension &dim : freeDims)
        for (int64_t size = 1; size <= 8192; size *= 2)
            for (int64_t scale : {int64_t{32}}) {
                const AssumedDimension candidate{dim.input, dim.axis, size};
                auto trial = analyseAt(graph, inputDimNames, scale, &candidate);
                if (knownCount(trial) > knownCount(best)) {
                    best = std::move(trial);
                    chosen = candidate;
                }
            }
    if (chosen && assumed)
        assumed->push_back(*chosen);
    return best;
}

} // namespace netwright
