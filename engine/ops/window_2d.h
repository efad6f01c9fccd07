// SPDX-License-Identifier: Apache-2.0
// Internal to engine/ops: the sliding-window geometry shared by Conv, ConvTranspose and the pools
// — kernel_shape, strides, dilations, pads / auto_pad and ceil_mode, as ONNX defines them, for
// 1, 2 or 3 spatial dims — and the pools' output shapes and window walk. WindowNd stores every window as depth × (height × width): a 1-D window
// is a 2-D one of height 1, a 2-D one has depth 1, so the tuned 2-D loops serve all three.
#pragma once

#include "graph/graph.h"

namespace netwright {

struct Window2d {
    int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
    int64_t padTop = 0, padLeft = 0, padBottom = 0, padRight = 0;
    int64_t ih = 0, iw = 0, oh = 0, ow = 0;

    // kernel: the [kh, kw] to use when the node has no kernel_shape (Conv takes it from W).
    static Window2d fromNode(const Node &node, int64_t ih, int64_t iw, const std::vector<int64_t> &kernel,
                             bool allowCeilMode);
};

struct WindowNd {
    int rank = 2;   // spatial dims of the op: 1, 2 or 3
    Window2d plane; // the last two spatial dims (height 1 for a 1-D window)
    int64_t kd = 1, sd = 1, dd = 1, padFront = 0, padBack = 0, id = 1, od = 1; // depth (3-D only)

    // inSpatial: the input's spatial dims (1–3 of them); kernel as for Window2d. ceil_mode is read
    // when allowCeilMode. Validates the attributes' lengths and signs, naming the node.
    static WindowNd fromNode(const Node &node, const std::vector<int64_t> &inSpatial, const std::vector<int64_t> &kernel,
                             bool allowCeilMode);
    // A window with explicit input and output extents (ConvTranspose's geometry, where the conv's
    // "input" is the transposed op's output). All vectors have `rank` entries, pads 2·rank.
    static WindowNd explicitSizes(const std::vector<int64_t> &in, const std::vector<int64_t> &out, const std::vector<int64_t> &k,
                                  const std::vector<int64_t> &s, const std::vector<int64_t> &d, const std::vector<int64_t> &pads);

    int64_t inSize() const { return id * plane.ih * plane.iw; }
    int64_t outSize() const { return od * plane.oh * plane.ow; }
    int64_t kernelSize() const { return kd * plane.kh * plane.kw; }
    std::vector<int64_t> outSpatial() const; // `rank` output dims
    bool hasPadding() const
    {
        return padFront || padBack || plane.padTop || plane.padBottom || plane.padLeft || plane.padRight;
    }
};

// The window of MaxPool, AveragePool and LpPool over X [N,C,spatial…] (1 to 3 spatial dims):
// kernel_shape required, ceil_mode read. Validates X's rank, naming the node.
WindowNd poolWindow(const Node &node, const Shape &x);
// [N, C, the window's output spatial dims…].
Shape pooledShape(const Shape &x, const WindowNd &w);
// [N, C, 1, …]: the output of a global pool (GlobalMaxPool, GlobalAveragePool, GlobalLpPool) over
// in[0]. Validates that it is [N,C,spatial…], naming the node.
Shape globalPooledShape(const Node &node, const std::vector<Shape> &in);

// Visits each output of one plane of a pool: start(o), then cell(o, inputOffset) for every input
// cell of its window (padding and cells past the input are skipped), then finish(o); o is the
// output's offset in the plane.
template<typename Start, typename Cell, typename Finish>
inline void forEachWindow(const WindowNd &w, Start &&start, Cell &&cell, Finish &&finish)
{
    const Window2d &p = w.plane;
    const int64_t ihw = p.ih * p.iw;
    for (int64_t oz = 0; oz < w.od; ++oz)
        for (int64_t oy = 0; oy < p.oh; ++oy)
            for (int64_t ox = 0; ox < p.ow; ++ox) {
                const int64_t o = (oz * p.oh + oy) * p.ow + ox;
                start(o);
                for (int64_t a = 0; a < w.kd; ++a) {
                    const int64_t iz = oz * w.sd - w.padFront + a * w.dd;
                    if (iz < 0 || iz >= w.id)
                        continue;
                    for (int64_t i = 0; i < p.kh; ++i) {
                        const int64_t iy = oy * p.sh - p.padTop + i * p.dh;
                        if (iy < 0 || iy >= p.ih)
                            continue;
                        const int64_t row = iz * ihw + iy * p.iw;
                        for (int64_t j = 0; j < p.kw; ++j) {
                            const int64_t ix = ox * p.sw - p.padLeft + j * p.dw;
                            if (ix >= 0 && ix < p.iw)
                                cell(o, row + ix);
                        }
                    }
                }
                finish(o);
            }
}

// im2col over a window (ops/conv.cpp): col[((c·kd + a)·kh + i)·kw + j][(oz·oh + oy)·ow + ox] =
// x[c][oz·sd − pf + a·dd][oy·sh − pt + i·dh][ox·sw − pl + j·dw], 0 outside the input.
void im2col(const float *x, int64_t channels, const WindowNd &w, float *col);
// Its adjoint: dx[...] += col[...]; dx must be zeroed by the caller.
void col2im(const float *col, int64_t channels, const WindowNd &w, float *dx);

} // namespace netwright
