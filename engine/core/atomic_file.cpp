// SPDX-License-Identifier: Apache-2.0
#include "core/atomic_file.h"

#include "core/error.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace netwright {

namespace {
constexpr size_t kBufferSize = 1 << 20; // small writes are gathered; big ones go straight through

std::string directoryOf(const std::string &path)
{
    const std::filesystem::path p(path);
    return p.has_parent_path() ? p.parent_path().string() : std::string(".");
}
} // namespace

AtomicFileWriter::AtomicFileWriter(std::string path, unsigned mode) : m_path(std::move(path)), m_mode(mode)
{
    const std::filesystem::path target(m_path);
    m_tmp = (std::filesystem::path(directoryOf(m_path)) / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
    m_fd = ::mkstemp(m_tmp.data());
    if (m_fd < 0)
        throw Error("Cannot write \"" + m_path + "\": " + std::strerror(errno) + ".");
    m_buffer.reserve(kBufferSize);
}

AtomicFileWriter::~AtomicFileWriter()
{
    if (m_fd >= 0)
        ::close(m_fd);
    if (!m_committed)
        ::unlink(m_tmp.c_str());
}

void AtomicFileWriter::fail(int err)
{
    ::close(m_fd);
    m_fd = -1;
    ::unlink(m_tmp.c_str());
    const std::string reason = err == ENOSPC ? "the disk is full" : std::strerror(err);
    throw Error("Cannot write \"" + m_path + "\": " + reason + ". The previous file, if any, is unchanged.");
}

void AtomicFileWriter::writeAll(const char *data, size_t size)
{
    size_t done = 0;
    while (done < size) {
        const ssize_t n = ::write(m_fd, data + done, size - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fail(errno);
        }
        done += static_cast<size_t>(n);
    }
}

void AtomicFileWriter::flushBuffer()
{
    writeAll(m_buffer.data(), m_buffer.size());
    m_buffer.clear();
}

void AtomicFileWriter::write(std::string_view bytes)
{
    check(m_fd >= 0, "Cannot write \"" + m_path + "\": the file was already closed.");
    m_written += bytes.size();
    if (m_buffer.size() + bytes.size() <= kBufferSize) {
        m_buffer.append(bytes);
        return;
    }
    flushBuffer();
    if (bytes.size() < kBufferSize)
        m_buffer.append(bytes);
    else
        writeAll(bytes.data(), bytes.size()); // big tensors go straight from their memory
}

void AtomicFileWriter::commit()
{
    check(m_fd >= 0, "Cannot write \"" + m_path + "\": the file was already closed.");
    flushBuffer();
    if (::fchmod(m_fd, m_mode) != 0 || ::fsync(m_fd) != 0)
        fail(errno);
    if (::close(m_fd) != 0) {
        m_fd = -1;
        const int err = errno;
        ::unlink(m_tmp.c_str());
        throw Error("Cannot write \"" + m_path + "\": " + std::strerror(err) + ". The previous file, if any, is unchanged.");
    }
    m_fd = -1;
    if (::rename(m_tmp.c_str(), m_path.c_str()) != 0) {
        const int err = errno;
        ::unlink(m_tmp.c_str());
        throw Error("Cannot write \"" + m_path + "\": " + std::strerror(err) + ". The previous file, if any, is unchanged.");
    }
    m_committed = true;
    const int dfd = ::open(directoryOf(m_path).c_str(), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

void writeFileAtomically(const std::string &path, std::string_view bytes)
{
    AtomicFileWriter w(path);
    w.write(bytes);
    w.commit();
}

} // namespace netwright
