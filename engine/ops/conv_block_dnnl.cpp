// SPDX-License-Identifier: Apache-2.0
#include "ops/conv_block.h"

#include "core/blas.h"
#include "core/dnnl_common.h"
#include "core/error.h"
#include "core/parallel.h"
#include "graph/graph.h"
#include "ops/conv_dnnl.h"
#include "ops/pool_isa.h"
#include "ops/window_2d.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>

namespace netwright {

namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;
using dims = dnnl::memory::dims;
using desc = dnnl::memory::desc;

// The primitives of one geometry (batch size, precision, bias, thread count). Where two
// layouts differ a reorder converts between them; an empty reorder means they are the same.
struct Plan {
    bool available = false;
    bool withBias = false;
    desc srcUser, wUser, yUser, bias;
    // forward: the convolution (ReLU as its post-op) into convDst, blocked (bf16 in the bf16
    // precision, as under PyTorch's autocast); the pooling of that into pooled with the argmax kept
    // in ws; pooled reordered (and widened) to the caller's float32 y
    dnnl::convolution_forward conv;
    dnnl::pooling_forward pool;
    desc src, wFwd, convDst, pooled, ws;
    dnnl::reorder srcIn, wFwdIn, pooledOut;
    // backward: dy, masked by the ReLU, into the pooling's layout and type; the pooling's gradient
    // in convDst's layout and type, then into each convolution gradient's diff_dst where that differs
    dnnl::pooling_backward poolBack;
    dnnl::convolution_backward_weights backWeights;
    dnnl::convolution_backward_data backData;
    desc dyInner, diffDstW, diffDstD, srcW, wData, diffSrc, diffW;
    dnnl::reorder dyIn, diffToW, diffToD, srcWIn, wDataIn, diffSrcOut, diffWOut;
    size_t scratchpadBytes = 0;
    // The pooling by our own loops (ops/pool_isa.h), where the convolution's output and the pooled
    // values are both blocked by sixteen channels (what oneDNN picks with AVX-512): over planes of
    // sixteen channels, in×in cells each → out×out, the winner's place kept as a byte per output.
    // oneDNN's pooling reads and writes them at about a fifth of the memory's speed here.
    bool lanePool = false;
    int64_t planes = 0, inH = 0, inW = 0, outH = 0, outW = 0;
};

dnnl::reorder reorderBetween(const desc &from, const desc &to)
{
    return from == to ? dnnl::reorder() : dnnl::reorder(dnnl::reorder::primitive_desc(dnnlutil::cpuEngine(), from, dnnlutil::cpuEngine(), to));
}

bool has(const dnnl::reorder &r)
{
    return r.get(true) != nullptr;
}

std::unique_ptr<Plan> makePlan(const convdnnl::Geometry &g, const dims &pooledDims, const dims &window, bool bf16, bool withBias)
{
    auto plan = std::make_unique<Plan>();
    try {
        dnnl::engine &e = dnnlutil::cpuEngine();
        const dt in = bf16 ? dt::bf16 : dt::f32;
        const dims srcDims{g.N, g.C, g.in[0], g.in[1]}, wDims{g.M, g.C, g.kernel[0], g.kernel[1]},
            dstDims{g.N, g.M, g.out[0], g.out[1]};
        dims dilations;
        for (int64_t v : g.dilations)
            dilations.push_back(v - 1);
        Plan &p = *plan;
        p.withBias = withBias;
        p.srcUser = desc(srcDims, dt::f32, tag::nchw);
        p.wUser = desc(wDims, dt::f32, tag::oihw);
        p.yUser = desc(pooledDims, dt::f32, tag::nchw);
        p.bias = withBias ? desc({g.M}, dt::f32, tag::a) : desc();

        dnnl::post_ops relu;
        relu.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
        dnnl::primitive_attr convAttr = dnnlutil::userScratchpad();
        convAttr.set_post_ops(relu);
        const dnnl::convolution_forward::primitive_desc convPd(
            dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                            desc(srcDims, in, tag::any), desc(wDims, in, tag::any), p.bias,
                                            desc(dstDims, in, tag::any), g.strides, dilations, g.padBegin, g.padEnd),
            convAttr, e);
        p.conv = dnnl::convolution_forward(convPd);
        p.src = convPd.src_desc();
        p.wFwd = convPd.weights_desc();
        p.convDst = convPd.dst_desc();
        const dims noPad(2, 0);
        const dnnl::pooling_forward::primitive_desc poolPd(
            dnnl::pooling_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::pooling_max, p.convDst,
                                        desc(pooledDims, in, tag::any), window, window, noPad, noPad),
            dnnlutil::userScratchpad(), e);
        p.pool = dnnl::pooling_forward(poolPd);
        p.pooled = poolPd.dst_desc();
        p.ws = poolPd.workspace_desc();

        const dnnl::pooling_backward::primitive_desc poolBackPd(
            dnnl::pooling_backward::desc(dnnl::algorithm::pooling_max, p.convDst, p.pooled, window, window, noPad, noPad),
            dnnlutil::userScratchpad(), e, poolPd);
        p.poolBack = dnnl::pooling_backward(poolBackPd);
        p.dyInner = poolBackPd.diff_dst_desc();
        check(poolBackPd.diff_src_desc() == p.convDst, "the pooling's gradient is not in the convolution's layout");

        const dnnl::convolution_backward_weights::primitive_desc backWPd(
            dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, desc(srcDims, in, tag::any),
                                                     desc(wDims, dt::f32, tag::any), p.bias, desc(dstDims, in, tag::any),
                                                     g.strides, dilations, g.padBegin, g.padEnd),
            dnnlutil::userScratchpad(), e, convPd);
        p.backWeights = dnnl::convolution_backward_weights(backWPd);
        p.srcW = backWPd.src_desc();
        p.diffDstW = backWPd.diff_dst_desc();
        p.diffW = backWPd.diff_weights_desc();

        const dnnl::convolution_backward_data::primitive_desc backDPd(
            dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, desc(srcDims, dt::f32, tag::any),
                                                  desc(wDims, in, tag::any), desc(dstDims, in, tag::any), g.strides,
                                                  dilations, g.padBegin, g.padEnd),
            dnnlutil::userScratchpad(), e, convPd);
        p.backData = dnnl::convolution_backward_data(backDPd);
        p.diffDstD = backDPd.diff_dst_desc();
        p.wData = backDPd.weights_desc();
        p.diffSrc = backDPd.diff_src_desc();

        p.srcIn = reorderBetween(p.srcUser, p.src);
        p.wFwdIn = reorderBetween(p.wUser, p.wFwd);
        p.pooledOut = reorderBetween(p.pooled, p.yUser);
        p.dyIn = reorderBetween(p.yUser, p.dyInner);
        p.diffToW = reorderBetween(p.convDst, p.diffDstW);
        p.diffToD = p.diffDstD == p.diffDstW ? dnnl::reorder() : reorderBetween(p.convDst, p.diffDstD);
        p.srcWIn = p.srcW == p.src ? dnnl::reorder() : reorderBetween(p.srcUser, p.srcW);
        p.wDataIn = reorderBetween(p.wUser, p.wData);
        p.diffSrcOut = reorderBetween(p.diffSrc, p.srcUser);
        p.diffWOut = reorderBetween(p.diffW, p.wUser);
        for (size_t bytes : {convPd.scratchpad_desc().get_size(), poolPd.scratchpad_desc().get_size(),
                             poolBackPd.scratchpad_desc().get_size(), backWPd.scratchpad_desc().get_size(),
                             backDPd.scratchpad_desc().get_size()})
            p.scratchpadBytes = std::max(p.scratchpadBytes, bytes);
        p.scratchpadBytes = std::max<size_t>(p.scratchpadBytes, 64); // never a zero-size memory
        p.lanePool = pool::hasLanes16() && window == dims{2, 2} && p.convDst == desc(dstDims, in, tag::aBcd16b)
                     && p.pooled == desc(pooledDims, in, tag::aBcd16b) && p.dyInner == p.pooled;
        p.planes = g.N * ((g.M + 15) / 16);
        p.inH = g.out[0];
        p.inW = g.out[1];
        p.outH = pooledDims[2];
        p.outW = pooledDims[3];
        p.available = true;
    } catch (const std::exception &) {
        // No implementation for this geometry, level and precision (or a layout the block does not
        // expect): remembered as unavailable, so the three kernels run from now on.
        plan = std::make_unique<Plan>();
    }
    return plan;
}

// A float32 buffer of at least `bytes` bytes, from the engine's allocator (64-byte aligned, large
// blocks reused), kept between steps.
void *grown(Tensor &t, size_t bytes)
{
    const int64_t floats = static_cast<int64_t>((bytes + 3) / 4);
    if (!t.defined() || t.numel() < floats)
        t = Tensor(Shape{std::max<int64_t>(floats, 1)});
    return t.data();
}

std::atomic<int64_t> g_lanePoolings{0};

// The block's pooling and its gradient by the sixteen-lane loops (ops/pool_isa.h), plane by plane
// over the threads; T is float or uint16_t (bfloat16's bits), the convolution output's type.
template<typename T>
void poolByLanes(const Plan &p, const void *x, void *y, uint8_t *arg)
{
    const int64_t inPlane = p.inH * p.inW * 16, outPlane = p.outH * p.outW * 16;
    const auto *from = static_cast<const T *>(x);
    auto *to = static_cast<T *>(y);
    parallelFor(p.planes, [&](int64_t i0, int64_t i1, int) {
        for (int64_t i = i0; i < i1; ++i)
            pool::isa_v4::maxForward2x2Lanes(from + i * inPlane, p.inW, p.outH, p.outW, to + i * outPlane, arg + i * outPlane);
    });
}

template<typename T>
void poolGradientByLanes(const Plan &p, const void *dy, const uint8_t *arg, void *dx)
{
    const int64_t inPlane = p.inH * p.inW * 16, outPlane = p.outH * p.outW * 16;
    const auto *from = static_cast<const T *>(dy);
    auto *to = static_cast<T *>(dx);
    parallelFor(p.planes, [&](int64_t i0, int64_t i1, int) {
        for (int64_t i = i0; i < i1; ++i)
            pool::isa_v4::maxBackward2x2Lanes(from + i * outPlane, arg + i * outPlane, p.inH, p.inW, p.outH, p.outW, to + i * inPlane);
    });
}

} // namespace

int64_t ConvReluPoolBlock::lanePoolings() { return g_lanePoolings.load(); }

struct ConvReluPoolBlock::Impl {
    const Node *conv = nullptr, *pool = nullptr;
    std::map<std::tuple<int64_t, bool, bool, int>, std::unique_ptr<Plan>> plans; // batch, bf16, bias, threads
    Plan *last = nullptr; // the plan of the last forward that ran
    // Kept from forward for backward: the reordered input and the pooling's argmax, the pooled
    // output in the inner layout (what a linked next block reads), and where the input was read.
    Tensor src, ws, pooled;
    const void *srcUsed = nullptr;
    // The gradient of the input in the inner layout, for a linked previous block.
    Tensor diffSrc;
    // Scratch of each pass.
    Tensor convDst, wFwd, dyMasked, dy, diff, diffW16, diffD16, srcW, wData, diffW, biasScratch, scratchpad;
    dnnl::stream stream{dnnlutil::cpuEngine()};

    // The plan for an input and weights of these shapes at the current precision and thread
    // count, made on first use; nullptr where oneDNN has none (or the shapes do not pool).
    Plan *planFor(const Shape &x, const Shape &w, bool bias, int threads)
    {
        if (x.size() != 4 || w.size() != 4)
            return nullptr;
        const convdnnl::Geometry g = convdnnl::geometryOf(*conv, x, w);
        const std::vector<int64_t> window = pool->attrInts("kernel_shape", {});
        const dims pooledDims{g.N, g.M, g.out[0] / window[0], g.out[1] / window[1]};
        if (pooledDims[2] < 1 || pooledDims[3] < 1)
            return nullptr;
        const bool bf16 = blas::precision() == blas::Precision::Bf16;
        auto &slot = plans[{g.N, bf16, bias, threads}];
        if (!slot)
            slot = makePlan(g, pooledDims, dims(window.begin(), window.end()), bf16, bias);
        return slot->available ? slot.get() : nullptr;
    }
    dnnl::memory mem(const desc &d, const void *p) { return dnnl::memory(d, dnnlutil::cpuEngine(), const_cast<void *>(p)); }
    // Runs r from (fromDesc, from) into `to` (a small one on one thread); returns to.
    void *convert(const dnnl::reorder &r, const desc &fromDesc, const void *from, const desc &toDesc, void *to)
    {
        dnnlutil::reorderInto(r, stream, mem(fromDesc, from), mem(toDesc, to));
        return to;
    }
};

ConvReluPoolBlock::ConvReluPoolBlock(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
ConvReluPoolBlock::~ConvReluPoolBlock() = default;

std::unique_ptr<ConvReluPoolBlock> ConvReluPoolBlock::match(const Node &conv, const Node &relu, const Node &pool)
{
    if (conv.opType != "Conv" || relu.opType != "Relu" || pool.opType != "MaxPool")
        return nullptr;
    if (conv.outputs.size() != 1 || relu.inputs.size() != 1 || relu.inputs[0] != conv.outputs[0] || pool.inputs.empty()
        || pool.inputs[0] != relu.outputs.at(0) || (pool.outputs.size() > 1 && !pool.outputs[1].empty()))
        return nullptr;
    if (conv.attrInt("group", 1) != 1)
        return nullptr;
    const std::vector<int64_t> kernel = pool.attrInts("kernel_shape", {});
    const std::string autoPad = pool.attrString("auto_pad", "NOTSET");
    const std::vector<int64_t> pads = pool.attrInts("pads", {}), dilations = pool.attrInts("dilations", {});
    const bool nonOverlapping = kernel.size() == 2 && pool.attrInts("strides", {}) == kernel && kernel[0] > 0 && kernel[1] > 0;
    const bool unpadded = (autoPad == "NOTSET" || autoPad == "VALID") && std::all_of(pads.begin(), pads.end(), [](int64_t v) { return v == 0; });
    const bool undilated = std::all_of(dilations.begin(), dilations.end(), [](int64_t v) { return v == 1; });
    if (!nonOverlapping || !unpadded || !undilated || pool.attrInt("ceil_mode", 0) != 0)
        return nullptr;
    auto impl = std::make_unique<Impl>();
    impl->conv = &conv;
    impl->pool = &pool;
    return std::unique_ptr<ConvReluPoolBlock>(new ConvReluPoolBlock(std::move(impl)));
}

namespace {

// The same layout with another element type (bf16 ↔ f32): oneDNN's blocking is in elements.
desc withType(const desc &d, dt type)
{
    dnnl_memory_desc_t c = d.data;
    c.data_type = static_cast<dnnl_data_type_t>(type);
    return desc(c);
}

} // namespace

bool ConvReluPoolBlock::canFeed(ConvReluPoolBlock &next, const Shape &x, const Shape &w, bool bias, const Shape &nextW, bool nextBias)
{
    const int threads = dnnlutil::prepareThreads();
    Plan *a = m_impl->planFor(x, w, bias, threads);
    if (!a)
        return false;
    const dims pooled = a->yUser.dims();
    Plan *b = next.m_impl->planFor(Shape(pooled.begin(), pooled.end()), nextW, nextBias, threads);
    // next's convolution reads this block's pooled layout as its source (forward and weight
    // gradient alike), and its data gradient comes out in the layout of this block's pooled
    // gradient, the element type aside (bf16 pooling takes a bf16 gradient; it is converted).
    return b && a->pooled == b->src && b->srcW == b->src && withType(b->diffSrc, a->dyInner.data_type()) == a->dyInner;
}

bool ConvReluPoolBlock::forward(const Tensor &x, const Tensor &w, const Tensor *b, Tensor &y, const Link &link)
{
    Impl &s = *m_impl;
    s.last = nullptr;
    if (y.rank() != 4)
        return false;
    Plan *found = s.planFor(x.shape(), w.shape(), b != nullptr, dnnlutil::prepareThreads());
    if (!found)
        return false;
    if (const dims pooled = found->yUser.dims(); y.shape() != Shape(pooled.begin(), pooled.end()))
        return false;
    Plan &p = *found;
    const Impl *prev = link.prev ? link.prev->m_impl.get() : nullptr;
    if (prev && !(prev->last && prev->last->pooled == p.src))
        return false; // canFeed said otherwise; the caller checks it first

    const void *src = prev                 ? prev->pooled.data()
                      : has(p.srcIn) ? s.convert(p.srcIn, p.srcUser, x.data(), p.src, grown(s.src, p.src.get_size()))
                                     : x.data();
    s.srcUsed = src;
    const void *wt = has(p.wFwdIn) ? s.convert(p.wFwdIn, p.wUser, w.data(), p.wFwd, grown(s.wFwd, p.wFwd.get_size())) : w.data();
    void *convDst = grown(s.convDst, p.convDst.get_size());
    void *scratchpad = grown(s.scratchpad, p.scratchpadBytes);
    std::unordered_map<int, dnnl::memory> convArgs{{DNNL_ARG_SRC, s.mem(p.src, src)},
                                                    {DNNL_ARG_WEIGHTS, s.mem(p.wFwd, wt)},
                                                    {DNNL_ARG_DST, s.mem(p.convDst, convDst)},
                                                    {DNNL_ARG_SCRATCHPAD, s.mem(desc({static_cast<int64_t>(p.scratchpadBytes)}, dt::u8, tag::a), scratchpad)}};
    if (b)
        convArgs.emplace(DNNL_ARG_BIAS, s.mem(p.bias, b->data()));
    p.conv.execute(s.stream, convArgs);
    void *pooled = grown(s.pooled, p.pooled.get_size());
    if (p.lanePool) {
        s.stream.wait();
        ++g_lanePoolings;
        auto *arg = static_cast<uint8_t *>(grown(s.ws, static_cast<size_t>(p.planes * p.outH * p.outW * 16)));
        if (p.pooled.data_type() == dt::bf16)
            poolByLanes<uint16_t>(p, convDst, pooled, arg);
        else
            poolByLanes<float>(p, convDst, pooled, arg);
    } else {
        p.pool.execute(s.stream, {{DNNL_ARG_SRC, s.mem(p.convDst, convDst)},
                                  {DNNL_ARG_DST, s.mem(p.pooled, pooled)},
                                  {DNNL_ARG_WORKSPACE, s.mem(p.ws, grown(s.ws, p.ws.get_size()))},
                                  {DNNL_ARG_SCRATCHPAD, convArgs.at(DNNL_ARG_SCRATCHPAD)}});
    }
    s.last = &p;
    if (!link.next)
        writeOutput(y);
    s.stream.wait();
    return true;
}

void ConvReluPoolBlock::writeOutput(Tensor &y)
{
    Impl &s = *m_impl;
    Plan &p = *s.last;
    if (has(p.pooledOut))
        s.convert(p.pooledOut, p.pooled, s.pooled.data(), p.yUser, y.data());
    else
        std::memcpy(y.data(), s.pooled.data(), p.yUser.get_size());
    s.stream.wait();
}

namespace {

// d[i] = keep[i] > 0 ? g[i] : 0 over n floats (d may be g).
void maskByPositive(const float *keep, const float *g, float *d, int64_t n)
{
    parallelFor(n, [=](int64_t i0, int64_t i1, int) {
        for (int64_t i = i0; i < i1; ++i) {
            const float v = g[i]; // read unconditionally, so the select vectorizes (no branch per cell)
            d[i] = keep[i] > 0.0f ? v : 0.0f;
        }
    }, 16384);
}

// The same with bf16 values deciding (> 0: sign clear, not zero, not NaN) and the result
// rounded to bf16.
void maskByPositiveBf16(const uint16_t *keep, float *g, uint16_t *d, int64_t n)
{
    parallelFor(n, [=](int64_t i0, int64_t i1, int) {
        for (int64_t i = i0; i < i1; ++i) {
            const float v = g[i];
            const uint16_t k = keep[i];
            g[i] = (k & 0x8000u) == 0 && k != 0 && k <= 0x7f80u ? v : 0.0f;
        }
        blas::toBf16(g + i0, d + i0, i1 - i0);
    }, 16384);
}

} // namespace

void ConvReluPoolBlock::backward(const Tensor &x, const Tensor &w, const Tensor &y, const Tensor &dy, Tensor *dx, Tensor *dw, Tensor *db,
                                 const Link &link)
{
    Impl &s = *m_impl;
    check(s.last != nullptr, "ConvReluPoolBlock::backward without a forward that ran.");
    Plan &p = *s.last;
    dnnlutil::prepareThreads();
    const dnnl::memory scratchpad = s.mem(desc({static_cast<int64_t>(p.scratchpadBytes)}, dt::u8, tag::a), s.scratchpad.data());

    // The ReLU's mask, applied before the pooling's gradient: the pooling passes dy[o] to the one
    // cell its output o came from, whose ReLU'd value is y[o], so masking dy by y > 0 is masking the
    // full-size gradient by the ReLU — over a quarter of the cells (2×2 windows). Linked to a next
    // block, the gradient and the pooled values are both in the pooling's layout already.
    const void *dyInner = nullptr;
    if (link.next) {
        Tensor &from = link.next->m_impl->diffSrc;
        const int64_t n = static_cast<int64_t>(p.pooled.get_size() / (p.pooled.data_type() == dt::bf16 ? 2 : 4));
        void *out = grown(s.dy, p.dyInner.get_size());
        if (p.pooled.data_type() == dt::bf16)
            maskByPositiveBf16(s.pooled.dataAs<uint16_t>(), from.data(), static_cast<uint16_t *>(out), n);
        else
            maskByPositive(s.pooled.data(), from.data(), static_cast<float *>(out), n);
        dyInner = out;
    } else {
        float *masked = static_cast<float *>(grown(s.dyMasked, static_cast<size_t>(dy.numel()) * sizeof(float)));
        maskByPositive(y.data(), dy.data(), masked, dy.numel());
        dyInner = has(p.dyIn) ? s.convert(p.dyIn, p.yUser, masked, p.dyInner, grown(s.dy, p.dyInner.get_size())) : masked;
    }
    // The pooling's gradient, in the convolution output's layout.
    void *diff = grown(s.diff, p.convDst.get_size());
    if (p.lanePool) {
        s.stream.wait();
        if (p.pooled.data_type() == dt::bf16)
            poolGradientByLanes<uint16_t>(p, dyInner, s.ws.dataAs<uint8_t>(), diff);
        else
            poolGradientByLanes<float>(p, dyInner, s.ws.dataAs<uint8_t>(), diff);
    } else {
        p.poolBack.execute(s.stream, {{DNNL_ARG_DIFF_DST, s.mem(p.dyInner, dyInner)},
                                      {DNNL_ARG_WORKSPACE, s.mem(p.ws, s.ws.data())},
                                      {DNNL_ARG_DIFF_SRC, s.mem(p.convDst, diff)},
                                      {DNNL_ARG_SCRATCHPAD, scratchpad}});
    }

    const void *diffW = has(p.diffToW) ? s.convert(p.diffToW, p.convDst, diff, p.diffDstW, grown(s.diffW16, p.diffDstW.get_size())) : diff;
    if (dw || db) {
        const void *src = has(p.srcWIn) ? s.convert(p.srcWIn, p.srcUser, x.data(), p.srcW, grown(s.srcW, p.srcW.get_size())) : s.srcUsed;
        void *weights = !dw || has(p.diffWOut) ? grown(s.diffW, p.diffW.get_size()) : dw->data();
        std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, s.mem(p.srcW, src)},
                                                   {DNNL_ARG_DIFF_DST, s.mem(p.diffDstW, diffW)},
                                                   {DNNL_ARG_DIFF_WEIGHTS, s.mem(p.diffW, weights)},
                                                   {DNNL_ARG_SCRATCHPAD, scratchpad}};
        if (p.withBias)
            args.emplace(DNNL_ARG_DIFF_BIAS, s.mem(p.bias, db ? db->data() : grown(s.biasScratch, p.bias.get_size())));
        p.backWeights.execute(s.stream, args);
        if (dw && has(p.diffWOut))
            s.convert(p.diffWOut, p.diffW, weights, p.wUser, dw->data());
        if (db && !p.withBias)
            db->fill(0.0f); // no bias in the forward: its gradient is zero
    }
    if (dx) {
        const void *diffD = p.diffDstD == p.diffDstW ? diffW
                            : has(p.diffToD)         ? s.convert(p.diffToD, p.convDst, diff, p.diffDstD, grown(s.diffD16, p.diffDstD.get_size()))
                                                     : diff;
        const void *wt = has(p.wDataIn) ? s.convert(p.wDataIn, p.wUser, w.data(), p.wData, grown(s.wData, p.wData.get_size())) : w.data();
        void *out = link.prev || has(p.diffSrcOut) ? grown(s.diffSrc, p.diffSrc.get_size()) : dx->data();
        p.backData.execute(s.stream, {{DNNL_ARG_DIFF_DST, s.mem(p.diffDstD, diffD)},
                                      {DNNL_ARG_WEIGHTS, s.mem(p.wData, wt)},
                                      {DNNL_ARG_DIFF_SRC, s.mem(p.diffSrc, out)},
                                      {DNNL_ARG_SCRATCHPAD, scratchpad}});
        if (!link.prev && has(p.diffSrcOut))
            s.convert(p.diffSrcOut, p.diffSrc, out, p.srcUser, dx->data());
    }
    s.stream.wait();
}

} // namespace netwright
