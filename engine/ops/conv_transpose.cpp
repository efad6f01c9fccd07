// SPDX-License-Identifier: Apache-2.0
// ConvTranspose (ONNX) in 1-D, 2-D and 3-D, with groups, strides, dilations, pads or auto_pad,
// output_padding and output_shape: X[N,C,in…] * W[C,M/group,k…] (+ B[M]) → Y[N,M,out…]. It is the
// gradient of Conv with respect to its input, so it runs Conv's machinery backwards: columns =
// W_gᵀ·X_g, scattered into Y by col2im (forward); dY gathered by im2col, then GEMMs (backward).
#include "core/blas.h"
#include "core/error.h"
#include "core/parallel.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"
#include "ops/window_2d.h"

#include <cstring>

namespace netwright {

namespace {

// floor(a / 2) for any sign (total padding can be negative when output_shape asks for more).
inline int64_t floorHalf(int64_t a)
{
    return a >= 0 ? a / 2 : -((-a + 1) / 2);
}

struct TransposeGeometry {
    int64_t N, C, M, group, Cg, Mg, kk;
    Shape out;  // Y's shape
    WindowNd w; // the conv whose input is Y and whose output is X
};

TransposeGeometry geometry(const Node &node, const Shape &x, const Shape &wt)
{
    check(x.size() >= 3 && x.size() <= 5, node.describe() + ": input X must be [N,C,spatial…] with 1 to 3 spatial dims, got "
                                              + shapeToString(x) + ".");
    check(wt.size() == x.size(), node.describe() + ": weight W " + shapeToString(wt) + " must have the rank of X "
                                     + shapeToString(x) + ".");
    const size_t r = x.size() - 2;
    const int rank = static_cast<int>(r);
    TransposeGeometry g;
    g.N = x[0];
    g.C = x[1];
    g.group = node.attrInt("group", 1);
    check(g.group > 0 && g.C % g.group == 0, node.describe() + ": group " + std::to_string(g.group) + " must divide the "
                                                 + std::to_string(g.C) + " input channels.");
    check(wt[0] == g.C, node.describe() + ": weight " + shapeToString(wt) + " must have " + std::to_string(g.C)
                            + " input channels (X " + shapeToString(x) + ") in its first dim.");
    g.Cg = g.C / g.group;
    g.Mg = wt[1];
    g.M = g.Mg * g.group;
    const std::vector<int64_t> in(x.begin() + 2, x.end()), kernel(wt.begin() + 2, wt.end());
    if (node.hasAttribute("kernel_shape"))
        check(node.attrInts("kernel_shape", {}) == kernel,
              node.describe() + ": kernel_shape does not match the weight shape " + shapeToString(wt) + ".");
    auto list = [&](const char *key, int64_t fallback, size_t count) {
        auto v = node.attrInts(key, std::vector<int64_t>(count, fallback));
        check(v.size() == count, node.describe() + ": attribute \"" + key + "\" must have " + std::to_string(count)
                                     + " values for a " + std::to_string(rank) + "-D window, got " + std::to_string(v.size()) + ".");
        return v;
    };
    const auto s = list("strides", 1, r), d = list("dilations", 1, r), outPad = list("output_padding", 0, r);
    for (size_t i = 0; i < r; ++i)
        check(s[i] > 0 && d[i] > 0 && kernel[i] > 0 && outPad[i] >= 0,
              node.describe() + ": strides, dilations and the kernel must be positive, output_padding not negative.");
    const std::string autoPad = node.attrString("auto_pad", "NOTSET");
    check(autoPad == "NOTSET" || autoPad == "VALID" || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER",
          node.describe() + ": unknown auto_pad \"" + autoPad + "\".");
    std::vector<int64_t> pads(2 * r, 0), out(r);
    std::vector<int64_t> full(r); // the output size with no padding at all
    for (size_t i = 0; i < r; ++i)
        full[i] = s[i] * (in[i] - 1) + outPad[i] + (kernel[i] - 1) * d[i] + 1;
    if (node.hasAttribute("output_shape") || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
        if (node.hasAttribute("output_shape")) {
            out = node.attrInts("output_shape", {});
            if (out.size() == r + 2) // some exporters write the whole shape
                out.erase(out.begin(), out.begin() + 2);
            check(out.size() == r, node.describe() + ": output_shape must have " + std::to_string(r) + " values.");
        } else {
            for (size_t i = 0; i < r; ++i)
                out[i] = in[i] * s[i];
        }
        for (size_t i = 0; i < r; ++i) {
            const int64_t total = full[i] - out[i];
            if (autoPad == "SAME_UPPER") {
                pads[i] = floorHalf(total);
                pads[i + r] = total - pads[i];
            } else {
                pads[i + r] = floorHalf(total);
                pads[i] = total - pads[i + r];
            }
        }
    } else {
        if (autoPad == "NOTSET")
            pads = list("pads", 0, 2 * r);
        for (size_t i = 0; i < r; ++i) {
            check(pads[i] >= 0 && pads[i + r] >= 0, node.describe() + ": pads must not be negative.");
            out[i] = full[i] - pads[i] - pads[i + r];
        }
    }
    for (size_t i = 0; i < r; ++i)
        check(out[i] > 0, node.describe() + ": the output would be empty along spatial dim " + std::to_string(i) + ".");
    g.w = WindowNd::explicitSizes(out, in, kernel, s, d, pads);
    g.kk = g.w.kernelSize();
    g.out = {g.N, g.M};
    g.out.insert(g.out.end(), out.begin(), out.end());
    return g;
}

class ConvTranspose final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &constants) const override
    {
        check(in.size() >= 2, node.describe() + ": needs inputs X and W.");
        const auto g = geometry(node, in[0], in[1]);
        const bool hasBias = in.size() > 2 && (!in[2].empty() || (constants.size() > 2 && constants[2]));
        if (hasBias)
            check(in[2] == Shape{g.M}, node.describe() + ": bias B must have shape [" + std::to_string(g.M) + "], got "
                                           + shapeToString(in[2]) + ".");
        return {g.out};
    }

    void forward(KernelContext &ctx) const override
    {
        const auto g = geometry(ctx.node, ctx.in(0).shape(), ctx.in(1).shape());
        const float *x = ctx.in(0).data(), *wt = ctx.in(1).data();
        const float *bias = ctx.hasInput(2) ? ctx.in(2).data() : nullptr;
        float *y = ctx.out(0).data();
        const int64_t xhw = g.w.outSize(), yhw = g.w.inSize(), rows = g.Mg * g.kk;
        parallelFor(g.N, [&](int64_t n0, int64_t n1, int) {
            std::vector<float> col(static_cast<size_t>(rows * xhw));
            for (int64_t n = n0; n < n1; ++n) {
                float *yn = y + n * g.M * yhw;
                std::memset(yn, 0, sizeof(float) * g.M * yhw);
                for (int64_t gr = 0; gr < g.group; ++gr) { // col = W_gᵀ · X_g, W_g = [Cg, Mg·kk]
                    blas::gemm(true, false, rows, xhw, g.Cg, 1.0f, wt + gr * g.Cg * rows, rows,
                               x + (n * g.C + gr * g.Cg) * xhw, xhw, 0.0f, col.data(), xhw);
                    col2im(col.data(), g.Mg, g.w, yn + gr * g.Mg * yhw);
                }
                if (bias)
                    for (int64_t m = 0; m < g.M; ++m)
                        for (int64_t p = 0; p < yhw; ++p)
                            yn[m * yhw + p] += bias[m];
            }
        });
    }

    void backward(KernelContext &ctx) const override
    {
        const auto g = geometry(ctx.node, ctx.in(0).shape(), ctx.in(1).shape());
        const float *x = ctx.in(0).data(), *wt = ctx.in(1).data(), *dy = ctx.gradOutputs[0]->data();
        const int64_t xhw = g.w.outSize(), yhw = g.w.inSize(), rows = g.Mg * g.kk;
        const bool wantX = ctx.wantsGrad(0), wantW = ctx.wantsGrad(1), wantB = ctx.wantsGrad(2);
        if (wantB) {
            float *db = ctx.gradInputs[2]->data();
            parallelFor(g.M, [&](int64_t m0, int64_t m1, int) {
                for (int64_t m = m0; m < m1; ++m) {
                    double s = 0.0;
                    for (int64_t n = 0; n < g.N; ++n)
                        for (int64_t p = 0; p < yhw; ++p)
                            s += dy[(n * g.M + m) * yhw + p];
                    db[m] = static_cast<float>(s);
                }
            });
        }
        if (!wantX && !wantW)
            return;
        const int64_t wsize = g.C * rows;
        std::vector<std::vector<float>> dwPartial(static_cast<size_t>(threadCount()));
        float *dx = wantX ? ctx.gradInputs[0]->data() : nullptr;
        parallelFor(g.N, [&](int64_t n0, int64_t n1, int t) {
            std::vector<float> col(static_cast<size_t>(rows * xhw));
            float *dw = nullptr;
            if (wantW) {
                dwPartial[static_cast<size_t>(t)].assign(static_cast<size_t>(wsize), 0.0f);
                dw = dwPartial[static_cast<size_t>(t)].data();
            }
            for (int64_t n = n0; n < n1; ++n)
                for (int64_t gr = 0; gr < g.group; ++gr) {
                    im2col(dy + (n * g.M + gr * g.Mg) * yhw, g.Mg, g.w, col.data()); // [Mg·kk, xhw]
                    const float *wg = wt + gr * g.Cg * rows;
                    const float *xg = x + (n * g.C + gr * g.Cg) * xhw;
                    if (wantX) // dX_g = W_g · dcol
                        blas::gemm(false, false, g.Cg, xhw, rows, 1.0f, wg, rows, col.data(), xhw, 0.0f, dx + (n * g.C + gr * g.Cg) * xhw, xhw);
                    if (wantW) // dW_g += X_g · dcolᵀ
                        blas::gemm(false, true, g.Cg, rows, xhw, 1.0f, xg, xhw, col.data(), xhw, 1.0f, dw + gr * g.Cg * rows, rows);
                }
        });
        if (wantW) {
            float *dw = ctx.gradInputs[1]->data();
            std::memset(dw, 0, sizeof(float) * wsize);
            for (const auto &part : dwPartial) // thread order: deterministic
                for (size_t i = 0; i < part.size(); ++i)
                    dw[i] += part[i];
        }
    }
};

} // namespace

void registerConvTranspose(KernelTable &t)
{
    t["ConvTranspose"] = std::make_unique<ConvTranspose>();
}

} // namespace netwright
