// SPDX-License-Identifier: Apache-2.0
// ONNX external data (TensorProto.data_location = EXTERNAL; external_data "location", "offset",
// "length"): reading tensors from files beside the model through a memory map (the tensors alias
// it, nothing is copied unless misaligned) and planning where an export puts its large tensors.
// The location is relative to the model's directory; absolute paths and ".." are refused.
// Private to engine/formats/onnx. Layer: engine/formats.
#pragma once

#include "core/file_view.h"
#include "core/tensor.h"

#include <onnx/onnx_pb.h>

#include <map>
#include <memory>
#include <string>

namespace netwright::onnx_format {

// The data files of one model, each mapped once. `modelPath` is the .onnx file (its directory
// resolves locations); empty for bytes that come from no file (external data is then refused).
class ExternalDataReader {
public:
    explicit ExternalDataReader(const std::string &modelPath);

    struct Value {
        Tensor tensor;
        std::shared_ptr<const FileView> file; // set when tensor aliases the map
        uint64_t offset = 0;
    };
    // The tensor of `p` (EXTERNAL), of `type` and `dims`. Throws Error starting with `what` for a
    // location outside the model's directory, a missing file, an offset or length past its end, or a
    // length that does not match the shape.
    Value read(const onnx::TensorProto &p, DType type, const std::vector<int64_t> &dims, const std::string &what);

private:
    std::string m_modelPath, m_directory;
    std::map<std::string, std::shared_ptr<const FileView>> m_views;
};

// Offsets in a data file Netwright writes are multiples of this: every tensor read back aliases.
constexpr uint64_t kExternalAlignment = 64;

} // namespace netwright::onnx_format
