// SPDX-License-Identifier: Apache-2.0
// MindIR's split export, as MindSpore 2.x writes models over 1 GiB (../shared/formats/mindir.md
// section 8): `<prefix>_graph.mindir` whose parameters name `<prefix>_variables/data_0` by
// external_data {location, offset, length}; the data file starts with a 64-byte header (byte 0: 1
// for little-endian) and holds each tensor padded to 64 bytes. Reading goes through the mapped
// ExternalDataReader; writing through an ExternalDataPlan. Layer: engine/formats.
#pragma once

#include "core/tensor.h"
#include "formats/external_data.h"

#include <cstdint>
#include <memory>
#include <string>

namespace mind_ir {
class TensorProto;
}

namespace netwright::mindspore {

// The weights above which `convert`/`export` write the split layout (MindSpore's TOTAL_SAVE).
constexpr uint64_t kMindirSplitBytes = uint64_t(1) << 30;

// A parameter's value from its data file; Error starting with `what` for a big-endian or
// headerless data file and everything ExternalDataReader::read refuses.
Tensor readMindirExternal(ExternalDataReader &reader, const ::mind_ir::TensorProto &t, DType type, const std::string &what);

// The split layout for a model written as `path` (name.mindir or name): the graph file
// `<dir>/<name>_graph.mindir` and a plan for `<name>_variables/data_0` (every parameter there).
struct MindirSplit {
    std::string graphPath, dataPath;
    std::shared_ptr<ExternalDataPlan> plan;
};
MindirSplit mindirSplit(const std::string &path);

} // namespace netwright::mindspore
