// SPDX-License-Identifier: Apache-2.0
#include "formats/onnx/onnx_external_data.h"

#include "core/error.h"
#include "formats/raw_tensor.h"

#include <filesystem>
#include <optional>

namespace netwright::onnx_format {

namespace {

// A decimal offset or length as ONNX writes them; nullopt for anything else.
std::optional<uint64_t> parseSize(const std::string &text)
{
    if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    return std::stoull(text);
}

} // namespace

ExternalDataReader::ExternalDataReader(const std::string &modelPath) : m_modelPath(modelPath)
{
    if (!modelPath.empty())
        m_directory = std::filesystem::path(modelPath).parent_path().string();
}

ExternalDataReader::Value ExternalDataReader::read(const onnx::TensorProto &p, DType type, const std::vector<int64_t> &dims,
                                                   const std::string &what)
{
    std::string location;
    std::optional<uint64_t> offset, length;
    for (const auto &e : p.external_data()) {
        if (e.key() == "location") {
            location = e.value();
        } else if (e.key() == "offset" || e.key() == "length") {
            const auto v = parseSize(e.value());
            check(v.has_value(), what + ": its external data " + e.key() + " \"" + e.value() + "\" is not a byte count.");
            (e.key() == "offset" ? offset : length) = v;
        }
    }
    const std::string where = what + ": its external data location \"" + location + "\" ";
    check(!location.empty(), what + ": it is stored as external data but names no location.");
    check(location.find('\0') == std::string::npos, where + "holds a NUL byte.");
    const std::filesystem::path rel(location);
    check(!rel.is_absolute() && !rel.has_root_name() && !rel.has_root_directory(),
          where + "is an absolute path; ONNX external data lies beside the model (a relative path in its directory).");
    for (const auto &part : rel)
        check(part != "..", where + "leaves the model's directory (\"..\"); ONNX external data lies beside the model.");
    check(!m_modelPath.empty(), where + "cannot be resolved: the model comes from no file.");
    check(!p.has_raw_data(), what + ": it holds both raw data and external data.");

    auto &view = m_views[location];
    if (!view)
        view = FileView::open((std::filesystem::path(m_directory.empty() ? "." : m_directory) / rel).string(), "ONNX external data file");
    const uint64_t size = dtypeSize(type);
    const auto numel = static_cast<uint64_t>(checkedNumel(dims, what));
    check(numel <= UINT64_MAX / size, what + ": the shape " + shapeToString(Shape(dims.begin(), dims.end())) + " is too large.");
    const uint64_t bytes = numel * size;
    const uint64_t at = offset.value_or(0);
    check(at <= view->size(), what + ": its external data offset " + std::to_string(at) + " is past the end of \"" + view->path() + "\" ("
                                  + std::to_string(view->size()) + " bytes).");
    const uint64_t declared = length.value_or(view->size() - at);
    check(declared <= view->size() - at, what + ": its external data (offset " + std::to_string(at) + ", length " + std::to_string(declared)
                                             + ") runs past the end of \"" + view->path() + "\" (" + std::to_string(view->size()) + " bytes).");
    check(declared == bytes, what + ": its external data holds " + std::to_string(declared) + " bytes, its shape "
                                 + shapeToString(Shape(dims.begin(), dims.end())) + " of " + dtypeName(type) + " needs "
                                 + std::to_string(bytes) + ".");
    const std::string_view raw = view->slice(at, bytes, "external data");
    Value v;
    if (bytes > 0 && reinterpret_cast<uintptr_t>(raw.data()) % kExternalAlignment == 0) {
        v.tensor = Tensor::adopt(Shape(dims.begin(), dims.end()), type, std::const_pointer_cast<void>(aliasing(view, at)));
        v.file = view;
        v.offset = at;
    } else {
        v.tensor = tensorFromRaw(type, dims, raw, what); // misaligned for the kernels: a copy
        releaseIfMapped(raw.data(), bytes);
    }
    return v;
}

} // namespace netwright::onnx_format
