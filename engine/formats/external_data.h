// SPDX-License-Identifier: Apache-2.0
// Large tensors kept in data files beside the model instead of inside it: ONNX external data
// (TensorProto external_data "location"/"offset"/"length") and MindIR's split export
// (`<prefix>_variables/data_N`). Reading maps each data file once (core/file_view.h) and gives
// tensors that alias the map — nothing is copied unless a tensor is off 64-byte alignment; a
// location must stay in the model's directory (absolute paths and ".." are refused). Writing: the
// plan an export fills (which tensors, at which 64-byte-aligned offsets) and the streaming, atomic
// write of the file. Layer: engine/formats.
#pragma once

#include "core/file_view.h"
#include "core/tensor.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace netwright {

// The data files of one model. `modelPath` is the model file (its directory resolves locations);
// empty for bytes that come from no file (external data is then refused).
class ExternalDataReader {
public:
    explicit ExternalDataReader(const std::string &modelPath);

    // The data file `location` names, mapped (once). Throws Error starting with `what` for a
    // location outside the model's directory or a file that is missing or not regular.
    std::shared_ptr<const FileView> file(const std::string &location, const std::string &what);
    // The tensor of `type` and `dims` at `offset` (default 0) in `location`, `length` bytes (default:
    // to the end of the file). Throws Error starting with `what` when they run past the file's end or
    // the length does not match the shape.
    Tensor read(const std::string &location, std::optional<uint64_t> offset, std::optional<uint64_t> length, DType type,
                const std::vector<int64_t> &dims, const std::string &what);

private:
    std::string m_modelPath, m_directory;
    std::map<std::string, std::shared_ptr<const FileView>> m_views;
};

struct ExternalTensor {
    Tensor tensor;       // shared, not copied
    uint64_t offset = 0; // in the data file
};

struct ExternalDataPlan {
    std::string location;                 // the data file as the model names it, relative to its directory
    uint64_t threshold = 1024;            // tensors of at least this many bytes go there (ONNX's default)
    std::string header;                   // bytes the file starts with (MindIR: the byte-order flag + 63 zeros)
    std::vector<ExternalTensor> tensors;  // filled by the export, in file order
    uint64_t size = 0;                    // the data file's length, padded to 64 bytes

    // Empties the plan for a new export (keeps location, threshold and header).
    void reset();
    // Places `t` at the next 64-byte-aligned offset and returns that offset.
    uint64_t add(const Tensor &t);
};

// A model over this many bytes of weights cannot be one protobuf message (2 GiB, less room for the
// graph): ONNX export then writes external data even unasked.
constexpr uint64_t kInlineWeightLimit = (uint64_t(2) << 30) - (uint64_t(64) << 20);

// A name for --external-data-file: one plain file name (no directory, not "." or ".."); Error otherwise.
void checkExternalDataName(const std::string &name);
// Writes the plan's data file at `path` atomically: its header, then tensor by tensor with zero
// padding to 64 bytes (a tensor that aliases a mapped file is given back page by page).
void writeExternalData(const ExternalDataPlan &plan, const std::string &path);

} // namespace netwright
