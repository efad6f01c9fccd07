// SPDX-License-Identifier: Apache-2.0
// A read-only memory map of a whole regular file: large model and checkpoint files (safetensors,
// ONNX external data, MindIR variables, PyTorch archives) are read through it, so only the pages
// a reader touches come into memory and nothing is copied. Layer: engine/core. Immutable once
// opened; share it (std::shared_ptr) with whatever must keep its bytes alive, e.g. a Tensor that
// aliases them (aliasing()).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace netwright {

class FileView {
public:
    // Maps `path` (regular files only, as readRegularFile). Throws Error naming it (with `what`,
    // e.g. "checkpoint") and the reason. An empty file maps to an empty view.
    static std::shared_ptr<const FileView> open(const std::string &path, const std::string &what = {});

    ~FileView();
    FileView(const FileView &) = delete;
    FileView &operator=(const FileView &) = delete;

    const std::string &path() const { return m_path; }
    uint64_t size() const { return m_size; }
    std::string_view bytes() const { return {static_cast<const char *>(m_data), static_cast<size_t>(m_size)}; }
    // The bytes [offset, offset + count); throws Error naming the file when they are not all in it.
    std::string_view slice(uint64_t offset, uint64_t count, const std::string &what = {}) const;
    // Tells the kernel the pages of [offset, offset + count) are no longer needed (after a reader
    // copied or wrote them out), so a pass over a file larger than memory keeps a bounded resident set.
    // The map is private copy-on-write: a page written through an aliasing Tensor loses that write
    // when released, so release only what nothing has written.
    void release(uint64_t offset, uint64_t count) const;

private:
    FileView() = default;
    std::string m_path;
    const void *m_data = nullptr;
    uint64_t m_size = 0;
};

// A pointer into `view`'s bytes that keeps the whole map alive while it lives (shared_ptr's
// aliasing constructor): what a Tensor adopts as storage to alias a mapped file.
std::shared_ptr<const void> aliasing(const std::shared_ptr<const FileView> &view, uint64_t offset);

// Gives back the whole pages of [data, data + count) when they lie in a live FileView's map (a
// tensor that aliases a file, done with by a streaming pass: export, verification); any other
// memory is left alone. Pages written through a tensor (copied on write) are never dropped: a range
// holding one is paged out instead (MADV_PAGEOUT), so this is safe on any tensor. Thread-safe.
void releaseIfMapped(const void *data, uint64_t count);

} // namespace netwright
