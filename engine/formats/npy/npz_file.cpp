// SPDX-License-Identifier: Apache-2.0
#include "formats/npy/npz_file.h"

#include "core/error.h"
#include "core/file_io.h"
#include "formats/npy/npy_file.h"

#include <zip.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <new>
#include <string_view>

namespace netwright {

namespace {

constexpr std::string_view kSuffix = ".npy";
// No member larger than this is read, whatever the archive holds: beyond any training set that
// fits in memory, and far below what a forged 64-bit size could ask for.
constexpr uint64_t kMaxMemberBytes = uint64_t(64) << 30;
// Deflate expands at most about 1032:1; a member declaring more is damaged or a zip bomb.
constexpr uint64_t kMaxDeflateRatio = 1032;
constexpr uint64_t kChunkBytes = uint64_t(4) << 20;

[[noreturn]] void fail(const std::string &path, const std::string &problem)
{
    throw Error("Cannot read \"" + path + "\" as a NumPy .npz archive: " + problem + ".");
}

std::string zipErrorText(int code)
{
    zip_error_t e;
    zip_error_init_with_code(&e, code);
    std::string text = zip_error_strerror(&e);
    zip_error_fini(&e);
    return text;
}

struct ArchiveCloser {
    // Read-only: discard, never zip_close (which would try to write changes back).
    void operator()(zip_t *z) const { zip_discard(z); }
};
struct MemberCloser {
    void operator()(zip_file_t *f) const { zip_fclose(f); }
};
using Archive = std::unique_ptr<zip_t, ArchiveCloser>;
using MemberFile = std::unique_ptr<zip_file_t, MemberCloser>;

Archive openArchive(const std::string &path)
{
    // Only a regular file reaches libzip: a FIFO or a device would block its reads.
    if (regularFileSize(path, "NumPy archive") == 0)
        fail(path, "the file is empty, not a zip archive");
    int code = ZIP_ER_OK;
    zip_t *z = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
    if (z)
        return Archive(z);
    if (code == ZIP_ER_NOZIP) {
        if (readFilePrefix(path, 4, "NumPy archive") == std::string_view("PK\x03\x04", 4))
            fail(path, "a truncated or damaged zip archive: it starts like one, but the central directory that ends a zip is missing");
        fail(path, "not a zip archive (np.savez writes one)");
    }
    if (code == ZIP_ER_INCONS)
        fail(path, "the zip archive is inconsistent (damaged or truncated): its directory does not match its members");
    fail(path, "libzip cannot open it: " + zipErrorText(code));
}

std::vector<std::string> arrayNames(zip_t *z)
{
    std::vector<std::string> names;
    const zip_int64_t count = zip_get_num_entries(z, 0);
    for (zip_int64_t i = 0; i < count; ++i) {
        const char *member = zip_get_name(z, static_cast<zip_uint64_t>(i), 0);
        if (!member)
            continue;
        const std::string_view n(member);
        if (n.size() > kSuffix.size() && n.ends_with(kSuffix))
            names.emplace_back(n.substr(0, n.size() - kSuffix.size()));
    }
    return names;
}

std::string quotedList(const std::vector<std::string> &names)
{
    std::string s;
    for (size_t i = 0; i < names.size(); ++i)
        s += (i ? ", \"" : "\"") + names[i] + "\"";
    return s;
}

[[noreturn]] void failRead(const std::string &path, const std::string &member, zip_error_t *error)
{
    const int code = zip_error_code_zip(error);
    const std::string detail = zip_error_strerror(error);
    const std::string subject = "member \"" + member + "\"";
    switch (code) {
    case ZIP_ER_CRC:
        fail(path, subject + " is corrupt: CRC error (its data does not match the checksum the archive records)");
    case ZIP_ER_ZLIB:
    case ZIP_ER_COMPRESSED_DATA:
        fail(path, subject + " is corrupt: its compressed data does not inflate (" + detail + ")");
    case ZIP_ER_EOF:
    case ZIP_ER_INCONS:
    case ZIP_ER_READ:
        fail(path, subject + " is truncated or damaged (" + detail + ")");
    default:
        fail(path, subject + " cannot be read (" + detail + ")");
    }
}

} // namespace

std::vector<std::string> npzArrayNames(const std::string &path)
{
    const Archive archive = openArchive(path);
    return arrayNames(archive.get());
}

Tensor readNpzArray(const std::string &path, const std::string &name)
{
    const Archive archive = openArchive(path);
    zip_t *z = archive.get();
    const std::string member = name + std::string(kSuffix);
    const zip_int64_t index = zip_name_locate(z, member.c_str(), 0);
    if (index < 0) {
        const std::vector<std::string> names = arrayNames(z);
        const std::string present = names.empty() ? std::string("the archive holds no arrays") : "the arrays present are " + quotedList(names);
        if (!name.empty() && zip_name_locate(z, name.c_str(), 0) >= 0)
            fail(path, "member \"" + name + "\" is not a .npy array (an array is a member named \"<name>.npy\"); " + present);
        fail(path, "no array \"" + name + "\" (no member \"" + member + "\"); " + present);
    }

    // The declared size, checked before anything is allocated.
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z, static_cast<zip_uint64_t>(index), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE)
        || !(st.valid & ZIP_STAT_COMP_METHOD))
        fail(path, "member \"" + member + "\" has no size in the zip directory");
    const std::string subject = "member \"" + member + "\"";
    if (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE)
        fail(path, subject + " uses zip compression method " + std::to_string(st.comp_method)
                       + "; np.savez stores members and np.savez_compressed deflates them, and this reader takes those two");
    if (st.size > kMaxMemberBytes)
        fail(path, subject + " declares " + std::to_string(st.size) + " bytes, more than the " + std::to_string(kMaxMemberBytes) + " this reader takes");
    if (st.comp_method == ZIP_CM_STORE && st.size != st.comp_size)
        fail(path, subject + " is stored uncompressed but declares " + std::to_string(st.size) + " bytes from " + std::to_string(st.comp_size));
    if (st.comp_method == ZIP_CM_DEFLATE && st.size / kMaxDeflateRatio > st.comp_size)
        fail(path, subject + " declares " + std::to_string(st.size) + " bytes from " + std::to_string(st.comp_size)
                       + " deflated, more than deflate can expand to: damaged, or a zip bomb");

    MemberFile file(zip_fopen_index(z, static_cast<zip_uint64_t>(index), 0));
    if (!file)
        failRead(path, member, zip_get_error(z));
    std::string bytes;
    try {
        bytes.reserve(static_cast<size_t>(st.size) + 1); // + 1: room to notice data past the declared size
    } catch (const std::bad_alloc &) {
        fail(path, subject + " declares " + std::to_string(st.size) + " bytes, more memory than this process can get");
    }
    // Read in chunks: the buffer grows only with data that really arrives, up to one byte more
    // than declared (which is refused), and libzip checks the CRC when the member ends.
    while (true) {
        const size_t done = bytes.size();
        const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunkBytes, st.size + 1 - done));
        bytes.resize(done + want);
        const zip_int64_t n = zip_fread(file.get(), bytes.data() + done, want);
        if (n < 0)
            failRead(path, member, zip_file_get_error(file.get()));
        bytes.resize(done + static_cast<size_t>(n));
        if (bytes.size() > st.size)
            fail(path, subject + " is corrupt: it inflates to more than the " + std::to_string(st.size) + " bytes its zip entry declares");
        if (n == 0)
            break;
    }
    if (bytes.size() != st.size)
        fail(path, subject + " is truncated: it holds " + std::to_string(bytes.size()) + " bytes, its zip entry declares " + std::to_string(st.size));
    return decodeNpy(bytes, path + "/" + member);
}

} // namespace netwright
