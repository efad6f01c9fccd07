// SPDX-License-Identifier: Apache-2.0
#include "formats/npy/npz_file.h"

#include "core/error.h"
#include "core/file_io.h"
#include "formats/npy/npy_file.h"

#include "formats/zip_member.h"

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

using zipfile::Archive;

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

    const std::string bytes = zipfile::readMember(
        z, static_cast<zip_uint64_t>(index), "member \"" + member + "\"", kMaxMemberBytes,
        "np.savez stores members and np.savez_compressed deflates them, and this reader takes those two",
        [&path](const std::string &problem) { fail(path, problem); });
    return decodeNpy(bytes, path + "/" + member);
}

} // namespace netwright
