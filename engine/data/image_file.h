// SPDX-License-Identifier: Apache-2.0
// PNG and JPEG decoding for image-folder datasets (DIR/<class>/*.png|jpg|jpeg), through libpng and
// libjpeg-turbo. Layer: engine/data. The format is told by the file's signature, never its name;
// dimensions are checked before anything is allocated; every error names the file and the problem.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace netwright {

// 8-bit pixels, interleaved: pixels[(y * width + x) * channels + c], rows top to bottom.
// channels is 1 (gray) or 3 (R, G, B) for every image the decoders return.
struct Image {
    int64_t width = 0, height = 0, channels = 0;
    std::vector<uint8_t> pixels; // [height, width, channels] (HWC), row-major

    bool empty() const { return pixels.empty(); }
};

// What a header says, without decoding the pixels: channels as decodeImage() would return them.
struct ImageInfo {
    int64_t width = 0, height = 0, channels = 0;
    std::string format; // "PNG" or "JPEG"
};

// The largest side and the most pixels a decoder accepts; larger declarations are refused from
// the header, before a pixel buffer exists (a 100000×100000 IHDR is 30 GB of RGB).
inline constexpr int64_t kMaxImageSide = 32768;
inline constexpr int64_t kMaxImagePixels = int64_t(1) << 28;
// decodeImageFile() refuses larger files before reading them.
inline constexpr uint64_t kMaxImageFileBytes = uint64_t(1) << 30;

// Decodes a whole PNG or JPEG file held in memory; `what` names it in errors (usually its path).
// Grayscale sources give 1 channel, colour sources 3:
//  - PNG: palette, low-bit gray, gray+alpha, RGBA, tRNS and 16-bit images all reduce to 8-bit
//    gray or RGB; a palette image is colour (RGB) whatever its palette holds. Alpha (and tRNS)
//    is stripped, not composited: the colour values stay as stored, as PIL's convert("RGB"/"L")
//    keeps them. 16-bit samples are scaled with rounding, v * 255 / 65535. No colour management:
//    gAMA, sRGB and iCCP chunks change no pixel (as in PIL).
//  - JPEG: grayscale stays 1 channel; YCbCr (and RGB) give RGB with libjpeg's default (islow)
//    IDCT and fancy upsampling, as PIL decodes. CMYK and YCCK are refused.
// Throws Error "Cannot decode "<what>" as PNG|JPEG: <problem> (<library's message>)." for a
// truncated file (also a JPEG whose data ends early: never a silently grey image), a corrupt
// header or data stream, an unsupported kind, or dimensions beyond the limits above; and
// "Cannot decode "<what>": not a PNG or JPEG file (it starts with …)." for anything else.
// Thread-safe: no state is shared between calls.
Image decodeImage(const uint8_t *data, size_t size, const std::string &what);

// decodeImage() of a regular file (core/file_io: a directory or a FIFO is refused, never opened
// for a blocking read), naming `path` in errors.
Image decodeImageFile(const std::string &path);

// The size and channel count of a PNG or JPEG file from a bounded prefix (the PNG IHDR, the JPEG
// markers up to the first scan), for fast folder scans. Refuses what decodeImageFile() would
// refuse from the header (unknown signature, absurd dimensions, CMYK JPEG); a file whose pixel
// data is damaged further on still passes here.
ImageInfo peekImageInfo(const std::string &path);

} // namespace netwright
