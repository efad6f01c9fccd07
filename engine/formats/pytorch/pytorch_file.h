// SPDX-License-Identifier: Apache-2.0
// PyTorch checkpoint files (torch.save): the zip archive of torch >= 1.6 (<name>/data.pkl plus one
// member per storage under <name>/data/, read with libzip) and the legacy stream before it (magic
// pickle, protocol, sys_info, the object, the storage keys, then each storage's raw bytes). The
// pickle goes through the restricted PickleReader, which runs nothing. Layer: engine/formats.
#pragma once

#include "core/state_entry.h"
#include "core/tensor.h"

#include <string>
#include <string_view>
#include <vector>

namespace netwright::pytorch {

// One named leaf of the saved object: nested dicts, lists and tuples become dotted names
// ("model_state_dict.conv1.weight", "optimizer_state_dict.state.0.momentum_buffer"); a tensor is
// a contiguous host copy of its view (storage offset and strides applied); any other leaf (a
// number, a string, a list of numbers) is shown as Python text.
struct PytorchEntry {
    std::string name;
    Tensor tensor;          // defined for tensors
    std::string pyType;     // other leaves: int, float, bool, str, None, list, tuple, …
    std::string text;       // their Python text: 3, 0.1, 'sgd', [0, 1, 2]
};

struct PytorchFile {
    bool legacy = false;          // the pre-1.6 stream rather than the zip archive
    std::string archiveName;      // the zip's top folder ("archive" for torch.save to a stream)
    std::string version;          // <name>/version, or the legacy protocol version
    std::vector<PytorchEntry> entries;
};

// True when `prefix` (a file's first bytes) starts a torch.save zip (its first member is
// <name>/data.pkl) or a legacy torch.save stream (its magic-number pickle).
bool isZipCheckpoint(std::string_view prefix);
bool isLegacyCheckpoint(std::string_view prefix);

// Reads the whole file `bytes` (named `path` in errors). Throws Error naming the file: a callable
// outside the allow-list ("… it calls posix.system, which Netwright never runs …"), a damaged or
// truncated archive, a storage shorter than a tensor over it claims, nesting deeper than 64.
PytorchFile decodePytorch(std::string_view bytes, const std::string &path);
// The file at `path`, mapped (core/file_view.h).
PytorchFile readPytorch(const std::string &path);

// The entries as a training state: tensors as they are, integers as int64 scalars, floats as
// float64 scalars, strings as string entries; other leaves are left out.
TrainingState pytorchStateEntries(const PytorchFile &file);

} // namespace netwright::pytorch
