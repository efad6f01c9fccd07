// SPDX-License-Identifier: Apache-2.0
#include "data/sample_store.h"

#include "core/error.h"
#include "data/image_file.h"
#include "data/image_transform.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace netwright {

int64_t SampleStore::sampleElements() const
{
    int64_t n = 1;
    for (int64_t d : sampleShape())
        n *= d;
    return n;
}

namespace {

class ImageFileStore final : public SampleStore {
public:
    ImageFileStore(std::vector<std::string> files, ImageTarget t) : m_files(std::move(files)), m_t(t) {}
    int64_t size() const override { return static_cast<int64_t>(m_files.size()); }
    Shape sampleShape() const override
    {
        return {m_t.channels, m_t.cropHeight ? m_t.cropHeight : m_t.height, m_t.cropWidth ? m_t.cropWidth : m_t.width};
    }
    DType dtype() const override { return DType::UInt8; }
    std::string describe() const override { return std::to_string(m_files.size()) + " image files"; }
    void read(int64_t i, void *dst) const override
    {
        const std::string &file = m_files.at(static_cast<size_t>(i));
        Image img = decodeImageFile(file);
        if (img.channels != m_t.channels)
            img = toChannels(img, m_t.channels);
        if (img.height != m_t.height || img.width != m_t.width)
            img = resizeBilinear(img, m_t.height, m_t.width);
        const Shape s = sampleShape();
        if (img.height != s[1] || img.width != s[2])
            img = centerCrop(img, s[1], s[2]);
        copyToChw(img, static_cast<uint8_t *>(dst));
    }

private:
    std::vector<std::string> m_files;
    ImageTarget m_t;
};

class RecordFileStore final : public SampleStore {
public:
    RecordFileStore(std::string path, uint64_t first, uint64_t record, uint64_t offset, int64_t count, Shape shape, DType dtype)
        : m_path(std::move(path)), m_first(first), m_record(record), m_offset(offset), m_count(count), m_shape(std::move(shape)),
          m_dtype(dtype), m_fd(::open(m_path.c_str(), O_RDONLY | O_CLOEXEC))
    {
        if (m_fd < 0)
            throw Error("Cannot open \"" + m_path + "\": " + std::strerror(errno) + ".");
    }
    ~RecordFileStore() override { ::close(m_fd); }
    int64_t size() const override { return m_count; }
    Shape sampleShape() const override { return m_shape; }
    DType dtype() const override { return m_dtype; }
    std::string describe() const override { return std::to_string(m_count) + " records of \"" + m_path + "\""; }
    void read(int64_t i, void *dst) const override
    {
        const size_t want = sampleBytes();
        const auto at = static_cast<off_t>(m_first + static_cast<uint64_t>(i) * m_record + m_offset);
        size_t done = 0;
        while (done < want) {
            const ssize_t got = ::pread(m_fd, static_cast<char *>(dst) + done, want - done, at + static_cast<off_t>(done));
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0)
                throw Error("Cannot read sample " + std::to_string(i) + " of \"" + m_path + "\": "
                            + (got < 0 ? std::string(std::strerror(errno)) : std::string("the file ended early (was it changed while training?)"))
                            + ".");
            done += static_cast<size_t>(got);
        }
    }

private:
    std::string m_path;
    uint64_t m_first, m_record, m_offset;
    int64_t m_count;
    Shape m_shape;
    DType m_dtype;
    int m_fd;
};

class MemoryStore final : public SampleStore {
public:
    explicit MemoryStore(Tensor t) : m_t(std::move(t)) {}
    int64_t size() const override { return m_t.dim(0); }
    Shape sampleShape() const override { return Shape(m_t.shape().begin() + 1, m_t.shape().end()); }
    DType dtype() const override { return m_t.dtype(); }
    std::string describe() const override { return std::to_string(m_t.dim(0)) + " samples in memory"; }
    void read(int64_t i, void *dst) const override
    {
        std::memcpy(dst, static_cast<const uint8_t *>(m_t.raw()) + static_cast<size_t>(i) * sampleBytes(), sampleBytes());
    }

private:
    Tensor m_t;
};

class TransformedImageStore final : public SampleStore {
public:
    TransformedImageStore(std::shared_ptr<const SampleStore> parent, ImageTarget t) : m_parent(std::move(parent)), m_t(t)
    {
        const Shape s = m_parent->sampleShape();
        check(m_parent->dtype() == DType::UInt8 && s.size() == 3 && (s[0] == 1 || s[0] == 3),
              "Only 8-bit gray or RGB images can be resized, cropped or converted; " + m_parent->describe() + " holds "
                  + dtypeName(m_parent->dtype()) + " samples of shape " + shapeToString(s) + ".");
    }
    int64_t size() const override { return m_parent->size(); }
    Shape sampleShape() const override
    {
        return {m_t.channels, m_t.cropHeight ? m_t.cropHeight : m_t.height, m_t.cropWidth ? m_t.cropWidth : m_t.width};
    }
    DType dtype() const override { return DType::UInt8; }
    std::string describe() const override { return m_parent->describe(); }
    void read(int64_t i, void *dst) const override
    {
        const Shape s = m_parent->sampleShape();
        std::vector<uint8_t> chw(m_parent->sampleBytes());
        m_parent->read(i, chw.data());
        Image img;
        img.channels = s[0];
        img.height = s[1];
        img.width = s[2];
        img.pixels.resize(chw.size());
        for (int64_t c = 0; c < s[0]; ++c) // CHW → HWC
            for (int64_t p = 0; p < s[1] * s[2]; ++p)
                img.pixels[static_cast<size_t>(p * s[0] + c)] = chw[static_cast<size_t>(c * s[1] * s[2] + p)];
        if (img.channels != m_t.channels)
            img = toChannels(img, m_t.channels);
        if (img.height != m_t.height || img.width != m_t.width)
            img = resizeBilinear(img, m_t.height, m_t.width);
        const Shape out = sampleShape();
        if (img.height != out[1] || img.width != out[2])
            img = centerCrop(img, out[1], out[2]);
        copyToChw(img, static_cast<uint8_t *>(dst));
    }

private:
    std::shared_ptr<const SampleStore> m_parent;
    ImageTarget m_t;
};

class SubsetStore final : public SampleStore {
public:
    SubsetStore(std::shared_ptr<const SampleStore> parent, std::vector<int64_t> indices)
        : m_parent(std::move(parent)), m_indices(std::move(indices))
    {
    }
    int64_t size() const override { return static_cast<int64_t>(m_indices.size()); }
    Shape sampleShape() const override { return m_parent->sampleShape(); }
    DType dtype() const override { return m_parent->dtype(); }
    std::string describe() const override { return std::to_string(m_indices.size()) + " of " + m_parent->describe(); }
    void read(int64_t i, void *dst) const override { m_parent->read(m_indices.at(static_cast<size_t>(i)), dst); }

private:
    std::shared_ptr<const SampleStore> m_parent;
    std::vector<int64_t> m_indices;
};

class ConcatStore final : public SampleStore {
public:
    explicit ConcatStore(std::vector<std::shared_ptr<const SampleStore>> parts) : m_parts(std::move(parts))
    {
        check(!m_parts.empty(), "No samples to read.");
        for (const auto &p : m_parts) {
            check(p->sampleShape() == m_parts[0]->sampleShape() && p->dtype() == m_parts[0]->dtype(),
                  p->describe() + " and " + m_parts[0]->describe() + " hold samples of different shapes.");
            m_total += p->size();
        }
    }
    int64_t size() const override { return m_total; }
    Shape sampleShape() const override { return m_parts[0]->sampleShape(); }
    DType dtype() const override { return m_parts[0]->dtype(); }
    std::string describe() const override { return std::to_string(m_total) + " samples in " + std::to_string(m_parts.size()) + " files"; }
    void read(int64_t i, void *dst) const override
    {
        for (const auto &p : m_parts) {
            if (i < p->size())
                return p->read(i, dst);
            i -= p->size();
        }
        throw Error("Sample index out of range.");
    }

private:
    std::vector<std::shared_ptr<const SampleStore>> m_parts;
    int64_t m_total = 0;
};

} // namespace

std::shared_ptr<SampleStore> imageFileStore(std::vector<std::string> files, ImageTarget target)
{
    return std::make_shared<ImageFileStore>(std::move(files), target);
}

std::shared_ptr<SampleStore> recordFileStore(std::string path, uint64_t firstOffset, uint64_t recordBytes, uint64_t sampleOffset,
                                             int64_t count, Shape shape, DType dtype)
{
    return std::make_shared<RecordFileStore>(std::move(path), firstOffset, recordBytes, sampleOffset, count, std::move(shape), dtype);
}

std::shared_ptr<SampleStore> memoryStore(Tensor features)
{
    return std::make_shared<MemoryStore>(std::move(features));
}

std::shared_ptr<SampleStore> transformedImageStore(std::shared_ptr<const SampleStore> parent, ImageTarget target)
{
    return std::make_shared<TransformedImageStore>(std::move(parent), target);
}

std::shared_ptr<SampleStore> subsetStore(std::shared_ptr<const SampleStore> parent, std::vector<int64_t> indices)
{
    return std::make_shared<SubsetStore>(std::move(parent), std::move(indices));
}

std::shared_ptr<SampleStore> concatStore(std::vector<std::shared_ptr<const SampleStore>> parts)
{
    return std::make_shared<ConcatStore>(std::move(parts));
}

} // namespace netwright
