// SPDX-License-Identifier: Apache-2.0
#include "ops/window_2d.h"

#include "core/error.h"

#include <algorithm>

namespace netwright {

namespace {
std::vector<int64_t> listAttr(const Node &node, const char *key, std::vector<int64_t> fallback, size_t count, int rank)
{
    auto v = node.attrInts(key, fallback);
    check(v.size() == count, node.describe() + ": attribute \"" + key + "\" must have " + std::to_string(count) + " values for a "
                                 + std::to_string(rank) + "-D window, got " + std::to_string(v.size()) + ".");
    return v;
}

// Packs per-dim values (rank of them, outermost first) into the depth × height × width form.
WindowNd pack(int rank, const std::vector<int64_t> &in, const std::vector<int64_t> &out, const std::vector<int64_t> &k,
              const std::vector<int64_t> &s, const std::vector<int64_t> &d, const std::vector<int64_t> &padB,
              const std::vector<int64_t> &padE)
{
    WindowNd w;
    w.rank = rank;
    const int depth = rank == 3 ? 0 : -1, h = rank - 2, x = rank - 1; // dim index of each part, -1 = unit
    if (depth >= 0) {
        w.kd = k[0]; w.sd = s[0]; w.dd = d[0]; w.padFront = padB[0]; w.padBack = padE[0]; w.id = in[0]; w.od = out[0];
    }
    Window2d &p = w.plane;
    if (h >= 0) {
        p.kh = k[h]; p.sh = s[h]; p.dh = d[h]; p.padTop = padB[h]; p.padBottom = padE[h]; p.ih = in[h]; p.oh = out[h];
    } else {
        p.ih = 1; p.oh = 1;
    }
    p.kw = k[x]; p.sw = s[x]; p.dw = d[x]; p.padLeft = padB[x]; p.padRight = padE[x]; p.iw = in[x]; p.ow = out[x];
    return w;
}
} // namespace

WindowNd WindowNd::fromNode(const Node &node, const std::vector<int64_t> &in, const std::vector<int64_t> &kernel, bool allowCeilMode)
{
    const int r = static_cast<int>(in.size());
    check(r >= 1 && r <= 3, node.describe() + ": windows have 1, 2 or 3 spatial dims, the input has " + std::to_string(r) + ".");
    const size_t n = static_cast<size_t>(r);
    const auto k = node.hasAttribute("kernel_shape") ? listAttr(node, "kernel_shape", {}, n, r) : kernel;
    check(k.size() == n, node.describe() + ": needs a kernel_shape of " + std::to_string(r) + " values.");
    const auto s = listAttr(node, "strides", std::vector<int64_t>(n, 1), n, r);
    const auto d = listAttr(node, "dilations", std::vector<int64_t>(n, 1), n, r);
    for (size_t i = 0; i < n; ++i)
        check(k[i] > 0 && s[i] > 0 && d[i] > 0, node.describe() + ": kernel_shape, strides and dilations must be positive.");
    const std::string autoPad = node.attrString("auto_pad", "NOTSET");
    const bool ceilMode = allowCeilMode && node.attrInt("ceil_mode", 0) != 0;
    std::vector<int64_t> out(n), padB(n, 0), padE(n, 0);
    if (autoPad == "NOTSET") {
        const auto p = listAttr(node, "pads", std::vector<int64_t>(2 * n, 0), 2 * n, r);
        for (int64_t v : p)
            check(v >= 0, node.describe() + ": pads must not be negative.");
        std::copy(p.begin(), p.begin() + r, padB.begin());
        std::copy(p.begin() + r, p.end(), padE.begin());
    } else if (autoPad != "VALID" && autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER") {
        throw Error(node.describe() + ": unknown auto_pad \"" + autoPad + "\".");
    }
    for (size_t i = 0; i < n; ++i) {
        const int64_t ek = (k[i] - 1) * d[i] + 1; // effective extent
        if (autoPad == "NOTSET") {
            const int64_t span = in[i] + padB[i] + padE[i] - ek;
            if (span < 0) {
                out[i] = 0;
            } else {
                out[i] = (ceilMode ? (span + s[i] - 1) / s[i] : span / s[i]) + 1;
                if (ceilMode && (out[i] - 1) * s[i] >= in[i] + padB[i]) // the last window must start inside the input
                    --out[i];
            }
        } else if (autoPad == "VALID") {
            out[i] = in[i] >= ek ? (in[i] - ek) / s[i] + 1 : 0;
        } else {
            out[i] = (in[i] + s[i] - 1) / s[i];
            const int64_t total = std::max<int64_t>(0, (out[i] - 1) * s[i] + ek - in[i]);
            padB[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
            padE[i] = total - padB[i];
        }
    }
    bool fits = true;
    std::string kernelText, inText;
    for (size_t i = 0; i < n; ++i) {
        fits = fits && out[i] > 0;
        kernelText += (i ? "x" : "") + std::to_string(k[i]);
        inText += (i ? "x" : "") + std::to_string(in[i]);
    }
    check(fits, node.describe() + ": the " + kernelText + " window does not fit the " + inText + " input.");
    return pack(r, in, out, k, s, d, padB, padE);
}

WindowNd WindowNd::explicitSizes(const std::vector<int64_t> &in, const std::vector<int64_t> &out, const std::vector<int64_t> &k,
                                 const std::vector<int64_t> &s, const std::vector<int64_t> &d, const std::vector<int64_t> &pads)
{
    const int r = static_cast<int>(in.size());
    std::vector<int64_t> padB(pads.begin(), pads.begin() + r), padE(pads.begin() + r, pads.end());
    return pack(r, in, out, k, s, d, padB, padE);
}

std::vector<int64_t> WindowNd::outSpatial() const
{
    if (rank == 1)
        return {plane.ow};
    if (rank == 2)
        return {plane.oh, plane.ow};
    return {od, plane.oh, plane.ow};
}

WindowNd poolWindow(const Node &node, const Shape &x)
{
    check(x.size() >= 3 && x.size() <= 5, node.describe() + ": input X must be [N,C,spatial…] with 1 to 3 spatial dims, got "
                                              + shapeToString(x) + ".");
    check(node.hasAttribute("kernel_shape"), node.describe() + ": attribute kernel_shape is required.");
    return WindowNd::fromNode(node, std::vector<int64_t>(x.begin() + 2, x.end()), {}, true);
}

Shape pooledShape(const Shape &x, const WindowNd &w)
{
    Shape out{x[0], x[1]};
    for (int64_t d : w.outSpatial())
        out.push_back(d);
    return out;
}

Shape globalPooledShape(const Node &node, const std::vector<Shape> &in)
{
    check(!in.empty() && in[0].size() >= 3, node.describe() + ": input X must be [N,C,spatial…].");
    Shape out = in[0];
    std::fill(out.begin() + 2, out.end(), 1);
    return out;
}

Window2d Window2d::fromNode(const Node &node, int64_t ih, int64_t iw, const std::vector<int64_t> &kernel, bool allowCeilMode)
{
    return WindowNd::fromNode(node, {ih, iw}, kernel, allowCeilMode).plane;
}

} // namespace netwright
