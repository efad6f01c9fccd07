// SPDX-License-Identifier: Apache-2.0
// safetensors files (8-byte little-endian header length N, N bytes of JSON header
// {name: {dtype, shape, data_offsets}, "__metadata__": {string: string}}, then the data buffer),
// read through a memory map and written atomically. A training state maps onto one: tensor entries
// as tensors, strings and the "netwright." entries in __metadata__ (docs/safetensors.md).
// Layer: engine/formats. Every reader check names the file (DESIGN idea 4).
#pragma once

#include "core/state_entry.h"
#include "core/tensor.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace netwright {
class FileView;
}

namespace netwright::safetensors {

// The reference implementation's bound on the header length.
inline constexpr uint64_t kMaxHeaderBytes = 100'000'000;
// The metadata key that records the order and kind of every training-state entry.
inline constexpr const char *kLayoutKey = "netwright.layout";

struct SafetensorsTensor {
    std::string name;
    std::string dtype; // as the file names it: F32, BF16, U8, …
    Tensor tensor;     // host copy of its bytes
};

struct SafetensorsFile {
    std::vector<SafetensorsTensor> tensors;                       // in data-buffer order
    std::vector<std::pair<std::string, std::string>> metadata;    // __metadata__, in header order
    uint64_t headerBytes = 0;                                     // N
};

// The safetensors dtype name of an engine dtype (F32, I64, U64, BOOL, …).
std::string safetensorsTypeName(DType type);

// Parses a whole file's bytes; `source` names the file in errors. With `view` (the map `bytes`
// come from), each tensor's pages are released once copied.
SafetensorsFile decodeSafetensors(std::string_view bytes, const std::string &source, const FileView *view = nullptr);
// Maps `path` (core/file_view.h) and parses it, releasing each tensor's pages once copied.
SafetensorsFile readSafetensors(const std::string &path);

// The training state a file holds: with the netwright.layout key, exactly the entries written
// (order, kinds, bytes); without it (a file from elsewhere), every tensor in buffer order, then
// every metadata value as a string entry.
TrainingState stateFromSafetensors(const SafetensorsFile &file, const std::string &source);
TrainingState readSafetensorsState(const std::string &path);

// Writes `entries` as a safetensors file atomically (core/atomic_file.h): tensor entries whose
// name does not start with "netwright." as tensors, in entry order; string entries and the
// "netwright." tensor entries in __metadata__ (a tensor there reads "DTYPE [dims] HEX", its raw
// little-endian bytes in hex), plus netwright.layout.
void writeSafetensorsState(const std::string &path, const TrainingState &entries);
// The same bytes in memory (tests).
std::string encodeSafetensorsState(const TrainingState &entries);

} // namespace netwright::safetensors
