// SPDX-License-Identifier: Apache-2.0
#include "data/image_transform.h"

#include "core/error.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <string>
#include <vector>

namespace netwright {

namespace {

void checkSize(const char *transform, int64_t height, int64_t width)
{
    check(height > 0 && width > 0 && height <= kMaxImageSide && width <= kMaxImageSide,
          std::string(transform) + ": the target size " + std::to_string(height) + " x " + std::to_string(width) + " must be between 1 and "
              + std::to_string(kMaxImageSide) + " on each side.");
}

bool wellFormed(const Image &img)
{
    return img.width >= 0 && img.height >= 0 && img.channels >= 0
           && img.pixels.size() == static_cast<size_t>(img.width * img.height * img.channels);
}

// One axis of the bilinear map: the two source indices of each output position and their weights.
struct LinearTaps {
    std::vector<int64_t> i0, i1;
    std::vector<float> w0, w1;
};

// PyTorch's compute_source_index_and_lambda for align_corners=False on a float tensor: the scale
// in/out in float, the source coordinate x = scale * (o + 0.5) - 0.5 in double (its CPU
// accumulation type), clamped at 0; i0 = trunc(x), i1 = i0 + 1 but never past the edge,
// w1 = float(x - i0), w0 = 1 - w1. Equal sizes copy (PyTorch's own shortcut).
LinearTaps linearTaps(int64_t in, int64_t out)
{
    LinearTaps t;
    t.i0.resize(out);
    t.i1.resize(out);
    t.w0.resize(out);
    t.w1.resize(out);
    const double scale = static_cast<float>(in) / static_cast<float>(out);
    for (int64_t o = 0; o < out; ++o) {
        if (in == out) {
            t.i0[o] = t.i1[o] = o;
            t.w0[o] = 1.0f, t.w1[o] = 0.0f;
            continue;
        }
        const double x = std::max(scale * (static_cast<double>(o) + 0.5) - 0.5, 0.0);
        const int64_t i0 = static_cast<int64_t>(x);
        t.i0[o] = i0;
        t.i1[o] = i0 + (i0 < in - 1 ? 1 : 0);
        t.w1[o] = std::clamp(static_cast<float>(x - static_cast<double>(i0)), 0.0f, 1.0f);
        t.w0[o] = 1.0f - t.w1[o];
    }
    return t;
}

// a * wa + b * wb the way PyTorch's float kernel evaluates it (built with FMA contraction):
// fma(a, wa, b * wb). A float product is exact in double, so this is that fused multiply-add but
// for a double rounding that needs the sum to fall exactly on a float tie; it costs no libm call
// where the CPU has no FMA unit.
float blend(float a, float wa, float b, float wb)
{
    return static_cast<float>(static_cast<double>(a) * static_cast<double>(wa) + static_cast<double>(b * wb));
}

uint8_t toByte(float v)
{
    // nearbyint: ties to even under the default rounding mode, as torch.round.
    return static_cast<uint8_t>(std::clamp(std::nearbyint(v), 0.0f, 255.0f));
}

// Python's round(n / 2) for n >= 0: a tie (odd n) goes to the even neighbour.
int64_t halfRoundedToEven(int64_t n)
{
    const int64_t q = n / 2;
    return (n % 2 != 0 && q % 2 != 0) ? q + 1 : q;
}

// The first source index of a centre crop of `crop` out of `size` along one axis; negative
// where torchvision pads (its left/top padding is (crop - size) // 2).
int64_t cropStart(int64_t size, int64_t crop)
{
    return crop > size ? -((crop - size) / 2) : halfRoundedToEven(size - crop);
}

} // namespace

Image resizeBilinear(const Image &src, int64_t height, int64_t width)
{
    assert(wellFormed(src));
    checkSize("Bilinear resize", height, width);
    check(src.width > 0 && src.height > 0, "Bilinear resize: the source image is empty.");
    const LinearTaps ty = linearTaps(src.height, height), tx = linearTaps(src.width, width);
    const int64_t c = src.channels;
    Image out;
    out.width = width, out.height = height, out.channels = c;
    out.pixels.resize(static_cast<size_t>(width * height * c));
    const uint8_t *in = src.pixels.data();
    const int64_t rowStride = src.width * c;
    for (int64_t y = 0; y < height; ++y) {
        const uint8_t *row0 = in + ty.i0[y] * rowStride;
        const uint8_t *row1 = in + ty.i1[y] * rowStride;
        const float h0 = ty.w0[y], h1 = ty.w1[y];
        uint8_t *dst = out.pixels.data() + y * width * c;
        for (int64_t x = 0; x < width; ++x) {
            const int64_t a = tx.i0[x] * c, b = tx.i1[x] * c;
            const float w0 = tx.w0[x], w1 = tx.w1[x];
            for (int64_t k = 0; k < c; ++k) {
                // PyTorch's order: the two rows interpolated along x, then blended along y.
                const float top = blend(row0[a + k], w0, row0[b + k], w1);
                const float bottom = blend(row1[a + k], w0, row1[b + k], w1);
                dst[x * c + k] = toByte(blend(top, h0, bottom, h1));
            }
        }
    }
    return out;
}

Image centerCrop(const Image &src, int64_t height, int64_t width)
{
    assert(wellFormed(src));
    checkSize("Centre crop", height, width);
    const int64_t top = cropStart(src.height, height), left = cropStart(src.width, width);
    const int64_t c = src.channels;
    Image out;
    out.width = width, out.height = height, out.channels = c;
    out.pixels.assign(static_cast<size_t>(width * height * c), 0);
    // The part of the window that lies on the image; the rest stays zero (torchvision's padding).
    const int64_t x0 = std::max<int64_t>(0, -left), x1 = std::min(width, src.width - left);
    const int64_t y0 = std::max<int64_t>(0, -top), y1 = std::min(height, src.height - top);
    if (x1 <= x0)
        return out;
    for (int64_t y = y0; y < y1; ++y)
        std::copy_n(src.pixels.data() + ((y + top) * src.width + (x0 + left)) * c, (x1 - x0) * c, out.pixels.data() + (y * width + x0) * c);
    return out;
}

Image toChannels(const Image &src, int64_t channels)
{
    assert(wellFormed(src));
    check(channels == 1 || channels == 3,
          "Channel conversion: " + std::to_string(channels) + " channels asked for; images have 1 (gray) or 3 (RGB).");
    check(src.channels == 1 || src.channels == 3,
          "Channel conversion: the source image has " + std::to_string(src.channels) + " channels, not 1 or 3.");
    if (src.channels == channels)
        return src;
    Image out;
    out.width = src.width, out.height = src.height, out.channels = channels;
    const size_t pixels = static_cast<size_t>(src.width * src.height);
    out.pixels.resize(pixels * static_cast<size_t>(channels));
    const uint8_t *in = src.pixels.data();
    uint8_t *dst = out.pixels.data();
    if (channels == 3) {
        for (size_t i = 0; i < pixels; ++i)
            dst[3 * i] = dst[3 * i + 1] = dst[3 * i + 2] = in[i];
    } else {
        for (size_t i = 0; i < pixels; ++i) {
            const uint32_t l = in[3 * i] * 19595u + in[3 * i + 1] * 38470u + in[3 * i + 2] * 7471u + 0x8000u;
            dst[i] = static_cast<uint8_t>(l >> 16);
        }
    }
    return out;
}

void copyToChw(const Image &src, uint8_t *dst)
{
    assert(wellFormed(src));
    const size_t plane = static_cast<size_t>(src.width * src.height);
    const size_t c = static_cast<size_t>(src.channels);
    if (c == 1) {
        std::copy(src.pixels.begin(), src.pixels.end(), dst);
        return;
    }
    const uint8_t *in = src.pixels.data();
    for (size_t i = 0; i < plane; ++i)
        for (size_t k = 0; k < c; ++k)
            dst[k * plane + i] = in[i * c + k];
}

} // namespace netwright
