// SPDX-License-Identifier: Apache-2.0
#include "autodiff/executor.h"

#include "core/error.h"
#include "core/parallel.h"
#include "ops/conv_block.h"
#include "ops/op.h"

#include <algorithm>
#include <cstdlib>

namespace netwright {

void Executor::ensure(Tensor &t, const Shape &shape, DType dtype) const
{
    const Device place = placeOf(dtype);
    if (!t.defined() || t.shape() != shape || t.dtype() != dtype || t.device() != place || !t.uniquelyOwned())
        t = Tensor(shape, dtype, place);
}

void Executor::addInto(Tensor &dst, const Tensor &src) const
{
    if (dst.device().type != DeviceType::Cpu) {
        const DeviceArithmetic *a = deviceArithmetic(dst.device().type);
        if (a && a->add) {
            a->add(dst.data(), src.data(), dst.numel());
            return;
        }
        Tensor hostDst = dst.to(Device::cpu());
        addInto(hostDst, src.to(Device::cpu()));
        dst.copyFrom(hostDst);
        return;
    }
    float *dOut = dst.data();
    const float *sIn = src.data();
    parallelFor(dst.numel(), [=](int64_t i0, int64_t i1, int) {
        float *__restrict d = dOut;
        const float *__restrict s = sIn;
        for (int64_t i = i0; i < i1; ++i)
            d[i] += s[i];
    }, 16384);
}

Executor::Executor(Graph &graph, Device device) : m_graph(graph), m_device(device)
{
    m_graph.validate();
    // Name every op the engine cannot run at once, not just the first one met.
    std::map<std::string, std::vector<std::string>> missing;
    for (const Node &n : m_graph.nodes)
        if (!hasKernel(n.opType, DeviceType::Cpu))
            missing[n.opType].push_back(n.name);
    if (!missing.empty()) {
        std::string list;
        for (const auto &[op, nodes] : missing) {
            list += (list.empty() ? "" : "; ") + op + " (" + std::to_string(nodes.size()) + (nodes.size() == 1 ? " node: " : " nodes: ");
            for (size_t i = 0; i < nodes.size() && i < 3; ++i)
                list += (i ? ", " : "") + nodes[i];
            list += nodes.size() > 3 ? ", …)" : ")";
        }
        throw Error("Model \"" + m_graph.name + "\" cannot run: the engine has no kernel for " + list + ".");
    }
    auto intern = [this](const std::string &name) {
        auto [it, inserted] = m_ids.emplace(name, static_cast<int>(m_names.size()));
        if (inserted)
            m_names.push_back(name);
        return it->second;
    };
    for (const auto &in : m_graph.inputs)
        m_inputIds.push_back(intern(in.name));
    for (const auto &[name, t] : m_graph.initializers)
        intern(name);
    for (const Node &n : m_graph.nodes) {
        CompiledNode c{&n, &kernelFor(n.opType, m_device.type, n), {}, {}, {}, {}, false};
        for (const auto &i : n.inputs)
            c.inputs.push_back(i.empty() ? -1 : intern(i));
        for (const auto &o : n.outputs)
            c.outputs.push_back(o.empty() ? -1 : intern(o));
        m_nodes.push_back(std::move(c));
    }
    m_values.resize(m_names.size());
    m_grads.resize(m_names.size());
    m_gradReady.assign(m_names.size(), 0);
    m_requiresGrad.assign(m_names.size(), 0);
    m_feedBuffers.resize(m_inputIds.size());
    for (auto &[name, t] : m_graph.initializers) {
        if (t.dtype() == DType::Float32 && t.device() != m_device)
            t = t.to(m_device); // parameters and buffers live where the kernels run
        m_values[m_ids[name]] = t; // alias
        if (m_graph.trainable.count(name)) {
            check(t.dtype() == DType::Float32, "Parameter \"" + name + "\" is " + dtypeName(t.dtype()) + "; only float32 trains.");
            m_requiresGrad[m_ids[name]] = 1;
        }
    }
    // Element types, ahead of any run: a node whose kernel does not compute with an input's type
    // is named now, with the type, instead of reading the wrong bytes later.
    m_types.assign(m_names.size(), DType::Float32);
    for (size_t k = 0; k < m_inputIds.size(); ++k)
        m_types[m_inputIds[k]] = m_graph.inputs[k].dtype;
    for (const auto &[name, t] : m_graph.initializers)
        m_types[m_ids[name]] = t.dtype();
    for (auto &c : m_nodes) {
        std::vector<DType> inTypes;
        for (size_t k = 0; k < c.inputs.size(); ++k) {
            const int id = c.inputs[k];
            inTypes.push_back(id < 0 ? DType::Float32 : m_types[id]);
            if (id >= 0 && !c.kernel->acceptsType(k, m_types[id]))
                throw Error(c.node->describe() + ": input " + std::to_string(k) + " (\"" + m_names[id] + "\") is "
                            + dtypeName(m_types[id]) + ", which the engine's " + c.node->opType + " kernel does not compute with.");
        }
        // A device kernel computes in float32: where a data input (one a gradient could flow
        // into) holds another type — integer shape arithmetic, float64 — the CPU kernel runs
        // behind host copies instead.
        if (m_device.type != DeviceType::Cpu)
            for (size_t k = 0; k < inTypes.size(); ++k)
                if (c.inputs[k] >= 0 && inTypes[k] != DType::Float32 && c.kernel->differentiable(k)) {
                    c.kernel = &hostFallbackFor(*c.node);
                    break;
                }
        c.outTypes = c.kernel->outputTypes(*c.node, inTypes);
        check(c.outTypes.size() >= c.outputs.size(), c.node->describe() + ": has more outputs than the op defines.");
        for (size_t k = 0; k < c.outputs.size(); ++k)
            if (c.outputs[k] >= 0)
                m_types[c.outputs[k]] = c.outTypes[k];
    }
    // NETWRIGHT_FUSION=0 runs every node by itself (benchmarks compare the two; docs/benchmarks.md).
    if (const char *v = std::getenv("NETWRIGHT_FUSION"); v && std::string(v) == "0")
        m_fusionEnabled = false;
    if (m_fusionEnabled) {
        fuseGelus();
        fuseHeadTransposes();
    }
    for (auto &c : m_nodes) {
        for (size_t k = 0; k < c.inputs.size(); ++k)
            if (c.inputs[k] >= 0 && m_requiresGrad[c.inputs[k]] && c.kernel->differentiable(k))
                c.needsBackward = true;
        if (c.needsBackward)
            for (size_t k = 0; k < c.outputs.size(); ++k)
                if (c.outputs[k] >= 0 && c.outTypes[k] == DType::Float32)
                    m_requiresGrad[c.outputs[k]] = 1;
    }
    std::vector<int> uses(m_names.size(), 0);
    for (const auto &c : m_nodes)
        for (int id : c.inputs)
            if (id >= 0)
                ++uses[id];
    for (const auto &out : m_graph.outputs)
        if (auto it = m_ids.find(out.name); it != m_ids.end())
            uses[it->second] += 2;
    for (int id : m_inputIds)
        uses[id] += 2;
    for (const auto &[name, t] : m_graph.initializers)
        uses[m_ids[name]] += 2;
    m_canShareGrad.assign(m_names.size(), 0);
    m_unread.assign(m_names.size(), 0);
    for (size_t id = 0; id < uses.size(); ++id) {
        m_canShareGrad[id] = uses[id] == 1;
        m_unread[id] = uses[id] == 0;
    }
    findFusions();
}

Executor::~Executor() = default;

int Executor::fusedLastForward() const
{
    return static_cast<int>(std::count_if(m_fusions.begin(), m_fusions.end(), [](const Fusion &f) { return f.ran; }));
}

int Executor::linkedLastForward() const
{
    return static_cast<int>(std::count_if(m_fusions.begin(), m_fusions.end(), [](const Fusion &f) { return f.feeds; }));
}

void Executor::findFusions()
{
    m_fusionOf.assign(m_nodes.size(), -1);
    if (m_device.type != DeviceType::Cpu)
        return;
    // Each value's consumers (node indices); graph outputs count as a consumer no node is.
    std::vector<std::vector<size_t>> consumers(m_names.size());
    for (size_t i = 0; i < m_nodes.size(); ++i)
        for (int id : m_nodes[i].inputs)
            if (id >= 0 && (consumers[id].empty() || consumers[id].back() != i))
                consumers[id].push_back(i);
    for (const auto &out : m_graph.outputs)
        if (auto it = m_ids.find(out.name); it != m_ids.end())
            consumers[it->second].push_back(m_nodes.size());
    auto soleConsumer = [&](const CompiledNode &c) -> long {
        if (c.outputs.size() != 1 || c.outputs[0] < 0 || consumers[c.outputs[0]].size() != 1)
            return -1;
        const size_t next = consumers[c.outputs[0]][0];
        return next < m_nodes.size() ? static_cast<long>(next) : -1;
    };
    for (size_t i = 0; i < m_nodes.size(); ++i) {
        const CompiledNode &conv = m_nodes[i];
        if (conv.node->opType != "Conv" || conv.inputs.size() < 2 || conv.inputs[0] < 0 || conv.inputs[1] < 0
            || m_types[conv.inputs[0]] != DType::Float32)
            continue;
        const long relu = soleConsumer(conv);
        const long pool = relu < 0 ? -1 : soleConsumer(m_nodes[relu]);
        if (pool < 0 || m_fusionOf[relu] >= 0 || m_fusionOf[pool] >= 0 || m_nodes[pool].outputs.empty()
            || m_nodes[pool].outputs[0] < 0)
            continue;
        auto block = ConvReluPoolBlock::match(*conv.node, *m_nodes[relu].node, *m_nodes[pool].node);
        if (!block)
            continue;
        Fusion f;
        f.conv = i;
        f.relu = static_cast<size_t>(relu);
        f.pool = static_cast<size_t>(pool);
        f.block = std::move(block);
        const int index = static_cast<int>(m_fusions.size());
        m_fusionOf[f.conv] = m_fusionOf[f.relu] = m_fusionOf[f.pool] = index;
        m_fusions.push_back(std::move(f));
    }
    // A chain whose pooled output feeds another chain's convolution and nothing else: the two
    // blocks can keep that value in oneDNN's layout between them.
    for (size_t a = 0; a < m_fusions.size(); ++a) {
        const int pooled = m_nodes[m_fusions[a].pool].outputs[0];
        if (consumers[pooled].size() != 1 || consumers[pooled][0] >= m_nodes.size())
            continue;
        const size_t node = consumers[pooled][0];
        const int b = m_fusionOf[node];
        if (b >= 0 && m_fusions[b].conv == node && m_nodes[node].inputs[0] == pooled) {
            m_fusions[a].next = b;
            m_fusions[b].prev = static_cast<int>(a);
        }
    }
}

bool Executor::runFused(Fusion &f)
{
    const CompiledNode &conv = m_nodes[f.conv], &relu = m_nodes[f.relu], &pool = m_nodes[f.pool];
    const Tensor &x = m_values[conv.inputs[0]], &w = m_values[conv.inputs[1]];
    const bool hasBias = conv.inputs.size() > 2 && conv.inputs[2] >= 0;
    // The shapes each kernel infers (and the errors they raise), as the unfused run would.
    std::vector<Shape> shapes{x.shape(), w.shape()};
    std::vector<const Tensor *> constants{&x, &w};
    if (conv.inputs.size() > 2) {
        shapes.push_back(hasBias ? m_values[conv.inputs[2]].shape() : Shape{});
        constants.push_back(hasBias ? &m_values[conv.inputs[2]] : nullptr);
    }
    const Shape convShape = conv.kernel->inferShapes(*conv.node, shapes, constants).at(0);
    const Shape reluShape = relu.kernel->inferShapes(*relu.node, {convShape}, {nullptr}).at(0);
    std::vector<Shape> poolIn{reluShape};
    std::vector<const Tensor *> poolConstants{nullptr};
    for (size_t k = 1; k < pool.inputs.size(); ++k) {
        poolIn.push_back(Shape{});
        poolConstants.push_back(nullptr);
    }
    const Shape pooledShape = pool.kernel->inferShapes(*pool.node, poolIn, poolConstants).at(0);
    Tensor &y = m_values[pool.outputs[0]];
    ensure(y, pooledShape, DType::Float32);
    ConvReluPoolBlock::Link link;
    Fusion *prev = f.prev >= 0 && m_fusions[f.prev].feeds ? &m_fusions[f.prev] : nullptr;
    if (prev)
        link.prev = prev->block.get();
    if (f.next >= 0) {
        Fusion &next = m_fusions[f.next];
        const CompiledNode &nc = m_nodes[next.conv];
        const bool nextBias = nc.inputs.size() > 2 && nc.inputs[2] >= 0;
        if (f.block->canFeed(*next.block, x.shape(), w.shape(), hasBias, m_values[nc.inputs[1]].shape(), nextBias))
            link.next = next.block.get();
    }
    if (!f.block->forward(x, w, hasBias ? &m_values[conv.inputs[2]] : nullptr, y, link)) {
        if (prev) { // the previous block left its output for this one: write it for the nodes
            prev->block->writeOutput(m_values[conv.inputs[0]]);
            prev->feeds = false;
        }
        return false;
    }
    f.feeds = link.next != nullptr;
    m_values[conv.outputs[0]] = Tensor(); // never computed on their own
    m_values[relu.outputs[0]] = Tensor();
    if (prev)
        m_values[conv.inputs[0]] = Tensor(); // the previous block's output, read in its layout
    return true;
}

void Executor::gradTargets(const CompiledNode &c, std::vector<Tensor *> &gradInputs, std::vector<Tensor> &scratch,
                           std::vector<int> &accumulate, const std::vector<char> *shared, std::vector<char> *adds)
{
    gradInputs.clear();
    accumulate.assign(c.inputs.size(), -1);
    scratch.assign(c.inputs.size(), Tensor());
    if (adds)
        adds->assign(c.inputs.size(), 0);
    for (size_t k = 0; k < c.inputs.size(); ++k) {
        const int id = c.inputs[k];
        if (id < 0 || !m_requiresGrad[id] || !c.kernel->differentiable(k) || (shared && (*shared)[k])) {
            gradInputs.push_back(nullptr);
            continue;
        }
        bool repeated = false;
        for (size_t j = 0; j < k; ++j)
            repeated = repeated || c.inputs[j] == id;
        if (m_gradReady[id] && !repeated && adds && c.kernel->accumulatesGradient(k)) {
            gradInputs.push_back(&m_grads[id]); // the kernel adds its part into the sum so far
            (*adds)[k] = 1;
        } else if (m_gradReady[id] || repeated) {
            scratch[k] = Tensor(m_values[id].shape(), DType::Float32, m_device);
            gradInputs.push_back(&scratch[k]);
            accumulate[k] = id;
        } else {
            ensure(m_grads[id], m_values[id].shape(), DType::Float32);
            gradInputs.push_back(&m_grads[id]);
        }
    }
}

void Executor::commitGrads(const CompiledNode &c, const std::vector<Tensor *> &gradInputs, const std::vector<Tensor> &scratch,
                           const std::vector<int> &accumulate)
{
    for (size_t k = 0; k < c.inputs.size(); ++k) {
        if (accumulate[k] >= 0)
            addInto(m_grads[accumulate[k]], scratch[k]);
        else if (gradInputs[k])
            m_gradReady[c.inputs[k]] = 1;
    }
}

void Executor::backwardFused(Fusion &f)
{
    const CompiledNode &conv = m_nodes[f.conv];
    const int pooled = m_nodes[f.pool].outputs[0];
    if (!conv.needsBackward || !m_gradReady[pooled])
        return;
    std::vector<Tensor *> gradInputs;
    std::vector<Tensor> scratch;
    std::vector<int> accumulate;
    gradTargets(conv, gradInputs, scratch, accumulate);
    gradInputs.resize(3, nullptr);
    ConvReluPoolBlock::Link link;
    if (f.prev >= 0 && m_fusions[f.prev].feeds)
        link.prev = m_fusions[f.prev].block.get();
    if (f.feeds)
        link.next = m_fusions[f.next].block.get();
    f.block->backward(m_values[conv.inputs[0]], m_values[conv.inputs[1]], m_values[pooled], m_grads[pooled], gradInputs[0],
                      gradInputs[1], gradInputs[2], link);
    gradInputs.resize(conv.inputs.size());
    commitGrads(conv, gradInputs, scratch, accumulate);
}

int Executor::idOf(const std::string &name) const
{
    auto it = m_ids.find(name);
    check(it != m_ids.end(), "Graph \"" + m_graph.name + "\" has no value named \"" + name + "\".");
    return it->second;
}

void Executor::forward(const std::map<std::string, Tensor> &feeds, bool training)
{
    for (size_t k = 0; k < m_inputIds.size(); ++k) {
        const ValueInfo &info = m_graph.inputs[k];
        auto it = feeds.find(info.name);
        check(it != feeds.end(), "Graph \"" + m_graph.name + "\": input \"" + info.name + "\" was not fed.");
        const Tensor &t = it->second;
        check(t.dtype() == info.dtype, "Graph \"" + m_graph.name + "\": input \"" + info.name + "\" expects "
                                           + dtypeName(info.dtype) + ", got " + dtypeName(t.dtype()) + ".");
        bool fits = t.rank() == static_cast<int>(info.shape.size()) || info.shape.empty();
        for (size_t d = 0; fits && d < info.shape.size(); ++d)
            fits = info.shape[d] < 0 || info.shape[d] == t.shape()[d];
        check(fits, "Graph \"" + m_graph.name + "\": input \"" + info.name + "\" expects shape " + shapeToString(info.shape)
                        + " (-1 = any), got " + shapeToString(t.shape()) + ".");
        if (t.device() == m_device) {
            m_values[m_inputIds[k]] = t;
        } else { // upload into this input's buffer, reused while the batch shape repeats
            Tensor &buffer = m_feedBuffers[k];
            if (!buffer.defined() || buffer.shape() != t.shape() || buffer.dtype() != t.dtype())
                buffer = Tensor(t.shape(), t.dtype(), m_device);
            buffer.copyFrom(t);
            m_values[m_inputIds[k]] = buffer;
        }
    }
    // Drop last step's aliases so every producer finds its buffer unshared and reuses it.
    for (auto &c : m_nodes)
        if (c.kernel->outputAliasesInput() && c.outputs[0] >= 0)
            m_values[c.outputs[0]] = Tensor();
    for (int id : m_forwardedValues)
        m_values[id] = Tensor();
    m_forwardedValues.clear();
    for (Fusion &f : m_fusions)
        f.ran = f.feeds = false;
    for (size_t i = 0; i < m_nodes.size(); ++i) {
        CompiledNode &c = m_nodes[i];
        if (const int fi = m_fusionOf[i]; fi >= 0) {
            Fusion &f = m_fusions[fi];
            if (i == f.conv && training && m_fusionEnabled)
                f.ran = runFused(f);
            if (f.ran)
                continue;
        }
        std::vector<Tensor *> inputs;
        std::vector<Shape> shapes;
        std::vector<const Tensor *> constants;
        for (int id : c.inputs) {
            inputs.push_back(id < 0 ? nullptr : &m_values[id]);
            shapes.push_back(id < 0 ? Shape{} : m_values[id].shape());
            constants.push_back(id < 0 ? nullptr : &m_values[id]);
        }
        if (c.kernel->allocatesOutputs()) { // control flow: output shapes come from running it
            std::vector<Tensor *> outputs;
            for (int id : c.outputs)
                outputs.push_back(id < 0 ? nullptr : &m_values[id]);
            KernelContext ctx{*c.node, std::move(inputs), outputs, c.saved, training, m_dropoutRng, {}, {}, m_rowOffset};
            c.kernel->forward(ctx);
            for (size_t k = 0; k < c.outputs.size(); ++k) {
                if (c.outputs[k] < 0)
                    continue;
                Tensor &t = m_values[c.outputs[k]];
                check(t.defined() && t.dtype() == c.outTypes[k],
                      c.node->describe() + ": output " + std::to_string(k) + " (\"" + m_names[c.outputs[k]] + "\") is "
                          + (t.defined() ? dtypeName(t.dtype()) : std::string("missing")) + ", expected " + dtypeName(c.outTypes[k]) + ".");
                if (t.device() != placeOf(t.dtype()))
                    t = t.to(placeOf(t.dtype()));
            }
            continue;
        }
        // Output 0 is input 0 this run (an identity Dropout), the other outputs omitted or read by
        // nothing (PyTorch exports Dropout's mask, unread): alias it, and leave those undefined.
        if (!c.outputs.empty() && c.outputs[0] >= 0 && !c.inputs.empty() && c.inputs[0] >= 0
            && std::all_of(c.outputs.begin() + 1, c.outputs.end(), [&](int id) { return id < 0 || m_unread[id]; })
            && c.kernel->forwardsInput(*c.node, constants, training)) {
            for (size_t k = 1; k < c.outputs.size(); ++k)
                if (c.outputs[k] >= 0)
                    m_values[c.outputs[k]] = Tensor();
            m_values[c.outputs[0]] = m_values[c.inputs[0]];
            c.saved.clear();
            m_forwardedValues.push_back(c.outputs[0]);
            continue;
        }
        const std::vector<Shape> outShapes = c.kernel->inferShapes(*c.node, shapes, constants);
        if (c.kernel->outputAliasesInput() && c.outputs[0] >= 0) {
            m_values[c.outputs[0]] = m_values[c.inputs[0]].reshaped(outShapes[0]);
            continue;
        }
        std::vector<Tensor *> outputs;
        for (size_t k = 0; k < c.outputs.size(); ++k) {
            if (c.outputs[k] < 0) {
                outputs.push_back(nullptr);
                continue;
            }
            check(k < outShapes.size(), c.node->describe() + ": has more outputs than the op defines.");
            Tensor &t = m_values[c.outputs[k]];
            ensure(t, outShapes[k], c.outTypes[k]);
            outputs.push_back(&t);
        }
        KernelContext ctx{*c.node, std::move(inputs), std::move(outputs), c.saved, training, m_dropoutRng, {}, {}, m_rowOffset};
        check(!training || m_dropoutRng || c.node->opType != "Dropout",
              c.node->describe() + ": training needs a dropout random stream.");
        c.kernel->forward(ctx);
    }
    m_forwardDone = true;
    m_lastTraining = training;
}

const Tensor &Executor::value(const std::string &name) const
{
    return m_values[idOf(name)];
}

void Executor::backward(const std::string &loss)
{
    check(m_forwardDone, "Executor::backward called before forward.");
    const int lossId = idOf(loss);
    check(m_values[lossId].numel() == 1, "The loss \"" + loss + "\" must be a scalar, got shape "
                                             + shapeToString(m_values[lossId].shape()) + ".");
    std::fill(m_gradReady.begin(), m_gradReady.end(), 0);
    // Drop last step's shared gradients so every producer finds its buffer unshared and reuses it.
    for (int id : m_sharedGrads)
        m_grads[id] = Tensor();
    m_sharedGrads.clear();
    ensure(m_grads[lossId], m_values[lossId].shape(), DType::Float32);
    m_grads[lossId].fill(1.0f);
    m_gradReady[lossId] = 1;
    for (size_t i = m_nodes.size(); i-- > 0;) {
        CompiledNode &c = m_nodes[i];
        if (const int fi = m_fusionOf[i]; fi >= 0 && m_fusions[fi].ran) {
            if (i == m_fusions[fi].pool)
                backwardFused(m_fusions[fi]);
            continue;
        }
        if (!c.needsBackward)
            continue;
        std::vector<const Tensor *> gradOutputs;
        bool any = false;
        for (int id : c.outputs) {
            const bool ready = id >= 0 && m_gradReady[id];
            gradOutputs.push_back(ready ? &m_grads[id] : nullptr);
            any = any || ready;
        }
        if (!any)
            continue;
        // Inputs whose gradient is output 0's (a view, an Add operand, an identity Dropout) and
        // read by this node alone take that gradient as theirs, sharing its storage: output 0's
        // gradient is complete (its readers ran before) and nothing writes either one after.
        std::vector<char> shared(c.inputs.size(), 0);
        bool allShared = true;
        for (size_t k = 0; k < c.inputs.size(); ++k) {
            const int id = c.inputs[k];
            if (id < 0 || !m_requiresGrad[id] || !c.kernel->differentiable(k))
                continue;
            const int out = c.outputs[0];
            if (out >= 0 && m_gradReady[out] && m_canShareGrad[id] && !m_gradReady[id]
                && m_values[id].numel() == m_grads[out].numel()
                && c.kernel->passesGradient(k, m_values[id].shape(), m_values[out].shape(), c.saved)) {
                m_grads[id] = m_grads[out].reshaped(m_values[id].shape());
                m_gradReady[id] = 1;
                m_sharedGrads.push_back(id);
                shared[k] = 1;
            } else {
                allShared = false;
            }
        }
        if (allShared)
            continue;
        Tensor zeroGrad; // kernels read output 0's gradient; give zeros when only a later output has one
        if (!gradOutputs[0] && c.outputs[0] >= 0 && m_types[c.outputs[0]] == DType::Float32) {
            zeroGrad = Tensor::zeros(m_values[c.outputs[0]].shape(), DType::Float32, m_device);
            gradOutputs[0] = &zeroGrad;
        }
        std::vector<Tensor *> inputs, outputs, gradInputs;
        std::vector<int> accumulate; // input k's scratch gradient → the value id to add it into
        std::vector<Tensor> scratch;
        for (int id : c.inputs)
            inputs.push_back(id < 0 ? nullptr : &m_values[id]);
        for (int id : c.outputs)
            outputs.push_back(id < 0 ? nullptr : &m_values[id]);
        std::vector<char> adds;
        gradTargets(c, gradInputs, scratch, accumulate, &shared, &adds);
        KernelContext ctx{*c.node, std::move(inputs), std::move(outputs), c.saved, m_lastTraining, m_dropoutRng,
                          std::move(gradOutputs), gradInputs};
        ctx.accumulate = std::move(adds);
        c.kernel->backward(ctx);
        commitGrads(c, gradInputs, scratch, accumulate);
    }
}

const Tensor &Executor::gradient(const std::string &param) const
{
    const int id = idOf(param);
    check(m_gradReady[id], "No gradient reached \"" + param + "\" in the last backward pass.");
    return m_grads[id];
}

} // namespace netwright
