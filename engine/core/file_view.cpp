// SPDX-License-Identifier: Apache-2.0
#include "core/file_view.h"

#include "core/error.h"
#include "core/file_io.h"

#include <algorithm>
#include <mutex>
#include <vector>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace netwright {

namespace {

std::string subject(const std::string &path, const std::string &what)
{
    return what.empty() ? "\"" + path + "\"" : "the " + what + " \"" + path + "\"";
}

// The live maps, for releaseIfMapped().
std::mutex g_viewsMutex;
std::vector<const FileView *> g_views;

// Whether every resident page of [addr, addr + len) (whole pages) is still the file's, none copied
// on write: /proc/self/pagemap bit 63 (present) without bit 61 (file page) marks a copied page.
bool onlyFilePages(const char *addr, uint64_t len, uint64_t page)
{
    static const int fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    std::vector<uint64_t> entries(static_cast<size_t>(std::min<uint64_t>(len / page, 8192)));
    for (uint64_t done = 0; done < len / page;) {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(len / page - done, entries.size()));
        const off_t at = static_cast<off_t>((reinterpret_cast<uintptr_t>(addr) / page + done) * sizeof(uint64_t));
        if (::pread(fd, entries.data(), n * sizeof(uint64_t), at) != static_cast<ssize_t>(n * sizeof(uint64_t)))
            return false;
        for (size_t i = 0; i < n; ++i)
            if ((entries[i] >> 63 & 1) && !(entries[i] >> 61 & 1))
                return false;
        done += n;
    }
    return true;
}

} // namespace

std::shared_ptr<const FileView> FileView::open(const std::string &path, const std::string &what)
{
    requireRegularFile(path, what); // names FIFOs, directories, missing files
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        throw Error("Cannot open " + subject(path, what) + ": " + std::strerror(errno) + ".");
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        const int err = errno;
        ::close(fd);
        throw Error("Cannot map " + subject(path, what) + ": " + (err ? std::strerror(err) : "not a regular file") + ".");
    }
    std::shared_ptr<FileView> view(new FileView());
    view->m_path = path;
    view->m_size = static_cast<uint64_t>(st.st_size);
    if (view->m_size > 0) {
        // Private and writable: a Tensor that aliases the map (ONNX external data imported to train)
        // may be updated in place; such pages are copied on write, the file never changes.
        void *data = ::mmap(nullptr, static_cast<size_t>(view->m_size), PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        if (data == MAP_FAILED) {
            const int err = errno;
            ::close(fd);
            throw Error("Cannot map " + subject(path, what) + " into memory: " + std::strerror(err) + ".");
        }
        view->m_data = data;
        std::lock_guard lock(g_viewsMutex);
        g_views.push_back(view.get());
    }
    ::close(fd); // the map keeps the file open
    return view;
}

FileView::~FileView()
{
    if (m_data) {
        std::lock_guard lock(g_viewsMutex);
        g_views.erase(std::remove(g_views.begin(), g_views.end(), this), g_views.end());
    }
    if (m_data)
        ::munmap(const_cast<void *>(m_data), static_cast<size_t>(m_size));
}

std::string_view FileView::slice(uint64_t offset, uint64_t count, const std::string &what) const
{
    if (offset > m_size || count > m_size - offset)
        throw Error("\"" + m_path + "\" is cut short: " + (what.empty() ? std::string("bytes") : what) + " at offset "
                    + std::to_string(offset) + " (" + std::to_string(count) + " bytes) run past its end ("
                    + std::to_string(m_size) + " bytes).");
    return bytes().substr(static_cast<size_t>(offset), static_cast<size_t>(count));
}

void FileView::release(uint64_t offset, uint64_t count) const
{
    if (!m_data || offset >= m_size)
        return;
    count = std::min(count, m_size - offset);
    const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    const uint64_t begin = (offset + page - 1) / page * page; // whole pages inside the range only
    const uint64_t end = (offset + count) / page * page;
    if (end > begin)
        ::madvise(static_cast<char *>(const_cast<void *>(m_data)) + begin, static_cast<size_t>(end - begin), MADV_DONTNEED);
}

void releaseIfMapped(const void *data, uint64_t count)
{
    const auto *p = static_cast<const char *>(data);
    std::lock_guard lock(g_viewsMutex);
    for (const FileView *v : g_views) {
        const char *base = v->bytes().data();
        if (p < base || p >= base + v->size())
            continue;
        const uint64_t offset = static_cast<uint64_t>(p - base);
        count = std::min(count, v->size() - offset);
        const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
        const uint64_t begin = (offset + page - 1) / page * page, end = (offset + count) / page * page;
        if (end <= begin)
            return;
        // Pages still the file's leave this process (they stay in the page cache); a range with a
        // page written through a tensor is paged out instead, which keeps what was written.
        char *from = const_cast<char *>(base) + begin;
        ::madvise(from, static_cast<size_t>(end - begin), onlyFilePages(from, end - begin, page) ? MADV_DONTNEED : MADV_PAGEOUT);
        return;
    }
}

std::shared_ptr<const void> aliasing(const std::shared_ptr<const FileView> &view, uint64_t offset)
{
    return std::shared_ptr<const void>(view, view->bytes().data() + offset);
}

} // namespace netwright
