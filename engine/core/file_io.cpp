// SPDX-License-Identifier: Apache-2.0
#include "core/file_io.h"

#include "core/error.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace netwright {

namespace {

std::string subject(const std::string &path, const std::string &what)
{
    return what.empty() ? "\"" + path + "\"" : "The " + what + " \"" + path + "\"";
}

const char *kindOf(mode_t mode)
{
    if (S_ISDIR(mode))
        return "is a directory, not a file";
    if (S_ISFIFO(mode))
        return "is a FIFO (named pipe), not a regular file";
    if (S_ISCHR(mode))
        return "is a character device, not a regular file";
    if (S_ISBLK(mode))
        return "is a block device, not a regular file";
    if (S_ISSOCK(mode))
        return "is a socket, not a regular file";
    return "is not a regular file";
}

[[noreturn]] void failOpen(const std::string &path, const std::string &what, int err)
{
    if (err == ELOOP)
        throw Error(subject(path, what) + " is a symbolic link loop (or a chain of more than 40 links).");
    if (err == ENOENT)
        throw Error(subject(path, what) + " does not exist.");
    throw Error("Cannot read " + subject(path, what) + ": " + std::strerror(err) + ".");
}

// An open descriptor of a regular file, closed on scope exit. O_NONBLOCK: opening a FIFO for
// reading never waits for a writer; fstat then refuses it.
class RegularFile {
public:
    RegularFile(const std::string &path, const std::string &what) : m_path(path), m_what(what)
    {
        m_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (m_fd < 0)
            failOpen(path, what, errno);
        struct stat st {};
        if (::fstat(m_fd, &st) != 0) {
            const int err = errno;
            ::close(m_fd);
            m_fd = -1;
            failOpen(path, what, err);
        }
        if (!S_ISREG(st.st_mode)) {
            ::close(m_fd);
            m_fd = -1;
            throw Error(subject(path, what) + " " + kindOf(st.st_mode) + ".");
        }
        m_size = static_cast<uint64_t>(st.st_size);
        // Back to blocking reads for a regular file (no effect on them, but explicit).
        ::fcntl(m_fd, F_SETFL, ::fcntl(m_fd, F_GETFL) & ~O_NONBLOCK);
    }
    ~RegularFile()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    RegularFile(const RegularFile &) = delete;
    RegularFile &operator=(const RegularFile &) = delete;

    uint64_t size() const { return m_size; }
    // Reads up to `count` bytes (fewer when the file ends first, e.g. it shrank meanwhile).
    std::string read(uint64_t count)
    {
        std::string out;
        out.resize(static_cast<size_t>(count));
        size_t done = 0;
        while (done < out.size()) {
            const ssize_t n = ::read(m_fd, out.data() + done, out.size() - done);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                throw Error("Cannot read " + subject(m_path, m_what) + ": " + std::strerror(errno) + ".");
            }
            if (n == 0)
                break;
            done += static_cast<size_t>(n);
        }
        out.resize(done);
        return out;
    }
    // The rest of the file, also what was appended since fstat (a log another process writes).
    std::string readAll()
    {
        std::string out = read(m_size);
        char buf[65536];
        while (true) {
            const ssize_t n = ::read(m_fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            out.append(buf, static_cast<size_t>(n));
        }
        return out;
    }

private:
    std::string m_path, m_what;
    int m_fd = -1;
    uint64_t m_size = 0;
};

} // namespace

void requireRegularFile(const std::string &path, const std::string &what)
{
    RegularFile f(path, what);
}

std::string readRegularFile(const std::string &path, const std::string &what, uint64_t maxBytes)
{
    RegularFile f(path, what);
    if (f.size() > maxBytes)
        throw Error(subject(path, what) + " is " + std::to_string(f.size()) + " bytes, more than the " + std::to_string(maxBytes)
                    + " this reader takes.");
    return f.readAll();
}

std::string readFilePrefix(const std::string &path, uint64_t count, const std::string &what)
{
    RegularFile f(path, what);
    return f.read(std::min(count, f.size()));
}

uint64_t regularFileSize(const std::string &path, const std::string &what)
{
    return RegularFile(path, what).size();
}

} // namespace netwright
