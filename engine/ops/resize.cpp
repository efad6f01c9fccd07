// SPDX-License-Identifier: Apache-2.0
// Resize (ONNX 11–17: X, roi, scales, sizes; Upsample and opset-10 Resize are imported in this
// form, with their asymmetric coordinates and floor rounding) and MaxUnpool. Resize is separable: each
// axis gets a table of taps (input index, weight) per output index, from its coordinate
// transformation (half_pixel, pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nn,
// tf_crop_and_resize) and mode (nearest with its nearest_mode, linear, cubic with cubic_coeff_a
// and exclude_outside); an output is Σ Π weights · X over the taps' product. Backward scatters
// dY through the same taps (float32, every mode).
#include "core/error.h"
#include "core/parallel.h"
#include "ops/kernel_util.h"
#include "ops/kernels.h"

#include <cmath>
#include <cstring>

namespace netwright {

namespace {

std::vector<double> floatValues(const Node &node, const Tensor &t, const char *what)
{
    std::vector<double> v(static_cast<size_t>(t.numel()));
    if (t.dtype() == DType::Float32)
        std::copy(t.dataAs<float>(), t.dataAs<float>() + t.numel(), v.begin());
    else if (t.dtype() == DType::Float64)
        std::copy(t.dataAs<double>(), t.dataAs<double>() + t.numel(), v.begin());
    else
        throw Error(node.describe() + ": " + what + " must be float32 or float64, got " + dtypeName(t.dtype()) + ".");
    return v;
}

struct AxisTaps {
    int64_t in = 0, out = 0;
    std::vector<int64_t> first;  // out + 1 offsets into idx/weight
    std::vector<int64_t> idx;    // input index of each tap
    std::vector<float> weight;   // its weight
    std::vector<char> outside;   // tf_crop_and_resize: the output takes extrapolation_value
    bool identity = false;       // out == in and tap o is (o, 1)
};

struct ResizePlan {
    std::vector<AxisTaps> axes;
    Shape out;
    float extrapolation = 0.0f;
};

std::vector<double> cubicCoeffs(double r, double A)
{
    const double s = 1.0 - r;
    return {((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A, ((A + 2) * r - (A + 3)) * r * r + 1,
            ((A + 2) * s - (A + 3)) * s * s + 1, ((A * (s + 1) - 5 * A) * (s + 1) + 8 * A) * (s + 1) - 4 * A};
}

class Resize final : public OpKernel {
public:
    
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &constants) const override
    {
        check(!in.empty(), node.describe() + ": needs input X.");
        return {plan(node, in[0], constants, false).out};
    }
    bool acceptsType(size_t input, DType type) const override
    {
        if (input == 0)
            return type == DType::Float32;
        return true;
    }
    bool differentiable(size_t input) const override { return input == 0; }

    void forward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        const auto p = plan(ctx.node, X.shape(), std::vector<const Tensor *>(ctx.inputs.begin(), ctx.inputs.end()), true);
        run(p, X.shape(), X.data(), ctx.out(0).data(), nullptr, nullptr);
    }

    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        const Tensor &X = ctx.in(0);
        const auto p = plan(ctx.node, X.shape(), std::vector<const Tensor *>(ctx.inputs.begin(), ctx.inputs.end()), true);
        run(p, X.shape(), nullptr, nullptr, ctx.gradOutputs[0]->data(), ctx.gradInputs[0]->data());
    }

private:
    const Tensor *operand(const Node &node, const std::vector<const Tensor *> &values, size_t index) const
    {
        if (index >= node.inputs.size() || node.inputs[index].empty())
            return nullptr;
        check(index < values.size() && values[index] && values[index]->defined(),
              node.describe() + ": input " + std::to_string(index) + " must be known before the op runs.");
        return values[index]->numel() > 0 ? values[index] : nullptr;
    }

    ResizePlan plan(const Node &node, const Shape &x, const std::vector<const Tensor *> &values, bool taps) const
    {
        const size_t r = x.size();
        check(r >= 1, node.describe() + ": input X must have at least one dim.");
        const Tensor *roiT = operand(node, values, 1);
        const Tensor *scalesT = operand(node, values, 2);
        const Tensor *sizesT = operand(node, values, 3);
        check((scalesT != nullptr) != (sizesT != nullptr), node.describe() + ": exactly one of scales and sizes must be given.");
        const std::string ctm = node.attrString("coordinate_transformation_mode", "half_pixel");
        const std::string mode = node.attrString("mode", "nearest");
        const std::string nearestMode = node.attrString("nearest_mode", "round_prefer_floor");
        check(mode == "nearest" || mode == "linear" || mode == "bilinear" || mode == "cubic",
              node.describe() + ": unknown mode \"" + mode + "\".");
        check(ctm == "half_pixel" || ctm == "pytorch_half_pixel" || ctm == "align_corners" || ctm == "asymmetric"
                  || ctm == "tf_half_pixel_for_nn" || ctm == "tf_crop_and_resize",
              node.describe() + ": unknown coordinate_transformation_mode \"" + ctm + "\".");
        check(nearestMode == "round_prefer_floor" || nearestMode == "round_prefer_ceil" || nearestMode == "floor"
                  || nearestMode == "ceil",
              node.describe() + ": unknown nearest_mode \"" + nearestMode + "\".");
        std::vector<double> roi;
        if (ctm == "tf_crop_and_resize") {
            check(roiT != nullptr, node.describe() + ": tf_crop_and_resize needs the roi input.");
            roi = floatValues(node, *roiT, "roi");
            check(roi.size() == 2 * r, node.describe() + ": roi must have " + std::to_string(2 * r) + " values, got "
                                           + std::to_string(roi.size()) + ".");
        }
        ResizePlan p;
        p.out.resize(r);
        std::vector<double> scale(r);
        if (sizesT) {
            const auto sizes = intValues(node, *sizesT, "sizes");
            check(sizes.size() == r, node.describe() + ": sizes must have " + std::to_string(r) + " values for X "
                                         + shapeToString(x) + ", got " + std::to_string(sizes.size()) + ".");
            for (size_t a = 0; a < r; ++a) {
                check(sizes[a] > 0, node.describe() + ": sizes must be positive.");
                p.out[a] = sizes[a];
                scale[a] = static_cast<double>(sizes[a]) / static_cast<double>(x[a]);
            }
        } else {
            const auto scales = floatValues(node, *scalesT, "scales");
            check(scales.size() == r, node.describe() + ": scales must have " + std::to_string(r) + " values for X "
                                          + shapeToString(x) + ", got " + std::to_string(scales.size()) + ".");
            for (size_t a = 0; a < r; ++a) {
                check(scales[a] > 0, node.describe() + ": scales must be positive.");
                scale[a] = scales[a];
                const double extent = roi.empty() ? 1.0 : roi[a + r] - roi[a];
                p.out[a] = static_cast<int64_t>(std::floor(static_cast<double>(x[a]) * extent * scales[a]));
                check(p.out[a] > 0, node.describe() + ": the output would be empty along axis " + std::to_string(a) + ".");
            }
        }
        if (!taps)
            return p;
        p.extrapolation = node.attrFloat("extrapolation_value", 0.0f);
        const double A = node.attrFloat("cubic_coeff_a", -0.75f);
        const bool excludeOutside = node.attrInt("exclude_outside", 0) != 0;
        p.axes.resize(r);
        for (size_t a = 0; a < r; ++a) {
            AxisTaps &t = p.axes[a];
            t.in = x[a];
            t.out = p.out[a];
            t.first.push_back(0);
            t.outside.assign(static_cast<size_t>(t.out), 0);
            const double inLen = static_cast<double>(t.in), outLen = scale[a] * inLen;
            for (int64_t o = 0; o < t.out; ++o) {
                const double xo = static_cast<double>(o);
                double c = 0.0;
                if (ctm == "half_pixel")
                    c = (xo + 0.5) / scale[a] - 0.5;
                else if (ctm == "pytorch_half_pixel")
                    c = t.out > 1 ? (xo + 0.5) / scale[a] - 0.5 : 0.0;
                else if (ctm == "align_corners")
                    c = outLen == 1.0 ? 0.0 : xo * (inLen - 1) / (outLen - 1);
                else if (ctm == "asymmetric")
                    c = xo / scale[a];
                else if (ctm == "tf_half_pixel_for_nn")
                    c = (xo + 0.5) / scale[a];
                else { // tf_crop_and_resize
                    const double s0 = roi[a], s1 = roi[a + r];
                    c = outLen == 1.0 ? (s1 - s0) * (inLen - 1) / 2 : xo * (s1 - s0) * (inLen - 1) / (outLen - 1);
                    c += s0 * (inLen - 1);
                    if (c < 0 || c > inLen - 1)
                        t.outside[static_cast<size_t>(o)] = 1;
                }
                std::vector<int64_t> idx;
                std::vector<double> w;
                const bool integral = c == std::floor(c);
                const int64_t left = static_cast<int64_t>(std::ceil(c)) - 1; // c − left in (0, 1]
                const double ratio = c - static_cast<double>(left);
                if (mode == "nearest") {
                    int64_t at = static_cast<int64_t>(std::floor(c));
                    if (!integral) {
                        const double f = c - std::floor(c);
                        const bool up = nearestMode == "ceil" || (nearestMode == "round_prefer_floor" && f > 0.5)
                                        || (nearestMode == "round_prefer_ceil" && f >= 0.5);
                        at += up ? 1 : 0;
                    }
                    idx = {at};
                    w = {1.0};
                } else if (mode == "cubic") {
                    idx = {left - 1, left, left + 1, left + 2};
                    w = cubicCoeffs(ratio, A);
                } else {
                    idx = {left, left + 1};
                    w = {1.0 - ratio, ratio};
                }
                if (excludeOutside) {
                    double sum = 0.0;
                    for (size_t k = 0; k < idx.size(); ++k) {
                        if (idx[k] < 0 || idx[k] >= t.in)
                            w[k] = 0.0;
                        sum += w[k];
                    }
                    if (sum != 0.0)
                        for (double &v : w)
                            v /= sum;
                }
                for (size_t k = 0; k < idx.size(); ++k) {
                    if (w[k] == 0.0)
                        continue;
                    t.idx.push_back(std::clamp<int64_t>(idx[k], 0, t.in - 1));
                    t.weight.push_back(static_cast<float>(w[k]));
                }
                t.first.push_back(static_cast<int64_t>(t.idx.size()));
            }
            t.identity = t.in == t.out && static_cast<int64_t>(t.idx.size()) == t.out;
            for (int64_t o = 0; t.identity && o < t.out; ++o)
                t.identity = t.idx[static_cast<size_t>(o)] == o && t.weight[static_cast<size_t>(o)] == 1.0f
                             && !t.outside[static_cast<size_t>(o)];
        }
        return p;
    }

    // Forward (x → y) or backward (dy → dx, dx overwritten). Rows: every output index but the last
    // axis; the leading identity axes (N, C) split the rows into blocks that own their dx.
    static void run(const ResizePlan &p, const Shape &xs, const float *x, float *y, const float *dy, float *dx)
    {
        const size_t r = xs.size();
        std::vector<int64_t> inStride(r, 1);
        for (size_t a = r - 1; a > 0; --a)
            inStride[a - 1] = inStride[a] * xs[a];
        const AxisTaps &last = p.axes[r - 1];
        int64_t rows = 1;
        for (size_t a = 0; a + 1 < r; ++a)
            rows *= p.out[a];
        size_t prefix = 0;
        int64_t blocks = 1;
        while (prefix + 1 < r && p.axes[prefix].identity)
            blocks *= p.out[prefix++];
        const int64_t rowsPerBlock = rows / std::max<int64_t>(1, blocks);
        if (dx)
            std::memset(dx, 0, sizeof(float) * shapeNumel(xs));
        parallelFor(blocks, [&](int64_t b0, int64_t b1, int) {
            std::vector<int64_t> offs, nextOffs;
            std::vector<float> wts, nextWts;
            std::vector<int64_t> index(r, 0);
            for (int64_t row = b0 * rowsPerBlock; row < b1 * rowsPerBlock; ++row) {
                // The output multi-index of this row, and the product of its leading axes' taps.
                int64_t rest = row;
                for (size_t a = r - 1; a > 0; --a) {
                    index[a - 1] = rest % p.out[a - 1];
                    rest /= p.out[a - 1];
                }
                offs.assign(1, 0);
                wts.assign(1, 1.0f);
                bool outside = false;
                for (size_t a = 0; a + 1 < r; ++a) {
                    const AxisTaps &t = p.axes[a];
                    const size_t o = static_cast<size_t>(index[a]);
                    outside = outside || t.outside[o];
                    nextOffs.clear();
                    nextWts.clear();
                    for (size_t c = 0; c < offs.size(); ++c)
                        for (int64_t k = t.first[o]; k < t.first[o + 1]; ++k) {
                            nextOffs.push_back(offs[c] + t.idx[static_cast<size_t>(k)] * inStride[a]);
                            nextWts.push_back(wts[c] * t.weight[static_cast<size_t>(k)]);
                        }
                    offs.swap(nextOffs);
                    wts.swap(nextWts);
                }
                const int64_t yRow = row * last.out;
                for (int64_t ox = 0; ox < last.out; ++ox) {
                    const size_t o = static_cast<size_t>(ox);
                    if (outside || last.outside[o]) {
                        if (y)
                            y[yRow + ox] = p.extrapolation;
                        continue;
                    }
                    if (y) {
                        float s = 0.0f;
                        for (size_t c = 0; c < offs.size(); ++c) {
                            float inner = 0.0f;
                            for (int64_t k = last.first[o]; k < last.first[o + 1]; ++k)
                                inner += last.weight[static_cast<size_t>(k)] * x[offs[c] + last.idx[static_cast<size_t>(k)]];
                            s += wts[c] * inner;
                        }
                        y[yRow + ox] = s;
                    } else {
                        const float g = dy[yRow + ox];
                        for (size_t c = 0; c < offs.size(); ++c)
                            for (int64_t k = last.first[o]; k < last.first[o + 1]; ++k)
                                dx[offs[c] + last.idx[static_cast<size_t>(k)]] += g * wts[c] * last.weight[static_cast<size_t>(k)];
                    }
                }
            }
        });
    }

};

// MaxUnpool: Y (zeros) with Y.flat[I[j]] = X[j]; Y's shape is output_shape when given, else the
// MaxPool input that kernel_shape, strides and pads imply.
class MaxUnpool final : public OpKernel {
public:
    std::vector<Shape> inferShapes(const Node &node, const std::vector<Shape> &in, const std::vector<const Tensor *> &constants) const override
    {
        check(in.size() >= 2, node.describe() + ": needs inputs X and I.");
        check(in[1] == in[0], node.describe() + ": indices I " + shapeToString(in[1]) + " must have the shape of X "
                                  + shapeToString(in[0]) + ".");
        if (in.size() > 2 && node.inputs.size() > 2 && !node.inputs[2].empty()) {
            check(constants.size() > 2 && constants[2], node.describe() + ": output_shape must be known before the op runs.");
            const auto s = intValues(node, *constants[2], "output_shape");
            check(s.size() == in[0].size(), node.describe() + ": output_shape must have " + std::to_string(in[0].size()) + " values.");
            return {Shape(s.begin(), s.end())};
        }
        return {pooledInput(node, in[0])};
    }

    // The MaxPool input that kernel_shape, strides and pads imply: where I's indices point.
    static Shape pooledInput(const Node &node, const Shape &x)
    {
        check(x.size() >= 3, node.describe() + ": input X must be [N,C,spatial…].");
        const size_t r = x.size() - 2;
        const auto k = node.attrInts("kernel_shape", {});
        check(k.size() == r, node.describe() + ": kernel_shape must have " + std::to_string(r) + " values.");
        const auto s = node.attrInts("strides", std::vector<int64_t>(r, 1));
        const auto pads = node.attrInts("pads", std::vector<int64_t>(2 * r, 0));
        check(s.size() == r && pads.size() == 2 * r, node.describe() + ": strides and pads must fit the " + std::to_string(r) + "-D input.");
        Shape out{x[0], x[1]};
        for (size_t i = 0; i < r; ++i)
            out.push_back((x[i + 2] - 1) * s[i] + k[i] - pads[i] - pads[i + r]);
        return out;
    }

    // Each index of I (an offset into the pooled input) as an offset into Y: the same coordinates
    // when output_shape gives Y another shape; -1 where they fall outside Y.
    static std::vector<int64_t> targets(const KernelContext &ctx, const Shape &to)
    {
        auto idx = intValues(ctx.node, ctx.in(1), "indices I");
        const Shape from = pooledInput(ctx.node, ctx.in(0).shape());
        const int64_t fromSize = shapeNumel(from);
        for (int64_t &i : idx) {
            check(i >= 0 && i < fromSize, ctx.node.describe() + ": index " + std::to_string(i) + " is outside the pooled input "
                                              + shapeToString(from) + ".");
            if (from == to)
                continue;
            int64_t rest = i, flat = 0, mul = 1;
            bool inside = true;
            for (size_t a = from.size(); a-- > 0;) {
                const int64_t c = rest % from[a];
                rest /= from[a];
                inside = inside && c < to[a];
                flat += c * mul;
                mul *= to[a];
            }
            i = inside ? flat : -1;
        }
        return idx;
    }
    bool differentiable(size_t input) const override { return input == 0; }

    void forward(KernelContext &ctx) const override
    {
        const Tensor &X = ctx.in(0);
        Tensor &Y = ctx.out(0);
        const auto idx = targets(ctx, Y.shape());
        std::memset(Y.data(), 0, sizeof(float) * Y.numel());
        for (size_t j = 0; j < idx.size(); ++j)
            if (idx[j] >= 0)
                Y.data()[idx[j]] = X.data()[j];
    }

    void backward(KernelContext &ctx) const override
    {
        if (!ctx.wantsGrad(0))
            return;
        const auto idx = targets(ctx, ctx.gradOutputs[0]->shape());
        const float *dy = ctx.gradOutputs[0]->data();
        float *dx = ctx.gradInputs[0]->data();
        for (size_t j = 0; j < idx.size(); ++j)
            dx[j] = idx[j] >= 0 ? dy[idx[j]] : 0.0f;
    }
};

} // namespace

void registerResizeOps(KernelTable &t)
{
    t["Resize"] = std::make_unique<Resize>();
    t["MaxUnpool"] = std::make_unique<MaxUnpool>();
}

} // namespace netwright
