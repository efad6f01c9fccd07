// SPDX-License-Identifier: Apache-2.0
#include "formats/external_data.h"

#include "core/atomic_file.h"
#include "core/error.h"
#include "formats/raw_tensor.h"

#include <algorithm>
#include <filesystem>

namespace netwright {

namespace {
constexpr uint64_t kAlignment = 64;

uint64_t aligned(uint64_t n)
{
    return (n + kAlignment - 1) / kAlignment * kAlignment;
}
} // namespace

ExternalDataReader::ExternalDataReader(const std::string &modelPath) : m_modelPath(modelPath)
{
    if (!modelPath.empty())
        m_directory = std::filesystem::path(modelPath).parent_path().string();
}

std::shared_ptr<const FileView> ExternalDataReader::file(const std::string &location, const std::string &what)
{
    const std::string where = what + ": its external data location \"" + location + "\" ";
    check(!location.empty(), what + ": it is stored as external data but names no location.");
    check(location.find('\0') == std::string::npos, where + "holds a NUL byte.");
    const std::filesystem::path rel(location);
    check(!rel.is_absolute() && !rel.has_root_name() && !rel.has_root_directory(),
          where + "is an absolute path; external data lies beside the model (a relative path in its directory).");
    for (const auto &part : rel)
        check(part != "..", where + "leaves the model's directory (\"..\"); external data lies beside the model.");
    check(!m_modelPath.empty(), where + "cannot be resolved: the model comes from no file.");
    auto &view = m_views[location];
    if (!view)
        view = FileView::open((std::filesystem::path(m_directory.empty() ? "." : m_directory) / rel).string(), "external data file");
    return view;
}

Tensor ExternalDataReader::read(const std::string &location, std::optional<uint64_t> offset, std::optional<uint64_t> length, DType type,
                                const std::vector<int64_t> &dims, const std::string &what)
{
    const std::shared_ptr<const FileView> view = file(location, what);
    const uint64_t size = dtypeSize(type);
    const auto numel = static_cast<uint64_t>(checkedNumel(dims, what));
    const std::string shape = shapeToString(Shape(dims.begin(), dims.end()));
    check(numel <= UINT64_MAX / size, what + ": the shape " + shape + " is too large.");
    const uint64_t bytes = numel * size;
    const uint64_t at = offset.value_or(0);
    check(at <= view->size(), what + ": its external data offset " + std::to_string(at) + " is past the end of \"" + view->path() + "\" ("
                                  + std::to_string(view->size()) + " bytes).");
    const uint64_t declared = length.value_or(view->size() - at);
    check(declared <= view->size() - at, what + ": its external data (offset " + std::to_string(at) + ", length " + std::to_string(declared)
                                             + ") runs past the end of \"" + view->path() + "\" (" + std::to_string(view->size()) + " bytes).");
    check(declared == bytes, what + ": its external data holds " + std::to_string(declared) + " bytes, its shape " + shape + " of "
                                 + dtypeName(type) + " needs " + std::to_string(bytes) + ".");
    const std::string_view raw = view->slice(at, bytes, "external data");
    if (bytes > 0 && reinterpret_cast<uintptr_t>(raw.data()) % kAlignment == 0)
        return Tensor::adopt(Shape(dims.begin(), dims.end()), type, std::const_pointer_cast<void>(aliasing(view, at)));
    Tensor t = tensorFromRaw(type, dims, raw, what); // off the alignment the kernels assume: a copy
    releaseIfMapped(raw.data(), bytes);
    return t;
}

void ExternalDataPlan::reset()
{
    tensors.clear();
    size = aligned(header.size());
}

uint64_t ExternalDataPlan::add(const Tensor &t)
{
    const uint64_t offset = aligned(std::max<uint64_t>(size, header.size()));
    tensors.push_back({t, offset});
    size = aligned(offset + t.byteSize());
    return offset;
}

void checkExternalDataName(const std::string &name)
{
    check(!name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos && name.find('\0') == std::string::npos,
          "The external data file \"" + name + "\" must be a plain file name: it is written beside the model.");
}

void writeExternalData(const ExternalDataPlan &plan, const std::string &path)
{
    AtomicFileWriter out(path);
    static const char zeros[kAlignment] = {};
    out.write(plan.header);
    for (const ExternalTensor &e : plan.tensors) {
        check(e.offset >= out.bytesWritten() && e.offset - out.bytesWritten() < kAlignment,
              "The external data of \"" + path + "\" is not in file order.");
        out.write(zeros, static_cast<size_t>(e.offset - out.bytesWritten()));
        const Tensor host = e.tensor.device().type == DeviceType::Cpu ? e.tensor : e.tensor.to(Device::cpu());
        // In pieces: a tensor of gigabytes goes out without a second copy in memory.
        const char *p = static_cast<const char *>(host.raw());
        for (size_t done = 0; done < host.byteSize();) {
            const size_t n = std::min<size_t>(host.byteSize() - done, size_t(64) << 20);
            out.write(p + done, n);
            releaseIfMapped(p + done, n); // a source that aliases its file stays out of memory
            done += n;
        }
    }
    out.write(zeros, static_cast<size_t>(aligned(out.bytesWritten()) - out.bytesWritten()));
    out.commit();
}

} // namespace netwright
