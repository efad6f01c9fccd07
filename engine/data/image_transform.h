// SPDX-License-Identifier: Apache-2.0
// The per-image transforms of image-folder training on 8-bit HWC images: bilinear resize, centre
// crop, gray/RGB conversion and the HWC → CHW copy into a sample. Layer: engine/data. Each one
// reproduces the PyTorch/PIL operation it is named after, so a model trained there sees the same.
#pragma once

#include "data/image_file.h"

#include <cstdint>

namespace netwright {

// Resizes to height × width (both > 0) the way torch.nn.functional.interpolate(mode="bilinear",
// align_corners=False, antialias=False) does on a float tensor: half-pixel centres, source
// coordinates clamped at 0, PyTorch's float arithmetic in its order (x first, then y), then
// rounded to the nearest uint8 (ties to even, as torch.round). Downscaling does not average over
// the footprint. Matches python3-torch 1.13's CPU kernel bit for bit where it uses FMA (AVX2).
Image resizeBilinear(const Image &src, int64_t height, int64_t width);

// The height × width window at the centre, as torchvision.transforms.functional.center_crop:
// top = round((H - height) / 2), left = round((W - width) / 2) with Python's round (ties to even).
// Where the window is larger than the image, the image is padded with zeros first, the extra
// split as torchvision does (floor of half before, the rest after).
Image centerCrop(const Image &src, int64_t height, int64_t width);

// The image with 1 or 3 channels. Gray → RGB repeats the value; RGB → gray is PIL's convert("L"):
// L = (R·19595 + G·38470 + B·7471 + 2^15) >> 16, the ITU-R 601-2 weights .299/.587/.114 in
// 16-bit fixed point, rounded (exact against python3-pil 9.4 for every RGB triple). Same count:
// a copy. Throws Error for any other channel count.
Image toChannels(const Image &src, int64_t channels);

// Writes src's pixels as channel planes: dst[(c * height + y) * width + x]; dst holds
// channels × height × width bytes (the caller's sample, [C, H, W]).
void copyToChw(const Image &src, uint8_t *dst);

} // namespace netwright
