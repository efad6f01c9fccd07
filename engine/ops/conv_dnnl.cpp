// SPDX-License-Identifier: Apache-2.0
#include "ops/conv_dnnl.h"

#include "core/blas.h"
#include "core/dnnl_common.h"

#include <memory>
#include <string>
#include <unordered_map>

namespace netwright::convdnnl {

namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;
using dims = dnnl::memory::dims;

enum class Kind { Forward, ForwardTraining, BackwardData, BackwardWeights };

using dnnlutil::cpuEngine;
using dnnlutil::userScratchpad;

// One tensor of a primitive: `user` is the caller's NCHW fp32 buffer; `inner` the primitive's
// layout and type. Where they differ a reorder copies between them through a buffer of the thread.
struct Port {
    int arg = 0;
    dnnl::memory user, inner;
    dnnl::reorder reorder;
    bool converts = false;
    int slot = -1;
    size_t bytes = 0;
};

struct Plan {
    bool available = false;
    dnnl::primitive primitive;
    std::vector<Port> inputs; // reordered in before the primitive runs
    Port output;              // reordered out after
    dnnl::memory bias, scratchpad;
    size_t scratchpadBytes = 0;
    std::unordered_map<int, dnnl::memory> args;
};

struct ThreadState {
    std::unordered_map<std::string, std::unique_ptr<Plan>> plans;
    std::vector<uint8_t> buffers[4]; // three reordered tensors and the scratchpad
    dnnl::stream stream{cpuEngine()};
};

ThreadState &threadState()
{
    thread_local ThreadState state;
    return state;
}

tag userTag(size_t spatial, bool weights, bool grouped)
{
    if (weights) {
        if (grouped)
            return spatial == 1 ? tag::goiw : spatial == 2 ? tag::goihw : tag::goidhw;
        return spatial == 1 ? tag::oiw : spatial == 2 ? tag::oihw : tag::oidhw;
    }
    return spatial == 1 ? tag::ncw : spatial == 2 ? tag::nchw : tag::ncdhw;
}

struct Descs {
    dnnl::memory::desc srcUser, weightsUser, dstUser; // NCHW fp32, as the caller holds them
    dnnl::memory::desc src, weights, dst, bias;       // what the primitives read and write (any layout)
    dnnl::memory::desc diffSrc, diffWeights, diffDst; // the gradients' (fp32 out, bf16 or fp32 in)
    dims strides, dilations, padBegin, padEnd;
};

Descs descs(const Geometry &g, bool bf16)
{
    Descs d;
    const size_t s = g.in.size();
    dims src{g.N, g.C}, dst{g.N, g.M};
    dims w = g.group > 1 ? dims{g.group, g.M / g.group, g.C / g.group} : dims{g.M, g.C};
    src.insert(src.end(), g.in.begin(), g.in.end());
    dst.insert(dst.end(), g.out.begin(), g.out.end());
    w.insert(w.end(), g.kernel.begin(), g.kernel.end());
    d.srcUser = dnnl::memory::desc(src, dt::f32, userTag(s, false, false));
    d.dstUser = dnnl::memory::desc(dst, dt::f32, userTag(s, false, false));
    d.weightsUser = dnnl::memory::desc(w, dt::f32, userTag(s, true, g.group > 1));
    const dt in = bf16 ? dt::bf16 : dt::f32;
    d.src = dnnl::memory::desc(src, in, tag::any);
    d.weights = dnnl::memory::desc(w, in, tag::any);
    d.dst = dnnl::memory::desc(dst, dt::f32, tag::any);
    d.bias = dnnl::memory::desc({g.M}, dt::f32, tag::a);
    d.diffSrc = dnnl::memory::desc(src, dt::f32, tag::any);
    d.diffWeights = dnnl::memory::desc(w, dt::f32, tag::any);
    d.diffDst = dnnl::memory::desc(dst, in, tag::any);
    d.strides = g.strides;
    for (int64_t v : g.dilations)
        d.dilations.push_back(v - 1);
    d.padBegin = g.padBegin;
    d.padEnd = g.padEnd;
    return d;
}

dnnl::convolution_forward::primitive_desc forwardPd(const Descs &d, bool training, bool withBias, const dnnl::primitive_attr &attr)
{
    const auto prop = training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
    return {dnnl::convolution_forward::desc(prop, dnnl::algorithm::convolution_direct, d.src, d.weights,
                                            withBias ? d.bias : dnnl::memory::desc(), d.dst, d.strides, d.dilations, d.padBegin,
                                            d.padEnd),
            attr, cpuEngine()};
}

Port port(int arg, const dnnl::memory::desc &user, const dnnl::memory::desc &inner, bool isInput, int slot)
{
    Port p;
    p.arg = arg;
    dnnl::engine &e = cpuEngine();
    p.user = dnnl::memory(user, e, DNNL_MEMORY_NONE);
    p.converts = user != inner;
    if (!p.converts) {
        p.inner = p.user;
        return p;
    }
    p.inner = dnnl::memory(inner, e, DNNL_MEMORY_NONE);
    p.reorder = isInput ? dnnl::reorder(p.user, p.inner) : dnnl::reorder(p.inner, p.user);
    p.slot = slot;
    p.bytes = inner.get_size();
    return p;
}

// The arguments and scratchpad of a plan whose ports are set; biasArg: DNNL_ARG_BIAS or
// DNNL_ARG_DIFF_BIAS where the primitive has the bias (the caller's [M] buffer, no reorder), else 0.
template<typename Pd>
void finish(Plan &plan, const Pd &pd, const Descs &d, int biasArg)
{
    if (biasArg) {
        plan.bias = dnnl::memory(d.bias, cpuEngine(), DNNL_MEMORY_NONE);
        plan.args.emplace(biasArg, plan.bias);
    }
    for (const Port &p : plan.inputs)
        plan.args.emplace(p.arg, p.inner);
    plan.args.emplace(plan.output.arg, plan.output.inner);
    plan.scratchpadBytes = pd.scratchpad_desc().get_size();
    if (plan.scratchpadBytes) {
        plan.scratchpad = dnnl::memory(pd.scratchpad_desc(), cpuEngine(), DNNL_MEMORY_NONE);
        plan.args.emplace(DNNL_ARG_SCRATCHPAD, plan.scratchpad);
    }
    plan.available = true;
}

std::unique_ptr<Plan> makePlan(Kind kind, const Geometry &g, bool bf16, bool withBias)
{
    auto plan = std::make_unique<Plan>();
    try {
        const Descs d = descs(g, bf16);
        const dnnl::memory::desc noBias;
        if (kind == Kind::Forward || kind == Kind::ForwardTraining) {
            const auto pd = forwardPd(d, kind == Kind::ForwardTraining, withBias, userScratchpad());
            plan->primitive = dnnl::convolution_forward(pd);
            plan->inputs = {port(DNNL_ARG_SRC, d.srcUser, pd.src_desc(), true, 0),
                            port(DNNL_ARG_WEIGHTS, d.weightsUser, pd.weights_desc(), true, 1)};
            plan->output = port(DNNL_ARG_DST, d.dstUser, pd.dst_desc(), false, 2);
            finish(*plan, pd, d, withBias ? DNNL_ARG_BIAS : 0);
            return plan;
        }
        // The backward primitives take the training forward one as their layout hint.
        const auto hint = forwardPd(d, true, withBias, dnnl::primitive_attr());
        if (kind == Kind::BackwardData) {
            const dnnl::convolution_backward_data::primitive_desc pd(
                dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, d.diffSrc, d.weights, d.diffDst, d.strides,
                                                      d.dilations, d.padBegin, d.padEnd),
                userScratchpad(), cpuEngine(), hint);
            plan->primitive = dnnl::convolution_backward_data(pd);
            plan->inputs = {port(DNNL_ARG_DIFF_DST, d.dstUser, pd.diff_dst_desc(), true, 0),
                            port(DNNL_ARG_WEIGHTS, d.weightsUser, pd.weights_desc(), true, 1)};
            plan->output = port(DNNL_ARG_DIFF_SRC, d.srcUser, pd.diff_src_desc(), false, 2);
            finish(*plan, pd, d, 0);
        } else {
            const dnnl::convolution_backward_weights::primitive_desc pd(
                dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, d.src, d.diffWeights,
                                                         withBias ? d.bias : noBias, d.diffDst, d.strides, d.dilations,
                                                         d.padBegin, d.padEnd),
                userScratchpad(), cpuEngine(), hint);
            plan->primitive = dnnl::convolution_backward_weights(pd);
            plan->inputs = {port(DNNL_ARG_SRC, d.srcUser, pd.src_desc(), true, 0),
                            port(DNNL_ARG_DIFF_DST, d.dstUser, pd.diff_dst_desc(), true, 1)};
            plan->output = port(DNNL_ARG_DIFF_WEIGHTS, d.weightsUser, pd.diff_weights_desc(), false, 2);
            finish(*plan, pd, d, withBias ? DNNL_ARG_DIFF_BIAS : 0);
        }
    } catch (const dnnl::error &) {
        // No implementation for this geometry, level and precision (or a descriptor oneDNN refuses):
        // remembered as unavailable, so the caller's own path runs from now on without asking again.
        plan = std::make_unique<Plan>();
    }
    return plan;
}

std::string key(Kind kind, const Geometry &g, bool bf16, bool withBias, int threads)
{
    std::string k = std::to_string(static_cast<int>(kind)) + (bf16 ? "b" : "f") + (withBias ? "+" : "-") + std::to_string(threads);
    for (int64_t v : {g.N, g.C, g.M, g.group})
        k += "," + std::to_string(v);
    for (const auto *list : {&g.in, &g.out, &g.kernel, &g.strides, &g.dilations, &g.padBegin, &g.padEnd}) {
        k += ";";
        for (int64_t v : *list)
            k += std::to_string(v) + ",";
    }
    return k;
}

uint8_t *buffer(ThreadState &s, int slot, size_t bytes)
{
    auto &b = s.buffers[slot];
    if (b.size() < bytes)
        b.resize(bytes);
    return b.data();
}

// bias: the forward's bias, or the weight gradient's bias gradient (written).
bool run(Kind kind, const Geometry &g, const float *a, const float *b, const float *bias, float *out)
{
    const int threads = dnnlutil::prepareThreads();
    const bool bf16 = blas::precision() == blas::Precision::Bf16;
    ThreadState &s = threadState();
    const std::string k = key(kind, g, bf16, bias != nullptr, threads);
    auto it = s.plans.find(k);
    if (it == s.plans.end())
        it = s.plans.emplace(k, makePlan(kind, g, bf16, bias != nullptr)).first;
    Plan &plan = *it->second;
    if (!plan.available)
        return false;
    const float *sources[2] = {a, b};
    for (size_t i = 0; i < plan.inputs.size(); ++i) {
        Port &p = plan.inputs[i];
        p.user.set_data_handle(const_cast<float *>(sources[i]));
        if (p.converts) {
            p.inner.set_data_handle(buffer(s, p.slot, p.bytes));
            dnnlutil::reorderInto(p.reorder, s.stream, p.user, p.inner);
        }
    }
    Port &o = plan.output;
    o.user.set_data_handle(out);
    if (o.converts)
        o.inner.set_data_handle(buffer(s, o.slot, o.bytes));
    if (bias)
        plan.bias.set_data_handle(const_cast<float *>(bias));
    if (plan.scratchpadBytes)
        plan.scratchpad.set_data_handle(buffer(s, 3, plan.scratchpadBytes));
    plan.primitive.execute(s.stream, plan.args);
    if (o.converts)
        dnnlutil::reorderInto(o.reorder, s.stream, o.inner, o.user);
    s.stream.wait();
    return true;
}

} // namespace

bool forward(const Geometry &g, bool training, const float *x, const float *w, const float *b, float *y)
{
    return run(training ? Kind::ForwardTraining : Kind::Forward, g, x, w, b, y);
}

bool backwardData(const Geometry &g, const float *w, const float *dy, float *dx)
{
    return run(Kind::BackwardData, g, dy, w, nullptr, dx);
}

bool backwardWeights(const Geometry &g, const float *x, const float *dy, float *dw, float *db)
{
    return run(Kind::BackwardWeights, g, x, dy, db, dw);
}

} // namespace netwright::convdnnl
