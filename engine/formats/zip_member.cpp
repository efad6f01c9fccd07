// SPDX-License-Identifier: Apache-2.0
#include "formats/zip_member.h"

#include "core/error.h"

#include <algorithm>
#include <new>

namespace netwright::zipfile {

namespace {

// Deflate expands at most about 1032:1; a member declaring more is damaged or a zip bomb.
constexpr uint64_t kMaxDeflateRatio = 1032;
constexpr uint64_t kChunkBytes = uint64_t(4) << 20;

struct MemberCloser {
    void operator()(zip_file_t *f) const { zip_fclose(f); }
};
using MemberFile = std::unique_ptr<zip_file_t, MemberCloser>;

[[noreturn]] void raise(const Fail &fail, const std::string &problem)
{
    fail(problem);
    throw Error(problem); // a Fail that returned: still no way on
}

[[noreturn]] void failRead(const Fail &fail, const std::string &subject, zip_error_t *error)
{
    const std::string detail = zip_error_strerror(error);
    switch (zip_error_code_zip(error)) {
    case ZIP_ER_CRC:
        raise(fail, subject + " is corrupt: CRC error (its data does not match the checksum the archive records)");
    case ZIP_ER_ZLIB:
    case ZIP_ER_COMPRESSED_DATA:
        raise(fail, subject + " is corrupt: its compressed data does not inflate (" + detail + ")");
    case ZIP_ER_EOF:
    case ZIP_ER_INCONS:
    case ZIP_ER_READ:
        raise(fail, subject + " is truncated or damaged (" + detail + ")");
    default:
        raise(fail, subject + " cannot be read (" + detail + ")");
    }
}

} // namespace

std::string readMember(zip_t *z, zip_uint64_t index, const std::string &subject, uint64_t maxBytes, const std::string &methodHint,
                       const Fail &fail)
{
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z, index, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE)
        || !(st.valid & ZIP_STAT_COMP_METHOD))
        raise(fail, subject + " has no size in the zip directory");
    if (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE)
        raise(fail, subject + " uses zip compression method " + std::to_string(st.comp_method) + "; " + methodHint);
    if (st.size > maxBytes)
        raise(fail, subject + " declares " + std::to_string(st.size) + " bytes, more than the " + std::to_string(maxBytes) + " this reader takes");
    if (st.comp_method == ZIP_CM_STORE && st.size != st.comp_size)
        raise(fail, subject + " is stored uncompressed but declares " + std::to_string(st.size) + " bytes from " + std::to_string(st.comp_size));
    if (st.comp_method == ZIP_CM_DEFLATE && st.size / kMaxDeflateRatio > st.comp_size)
        raise(fail, subject + " declares " + std::to_string(st.size) + " bytes from " + std::to_string(st.comp_size)
                        + " deflated, more than deflate can expand to: damaged, or a zip bomb");
    MemberFile file(zip_fopen_index(z, index, 0));
    if (!file)
        failRead(fail, subject, zip_get_error(z));
    std::string bytes;
    try {
        bytes.reserve(static_cast<size_t>(st.size) + 1); // + 1: room to notice data past the declared size
    } catch (const std::bad_alloc &) {
        raise(fail, subject + " declares " + std::to_string(st.size) + " bytes, more memory than this process can get");
    }
    while (true) {
        const size_t done = bytes.size();
        const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunkBytes, st.size + 1 - done));
        bytes.resize(done + want);
        const zip_int64_t n = zip_fread(file.get(), bytes.data() + done, want);
        if (n < 0)
            failRead(fail, subject, zip_file_get_error(file.get()));
        bytes.resize(done + static_cast<size_t>(n));
        if (bytes.size() > st.size)
            raise(fail, subject + " is corrupt: it holds more than the " + std::to_string(st.size) + " bytes its zip entry declares");
        if (n == 0)
            break;
    }
    if (bytes.size() != st.size)
        raise(fail, subject + " is truncated: it holds " + std::to_string(bytes.size()) + " bytes, its zip entry declares " + std::to_string(st.size));
    return bytes;
}

} // namespace netwright::zipfile
