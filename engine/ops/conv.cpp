// SPDX-License-Identifier: Apache-2.0
// Conv (ONNX, 1-D, 2-D and 3-D): X[N,C,spatial…] * W[M,C/group,k…] (+ B[M]) → Y[N,M,out…], with
// strides, pads or auto_pad, dilations and groups. im2col + GEMM per image, images split across
// threads; a 1-D conv is a 2-D one of height 1 and a 3-D one adds a depth loop around the same
// 2-D rows. Depthwise convs (one input channel per group) run a direct loop instead. The weight
// gradient is summed per thread, then across threads in thread order (deterministic).
#include "core/blas.h"
#include "core/error.h"
#include "core/parallel.h"
#include "ops/conv_dnnl.h"
#include "ops/kernels.h"
#include "ops/window_2d.h"

#include <cstring>

namespace netwright {

namespace {

// The output columns [lo, hi) whose input column x0 + ox·stride lies inside [0, width).
inline std::pair<int64_t, int64_t> validRange(int64_t x0, int64_t stride, int64_t width, int64_t outWidth)
{
    const int64_t lo = x0 >= 0 ? 0 : std::min(outWidth, (-x0 + stride - 1) / stride);
    const int64_t hi = x0 >= width ? lo : std::max(lo, std::min(outWidth, (width - x0 + stride - 1) / stride));
    return {lo, hi};
}

// One input plane: col[(i*kw + j)·ld + oy*ow + ox] = plane[oy*sh - pt + i*dh][ox*sw - pl + j*dw] (0 outside).
void im2colPlane(const float *plane, const Window2d &w, float *col, int64_t ld)
{
    for (int64_t i = 0; i < w.kh; ++i) {
        for (int64_t j = 0; j < w.kw; ++j) {
            float *row = col + (i * w.kw + j) * ld;
            for (int64_t oy = 0; oy < w.oh; ++oy) {
                const int64_t iy = oy * w.sh - w.padTop + i * w.dh;
                float *dst = row + oy * w.ow;
                if (iy < 0 || iy >= w.ih) {
                    std::memset(dst, 0, sizeof(float) * w.ow);
                    continue;
                }
                const float *src = plane + iy * w.iw;
                const int64_t x0 = -w.padLeft + j * w.dw;
                if (w.sw == 1 && x0 >= 0 && x0 + w.ow <= w.iw) { // the whole row is inside
                    std::memcpy(dst, src + x0, sizeof(float) * w.ow);
                    continue;
                }
                const std::pair<int64_t, int64_t> range = validRange(x0, w.sw, w.iw, w.ow);
                const int64_t lo = range.first, hi = range.second; // no structured binding: clang 14 cannot capture one in an OpenMP region
                // Plain loops: rows are short, library calls would cost more than the copy.
                for (int64_t ox = 0; ox < lo; ++ox)
                    dst[ox] = 0.0f;
                if (w.sw == 1) {
                    const float *__restrict s = src + x0;
                    float *__restrict d = dst;
                    for (int64_t ox = lo; ox < hi; ++ox)
                        d[ox] = s[ox];
                } else {
                    for (int64_t ox = lo; ox < hi; ++ox)
                        dst[ox] = src[x0 + ox * w.sw];
                }
                for (int64_t ox = hi; ox < w.ow; ++ox)
                    dst[ox] = 0.0f;
            }
        }
    }
}

// The adjoint of im2colPlane: plane[iy][ix] += col[...].
void col2imPlane(const float *col, const Window2d &w, float *plane, int64_t ld)
{
    for (int64_t i = 0; i < w.kh; ++i) {
        for (int64_t j = 0; j < w.kw; ++j) {
            const float *row = col + (i * w.kw + j) * ld;
            for (int64_t oy = 0; oy < w.oh; ++oy) {
                const int64_t iy = oy * w.sh - w.padTop + i * w.dh;
                if (iy < 0 || iy >= w.ih)
                    continue;
                float *__restrict dst = plane + iy * w.iw;
                const float *__restrict src = row + oy * w.ow;
                const int64_t x0 = -w.padLeft + j * w.dw;
                const std::pair<int64_t, int64_t> range = validRange(x0, w.sw, w.iw, w.ow);
                const int64_t lo = range.first, hi = range.second; // no structured binding: clang 14 cannot capture one in an OpenMP region
                if (w.sw == 1) {
                    float *__restrict d = dst + x0;
                    for (int64_t ox = lo; ox < hi; ++ox)
                        d[ox] += src[ox];
                } else {
                    for (int64_t ox = lo; ox < hi; ++ox)
                        dst[x0 + ox * w.sw] += src[ox];
                }
            }
        }
    }
}

} // namespace

void im2col(const float *x, int64_t channels, const WindowNd &w, float *col)
{
    const Window2d &p = w.plane;
    const int64_t ohw = p.oh * p.ow, ihw = p.ih * p.iw, ld = w.od * ohw, kk = p.kh * p.kw;
    for (int64_t c = 0; c < channels; ++c)
        for (int64_t a = 0; a < w.kd; ++a)
            for (int64_t oz = 0; oz < w.od; ++oz) {
                const int64_t iz = oz * w.sd - w.padFront + a * w.dd;
                float *base = col + (c * w.kd + a) * kk * ld + oz * ohw;
                if (iz < 0 || iz >= w.id) {
                    for (int64_t r = 0; r < kk; ++r)
                        std::memset(base + r * ld, 0, sizeof(float) * ohw);
                    continue;
                }
                im2colPlane(x + (c * w.id + iz) * ihw, p, base, ld);
            }
}

void col2im(const float *col, int64_t channels, const WindowNd &w, float *dx)
{
    const Window2d &p = w.plane;
    const int64_t ohw = p.oh * p.ow, ihw = p.ih * p.iw, ld = w.od * ohw, kk = p.kh * p.kw;
    for (int64_t c = 0; c < channels; ++c)
        for (int64_t a = 0; a < w.kd; ++a)
            for (int64_t oz = 0; oz < w.od; ++oz) {
                const int64_t iz = oz * w.sd - w.padFront + a * w.dd;
                if (iz >= 0 && iz < w.id)
                    col2imPlane(col + (c * w.kd + a) * kk * ld + oz * ohw, p, dx + (c * w.id + iz) * ihw, ld);
            }
}

namespace {

// Depthwise (one input channel per group), 2-D or 1-D: y[oy][ox] = bias + Σ_ij k[i][j]·x[iy][ix].
void depthwiseForward(const float *xp, const float *k, float bias, const Window2d &w, float *yp)
{
    const int64_t ohw = w.oh * w.ow;
    for (int64_t o = 0; o < ohw; ++o)
        yp[o] = bias;
    for (int64_t i = 0; i < w.kh; ++i)
        for (int64_t oy = 0; oy < w.oh; ++oy) {
            const int64_t iy = oy * w.sh - w.padTop + i * w.dh;
            if (iy < 0 || iy >= w.ih)
                continue;
            const float *src = xp + iy * w.iw;
            float *__restrict dst = yp + oy * w.ow;
            for (int64_t j = 0; j < w.kw; ++j) {
                const float kv = k[i * w.kw + j];
                const int64_t x0 = -w.padLeft + j * w.dw;
                const std::pair<int64_t, int64_t> range = validRange(x0, w.sw, w.iw, w.ow);
                const int64_t lo = range.first, hi = range.second; // no structured binding: clang 14 cannot capture one in an OpenMP region
                if (w.sw == 1) {
                    const float *__restrict s = src + x0;
                    for (int64_t ox = lo; ox < hi; ++ox)
                        dst[ox] += kv * s[ox];
                } else {
                    for (int64_t ox = lo; ox < hi; ++ox)
                        dst[ox] += kv * src[x0 + ox * w.sw];
                }
            }
        }
}

// dx += Σ_ij k[i][j]·dy shifted back (the adjoint of depthwiseForward without bias).
void depthwiseBackwardData(const float *dyp, const float *k, const Window2d &w, float *dxp)
{
    for (int64_t i = 0; i < w.kh; ++i)
        for (int64_t oy = 0; oy < w.oh; ++oy) {
            const int64_t iy = oy * w.sh - w.padTop + i * w.dh;
            if (iy < 0 || iy >= w.ih)
                continue;
            float *dst = dxp + iy * w.iw;
            const float *__restrict src = dyp + oy * w.ow;
            for (int64_t j = 0; j < w.kw; ++j) {
                const float kv = k[i * w.kw + j];
                const int64_t x0 = -w.padLeft + j * w.dw;
                const std::pair<int64_t, int64_t> range = validRange(x0, w.sw, w.iw, w.ow);
                const int64_t lo = range.first, hi = range.second; // no structured binding: clang 14 cannot capture one in an OpenMP region
                if (w.sw == 1) {
                    float *__restrict d = dst + x0;
                    for (int64_t ox = lo; ox < hi; ++ox)
                        d[ox] += kv * src[ox];
                } else {
                    for (int64_t ox = lo; ox < hi; ++ox)
                        dst[x0 + ox * w.sw] += kv * src[ox];
                }
            }
        }
}

// dk[i][j] += Σ_oy,ox dy[oy][ox]·x[iy][ix].
void depthwiseBackwardWeight(const float *xp, const float *dyp, const Window2d &w, double *dk)
{
    for (int64_t i = 0; i < w.kh; ++i)
        for (int64_t j = 0; j < w.kw; ++j) {
            const int64_t x0 = -w.padLeft + j * w.dw;
            const std::pair<int64_t, int64_t> range = validRange(x0, w.sw, w.iw, w.ow);
            const int64_t lo = range.first, hi = range.second; // no structured binding: clang 14 cannot capture one in an OpenMP region
            float s = 0.0f;
            for (int64_t oy = 0; oy < w.oh; ++oy) {
                const int64_t iy = oy * w.sh - w.padTop + i * w.dh;
                if (iy < 0 || iy >= w.ih)
                    continue;
                const float *__restrict src = xp + iy * w.iw;
                const float *__restrict g = dyp + oy * w.ow;
                if (w.sw == 1) {
                    const float *__restrict sx = src + x0;
#pragma omp simd reduction(+ : s)
                    for (int64_t ox = lo; ox < hi; ++ox)
                        s += g[ox] * sx[ox];
                } else {
                    for (int64_t ox = lo; ox < hi; ++ox)
                        s += g[ox] * src[x0 + ox * w.sw];
                }
            }
            dk[i * w.kw + j] += s;
        }
}

// Per-thread scratch that lives as long as the (pooled) kernel thread: a training step then
// allocates nothing, and fresh pages are not faulted in and zeroed on every call.
float *threadScratch(int slot, size_t count)
{
    thread_local std::vector<float> buffers[2];
    auto &b = buffers[slot];
    if (b.size() < count)
        b.resize(count);
    return b.data();
}

struct ConvGeometry {
    int64_t N, C, M, group, Cg, Mg, ckk;
    WindowNd w;
    bool pointwise; // 1x1, stride 1, no padding: the image itself is the column matrix
    bool depthwise; // one input channel per group (groups > 1), 1-D or 2-D: direct loops
};

ConvGeometry geometry(const Node &node, const Shape &x, const Shape &wt)
{
    check(x.size() >= 3 && x.size() <= 5, node.describe() + ": input X must be [N,C,spatial…] with 1 to 3 spatial dims, got "
                                              + shapeToString(x) + ".");
    check(wt.size() == x.size(), node.describe() + ": weight W " + shapeToString(wt) + " must have the rank of X "
                                     + shapeToString(x) + ".");
    ConvGeometry g;
    g.N = x[0];
    g.C = x[1];
    g.M = wt[0];
    g.group = node.attrInt("group", 1);
    check(g.group > 0 && g.C % g.group == 0 && g.M % g.group == 0,
          node.describe() + ": group " + std::to_string(g.group) + " must divide the " + std::to_string(g.C)
              + " input and " + std::to_string(g.M) + " output channels.");
    g.Cg = g.C / g.group;
    g.Mg = g.M / g.group;
    check(wt[1] == g.Cg, node.describe() + ": weight " + shapeToString(wt) + " expects " + std::to_string(wt[1] * g.group)
                             + " input channels, but X " + shapeToString(x) + " has " + std::to_string(g.C) + ".");
    const std::vector<int64_t> kernel(wt.begin() + 2, wt.end());
    if (node.hasAttribute("kernel_shape"))
        check(node.attrInts("kernel_shape", {}) == kernel,
              node.describe() + ": kernel_shape does not match the weight shape " + shapeToString(wt) + ".");
    g.w = WindowNd::fromNode(node, std::vector<int64_t>(x.begin() + 2, x.end()), kernel, false);
    g.ckk = g.Cg * g.w.kernelSize();
    g.pointwise = g.w.kernelSize() == 1 && g.w.sd == 1 && g.w.plane.sh == 1 && g.w.plane.sw == 1 && !g.w.hasPadding();
    g.depthwise = g.Cg == 1 && g.group > 1 && g.w.rank <= 2 && !g.pointwise;
    return g;
}

// The same geometry as oneDNN's convolutions describe it.
convdnnl::Geometry dnnlGeometry(const ConvGeometry &g)
{
    convdnnl::Geometry d;
    d.N = g.N;
    d.C = g.C;
    d.M = g.M;
    d.group = g.group;
    const Window2d &p = g.w.plane;
    if (g.w.rank == 3) {
        d.in = {g.w.id, p.ih, p.iw};
        d.out = {g.w.od, p.oh, p.ow};
        d.kernel = {g.w.kd, p.kh, p.kw};
        d.strides = {g.w.sd, p.sh, p.sw};
        d.dilations = {g.w.dd, p.dh, p.dw};
        d.padBegin = {g.w.padFront, p.padTop, p.padLeft};
        d.padEnd = {g.w.padBack, p.padBottom, p.padRight};
    } else if (g.w.rank == 2) {
        d.in = {p.ih, p.iw};
        d.out = {p.oh, p.ow};
        d.kernel = {p.kh, p.kw};
        d.strides = {p.sh, p.sw};
        d.dilations = {p.dh, p.dw};
        d.padBegin = {p.padTop, p.padLeft};
        d.padEnd = {p.padBottom, p.padRight};
    } else {
        d.in = {p.iw};
        d.out = {p.ow};
        d.kernel = {p.kw};
        d.strides = {p.sw};
        d.dilations = {p.dw};
        d.padBegin = {p.padLeft};
        d.padEnd = {p.padRight};
    }
    return d;
}

class Conv final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &constants) const override
    {
        check(in.size() >= 2, node.describe() + ": needs inputs X and W.");
        const auto g = geometry(node, in[0], in[1]);
        const bool hasBias = in.size() > 2 && (!in[2].empty() || (constants.size() > 2 && constants[2]));
        if (hasBias)
            check(in[2] == Shape{g.M}, node.describe() + ": bias B must have shape [" + std::to_string(g.M) + "], got "
                                           + shapeToString(in[2]) + ".");
        Shape out{g.N, g.M};
        for (int64_t d : g.w.outSpatial())
            out.push_back(d);
        return {out};
    }

    void forward(KernelContext &ctx) const override
    {
        const auto g = geometry(ctx.node, ctx.in(0).shape(), ctx.in(1).shape());
        const float *x = ctx.in(0).data(), *wt = ctx.in(1).data();
        const float *bias = ctx.hasInput(2) ? ctx.in(2).data() : nullptr;
        float *y = ctx.out(0).data();
        const int64_t ohw = g.w.outSize(), hw = g.w.inSize();
        ctx.saved.resize(1);
        if (g.depthwise) {
            ctx.saved[0] = Tensor();
            const int64_t kk = g.w.kernelSize();
            parallelFor(g.N * g.M, [&](int64_t p0, int64_t p1, int) {
                for (int64_t p = p0; p < p1; ++p) {
                    const int64_t n = p / g.M, m = p % g.M, c = m / g.Mg;
                    depthwiseForward(x + (n * g.C + c) * hw, wt + m * kk, bias ? bias[m] : 0.0f, g.w.plane, y + p * ohw);
                }
            });
            return;
        }
        // oneDNN's direct convolution over the whole batch where it has one; im2col and a product
        // per image otherwise.
        if (convdnnl::forward(dnnlGeometry(g), ctx.training, x, wt, bias, y)) {
            ctx.saved[0] = Tensor();
            return;
        }
        // In training the columns are kept for backward (one im2col per image and step, not two).
        float *keep = nullptr;
        const int64_t colSize = g.group * g.ckk * ohw;
        if (ctx.training && !g.pointwise) {
            if (!ctx.saved[0].defined() || ctx.saved[0].numel() != g.N * colSize)
                ctx.saved[0] = Tensor({g.N, colSize});
            keep = ctx.saved[0].data();
        } else {
            ctx.saved[0] = Tensor();
        }
        parallelFor(g.N, [&](int64_t n0, int64_t n1, int) {
            float *scratch = g.pointwise || keep ? nullptr : threadScratch(0, static_cast<size_t>(g.ckk * ohw));
            for (int64_t n = n0; n < n1; ++n) {
                for (int64_t gr = 0; gr < g.group; ++gr) {
                    const float *xg = x + (n * g.C + gr * g.Cg) * hw;
                    float *col = keep ? keep + n * colSize + gr * g.ckk * ohw : scratch;
                    if (!g.pointwise)
                        im2col(xg, g.Cg, g.w, col);
                    float *yg = y + (n * g.M + gr * g.Mg) * ohw;
                    blas::gemm(false, false, g.Mg, ohw, g.ckk, 1.0f, wt + gr * g.Mg * g.ckk, g.ckk,
                               g.pointwise ? xg : col, ohw, 0.0f, yg, ohw);
                    if (bias)
                        for (int64_t m = 0; m < g.Mg; ++m) {
                            const float b = bias[gr * g.Mg + m];
                            float *row = yg + m * ohw;
                            for (int64_t p = 0; p < ohw; ++p)
                                row[p] += b;
                        }
                }
            }
        });
    }

    void backward(KernelContext &ctx) const override
    {
        const auto g = geometry(ctx.node, ctx.in(0).shape(), ctx.in(1).shape());
        const float *x = ctx.in(0).data(), *wt = ctx.in(1).data(), *dy = ctx.gradOutputs[0]->data();
        const int64_t ohw = g.w.outSize(), hw = g.w.inSize();
        bool wantX = ctx.wantsGrad(0), wantW = ctx.wantsGrad(1), wantB = ctx.wantsGrad(2);
        if (!g.depthwise) { // oneDNN's direct kernels where it has them (see forward); the bias
                            // gradient comes with the weight gradient's
            const convdnnl::Geometry dg = dnnlGeometry(g);
            if (wantX && convdnnl::backwardData(dg, wt, dy, ctx.gradInputs[0]->data()))
                wantX = false;
            if (wantW && convdnnl::backwardWeights(dg, x, dy, ctx.gradInputs[1]->data(), wantB ? ctx.gradInputs[2]->data() : nullptr)) {
                wantW = false;
                wantB = false;
            }
        }
        if (wantB) { // each thread owns whole channels
            float *db = ctx.gradInputs[2]->data();
            parallelFor(g.M, [&](int64_t m0, int64_t m1, int) {
                for (int64_t m = m0; m < m1; ++m) {
                    double s = 0.0;
                    for (int64_t n = 0; n < g.N; ++n) {
                        const float *__restrict row = dy + (n * g.M + m) * ohw;
                        float r = 0.0f;
#pragma omp simd reduction(+ : r)
                        for (int64_t p = 0; p < ohw; ++p)
                            r += row[p];
                        s += r;
                    }
                    db[m] = static_cast<float>(s);
                }
            });
        }

        if (!wantX && !wantW)
            return;
        if (g.depthwise) {
            const int64_t kk = g.w.kernelSize();
            if (wantX) { // each thread owns whole input planes
                float *dx = ctx.gradInputs[0]->data();
                parallelFor(g.N * g.C, [&](int64_t p0, int64_t p1, int) {
                    for (int64_t p = p0; p < p1; ++p) {
                        const int64_t n = p / g.C, c = p % g.C;
                        std::memset(dx + p * hw, 0, sizeof(float) * hw);
                        for (int64_t m = c * g.Mg; m < (c + 1) * g.Mg; ++m)
                            depthwiseBackwardData(dy + (n * g.M + m) * ohw, wt + m * kk, g.w.plane, dx + p * hw);
                    }
                });
            }
            if (wantW) { // each thread owns whole filters
                float *dw = ctx.gradInputs[1]->data();
                parallelFor(g.M, [&](int64_t m0, int64_t m1, int) {
                    std::vector<double> acc(static_cast<size_t>(kk));
                    for (int64_t m = m0; m < m1; ++m) {
                        std::fill(acc.begin(), acc.end(), 0.0);
                        const int64_t c = m / g.Mg;
                        for (int64_t n = 0; n < g.N; ++n)
                            depthwiseBackwardWeight(x + (n * g.C + c) * hw, dy + (n * g.M + m) * ohw, g.w.plane, acc.data());
                        for (int64_t i = 0; i < kk; ++i)
                            dw[m * kk + i] = static_cast<float>(acc[static_cast<size_t>(i)]);
                    }
                });
            }
            return;
        }
        const int threads = threadCount();
        const int64_t wsize = g.M * g.ckk;
        std::vector<float *> dwPartial(threads, nullptr);
        float *dx = wantX ? ctx.gradInputs[0]->data() : nullptr;
        const float *kept = ctx.saved.empty() || !ctx.saved[0].defined() ? nullptr : ctx.saved[0].data();
        const int64_t colSize = g.group * g.ckk * ohw;
        parallelFor(g.N, [&](int64_t n0, int64_t n1, int t) {
            float *col = threadScratch(0, static_cast<size_t>(g.ckk * ohw));
            float *dw = nullptr;
            if (wantW) {
                dw = threadScratch(1, static_cast<size_t>(wsize));
                std::memset(dw, 0, sizeof(float) * wsize);
                dwPartial[t] = dw;
            }
            for (int64_t n = n0; n < n1; ++n) {
                if (wantX)
                    std::memset(dx + n * g.C * hw, 0, sizeof(float) * g.C * hw);
                for (int64_t gr = 0; gr < g.group; ++gr) {
                    const float *xg = x + (n * g.C + gr * g.Cg) * hw;
                    const float *dyg = dy + (n * g.M + gr * g.Mg) * ohw;
                    if (wantW) { // dW_g += dY_g · colᵀ
                        const float *c = xg;
                        if (kept) {
                            c = kept + n * colSize + gr * g.ckk * ohw;
                        } else if (!g.pointwise) {
                            im2col(xg, g.Cg, g.w, col);
                            c = col;
                        }
                        blas::gemm(false, true, g.Mg, g.ckk, ohw, 1.0f, dyg, ohw, c, ohw, 1.0f, dw + gr * g.Mg * g.ckk, g.ckk);
                    }
                    if (wantX) { // dcol = W_gᵀ · dY_g, scattered back
                        float *dxg = dx + (n * g.C + gr * g.Cg) * hw;
                        if (g.pointwise) {
                            blas::gemm(true, false, g.ckk, ohw, g.Mg, 1.0f, wt + gr * g.Mg * g.ckk, g.ckk, dyg, ohw, 0.0f, dxg, ohw);
                        } else {
                            blas::gemm(true, false, g.ckk, ohw, g.Mg, 1.0f, wt + gr * g.Mg * g.ckk, g.ckk, dyg, ohw, 0.0f, col, ohw);
                            col2im(col, g.Cg, g.w, dxg);
                        }
                    }
                }
            }
        });
        if (wantW) {
            float *dw = ctx.gradInputs[1]->data();
            std::memset(dw, 0, sizeof(float) * wsize);
            for (const float *part : dwPartial) { // thread order: deterministic
                if (!part)
                    continue;
                for (int64_t i = 0; i < wsize; ++i)
                    dw[i] += part[i];
            }
        }
    }
};

} // namespace

void registerConv(KernelTable &t)
{
    t["Conv"] = std::make_unique<Conv>();
}

convdnnl::Geometry convdnnl::geometryOf(const Node &node, const Shape &x, const Shape &w)
{
    return dnnlGeometry(geometry(node, x, w));
}

} // namespace netwright
