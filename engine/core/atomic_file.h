// SPDX-License-Identifier: Apache-2.0
// Atomic file writes (DESIGN idea 3): temp file in the same directory, write, fsync, rename,
// fsync the directory. A crash at any instant leaves either the old file or the new one.
#pragma once

#include <string>
#include <string_view>

namespace netwright {

// Streams a file into place. Nothing is visible under `path` until commit(); destroying the
// writer without commit() removes the temporary file. Errors throw Error naming the path and
// saying that the previous file, if any, is unchanged (a full disk is reported as such).
class AtomicFileWriter {
public:
    explicit AtomicFileWriter(std::string path, unsigned mode = 0644);
    ~AtomicFileWriter();
    AtomicFileWriter(const AtomicFileWriter &) = delete;
    AtomicFileWriter &operator=(const AtomicFileWriter &) = delete;

    void write(std::string_view bytes);
    void write(const void *data, size_t size) { write(std::string_view(static_cast<const char *>(data), size)); }
    uint64_t bytesWritten() const { return m_written; }
    void commit();

private:
    void flushBuffer();
    void writeAll(const char *data, size_t size);
    [[noreturn]] void fail(int err);

    std::string m_path, m_tmp;
    unsigned m_mode;
    int m_fd = -1;
    std::string m_buffer;
    uint64_t m_written = 0;
    bool m_committed = false;
};

// Throws Error naming the path and the system's reason; the old file is untouched on failure.
void writeFileAtomically(const std::string &path, std::string_view bytes);

} // namespace netwright
