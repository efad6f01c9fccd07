// SPDX-License-Identifier: Apache-2.0
#include "data/dataset.h"

#include "core/error.h"
#include "data/sample_store.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <memory>
#include <sys/stat.h>
#include <vector>

namespace netwright {

namespace {

struct GzCloser {
    void operator()(gzFile f) const { gzclose(f); }
};
using GzHandle = std::unique_ptr<std::remove_pointer_t<gzFile>, GzCloser>;

[[noreturn]] void fail(const std::string &path, const std::string &problem)
{
    throw Error("Cannot read \"" + path + "\" as IDX: " + problem);
}

// Reads up to n bytes; returns how many arrived. Throws on a gzip/zlib error.
size_t readSome(gzFile f, const std::string &path, void *dst, size_t n)
{
    size_t done = 0;
    while (done < n) {
        const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - done, 1u << 30));
        const int got = gzread(f, static_cast<char *>(dst) + done, chunk);
        if (got < 0) {
            int code = 0;
            const char *msg = gzerror(f, &code);
            fail(path, std::string("the compressed data is corrupt (") + (msg ? msg : "zlib error") + ").");
        }
        if (got == 0) {
            int code = 0;
            const char *msg = gzerror(f, &code);
            if (code != Z_OK && code != Z_STREAM_END)
                fail(path, std::string("the compressed data is truncated or corrupt (") + (msg ? msg : "zlib error") + ").");
            break;
        }
        done += static_cast<size_t>(got);
    }
    return done;
}

void requireFile(const std::string &path, const std::string &hint = {})
{
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw Error("Cannot read \"" + path + "\": " + std::strerror(errno) + "." + hint);
    if (!S_ISREG(st.st_mode))
        throw Error("Cannot read \"" + path + "\": not a regular file." + hint);
}

} // namespace

Tensor readIdxUnguarded(const std::string &path);

Tensor readIdx(const std::string &path)
{
    try {
        return readIdxUnguarded(path);
    } catch (const std::bad_alloc &) {
        throw Error("Cannot read \"" + path + "\" as IDX: not enough memory for the size its header declares.");
    }
}

Tensor readIdxUnguarded(const std::string &path)
{
    requireFile(path);
    GzHandle f(gzopen(path.c_str(), "rb"));
    if (!f)
        throw Error("Cannot open \"" + path + "\": " + std::strerror(errno) + ".");
    gzbuffer(f.get(), 1 << 17);
    unsigned char magic[4];
    if (readSome(f.get(), path, magic, 4) != 4)
        fail(path, "the file is shorter than the 4-byte header.");
    if (magic[0] != 0 || magic[1] != 0)
        fail(path, "bad magic number (first bytes " + std::to_string(magic[0]) + " " + std::to_string(magic[1])
                       + ", expected 0 0).");
    const unsigned type = magic[2], rank = magic[3];
    size_t elem = 0;
    DType dtype = DType::UInt8;
    switch (type) {
    case 0x08: elem = 1; dtype = DType::UInt8; break;
    case 0x09: elem = 1; dtype = DType::Int32; break;
    case 0x0B: elem = 2; dtype = DType::Int32; break;
    case 0x0C: elem = 4; dtype = DType::Int32; break;
    case 0x0D: elem = 4; dtype = DType::Float32; break;
    case 0x0E: elem = 8; dtype = DType::Float64; break;
    default: fail(path, "unknown element type 0x" + [&] { char b[8]; std::snprintf(b, sizeof b, "%02x", type); return std::string(b); }() + ".");
    }
    if (rank < 1 || rank > 8)
        fail(path, "rank " + std::to_string(rank) + " is outside 1…8.");
    Shape shape;
    for (unsigned d = 0; d < rank; ++d) {
        unsigned char b[4];
        if (readSome(f.get(), path, b, 4) != 4)
            fail(path, "the file ends inside the dimension list.");
        shape.push_back((int64_t(b[0]) << 24) | (int64_t(b[1]) << 16) | (int64_t(b[2]) << 8) | int64_t(b[3]));
    }
    constexpr int64_t kMaxBytes = int64_t(1) << 36; // 64 GiB: beyond any dataset we can hold
    int64_t count = 1;
    for (int64_t d : shape) {
        if (d != 0 && count > kMaxBytes / static_cast<int64_t>(elem) / d)
            fail(path, "the header declares " + shapeToString(shape) + ", an absurd size.");
        count *= d;
    }
    const size_t want = static_cast<size_t>(count) * elem;
    if (gzdirect(f.get())) { // a plain file: its size is known before anything is allocated
        struct stat st {};
        ::stat(path.c_str(), &st);
        const int64_t have = static_cast<int64_t>(st.st_size) - 4 - 4 * static_cast<int64_t>(rank);
        if (have < static_cast<int64_t>(want))
            fail(path, "truncated: the header " + shapeToString(shape) + " needs " + std::to_string(want)
                           + " bytes of data, the file has " + std::to_string(std::max<int64_t>(0, have)) + ".");
    }
    // Read in chunks so a lying header costs at most what the (decompressed) file really holds.
    std::vector<unsigned char> bytes;
    while (bytes.size() < want) {
        const size_t chunk = std::min<size_t>(want - bytes.size(), size_t(16) << 20);
        const size_t old = bytes.size();
        bytes.resize(old + chunk);
        const size_t got = readSome(f.get(), path, bytes.data() + old, chunk);
        if (got < chunk)
            fail(path, "truncated: the header " + shapeToString(shape) + " needs " + std::to_string(want)
                           + " bytes of data, the file has " + std::to_string(old + got) + ".");
    }
    unsigned char extra;
    if (readSome(f.get(), path, &extra, 1) != 0)
        fail(path, "there are bytes after the " + std::to_string(want) + " the header " + shapeToString(shape) + " declares.");

    Tensor t(shape, dtype);
    auto be = [&](size_t i, size_t n) {
        uint64_t v = 0;
        for (size_t k = 0; k < n; ++k)
            v = (v << 8) | bytes[i * n + k];
        return v;
    };
    const size_t n = static_cast<size_t>(count);
    switch (type) {
    case 0x08: std::memcpy(t.raw(), bytes.data(), n); break;
    case 0x09: for (size_t i = 0; i < n; ++i) t.dataAs<int32_t>()[i] = static_cast<int8_t>(bytes[i]); break;
    case 0x0B: for (size_t i = 0; i < n; ++i) t.dataAs<int32_t>()[i] = static_cast<int16_t>(be(i, 2)); break;
    case 0x0C: for (size_t i = 0; i < n; ++i) t.dataAs<int32_t>()[i] = static_cast<int32_t>(be(i, 4)); break;
    case 0x0D: for (size_t i = 0; i < n; ++i) { uint32_t u = static_cast<uint32_t>(be(i, 4)); std::memcpy(t.dataAs<float>() + i, &u, 4); } break;
    case 0x0E: for (size_t i = 0; i < n; ++i) { uint64_t u = be(i, 8); std::memcpy(t.dataAs<double>() + i, &u, 8); } break;
    }
    return t;
}

Dataset loadIdxDataset(const std::string &imagesPath, const std::string &labelsPath)
{
    Tensor images = readIdx(imagesPath);
    Tensor labels = readIdx(labelsPath);
    if (labels.rank() != 1 || (labels.dtype() != DType::UInt8 && labels.dtype() != DType::Int32))
        throw Error("Cannot use \"" + labelsPath + "\" as labels: expected a 1-D integer IDX file, found "
                    + dtypeName(labels.dtype()) + " " + shapeToString(labels.shape()) + ".");
    if (images.rank() < 2)
        throw Error("Cannot use \"" + imagesPath + "\" as images: expected [N, …], found " + shapeToString(images.shape()) + ".");
    if (images.dim(0) != labels.dim(0))
        throw Error("\"" + imagesPath + "\" holds " + std::to_string(images.dim(0)) + " samples but \"" + labelsPath
                    + "\" holds " + std::to_string(labels.dim(0)) + " labels.");
    Dataset ds;
    ds.name = imagesPath;
    if (images.rank() == 3) // [N,H,W] → [N,1,H,W]
        images = images.reshaped({images.dim(0), 1, images.dim(1), images.dim(2)});
    if (images.dtype() != DType::UInt8 && images.dtype() != DType::Float32) {
        Tensor f(images.shape());
        for (int64_t i = 0; i < images.numel(); ++i)
            f.data()[i] = images.dtype() == DType::Int32 ? static_cast<float>(images.dataAs<int32_t>()[i])
                                                          : static_cast<float>(images.dataAs<double>()[i]);
        images = f;
    }
    ds.features = images;
    ds.labels = Tensor({labels.dim(0)}, DType::Int64);
    int64_t maxLabel = -1;
    for (int64_t i = 0; i < labels.numel(); ++i) {
        const int64_t v = labels.dtype() == DType::UInt8 ? labels.dataAs<uint8_t>()[i] : labels.dataAs<int32_t>()[i];
        if (v < 0)
            throw Error("\"" + labelsPath + "\": label " + std::to_string(v) + " at index " + std::to_string(i) + " is negative.");
        ds.labels.dataAs<int64_t>()[i] = v;
        maxLabel = std::max(maxLabel, v);
    }
    ds.classes = maxLabel + 1;
    return ds;
}

Dataset loadCsvDataset(const std::string &path, bool hasHeader)
{
    requireFile(path);
    std::ifstream in(path);
    if (!in)
        throw Error("Cannot open \"" + path + "\": " + std::strerror(errno) + ".");
    std::vector<float> values;
    std::vector<int64_t> labels;
    std::string line;
    int64_t lineNo = 0, columns = -1, maxLabel = -1;
    while (std::getline(in, line)) {
        ++lineNo;
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if ((hasHeader && lineNo == 1) || line.find_first_not_of(" \t") == std::string::npos)
            continue;
        int64_t col = 0;
        size_t pos = 0;
        while (true) {
            const size_t comma = line.find(',', pos);
            std::string cell = line.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
            const size_t a = cell.find_first_not_of(" \t"), b = cell.find_last_not_of(" \t");
            cell = a == std::string::npos ? std::string() : cell.substr(a, b - a + 1);
            float v = 0.0f;
            auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
            if (cell.empty() || ec != std::errc() || end != cell.data() + cell.size())
                throw Error("\"" + path + "\" line " + std::to_string(lineNo) + ", column " + std::to_string(col + 1)
                            + ": \"" + cell + "\" is not a number.");
            if (col == 0) {
                if (v < 0 || v != static_cast<float>(static_cast<int64_t>(v)))
                    throw Error("\"" + path + "\" line " + std::to_string(lineNo) + ": the label \"" + cell
                                + "\" is not a class number (0, 1, 2, …).");
                labels.push_back(static_cast<int64_t>(v));
                maxLabel = std::max(maxLabel, labels.back());
            } else {
                values.push_back(v);
            }
            ++col;
            if (comma == std::string::npos)
                break;
            pos = comma + 1;
        }
        if (columns < 0)
            columns = col;
        else if (col != columns)
            throw Error("\"" + path + "\" line " + std::to_string(lineNo) + " has " + std::to_string(col)
                        + " columns; earlier rows have " + std::to_string(columns) + ".");
        if (columns < 2)
            throw Error("\"" + path + "\" line " + std::to_string(lineNo) + ": a row needs a label and at least one feature.");
    }
    if (in.bad())
        throw Error("Cannot read \"" + path + "\": a read error after line " + std::to_string(lineNo) + ".");
    if (labels.empty())
        throw Error("\"" + path + "\" holds no samples.");
    Dataset ds;
    ds.name = path;
    const int64_t n = static_cast<int64_t>(labels.size());
    ds.features = Tensor::fromVector({n, columns - 1}, values);
    ds.labels = Tensor::fromInt64({n}, labels);
    ds.classes = maxLabel + 1;
    return ds;
}

Shape Dataset::sampleShape() const
{
    if (store)
        return store->sampleShape();
    return Shape(features.shape().begin() + 1, features.shape().end());
}

DType Dataset::featureType() const
{
    return store ? store->dtype() : features.dtype();
}

void Dataset::readSample(int64_t i, void *dst) const
{
    if (store)
        return store->read(i, dst);
    const size_t bytes = features.byteSize() / static_cast<size_t>(features.dim(0));
    std::memcpy(dst, static_cast<const uint8_t *>(features.raw()) + static_cast<size_t>(i) * bytes, bytes);
}

std::string defaultFashionMnistDir()
{
    return "/usr/share/datasets/fashion-mnist";
}

} // namespace netwright
