// SPDX-License-Identifier: Apache-2.0
#include "formats/mindspore/ckpt_file.h"

#include "core/atomic_file.h"
#include "core/error.h"
#include "formats/protobuf_wire.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

namespace netwright::mindspore {

namespace {

constexpr char kCrcMagic[] = "crc_num";
constexpr size_t kTrailerSize = 17;

struct TypeName {
    DType type;
    const char *name;
};
constexpr TypeName kTypes[] = {
    {DType::Bool, "Bool"},       {DType::Int8, "Int8"},       {DType::UInt8, "UInt8"},     {DType::Int16, "Int16"},
    {DType::UInt16, "UInt16"},   {DType::Int32, "Int32"},     {DType::UInt32, "UInt32"},   {DType::Int64, "Int64"},
    {DType::UInt64, "UInt64"},   {DType::Float16, "Float16"}, {DType::Float32, "Float32"}, {DType::Float64, "Float64"},
    {DType::BFloat16, "BFloat16"},
};

bool typeFromName(std::string_view name, DType &out)
{
    for (const auto &t : kTypes)
        if (name == t.name) {
            out = t.type;
            return true;
        }
    return false;
}

// UTF-8 → UTF-32LE and back; invalid sequences are errors naming the entry.
std::string utf8ToUtf32le(const std::string &s, const std::string &entry)
{
    std::string out;
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        uint32_t cp = 0;
        int extra = 0;
        if (c < 0x80) { cp = c; extra = 0; }
        else if ((c >> 5) == 6) { cp = c & 0x1f; extra = 1; }
        else if ((c >> 4) == 14) { cp = c & 0x0f; extra = 2; }
        else if ((c >> 3) == 30) { cp = c & 0x07; extra = 3; }
        else throw Error("Checkpoint entry \"" + entry + "\": the string is not valid UTF-8.");
        for (int k = 1; k <= extra; ++k) {
            check(i + k < s.size() && (static_cast<unsigned char>(s[i + k]) >> 6) == 2,
                  "Checkpoint entry \"" + entry + "\": the string is not valid UTF-8.");
            cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
        }
        i += extra + 1;
        for (int k = 0; k < 4; ++k)
            out.push_back(static_cast<char>((cp >> (8 * k)) & 0xff));
    }
    if (out.empty())
        out.assign(4, '\0'); // numpy writes "" as one NUL code point
    return out;
}

std::string utf32leToUtf8(std::string_view b, const std::string &context)
{
    std::string out;
    for (size_t i = 0; i + 4 <= b.size(); i += 4) {
        const uint32_t cp = static_cast<uint8_t>(b[i]) | static_cast<uint8_t>(b[i + 1]) << 8 | static_cast<uint8_t>(b[i + 2]) << 16
                            | static_cast<uint32_t>(static_cast<uint8_t>(b[i + 3])) << 24;
        if (cp > 0x10ffff)
            throw Error(context + ": a string holds the invalid code point " + std::to_string(cp) + ".");
        if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
        } else if (cp < 0x10000) {
            out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
        } else {
            out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
        }
    }
    while (!out.empty() && out.back() == '\0') // numpy strips trailing NULs
        out.pop_back();
    return out;
}

// One record: 0a <len> Value{ 0a tag, 12 TensorProto{ 08 dims…, 12 type, 1a <content> } }, with
// the content appended by the caller (so tensor bytes need not be copied).
std::string recordHeader(const std::string &tag, const Shape &dims, bool hasDims, const std::string &type, uint64_t contentSize)
{
    std::string tensor;
    if (hasDims)
        for (int64_t d : dims) {
            wire::putKey(tensor, 1, wire::kVarint);
            wire::putVarint(tensor, static_cast<uint64_t>(d));
        }
    wire::putLen(tensor, 2, type);
    wire::putKey(tensor, 3, wire::kLen);
    wire::putVarint(tensor, contentSize);
    const uint64_t tensorSize = tensor.size() + contentSize;
    std::string value;
    wire::putLen(value, 1, tag);
    wire::putKey(value, 2, wire::kLen);
    wire::putVarint(value, tensorSize);
    const uint64_t valueSize = value.size() + tensorSize;
    std::string out;
    wire::putKey(out, 1, wire::kLen);
    wire::putVarint(out, valueSize);
    return out + value + tensor;
}

// Calls sink(bytes) for every piece of the file, in order (the trailer last).
template<typename Sink>
void emit(const std::vector<CkptEntry> &entries, const CkptWriteOptions &options, Sink &&sink)
{
    check(options.chunkBytes > 0, "Checkpoint chunk size must be positive.");
    uLong crc = crc32(0L, Z_NULL, 0);
    auto out = [&](std::string_view b) {
        if (options.crc)
            crc = crc32_z(crc, reinterpret_cast<const Bytef *>(b.data()), b.size());
        sink(b);
    };
    for (const CkptEntry &e : entries) {
        check(!e.name.empty(), "A checkpoint entry needs a name.");
        if (e.isString) {
            const std::string content = utf8ToUtf32le(e.text, e.name);
            out(recordHeader(e.name, {0}, true, "str", content.size()));
            out(content);
            continue;
        }
        check(e.tensor.defined(), "Checkpoint entry \"" + e.name + "\" has no tensor.");
        const std::string type = mindsporeTypeName(e.tensor.dtype());
        const Shape &shape = e.tensor.shape();
        const uint64_t total = e.tensor.byteSize();
        const char *data = static_cast<const char *>(e.tensor.raw());
        // The byte path: pieces of chunkBytes, each with the full dims. An element is never split
        // because MindSpore's 512 MiB is a multiple of every element size; an injected size is
        // rounded down to whole elements.
        const uint64_t elem = dtypeSize(e.tensor.dtype());
        const uint64_t chunk = std::max<uint64_t>(elem, options.chunkBytes / elem * elem);
        uint64_t done = 0;
        do {
            const uint64_t n = std::min(chunk, total - done);
            out(recordHeader(e.name, shape, !shape.empty(), type, n));
            out(std::string_view(data + done, static_cast<size_t>(n)));
            done += n;
        } while (done < total);
    }
    if (options.crc) {
        std::string trailer(kCrcMagic, 7);
        trailer.append(6, '\0');
        for (int k = 3; k >= 0; --k)
            trailer.push_back(static_cast<char>((crc >> (8 * k)) & 0xff));
        sink(trailer);
    }
}

struct RawRecord {
    std::string_view tag, type, content;
    Shape dims;
    bool isMap = false;
    Tensor contentRead; // the content, already read from the file into a tensor of the record's dims
};

RawRecord parseValue(std::string_view bytes, const std::string &context, uint64_t offset)
{
    RawRecord r;
    bool haveTag = false, haveTensor = false;
    wire::Reader v(bytes, context, offset);
    while (!v.atEnd()) {
        wire::WireType t;
        const uint32_t f = v.key(t);
        if (f == 1 && t == wire::kLen) {
            r.tag = v.lengthDelimited();
            haveTag = true;
        } else if (f == 2 && t == wire::kLen) {
            const uint64_t at = v.fileOffset();
            wire::Reader tp(v.lengthDelimited(), context, at + 1);
            haveTensor = true;
            bool haveType = false, haveContent = false;
            while (!tp.atEnd()) {
                wire::WireType tt;
                const uint32_t tf = tp.key(tt);
                if (tf == 1 && tt == wire::kVarint) {
                    r.dims.push_back(static_cast<int64_t>(tp.varint()));
                } else if (tf == 1 && tt == wire::kLen) { // packed dims
                    wire::Reader packed(tp.lengthDelimited(), context, tp.fileOffset());
                    while (!packed.atEnd())
                        r.dims.push_back(static_cast<int64_t>(packed.varint()));
                } else if (tf == 2 && tt == wire::kLen) {
                    r.type = tp.lengthDelimited();
                    haveType = true;
                } else if (tf == 3 && tt == wire::kLen) {
                    r.content = tp.lengthDelimited();
                    haveContent = true;
                } else if (tf <= 3) {
                    tp.fail("TensorProto field " + std::to_string(tf) + " has wire type " + std::to_string(tt)
                            + ", expected " + (tf == 1 ? "0" : "2"));
                } else {
                    tp.skip(tt);
                }
            }
            if (!haveType || !haveContent)
                tp.fail(std::string("a TensorProto lacks its required ") + (haveType ? "tensor_content" : "tensor_type"));
        } else if (f == 3 && t == wire::kLen) {
            v.lengthDelimited();
            r.isMap = true;
        } else if (f <= 3) {
            v.fail("Checkpoint.Value field " + std::to_string(f) + " has wire type " + std::to_string(t) + ", expected 2");
        } else {
            v.skip(t);
        }
    }
    if (!haveTag)
        v.fail("a Checkpoint.Value lacks its required tag");
    if (!haveTensor && !r.isMap)
        v.fail("entry \"" + std::string(r.tag) + "\" holds neither a tensor nor a map tensor");
    return r;
}

// Where tensor contents are copied from. Without a file they are copied out of the parsed bytes;
// readCkpt() gives the file the bytes were mapped from, and a large content is then read with
// pread() straight into the tensor, at its offset in the file: the map is only parsed (its header
// pages are all it faults in) and each tensor byte crosses memory once, as in a plain read().
struct ContentFile {
    int fd = -1;
    const char *base = nullptr; // the first mapped byte: a content's file offset is data() - base
    uint64_t size = 0;
    const std::string *path = nullptr;
};

// Below a page a content is copied from the map: it lies on its header's page, which the parser
// has just touched.
constexpr size_t kDirectReadBytes = 4096;

void copyContent(char *dst, std::string_view content, const ContentFile *file)
{
    if (!file || content.size() < kDirectReadBytes) {
        std::memcpy(dst, content.data(), content.size());
        return;
    }
    uint64_t offset = static_cast<uint64_t>(content.data() - file->base);
    size_t left = content.size();
    // The next record's header follows the content: read its first page with the content, through
    // the file's sequential stream, so that the parser finds it in the page cache instead of
    // faulting on a page the kernel's readahead is still filling.
    char next[4096];
    const size_t tail = static_cast<size_t>(std::min<uint64_t>(sizeof next, file->size - offset - left));
    while (left) {
        // Linux moves at most 0x7ffff000 bytes per call; a signal may cut a read short.
        const size_t want = std::min<size_t>(left, size_t(1) << 30);
        iovec iov[2] = {{dst, want}, {next, want == left ? tail : 0}};
        const ssize_t n = ::preadv(file->fd, iov, iov[1].iov_len ? 2 : 1, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw Error("Cannot read \"" + *file->path + "\": " + std::strerror(errno) + ".");
        if (n == 0) // the file was cut short while it was read
            throw Error("Cannot read \"" + *file->path + "\": it ended at byte " + std::to_string(offset)
                        + " while it was read (did something truncate it?).");
        const size_t got = std::min<size_t>(static_cast<size_t>(n), want);
        dst += got;
        offset += got;
        left -= got;
    }
}

CkptFile decodePlain(std::string_view bytes, const std::string &source, bool verifyCrc, const ContentFile *contentFile);

} // namespace

std::string mindsporeTypeName(DType type)
{
    for (const auto &t : kTypes)
        if (t.type == type)
            return t.name;
    throw Error("MindSpore checkpoints cannot hold " + dtypeName(type) + " tensors.");
}

std::string encodeCkpt(const std::vector<CkptEntry> &entries, const CkptWriteOptions &options)
{
    std::string out;
    emit(entries, options, [&](std::string_view b) { out.append(b); });
    return out;
}

void writeCkpt(const std::string &path, const std::vector<CkptEntry> &entries, const CkptWriteOptions &options)
{
    check(options.key.empty() || !options.crc, "A checkpoint is either encrypted or given a CRC trailer, not both (as in MindSpore).");
    AtomicFileWriter file(path);
    if (options.key.empty()) {
        emit(entries, options, [&](std::string_view b) { file.write(b); });
    } else {
        BlockEncryptor blocks(options.key, [&](std::string_view b) { file.write(b); }, options.encryptPieceBytes);
        emit(entries, options, [&](std::string_view b) { blocks.write(b); });
        blocks.finish();
    }
    file.commit();
}

CkptFile decodeCkpt(std::string_view bytes, const std::string &source, bool verifyCrc, const EncryptionKey &key)
{
    if (encryptedMode(bytes)) {
        const std::string plain = decryptMindspore(bytes, key, source); // names a missing or wrong key
        try {
            return decodeCkpt(plain, source, verifyCrc);
        } catch (const Error &e) {
            throw Error(std::string(e.what()) + " (It was decrypted first: with " + encModeName(*encryptedMode(bytes))
                        + " a wrong key can give such bytes; check the key file.)");
        }
    }
    return decodePlain(bytes, source, verifyCrc, nullptr);
}

namespace {

CkptFile decodePlain(std::string_view bytes, const std::string &source, bool verifyCrc, const ContentFile *contentFile)
{
    const std::string context = "Cannot read \"" + source + "\" as a MindSpore checkpoint";
    CkptFile file;
    if (bytes.size() >= kTrailerSize && bytes.substr(bytes.size() - kTrailerSize, 7) == std::string_view(kCrcMagic, 7)) {
        const std::string_view trailer = bytes.substr(bytes.size() - 10);
        bytes = bytes.substr(0, bytes.size() - kTrailerSize);
        file.hasCrc = true;
        if (verifyCrc) {
            uint64_t stored = 0;
            for (char c : trailer)
                stored = (stored << 8) | static_cast<uint8_t>(c);
            const uLong actual = crc32_z(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef *>(bytes.data()), bytes.size());
            if (stored != actual)
                throw Error(context + ": the CRC-32 trailer does not match the contents (stored " + std::to_string(stored)
                            + ", computed " + std::to_string(actual) + "); the file is damaged.");
        }
    }
    if (bytes.empty())
        throw Error(context + ": the file is empty.");
    wire::Reader r(bytes, context);
    std::vector<RawRecord> run;
    std::string runContent;
    auto flush = [&]() {
        if (run.empty())
            return;
        const RawRecord &last = run.back();
        CkptEntry e;
        e.name = std::string(last.tag);
        size_t total = 0;
        for (const auto &rec : run)
            total += rec.content.size();
        if (last.type == "str") {
            if (total % 4 != 0)
                throw Error(context + ": string entry \"" + e.name + "\" has " + std::to_string(total)
                            + " bytes, not a multiple of 4 (UTF-32).");
            std::string joined;
            joined.reserve(total);
            for (const auto &rec : run)
                joined.append(rec.content);
            e.isString = true;
            e.text = utf32leToUtf8(joined, context + ", entry \"" + e.name + "\"");
        } else {
            DType type;
            if (!typeFromName(last.type, type))
                throw Error(context + ": entry \"" + e.name + "\" has the tensor type \"" + std::string(last.type)
                            + "\", which Netwright cannot read.");
            Shape dims = last.dims;
            if (dims == Shape{0})
                dims.clear(); // MindSpore's loader reads dims [0] as a scalar
            for (int64_t d : dims)
                if (d < 0 || d > (int64_t(1) << 40))
                    throw Error(context + ": entry \"" + e.name + "\" has the dimension " + std::to_string(d) + ".");
            // Check the size before allocating: the bytes are in the file, the dims may lie.
            long double expect = static_cast<long double>(dtypeSize(type));
            for (int64_t d : dims)
                expect *= static_cast<long double>(d);
            if (expect != static_cast<long double>(total))
                throw Error(context + ": entry \"" + e.name + "\" (" + std::string(last.type) + " " + shapeToString(dims)
                            + ") needs " + std::to_string(static_cast<uint64_t>(expect)) + " bytes but holds "
                            + std::to_string(total) + ".");
            if (run.size() == 1 && run[0].contentRead.defined()) {
                e.tensor = std::move(run[0].contentRead); // read as it was parsed: these dims and type
            } else {
                e.tensor = Tensor(dims, type);
                char *dst = static_cast<char *>(e.tensor.raw());
                for (const auto &rec : run) {
                    if (rec.contentRead.defined())
                        std::memcpy(dst, rec.contentRead.raw(), rec.content.size());
                    else
                        copyContent(dst, rec.content, contentFile);
                    dst += rec.content.size();
                }
            }
        }
        file.entries.push_back(std::move(e));
        run.clear();
    };
    while (!r.atEnd()) {
        wire::WireType t;
        const uint64_t at = r.fileOffset();
        const uint32_t f = r.key(t);
        if (f != 1 || t != wire::kLen) {
            if (f == 1)
                r.fail("field 1 (value) has wire type " + std::to_string(t) + ", expected 2 — this is not a Checkpoint message");
            r.skip(t);
            continue;
        }
        const uint64_t valueAt = r.fileOffset();
        RawRecord rec = parseValue(r.lengthDelimited(), context, valueAt + 1);
        if (rec.isMap)
            throw Error(context + ": entry \"" + std::string(rec.tag) + "\" is a MapParameter (hash-table embedding), "
                        + "which Netwright does not read (at byte " + std::to_string(at) + ").");
        if (!run.empty() && run.back().tag != rec.tag)
            flush();
        // From a file, a large content that is a whole tensor by itself (the usual record: the checks
        // in flush() pass for it alone) is read now, before the next header is parsed: the parser
        // then never touches a page ahead of the file's sequential read. A run that turns out to
        // continue copies it from here; nothing else changes.
        if (contentFile && rec.content.size() >= kDirectReadBytes && rec.type != "str")
            if (DType type; typeFromName(rec.type, type)
                            && std::all_of(rec.dims.begin(), rec.dims.end(), [](int64_t d) { return d >= 0 && d <= (int64_t(1) << 40); })) {
                long double expect = static_cast<long double>(dtypeSize(type));
                for (int64_t d : rec.dims)
                    expect *= static_cast<long double>(d);
                if (rec.dims != Shape{0} && expect == static_cast<long double>(rec.content.size())) {
                    rec.contentRead = Tensor(rec.dims, type);
                    copyContent(static_cast<char *>(rec.contentRead.raw()), rec.content, contentFile);
                }
            }
        run.push_back(std::move(rec));
    }
    flush();
    if (file.entries.empty())
        throw Error(context + ": it holds no checkpoint entries.");
    return file;
}

} // namespace

CkptFile readCkpt(const std::string &path, bool verifyCrc, const EncryptionKey &key)
{
    // O_NONBLOCK: a FIFO named like a checkpoint is refused below, never waited on.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        throw Error("Cannot open \"" + path + "\": " + std::strerror(errno) + ".");
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw Error("Cannot read \"" + path + "\": not a regular file.");
    }
    const size_t size = static_cast<size_t>(st.st_size);
    if (size == 0) {
        ::close(fd);
        return decodeCkpt({}, path, verifyCrc, key);
    }
    // Mapped for parsing: the records are read in place, and only the pages the parser touches (the
    // headers) come in through the map. Tensor contents are read from the file straight into the
    // tensors (copyContent), never faulted in through the map and copied again.
    void *map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    const int err = errno;
    struct Release {
        void *p;
        size_t n;
        int fd;
        ~Release()
        {
            if (p != MAP_FAILED)
                ::munmap(p, n);
            ::close(fd);
        }
    } guard{map, size, fd};
    if (map == MAP_FAILED)
        throw Error("Cannot read \"" + path + "\": " + std::strerror(err) + ".");
    const std::string_view bytes(static_cast<const char *>(map), size);
    // Random: a fault on the map (a header, the trailer) reads its one page. The default read-around
    // reads read_ahead_kb around it (8 MiB on a virtio disk) and waits for it, twice before the
    // first tensor (the trailer check at the end, the first header), and disturbs the readahead
    // of the sequential pread() stream, which shares the open file's readahead state.
    ::madvise(map, size, MADV_RANDOM);
    const bool checksCrc = verifyCrc && size >= kTrailerSize && bytes.substr(size - kTrailerSize, 7) == std::string_view(kCrcMagic, 7);
    if (encryptedMode(bytes) || checksCrc) {
        // Decryption and the CRC-32 check go through every byte of the map first: read it ahead,
        // and copy the tensors from it.
        ::madvise(map, size, MADV_SEQUENTIAL);
        return decodeCkpt(bytes, path, verifyCrc, key);
    }
    const ContentFile file{fd, bytes.data(), size, &path};
    return decodePlain(bytes, path, verifyCrc, &file);
}

} // namespace netwright::mindspore
