// SPDX-License-Identifier: Apache-2.0
#include "data/image_file.h"

#include "core/error.h"
#include "core/file_io.h"

// libjpeg's headers need size_t and FILE declared first.
#include <cstdio>
#include <jerror.h>
#include <jpeglib.h>
#include <png.h>

#include <algorithm>
#include <csetjmp>
#include <cstring>
#include <new>

namespace netwright {

namespace {

constexpr uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
constexpr uint8_t kJpegSignature[3] = {0xff, 0xd8, 0xff}; // SOI, then the first marker's 0xff

// peekImageInfo() reads this much first, then 16 times more while the header runs past it.
constexpr uint64_t kFirstPeekBytes = 16 * 1024;

enum class Kind { Png, Jpeg };

const char *formatName(Kind kind) { return kind == Kind::Png ? "PNG" : "JPEG"; }

[[noreturn]] void fail(const std::string &what, Kind kind, const std::string &problem)
{
    throw Error("Cannot decode \"" + what + "\" as " + formatName(kind) + ": " + problem + ".");
}

bool startsWith(const uint8_t *data, size_t size, const uint8_t *signature, size_t signatureSize)
{
    return size >= signatureSize && std::memcmp(data, signature, signatureSize) == 0;
}

// True when the whole of a short file matches the start of `signature` (a file cut inside it).
bool isCutSignature(const uint8_t *data, size_t size, const uint8_t *signature, size_t signatureSize)
{
    return size > 0 && size < signatureSize && std::memcmp(data, signature, size) == 0;
}

// "47 49 46 38, a GIF signature": the first bytes in hex, and what they look like when we know.
std::string describeStart(const uint8_t *data, size_t size)
{
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < std::min<size_t>(size, 4); ++i) {
        if (i)
            out += ' ';
        out += kHex[data[i] >> 4];
        out += kHex[data[i] & 15];
    }
    const auto has = [&](size_t offset, const char *magic) {
        const size_t n = std::strlen(magic);
        return size >= offset + n && std::memcmp(data + offset, magic, n) == 0;
    };
    if (has(0, "GIF8"))
        return out + ", a GIF signature";
    if (has(0, "BM"))
        return out + ", a BMP signature";
    if (has(0, "RIFF") && has(8, "WEBP"))
        return out + ", a WebP signature";
    if (has(0, "II*") || has(0, "MM\0*"))
        return out + ", a TIFF signature";
    const auto printable = [](uint8_t c) { return c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c < 0x7f); };
    if (std::all_of(data, data + std::min<size_t>(size, 64), printable))
        return out + ", which looks like text";
    return out;
}

Kind detect(const uint8_t *data, size_t size, const std::string &what)
{
    if (size == 0)
        throw Error("Cannot decode \"" + what + "\": the file is empty.");
    if (startsWith(data, size, kPngSignature, sizeof kPngSignature))
        return Kind::Png;
    if (startsWith(data, size, kJpegSignature, sizeof kJpegSignature))
        return Kind::Jpeg;
    if (isCutSignature(data, size, kPngSignature, sizeof kPngSignature))
        fail(what, Kind::Png, "the file is truncated (it ends after " + std::to_string(size) + " bytes, inside the signature)");
    if (isCutSignature(data, size, kJpegSignature, sizeof kJpegSignature))
        fail(what, Kind::Jpeg, "the file is truncated (it ends after " + std::to_string(size) + " bytes, inside the first marker)");
    throw Error("Cannot decode \"" + what + "\": not a PNG or JPEG file (it starts with " + describeStart(data, size) + ").");
}

// Refuses absurd dimensions from the header, before a pixel buffer is allocated.
void checkDimensions(const std::string &what, Kind kind, int64_t width, int64_t height)
{
    const std::string size = std::to_string(width) + " x " + std::to_string(height);
    if (width <= 0 || height <= 0)
        fail(what, kind, "its header declares an empty image (" + size + " pixels)");
    if (width > kMaxImageSide || height > kMaxImageSide || width * height > kMaxImagePixels)
        fail(what, kind,
             "its header declares " + size + " pixels; this reader takes at most " + std::to_string(kMaxImageSide) + " per side and "
                 + std::to_string(kMaxImagePixels) + " (2^28) in all");
}

enum class Stage { Header, Data };

// ---- PNG, through libpng with an error function that longjmps back ---------------------------------
// libpng's transforms only, none of its colour management: a gAMA, sRGB or iCCP chunk changes no
// pixel, as in PIL (libpng's simplified API would re-encode a non-sRGB gamma).

// What libpng reads from (a memory reader that refuses to run past the end) and what went wrong.
struct PngState {
    const uint8_t *data;
    size_t size, offset;
    char message[256];
    bool endOfData;
};

PngState *pngState(png_structp png) { return static_cast<PngState *>(png_get_error_ptr(png)); }

[[noreturn]] void pngError(png_structp png, png_const_charp message)
{
    PngState *state = pngState(png);
    std::snprintf(state->message, sizeof state->message, "%s", message ? message : "unknown error");
    png_longjmp(png, 1);
}

void pngWarning(png_structp, png_const_charp) {}

void pngRead(png_structp png, png_bytep out, size_t count)
{
    PngState *state = static_cast<PngState *>(png_get_io_ptr(png));
    if (count > state->size - state->offset) {
        state->endOfData = true;
        png_error(png, "read beyond end of data");
    }
    std::memcpy(out, state->data + state->offset, count);
    state->offset += count;
}

// A read struct, its info struct and its state, destroyed on scope exit. The functions that call
// libpng below hold no object with a destructor between their setjmp and libpng's longjmp.
struct PngDecoder {
    PngState state;
    png_structp png = nullptr;
    png_infop info = nullptr;

    PngDecoder(const uint8_t *data, size_t size)
    {
        std::memset(&state, 0, sizeof state);
        state.data = data;
        state.size = size;
        png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, pngError, pngWarning);
        if (png)
            info = png_create_info_struct(png);
        if (!png || !info)
            throw std::bad_alloc();
    }
    ~PngDecoder() { png_destroy_read_struct(&png, info ? &info : nullptr, nullptr); }
    PngDecoder(const PngDecoder &) = delete;
    PngDecoder &operator=(const PngDecoder &) = delete;
};

// Reads the chunks up to the first IDAT. False: state.message says why.
bool readPngHeader(PngDecoder &d)
{
    if (setjmp(png_jmpbuf(d.png)))
        return false;
    png_set_read_fn(d.png, &d.state, pngRead);
    png_read_info(d.png, d.info);
    return true;
}

// To 8-bit gray or RGB: palette to RGB, 1/2/4-bit gray to 8 bits, 16-bit samples scaled with
// rounding, alpha and tRNS transparency stripped (colour values kept as stored).
bool setPngTransforms(PngDecoder &d)
{
    if (setjmp(png_jmpbuf(d.png)))
        return false;
    const int colorType = png_get_color_type(d.png, d.info);
    const int bitDepth = png_get_bit_depth(d.png, d.info);
    if (colorType == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(d.png);
    if (colorType == PNG_COLOR_TYPE_GRAY && bitDepth < 8)
        png_set_expand_gray_1_2_4_to_8(d.png);
    if (bitDepth == 16)
        png_set_scale_16(d.png);
    // Also for tRNS: libpng 1.6's palette expansion would otherwise turn it into an alpha channel.
    if ((colorType & PNG_COLOR_MASK_ALPHA) || png_get_valid(d.png, d.info, PNG_INFO_tRNS))
        png_set_strip_alpha(d.png);
    png_set_interlace_handling(d.png);
    png_read_update_info(d.png, d.info);
    return true;
}

// Decodes every row (all passes of an interlaced image). False: state.message says why.
bool readPngRows(PngDecoder &d, png_bytep *rows)
{
    if (setjmp(png_jmpbuf(d.png)))
        return false;
    png_read_image(d.png, rows);
    // Not png_read_end(): every pixel is in; the chunks after the image data are not needed.
    return true;
}

[[noreturn]] void failPng(const std::string &what, const PngDecoder &d, Stage stage)
{
    const std::string message = d.state.message[0] ? d.state.message : "unknown error";
    std::string problem;
    if (d.state.endOfData)
        problem = "the file is truncated";
    else if (message.find("CRC") != std::string::npos)
        problem = "a chunk's checksum does not match its contents (the file is corrupt)";
    else if (stage == Stage::Header)
        problem = "the header is invalid";
    else
        problem = "the image data is corrupt";
    fail(what, Kind::Png, problem + " (libpng: " + message + ")");
}

// After readPngHeader(): 3 for colour and palette images, 1 for gray ones (alpha or not).
int64_t pngChannels(const PngDecoder &d) { return (png_get_color_type(d.png, d.info) & PNG_COLOR_MASK_COLOR) ? 3 : 1; }

Image decodePng(const uint8_t *data, size_t size, const std::string &what)
{
    PngDecoder d(data, size);
    if (!readPngHeader(d))
        failPng(what, d, Stage::Header);
    Image out;
    out.width = png_get_image_width(d.png, d.info);
    out.height = png_get_image_height(d.png, d.info);
    out.channels = pngChannels(d);
    checkDimensions(what, Kind::Png, out.width, out.height);
    if (!setPngTransforms(d))
        failPng(what, d, Stage::Header);
    const size_t rowBytes = static_cast<size_t>(out.width * out.channels);
    // libpng's own view after the transforms; anything else would be a bug in the list above.
    check(png_get_rowbytes(d.png, d.info) == rowBytes && png_get_channels(d.png, d.info) == out.channels,
          "Cannot decode \"" + what + "\" as PNG: libpng's output layout differs from the 8-bit gray/RGB expected.");
    out.pixels.resize(rowBytes * static_cast<size_t>(out.height));
    std::vector<png_bytep> rows(static_cast<size_t>(out.height));
    for (size_t y = 0; y < rows.size(); ++y)
        rows[y] = out.pixels.data() + y * rowBytes;
    if (!readPngRows(d, rows.data()))
        failPng(what, d, Stage::Data);
    return out;
}

// ---- JPEG, through libjpeg with an error manager that longjmps back instead of exit() ----------

// The error manager libjpeg calls. `pub` first: libjpeg passes &pub, we cast back to the whole.
struct JpegErrorManager {
    jpeg_error_mgr pub;
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    bool endOfFile;
};

JpegErrorManager *errorManager(j_common_ptr cinfo) { return reinterpret_cast<JpegErrorManager *>(cinfo->err); }

[[noreturn]] void jpegErrorExit(j_common_ptr cinfo)
{
    JpegErrorManager *err = errorManager(cinfo);
    (*cinfo->err->format_message)(cinfo, err->message);
    std::longjmp(err->jump, 1);
}

// Warnings (level -1) and trace messages (level >= 0) are not printed. "Premature end of JPEG
// file" is fatal here: libjpeg would fill the rest of the image with grey and carry on.
void jpegEmitMessage(j_common_ptr cinfo, int level)
{
    if (level >= 0)
        return;
    JpegErrorManager *err = errorManager(cinfo);
    if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
        err->endOfFile = true;
        (*cinfo->err->format_message)(cinfo, err->message);
        std::longjmp(err->jump, 1);
    }
    ++cinfo->err->num_warnings;
}

// A decompressor and its error manager, destroyed on scope exit. The functions that call libjpeg
// below hold no object with a destructor between their setjmp and libjpeg's longjmp.
struct JpegDecoder {
    jpeg_decompress_struct cinfo;
    JpegErrorManager err;
    bool created = false;

    JpegDecoder()
    {
        std::memset(&cinfo, 0, sizeof cinfo);
        std::memset(&err, 0, sizeof err);
        cinfo.err = jpeg_std_error(&err.pub);
        err.pub.error_exit = jpegErrorExit;
        err.pub.emit_message = jpegEmitMessage;
    }
    ~JpegDecoder()
    {
        if (created)
            jpeg_destroy_decompress(&cinfo);
    }
    JpegDecoder(const JpegDecoder &) = delete;
    JpegDecoder &operator=(const JpegDecoder &) = delete;
};

// Creates the decompressor and reads the markers up to the first scan. False: err.message says why.
bool readJpegHeader(JpegDecoder &d, const uint8_t *data, size_t size)
{
    if (setjmp(d.err.jump))
        return false;
    jpeg_create_decompress(&d.cinfo);
    d.created = true;
    jpeg_mem_src(&d.cinfo, data, static_cast<unsigned long>(size));
    jpeg_read_header(&d.cinfo, TRUE);
    return true;
}

// Sets the output colour space and lets libjpeg compute the output geometry. False: err.message
// says why.
bool prepareJpegOutput(JpegDecoder &d, J_COLOR_SPACE colorSpace)
{
    if (setjmp(d.err.jump))
        return false;
    d.cinfo.out_color_space = colorSpace;
    jpeg_calc_output_dimensions(&d.cinfo);
    return true;
}

// Decodes every scanline into `out` (rowBytes apart). False: err.message says why.
bool readJpegRows(JpegDecoder &d, uint8_t *out, size_t rowBytes)
{
    if (setjmp(d.err.jump))
        return false;
    jpeg_start_decompress(&d.cinfo);
    while (d.cinfo.output_scanline < d.cinfo.output_height) {
        JSAMPROW row = out + static_cast<size_t>(d.cinfo.output_scanline) * rowBytes;
        jpeg_read_scanlines(&d.cinfo, &row, 1);
    }
    // Not jpeg_finish_decompress(): every pixel is in; what follows the last scan is not needed.
    return true;
}

[[noreturn]] void failJpeg(const std::string &what, const JpegDecoder &d, Stage stage)
{
    std::string problem;
    if (d.err.endOfFile)
        problem = "the file is truncated";
    else if (stage == Stage::Header)
        problem = "the header is invalid";
    else
        problem = "the image data is corrupt";
    fail(what, Kind::Jpeg, problem + " (libjpeg: " + (d.err.message[0] ? d.err.message : "unknown error") + ")");
}

// After readJpegHeader(): the channels we decode to, or an error for CMYK/YCCK.
int64_t jpegChannels(const std::string &what, const jpeg_decompress_struct &cinfo)
{
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
        return 1;
    case JCS_CMYK:
    case JCS_YCCK:
        fail(what, Kind::Jpeg,
             std::string("the image is ") + (cinfo.jpeg_color_space == JCS_CMYK ? "CMYK" : "YCCK")
                 + " (print colour), which this reader does not convert; save it as RGB or grayscale");
    default:
        if (cinfo.num_components != 3)
            fail(what, Kind::Jpeg,
                 "the image has " + std::to_string(cinfo.num_components) + " colour components; only grayscale and RGB/YCbCr are read");
        return 3;
    }
}

Image decodeJpeg(const uint8_t *data, size_t size, const std::string &what)
{
    JpegDecoder d;
    if (!readJpegHeader(d, data, size))
        failJpeg(what, d, Stage::Header);
    Image out;
    out.width = d.cinfo.image_width;
    out.height = d.cinfo.image_height;
    out.channels = jpegChannels(what, d.cinfo);
    checkDimensions(what, Kind::Jpeg, out.width, out.height);
    if (!prepareJpegOutput(d, out.channels == 1 ? JCS_GRAYSCALE : JCS_RGB))
        failJpeg(what, d, Stage::Header);
    // libjpeg decides the output geometry; with no scaling asked for it is the header's. The rows
    // are written into a buffer of this size, so it is checked before a byte is decoded.
    check(int64_t(d.cinfo.output_width) == out.width && int64_t(d.cinfo.output_height) == out.height
              && int64_t(d.cinfo.output_components) == out.channels,
          "Cannot decode \"" + what + "\" as JPEG: libjpeg's output geometry differs from the header's.");
    out.pixels.resize(static_cast<size_t>(out.width * out.height * out.channels));
    if (!readJpegRows(d, out.pixels.data(), static_cast<size_t>(out.width * out.channels)))
        failJpeg(what, d, Stage::Data);
    return out;
}

// The header's view of the image, or an error; `endOfData` is set instead when the bytes end
// before the header does (the caller then reads more of the file).
ImageInfo infoFromBytes(const uint8_t *data, size_t size, const std::string &what, bool &endOfData)
{
    endOfData = false;
    ImageInfo info;
    if (detect(data, size, what) == Kind::Png) {
        PngDecoder d(data, size);
        if (!readPngHeader(d)) {
            if (d.state.endOfData) {
                endOfData = true;
                return info;
            }
            failPng(what, d, Stage::Header);
        }
        info = {png_get_image_width(d.png, d.info), png_get_image_height(d.png, d.info), pngChannels(d), "PNG"};
        checkDimensions(what, Kind::Png, info.width, info.height);
        return info;
    }
    JpegDecoder d;
    if (!readJpegHeader(d, data, size)) {
        if (d.err.endOfFile) {
            endOfData = true;
            return info;
        }
        failJpeg(what, d, Stage::Header);
    }
    info = {d.cinfo.image_width, d.cinfo.image_height, jpegChannels(what, d.cinfo), "JPEG"};
    checkDimensions(what, Kind::Jpeg, info.width, info.height);
    return info;
}

const uint8_t *bytesOf(const std::string &s) { return reinterpret_cast<const uint8_t *>(s.data()); }

} // namespace

Image decodeImage(const uint8_t *data, size_t size, const std::string &what)
{
    const Kind kind = detect(data, size, what);
    try {
        return kind == Kind::Png ? decodePng(data, size, what) : decodeJpeg(data, size, what);
    } catch (const std::bad_alloc &) {
        fail(what, kind, "not enough memory for the image its header declares");
    }
}

Image decodeImageFile(const std::string &path)
{
    const std::string bytes = readRegularFile(path, "image", kMaxImageFileBytes);
    return decodeImage(bytesOf(bytes), bytes.size(), path);
}

ImageInfo peekImageInfo(const std::string &path)
{
    for (uint64_t count = kFirstPeekBytes;; count *= 16) {
        // The whole file once a prefix would come near the largest file we decode.
        const bool whole = count >= kMaxImageFileBytes / 16;
        const std::string bytes = whole ? readRegularFile(path, "image", kMaxImageFileBytes) : readFilePrefix(path, count, "image");
        bool endOfData = false;
        ImageInfo info;
        try {
            info = infoFromBytes(bytesOf(bytes), bytes.size(), path, endOfData);
        } catch (const std::bad_alloc &) {
            throw Error("Cannot read the header of \"" + path + "\": out of memory.");
        }
        if (!endOfData)
            return info;
        if (whole || bytes.size() < count) // the file itself ends inside its header
            fail(path, detect(bytesOf(bytes), bytes.size(), path),
                 "the file is truncated (it ends after " + std::to_string(bytes.size()) + " bytes, inside the header)");
    }
}

} // namespace netwright
