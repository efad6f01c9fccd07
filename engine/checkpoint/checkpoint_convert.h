// SPDX-License-Identifier: Apache-2.0
// Lossless conversion of a checkpoint file between MindSpore .ckpt and safetensors (as MindSpore's
// ckpt_to_safetensors / safetensors_to_ckpt): every entry keeps its name, order, dtype, shape and
// bytes. The output is verified in memory before it is written atomically. Layer: engine/checkpoint.
#pragma once

#include <cstdint>
#include <string>

namespace netwright {

struct CheckpointConversion {
    std::string inputFormat, outputFormat; // registry names: "MindSpore checkpoint", "safetensors"
    int64_t entries = 0;                   // state entries carried over
    int64_t tensors = 0;                   // of them numeric
    int64_t strings = 0;                   // of them strings
    uint64_t bytes = 0;                    // size of the file written
};

// The checkpoint format a file name asks for: "mindspore" (.ckpt), "safetensors" (.safetensors),
// or "" for any other name.
std::string checkpointFormatForPath(const std::string &path);

// Reads `in` (a .ckpt, a safetensors file or a CNTK trainer checkpoint, told apart by content),
// writes `out` in the format its extension names, and checks that the bytes written decode to the
// same entries. Throws Error naming the file and the first entry that differs.
CheckpointConversion convertCheckpoint(const std::string &in, const std::string &out);

} // namespace netwright
