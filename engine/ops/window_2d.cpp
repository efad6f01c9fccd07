// SPDX-License-Identifier: Apache-2.0
#include "ops/window_2d.h"

#include "core/error.h"

namespace netwright {

namespace {
std::vector<int64_t> pairAttr(const Node &node, const char *key, std::vector<int64_t> fallback, size_t count)
{
    auto v = node.attrInts(key, fallback);
    check(v.size() == count, node.describe() + ": attribute \"" + key + "\" must have " + std::to_string(count)
                                 + " values for a 2-D window, got " + std::to_string(v.size()) + ".");
    return v;
}
} // namespace

Window2d Window2d::fromNode(const Node &node, int64_t ih, int64_t iw, const std::vector<int64_t> &kernel, bool allowCeilMode)
{
    Window2d w;
    w.ih = ih;
    w.iw = iw;
    const auto k = node.hasAttribute("kernel_shape") ? pairAttr(node, "kernel_shape", {}, 2) : kernel;
    check(k.size() == 2, node.describe() + ": needs a 2-D kernel_shape.");
    const auto s = pairAttr(node, "strides", {1, 1}, 2);
    const auto d = pairAttr(node, "dilations", {1, 1}, 2);
    w.kh = k[0]; w.kw = k[1]; w.sh = s[0]; w.sw = s[1]; w.dh = d[0]; w.dw = d[1];
    check(w.kh > 0 && w.kw > 0 && w.sh > 0 && w.sw > 0 && w.dh > 0 && w.dw > 0,
          node.describe() + ": kernel_shape, strides and dilations must be positive.");
    const std::string autoPad = node.attrString("auto_pad", "NOTSET");
    const int64_t ekh = (w.kh - 1) * w.dh + 1, ekw = (w.kw - 1) * w.dw + 1; // effective extent
    const bool ceilMode = allowCeilMode && node.attrInt("ceil_mode", 0) != 0;
    if (autoPad == "NOTSET") {
        const auto p = pairAttr(node, "pads", {0, 0, 0, 0}, 4);
        w.padTop = p[0]; w.padLeft = p[1]; w.padBottom = p[2]; w.padRight = p[3];
        check(p[0] >= 0 && p[1] >= 0 && p[2] >= 0 && p[3] >= 0, node.describe() + ": pads must not be negative.");
        auto outDim = [&](int64_t in, int64_t pb, int64_t pe, int64_t ek, int64_t st) {
            const int64_t span = in + pb + pe - ek;
            if (span < 0)
                return int64_t(0);
            int64_t o = (ceilMode ? (span + st - 1) / st : span / st) + 1;
            if (ceilMode && (o - 1) * st >= in + pb) // the last window must start inside the input
                --o;
            return o;
        };
        w.oh = outDim(ih, w.padTop, w.padBottom, ekh, w.sh);
        w.ow = outDim(iw, w.padLeft, w.padRight, ekw, w.sw);
    } else if (autoPad == "VALID") {
        w.oh = ih >= ekh ? (ih - ekh) / w.sh + 1 : 0;
        w.ow = iw >= ekw ? (iw - ekw) / w.sw + 1 : 0;
    } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
        w.oh = (ih + w.sh - 1) / w.sh;
        w.ow = (iw + w.sw - 1) / w.sw;
        const int64_t th = std::max<int64_t>(0, (w.oh - 1) * w.sh + ekh - ih);
        const int64_t tw = std::max<int64_t>(0, (w.ow - 1) * w.sw + ekw - iw);
        const bool upper = autoPad == "SAME_UPPER";
        w.padTop = upper ? th / 2 : th - th / 2;
        w.padBottom = th - w.padTop;
        w.padLeft = upper ? tw / 2 : tw - tw / 2;
        w.padRight = tw - w.padLeft;
    } else {
        throw Error(node.describe() + ": unknown auto_pad \"" + autoPad + "\".");
    }
    check(w.oh > 0 && w.ow > 0, node.describe() + ": the " + std::to_string(w.kh) + "x" + std::to_string(w.kw)
                                    + " window does not fit the " + std::to_string(ih) + "x" + std::to_string(iw) + " input.");
    return w;
}

} // namespace netwright
