// SPDX-License-Identifier: Apache-2.0
// Control flow for inference: If, Loop (opsets 1–16, tensor values) and Scan (opset 9+, and
// opset 8's batch form). Layer: engine/ops. Each op runs its subgraph (a GRAPH attribute the
// importer turned into a Graph) through an Executor over a copy of it, whose inputs are the
// subgraph's declared inputs plus the outer-scope values it reads (the node's implicit inputs,
// fed under their own names); the executor is built once per call and reused across
// iterations. Output shapes depend on the data, so these kernels allocate their outputs
// (allocatesOutputs). They are inference-only: no input is differentiable.
//
// A Loop stops with an Error naming the node after kDefaultLoopLimit iterations (10,000,000)
// when its trip count is absent or larger and its condition never turns false — a hostile or
// broken model cannot hang the engine. NETWRIGHT_LOOP_LIMIT (a positive integer) overrides the
// limit.
#include "autodiff/executor.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

#include <cstdlib>
#include <cstring>
#include <memory>

namespace netwright {

namespace {

constexpr int64_t kDefaultLoopLimit = 10'000'000;

int64_t loopLimit()
{
    if (const char *v = std::getenv("NETWRIGHT_LOOP_LIMIT")) {
        char *end = nullptr;
        const long long n = std::strtoll(v, &end, 10);
        if (end != v && *end == '\0' && n > 0)
            return n;
    }
    return kDefaultLoopLimit;
}

const Graph &subgraph(const Node &node, const char *key)
{
    auto it = node.attributes.find(key);
    check(it != node.attributes.end(), node.describe() + ": has no subgraph attribute \"" + key + "\".");
    const auto *g = std::get_if<std::shared_ptr<Graph>>(&it->second);
    check(g && *g, node.describe() + ": attribute \"" + key + "\" is not a graph.");
    return **g;
}

// The number of the node's ONNX inputs (the rest are the outer-scope values its subgraphs read).
size_t explicitInputs(const Node &node)
{
    return node.inputs.size() - std::min(node.implicitInputs, node.inputs.size());
}

bool truth(const Node &node, const Tensor &t, const char *what)
{
    check(t.numel() == 1, node.describe() + ": " + what + " must hold one element, got shape " + shapeToString(t.shape()) + ".");
    const Tensor h = t.device().type == DeviceType::Cpu ? t : t.to(Device::cpu());
    return dispatchType<kAllTypes>(h.dtype(), node, [&](auto tag) {
        using T = typename decltype(tag)::type;
        return h.dataAs<T>()[0] != T(0);
    });
}

int64_t integerScalar(const Node &node, const Tensor &t, const char *what)
{
    check(t.numel() == 1, node.describe() + ": " + what + " must hold one element, got shape " + shapeToString(t.shape()) + ".");
    return dispatchType<kSignedInts | kUnsignedInts>(t.dtype(), node, [&](auto tag) {
        using T = typename decltype(tag)::type;
        return static_cast<int64_t>(t.dataAs<T>()[0]);
    });
}

// The element types of a subgraph's outputs, by the op rules, for these input types (declared
// inputs in order) and the node's implicit inputs.
std::vector<DType> bodyOutputTypes(const Node &node, const Graph &body, const std::vector<DType> &declared,
                                   const std::vector<DType> &nodeInputTypes)
{
    std::map<std::string, DType> types;
    for (size_t k = explicitInputs(node); k < node.inputs.size() && k < nodeInputTypes.size(); ++k)
        types[node.inputs[k]] = nodeInputTypes[k];
    for (size_t k = 0; k < body.inputs.size() && k < declared.size(); ++k)
        types[body.inputs[k].name] = declared[k];
    for (const auto &[name, t] : body.initializers)
        types[name] = t.dtype();
    for (const Node &n : body.nodes) { // sorted at import
        const OpKernel &k = kernelFor(n.opType, DeviceType::Cpu, n);
        std::vector<DType> in;
        for (const auto &i : n.inputs) {
            auto it = types.find(i);
            in.push_back(i.empty() || it == types.end() ? DType::Float32 : it->second);
        }
        const std::vector<DType> out = k.outputTypes(n, in);
        for (size_t o = 0; o < n.outputs.size() && o < out.size(); ++o)
            if (!n.outputs[o].empty())
                types[n.outputs[o]] = out[o];
    }
    std::vector<DType> out;
    for (const auto &o : body.outputs) {
        auto it = types.find(o.name);
        out.push_back(it != types.end() ? it->second : o.dtype);
    }
    return out;
}

// The subgraph's output shapes for these declared input shapes, with the outer values the node
// reads: their shapes, and their values where known ahead of a run (as initializers of a copy).
std::vector<Shape> bodyOutputShapes(const Node &node, const Graph &body, const std::vector<Shape> &declared,
                                    const std::vector<Shape> &nodeInputs, const std::vector<const Tensor *> &constants)
{
    Graph copy = body;
    std::map<std::string, Shape> shapes;
    for (size_t k = explicitInputs(node); k < node.inputs.size() && k < nodeInputs.size(); ++k) {
        shapes[node.inputs[k]] = nodeInputs[k];
        if (k < constants.size() && constants[k] && constants[k]->defined() && !copy.initializers.count(node.inputs[k]))
            copy.initializers[node.inputs[k]] = *constants[k];
    }
    for (size_t k = 0; k < body.inputs.size() && k < declared.size(); ++k)
        shapes[body.inputs[k].name] = declared[k];
    const auto all = copy.inferShapes(shapes);
    std::vector<Shape> out;
    for (const auto &o : body.outputs) {
        auto it = all.find(o.name);
        check(it != all.end(), node.describe() + ": the shape of subgraph output \"" + o.name + "\" is unknown.");
        out.push_back(it->second);
    }
    return out;
}

// A runnable copy of a subgraph: its declared inputs typed by the values fed, then the outer
// values the node reads (fed from the node's implicit inputs under their own names).
class BodyRun {
public:
    BodyRun(const KernelContext &ctx, const Graph &body, const std::vector<DType> &declared) : m_graph(std::make_unique<Graph>(body))
    {
        const Node &node = ctx.node;
        check(body.inputs.size() == declared.size(), node.describe() + ": its subgraph \"" + body.name + "\" takes "
                                                         + std::to_string(body.inputs.size()) + " inputs; the op feeds it "
                                                         + std::to_string(declared.size()) + ".");
        for (size_t k = 0; k < declared.size(); ++k) {
            m_graph->inputs[k].dtype = declared[k];
            m_graph->inputs[k].shape = {}; // any: carried values may change shape between iterations
        }
        for (size_t k = explicitInputs(node); k < node.inputs.size(); ++k) {
            const std::string &name = node.inputs[k];
            if (m_graph->findInput(name) || m_graph->initializers.count(name) || !ctx.inputs[k])
                continue;
            m_graph->inputs.push_back(ValueInfo{name, {}, ctx.inputs[k]->dtype()});
            m_feeds[name] = *ctx.inputs[k];
        }
        m_exec = std::make_unique<Executor>(*m_graph);
    }

    // Runs the subgraph on the declared inputs' values; its outputs (handles the next run leaves alone).
    std::vector<Tensor> run(const std::vector<Tensor> &declared)
    {
        for (size_t k = 0; k < declared.size(); ++k)
            m_feeds[m_graph->inputs[k].name] = declared[k];
        m_exec->forward(m_feeds, false);
        std::vector<Tensor> out;
        for (const auto &o : m_graph->outputs)
            out.push_back(m_exec->value(o.name));
        return out;
    }

private:
    std::unique_ptr<Graph> m_graph; // the executor refers to it
    std::map<std::string, Tensor> m_feeds;
    std::unique_ptr<Executor> m_exec;
};

// The slice of t at `index` along `axis`, without that axis.
Tensor sliceAxis(const Tensor &t, int axis, int64_t index)
{
    Shape shape = t.shape();
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; ++d)
        outer *= shape[d];
    for (int d = axis + 1; d < t.rank(); ++d)
        inner *= shape[d];
    const int64_t len = shape[axis];
    shape.erase(shape.begin() + axis);
    Tensor out(shape, t.dtype());
    const size_t bytes = static_cast<size_t>(inner) * dtypeSize(t.dtype());
    const char *src = static_cast<const char *>(t.raw());
    char *dst = static_cast<char *>(out.raw());
    for (int64_t o = 0; o < outer; ++o)
        std::memcpy(dst + o * bytes, src + (o * len + index) * bytes, bytes);
    return out;
}

// parts[p] (all one shape and type) stacked along a new axis `axis`, at position p.
Tensor stackAxis(const Node &node, const std::vector<Tensor> &parts, int axis, DType type, const char *what)
{
    check(!parts.empty(), node.describe() + ": no " + what + " to stack.");
    const Shape &elem = parts[0].shape();
    for (const Tensor &p : parts)
        check(p.shape() == elem && p.dtype() == type, node.describe() + ": its " + what + " changes shape or type between iterations ("
                                                          + shapeToString(elem) + " and " + shapeToString(p.shape()) + ").");
    Shape shape = elem;
    shape.insert(shape.begin() + axis, static_cast<int64_t>(parts.size()));
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; ++d)
        outer *= elem[d];
    for (size_t d = axis; d < elem.size(); ++d)
        inner *= elem[d];
    Tensor out(shape, type);
    const size_t bytes = static_cast<size_t>(inner) * dtypeSize(type);
    const int64_t len = static_cast<int64_t>(parts.size());
    char *dst = static_cast<char *>(out.raw());
    for (int64_t p = 0; p < len; ++p) {
        const char *src = static_cast<const char *>(parts[p].raw());
        for (int64_t o = 0; o < outer; ++o)
            std::memcpy(dst + (o * len + p) * bytes, src + o * bytes, bytes);
    }
    return out;
}

class ControlFlowKernel : public OpKernel {
public:
    bool differentiable(size_t) const override { return false; }
    bool allocatesOutputs() const override { return true; }
    void backward(KernelContext &ctx) const override
    {
        throw Error(ctx.node.describe() + ": control flow runs for inference only; the engine does not train through it.");
    }

protected:
    static void assign(KernelContext &ctx, size_t k, Tensor value)
    {
        if (k < ctx.outputs.size() && ctx.outputs[k])
            *ctx.outputs[k] = std::move(value);
    }
};

// ---- If ---------------------------------------------------------------------------------------

class If final : public ControlFlowKernel {
public:
    std::vector<DType> outputTypes(const Node &node, const std::vector<DType> &inputs) const override
    {
        const auto a = bodyOutputTypes(node, subgraph(node, "then_branch"), {}, inputs);
        const auto b = bodyOutputTypes(node, subgraph(node, "else_branch"), {}, inputs);
        check(a.size() >= node.outputs.size() && b.size() >= node.outputs.size(),
              node.describe() + ": a branch has fewer outputs than the node.");
        for (size_t k = 0; k < node.outputs.size(); ++k)
            check(a[k] == b[k], node.describe() + ": output " + std::to_string(k) + " is " + dtypeName(a[k]) + " in then_branch but "
                                    + dtypeName(b[k]) + " in else_branch.");
        return a;
    }

    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &inputs,
                                   const std::vector<const Tensor *> &constants) const override
    {
        if (!constants.empty() && constants[0] && constants[0]->defined())
            return bodyOutputShapes(node, subgraph(node, truth(node, *constants[0], "cond") ? "then_branch" : "else_branch"), {},
                                    inputs, constants);
        const auto a = bodyOutputShapes(node, subgraph(node, "then_branch"), {}, inputs, constants);
        const auto b = bodyOutputShapes(node, subgraph(node, "else_branch"), {}, inputs, constants);
        for (size_t k = 0; k < node.outputs.size() && k < a.size() && k < b.size(); ++k)
            check(a[k] == b[k], node.describe() + ": output " + std::to_string(k) + " has shape " + shapeToString(a[k]) + " in then_branch and "
                                    + shapeToString(b[k]) + " in else_branch; which one is known only when the condition is.");
        return a;
    }

    void forward(KernelContext &ctx) const override
    {
        const Node &node = ctx.node;
        check(ctx.hasInput(0), node.describe() + ": has no condition input.");
        const Graph &branch = subgraph(node, truth(node, ctx.in(0), "cond") ? "then_branch" : "else_branch");
        check(branch.outputs.size() >= node.outputs.size(), node.describe() + ": its branch \"" + branch.name + "\" has "
                                                                + std::to_string(branch.outputs.size()) + " outputs; the node has "
                                                                + std::to_string(node.outputs.size()) + ".");
        BodyRun run(ctx, branch, {});
        std::vector<Tensor> out = run.run({});
        for (size_t k = 0; k < node.outputs.size(); ++k)
            assign(ctx, k, std::move(out[k]));
    }
};

// ---- Loop -------------------------------------------------------------------------------------

class Loop final : public ControlFlowKernel {
public:
    // Body: (iteration number, condition, N carried) → (condition, N carried, K scan outputs).
    static size_t carriedCount(const Node &node) { return explicitInputs(node) < 2 ? 0 : explicitInputs(node) - 2; }

    static std::vector<DType> declaredTypes(const Node &node, const std::vector<DType> &carried)
    {
        std::vector<DType> types{DType::Int64, DType::Bool};
        types.insert(types.end(), carried.begin(), carried.end());
        return types;
    }

    std::vector<DType> outputTypes(const Node &node, const std::vector<DType> &inputs) const override
    {
        check(explicitInputs(node) >= 2, node.describe() + ": Loop takes a trip count and a condition (either may be \"\").");
        const size_t n = carriedCount(node);
        std::vector<DType> carried(inputs.begin() + 2, inputs.begin() + 2 + n);
        const auto body = bodyOutputTypes(node, subgraph(node, "body"), declaredTypes(node, carried), inputs);
        check(body.size() >= 1 + n, node.describe() + ": its body has fewer outputs than the condition and the carried values.");
        return {body.begin() + 1, body.end()};
    }

    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &inputs,
                                   const std::vector<const Tensor *> &constants) const override
    {
        check(explicitInputs(node) >= 2, node.describe() + ": Loop takes a trip count and a condition (either may be \"\").");
        const size_t n = carriedCount(node);
        const Graph &body = subgraph(node, "body");
        std::vector<Shape> declared{{}, {}};
        declared.insert(declared.end(), inputs.begin() + 2, inputs.begin() + 2 + n);
        const auto out = bodyOutputShapes(node, body, declared, inputs, constants);
        check(out.size() >= 1 + n, node.describe() + ": its body has fewer outputs than the condition and the carried values.");
        for (size_t k = 0; k < n; ++k)
            check(out[1 + k] == inputs[2 + k], node.describe() + ": carried value " + std::to_string(k) + " changes shape from "
                                                   + shapeToString(inputs[2 + k]) + " to " + shapeToString(out[1 + k])
                                                   + "; its final shape is known only by running the loop.");
        std::vector<Shape> result(out.begin() + 1, out.begin() + 1 + n);
        if (out.size() > 1 + n)
            throw Error(node.describe() + ": the length of its scan outputs is known only by running the loop.");
        return result;
    }

    void forward(KernelContext &ctx) const override
    {
        const Node &node = ctx.node;
        const Graph &bodyGraph = subgraph(node, "body");
        const size_t n = carriedCount(node);
        check(explicitInputs(node) >= 2, node.describe() + ": Loop takes a trip count and a condition (either may be \"\").");
        check(bodyGraph.outputs.size() >= 1 + n, node.describe() + ": its body has " + std::to_string(bodyGraph.outputs.size())
                                                     + " outputs; it needs the condition and " + std::to_string(n) + " carried values.");
        const size_t k = bodyGraph.outputs.size() - 1 - n;
        check(node.outputs.size() <= n + k, node.describe() + ": has more outputs than its body's carried values and scan outputs.");
        std::optional<int64_t> trips;
        if (ctx.hasInput(0))
            trips = integerScalar(node, ctx.in(0), "the trip count M");
        bool cond = ctx.hasInput(1) ? truth(node, ctx.in(1), "the condition") : true;
        std::vector<Tensor> carried;
        std::vector<DType> carriedTypes;
        for (size_t j = 0; j < n; ++j) {
            check(ctx.hasInput(2 + j), node.describe() + ": carried value " + std::to_string(j) + " has no initial value.");
            carried.push_back(ctx.in(2 + j));
            carriedTypes.push_back(ctx.in(2 + j).dtype());
        }
        BodyRun body(ctx, bodyGraph, declaredTypes(node, carriedTypes));
        const std::vector<DType> outTypes = outputTypes(node, [&] {
            std::vector<DType> t;
            for (size_t i = 0; i < ctx.inputs.size(); ++i)
                t.push_back(ctx.inputs[i] ? ctx.inputs[i]->dtype() : DType::Float32);
            return t;
        }());
        // Scan outputs: bytes appended per iteration, one element shape throughout.
        std::vector<std::vector<char>> scanBytes(k);
        std::vector<Shape> scanShapes(k);
        const int64_t limit = loopLimit();
        int64_t i = 0;
        Tensor iteration = Tensor::fromInt64({}, {0});
        Tensor condIn(Shape{}, DType::Bool);
        for (; (!trips || i < *trips) && cond; ++i) {
            if (i >= limit)
                throw Error(node.describe() + ": stopped after " + std::to_string(limit) + " iterations, the loop limit"
                            + (limit == kDefaultLoopLimit ? "" : " (NETWRIGHT_LOOP_LIMIT)") + ": its trip count is "
                            + (trips ? std::to_string(*trips) : std::string("absent")) + " and its condition never turned false.");
            iteration = Tensor::fromInt64({}, {i}); // fresh: the previous run's outputs may alias it
            condIn = Tensor(Shape{}, DType::Bool);
            condIn.dataAs<uint8_t>()[0] = cond ? 1 : 0;
            std::vector<Tensor> in{iteration, condIn};
            in.insert(in.end(), carried.begin(), carried.end());
            std::vector<Tensor> out = body.run(in);
            cond = truth(node, out[0], "the body's condition output");
            for (size_t j = 0; j < n; ++j) {
                check(out[1 + j].dtype() == carriedTypes[j], node.describe() + ": carried value " + std::to_string(j) + " changes type from "
                                                                 + dtypeName(carriedTypes[j]) + " to " + dtypeName(out[1 + j].dtype()) + ".");
                carried[j] = out[1 + j];
            }
            for (size_t s = 0; s < k; ++s) {
                const Tensor &v = out[1 + n + s];
                if (i == 0)
                    scanShapes[s] = v.shape();
                check(v.shape() == scanShapes[s] && v.dtype() == outTypes[n + s],
                      node.describe() + ": scan output " + std::to_string(s) + " changes shape or type between iterations ("
                          + shapeToString(scanShapes[s]) + " then " + shapeToString(v.shape()) + ").");
                const char *p = static_cast<const char *>(v.raw());
                scanBytes[s].insert(scanBytes[s].end(), p, p + v.byteSize());
            }
        }
        for (size_t j = 0; j < n; ++j)
            assign(ctx, j, carried[j]);
        for (size_t s = 0; s < k; ++s) {
            Shape shape = scanShapes[s];
            if (i == 0) { // no iteration: the declared element shape where it is fully known
                shape = bodyGraph.outputs[1 + n + s].shape;
                for (int64_t &d : shape)
                    d = std::max<int64_t>(d, 0);
            }
            shape.insert(shape.begin(), i);
            Tensor t(shape, outTypes[n + s]);
            if (!scanBytes[s].empty())
                std::memcpy(t.raw(), scanBytes[s].data(), scanBytes[s].size());
            assign(ctx, n + s, std::move(t));
        }
    }
};

// ---- Scan -------------------------------------------------------------------------------------

struct ScanLayout {
    size_t states = 0, scanIn = 0, scanOut = 0;
    std::vector<int64_t> inAxes, inReverse, outAxes, outReverse;
};

class Scan final : public ControlFlowKernel {
public:
    static bool batched(const Node &node) { return node.attrInt("netwright.scan8_batch", 0) != 0; }

    // Inputs (after Scan-8's sequence_lens): N states then M scanned; body outputs: N states then K.
    static ScanLayout layout(const Node &node, const Graph &body)
    {
        ScanLayout l;
        const size_t first = batched(node) ? 1 : 0;
        const size_t total = explicitInputs(node) - std::min(first, explicitInputs(node));
        const int64_t m = node.attrInt("num_scan_inputs", -1);
        check(m >= 1 && static_cast<size_t>(m) <= total, node.describe() + ": num_scan_inputs must be between 1 and the number of inputs ("
                                                             + std::to_string(total) + "), got " + std::to_string(m) + ".");
        l.scanIn = static_cast<size_t>(m);
        l.states = total - l.scanIn;
        check(body.outputs.size() >= l.states, node.describe() + ": its body has fewer outputs than the " + std::to_string(l.states)
                                                   + " state values.");
        l.scanOut = body.outputs.size() - l.states;
        auto list = [&](const char *key, size_t count) {
            std::vector<int64_t> v = node.attrInts(key, std::vector<int64_t>(count, 0));
            check(v.size() == count, node.describe() + ": attribute " + key + " needs " + std::to_string(count) + " values, got "
                                         + std::to_string(v.size()) + ".");
            return v;
        };
        if (batched(node)) {
            l.inAxes.assign(l.scanIn, 0);
            l.inReverse = list("directions", l.scanIn);
            l.outAxes.assign(l.scanOut, 0);
            l.outReverse.assign(l.scanOut, 0);
        } else {
            l.inAxes = list("scan_input_axes", l.scanIn);
            l.inReverse = list("scan_input_directions", l.scanIn);
            l.outAxes = list("scan_output_axes", l.scanOut);
            l.outReverse = list("scan_output_directions", l.scanOut);
        }
        return l;
    }

    std::vector<DType> outputTypes(const Node &node, const std::vector<DType> &inputs) const override
    {
        const Graph &body = subgraph(node, "body");
        const ScanLayout l = layout(node, body);
        const size_t first = batched(node) ? 1 : 0;
        std::vector<DType> declared(inputs.begin() + first, inputs.begin() + first + l.states + l.scanIn);
        return bodyOutputTypes(node, body, declared, inputs);
    }

    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &inputs,
                                   const std::vector<const Tensor *> &constants) const override
    {
        const Graph &body = subgraph(node, "body");
        const ScanLayout l = layout(node, body);
        const size_t first = batched(node) ? 1 : 0, lead = batched(node) ? 1 : 0;
        std::vector<Shape> declared;
        for (size_t j = 0; j < l.states; ++j) {
            Shape s = inputs[first + j];
            if (lead)
                s.erase(s.begin());
            declared.push_back(s);
        }
        int64_t length = -1;
        for (size_t j = 0; j < l.scanIn; ++j) {
            Shape s = inputs[first + l.states + j];
            if (lead)
                s.erase(s.begin());
            const int axis = static_cast<int>(shape_rules::normalizeAxis(node, l.inAxes[j], static_cast<int>(s.size())));
            length = s[axis];
            s.erase(s.begin() + axis);
            declared.push_back(s);
        }
        std::vector<Shape> out = bodyOutputShapes(node, body, declared, inputs, constants);
        for (size_t j = 0; j < l.scanOut; ++j) {
            Shape &s = out[l.states + j];
            const int axis = static_cast<int>(shape_rules::normalizeAxis(node, l.outAxes[j], static_cast<int>(s.size()) + 1));
            s.insert(s.begin() + axis, length);
        }
        if (lead) {
            const int64_t batch = inputs[first + l.states].empty() ? -1 : inputs[first + l.states][0];
            for (Shape &s : out)
                s.insert(s.begin(), batch);
        }
        return out;
    }

    // One scan over unbatched inputs: states then scanned, as the body sees them.
    static std::vector<Tensor> scanOnce(const Node &node, const ScanLayout &l, BodyRun &body, std::vector<Tensor> states,
                                        const std::vector<Tensor> &scanned, const std::vector<DType> &outTypes)
    {
        int64_t length = -1;
        std::vector<int> inAxes;
        for (size_t j = 0; j < l.scanIn; ++j) {
            const Tensor &x = scanned[j];
            const int axis = static_cast<int>(shape_rules::normalizeAxis(node, l.inAxes[j], x.rank()));
            inAxes.push_back(axis);
            check(length < 0 || x.shape()[axis] == length, node.describe() + ": its scanned inputs have different lengths ("
                                                               + std::to_string(length) + " and " + std::to_string(x.shape()[axis]) + ").");
            length = x.shape()[axis];
        }
        std::vector<std::vector<Tensor>> parts(l.scanOut, std::vector<Tensor>(static_cast<size_t>(length)));
        for (int64_t t = 0; t < length; ++t) {
            std::vector<Tensor> in = states;
            for (size_t j = 0; j < l.scanIn; ++j)
                in.push_back(sliceAxis(scanned[j], inAxes[j], l.inReverse[j] ? length - 1 - t : t));
            std::vector<Tensor> out = body.run(in);
            for (size_t j = 0; j < l.states; ++j)
                states[j] = out[j];
            for (size_t j = 0; j < l.scanOut; ++j)
                parts[j][static_cast<size_t>(l.outReverse[j] ? length - 1 - t : t)] = out[l.states + j];
        }
        std::vector<Tensor> result = states;
        const Graph &g = subgraph(node, "body");
        for (size_t j = 0; j < l.scanOut; ++j) {
            if (length == 0) {
                Shape s = g.outputs[l.states + j].shape;
                for (int64_t &d : s)
                    d = std::max<int64_t>(d, 0);
                const int axis = static_cast<int>(shape_rules::normalizeAxis(node, l.outAxes[j], static_cast<int>(s.size()) + 1));
                s.insert(s.begin() + axis, 0);
                result.push_back(Tensor(s, outTypes[l.states + j]));
                continue;
            }
            const int axis = static_cast<int>(shape_rules::normalizeAxis(node, l.outAxes[j], parts[j][0].rank() + 1));
            result.push_back(stackAxis(node, parts[j], axis, outTypes[l.states + j], "scan output"));
        }
        return result;
    }

    void forward(KernelContext &ctx) const override
    {
        const Node &node = ctx.node;
        const Graph &bodyGraph = subgraph(node, "body");
        const ScanLayout l = layout(node, bodyGraph);
        const size_t first = batched(node) ? 1 : 0;
        std::vector<Tensor> values;
        for (size_t j = 0; j < l.states + l.scanIn; ++j) {
            check(ctx.hasInput(first + j), node.describe() + ": input " + std::to_string(first + j) + " is missing.");
            values.push_back(ctx.in(first + j));
        }
        std::vector<DType> nodeTypes;
        for (const Tensor *t : ctx.inputs)
            nodeTypes.push_back(t ? t->dtype() : DType::Float32);
        const std::vector<DType> outTypes = outputTypes(node, nodeTypes);
        std::vector<DType> declared;
        for (const Tensor &v : values)
            declared.push_back(v.dtype());
        BodyRun body(ctx, bodyGraph, declared);
        const std::vector<Tensor> states(values.begin(), values.begin() + l.states);
        const std::vector<Tensor> scanned(values.begin() + l.states, values.end());
        std::vector<Tensor> result;
        if (!batched(node)) {
            result = scanOnce(node, l, body, states, scanned, outTypes);
        } else { // Scan-8: every input has the batch first; scanned ones then the sequence
            int64_t batch = -1;
            for (const Tensor &v : values) {
                check(v.rank() >= 1 && (batch < 0 || v.shape()[0] == batch), node.describe() + ": its inputs disagree on the batch size.");
                batch = v.shape()[0];
            }
            for (const Tensor &x : scanned)
                check(x.rank() >= 2, node.describe() + ": a scanned input needs a batch and a sequence axis, got shape "
                                         + shapeToString(x.shape()) + ".");
            if (ctx.hasInput(0))
                for (int64_t len : intValues(node, ctx.in(0), "sequence_lens"))
                    check(len == scanned[0].shape()[1],
                          node.describe() + ": sequence_lens shorter than the sequence (padded batches) are not supported.");
            std::vector<std::vector<Tensor>> perBatch(l.states + l.scanOut);
            for (int64_t b = 0; b < batch; ++b) {
                std::vector<Tensor> s, x;
                for (const Tensor &v : states)
                    s.push_back(sliceAxis(v, 0, b));
                for (const Tensor &v : scanned)
                    x.push_back(sliceAxis(v, 0, b));
                std::vector<Tensor> r = scanOnce(node, l, body, s, x, outTypes);
                for (size_t j = 0; j < r.size(); ++j)
                    perBatch[j].push_back(r[j]);
            }
            for (size_t j = 0; j < perBatch.size(); ++j)
                result.push_back(batch == 0 ? Tensor(Shape{0}, outTypes[j]) : stackAxis(node, perBatch[j], 0, outTypes[j], "batch output"));
        }
        for (size_t j = 0; j < node.outputs.size() && j < result.size(); ++j)
            assign(ctx, j, std::move(result[j]));
    }
};

} // namespace

void registerControlFlow(KernelTable &t)
{
    t["If"] = std::make_unique<If>();
    t["Loop"] = std::make_unique<Loop>();
    t["Scan"] = std::make_unique<Scan>();
}

} // namespace netwright
