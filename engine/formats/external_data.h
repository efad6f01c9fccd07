// SPDX-License-Identifier: Apache-2.0
// Large tensors written to a data file beside the model instead of inside it (ONNX external
// data): the plan an export fills (which tensors, at which offsets) and the streaming, atomic write
// of that file. Offsets are 64-byte aligned so a reader's memory map aliases every tensor.
// Layer: engine/formats.
#pragma once

#include "core/tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace netwright {

struct ExternalTensor {
    Tensor tensor;       // shared, not copied
    uint64_t offset = 0; // in the data file
};

struct ExternalDataPlan {
    std::string location;                 // the data file's name, in the model's directory
    uint64_t threshold = 1024;            // tensors of at least this many bytes go there (ONNX's default)
    std::vector<ExternalTensor> tensors;  // filled by the export, in file order
    uint64_t size = 0;                    // the data file's length

    // Places `t` at the next aligned offset and returns that offset.
    uint64_t add(const Tensor &t);
};

// A model over this many bytes of weights cannot be one protobuf message (2 GiB, less room for the
// graph): ONNX export then writes external data even unasked.
constexpr uint64_t kInlineWeightLimit = (uint64_t(2) << 30) - (uint64_t(64) << 20);

// A name for --external-data-file: one plain file name (no directory, not "." or ".."); Error otherwise.
void checkExternalDataName(const std::string &name);
// Writes the plan's data file at `path` atomically, tensor by tensor (zero padding between).
void writeExternalData(const ExternalDataPlan &plan, const std::string &path);

} // namespace netwright
