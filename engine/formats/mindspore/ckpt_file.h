// SPDX-License-Identifier: Apache-2.0
// MindSpore checkpoint (.ckpt) files, byte-compatible with save_checkpoint/load_checkpoint
// (../shared/formats/mindspore-ckpt.md): one Checkpoint message per entry or chunk, unpacked
// dims (none for scalars, [0] for strings), MindSpore dtype names, chunks of the same tag carrying
// the full dims, the optional CRC-32 trailer, encrypted files recognised. Layer: engine/formats.
#pragma once

#include "core/state_entry.h"
#include "core/tensor.h"
#include "formats/mindspore/ms_encryption.h"

#include <string>
#include <string_view>
#include <vector>

namespace netwright::mindspore {

// A .ckpt holds the neutral state entries as they are (a "str" entry's text is UTF-32LE on disk).
using CkptEntry = StateEntry;

struct CkptWriteOptions {
    bool crc = false;                      // append the 17-byte "crc_num" trailer
    uint64_t chunkBytes = 536870912;       // MindSpore's SLICE_SIZE; injectable so tests can split small tensors
    EncryptionKey key;                     // non-empty: write MindSpore's encrypted blocks (never with crc)
    uint64_t encryptPieceBytes = kEncryptPieceBytes; // injectable so tests can make several blocks
};

struct CkptFile {
    std::vector<CkptEntry> entries; // same-tag runs already joined, in file order
    bool hasCrc = false;            // a trailer was present (and, when asked, verified)
};

// The MindSpore dtype name ("Float32", "Int64", …); throws Error for types MindSpore cannot load.
std::string mindsporeTypeName(DType type);

// Encodes the entries exactly as MindSpore's synchronous save_checkpoint does.
std::string encodeCkpt(const std::vector<CkptEntry> &entries, const CkptWriteOptions &options = {});
// Streams the same bytes into `path` atomically (temp file, fsync, rename); a failure leaves any
// previous file untouched. Tensor bytes are written straight from tensor memory.
void writeCkpt(const std::string &path, const std::vector<CkptEntry> &entries, const CkptWriteOptions &options = {});

// Parses bytes (as read from `source`, which names the file in errors). verifyCrc: a present
// trailer must match. Encrypted files are decrypted with `key` (ms_encryption.h); without one they
// fail with "… is an encrypted MindSpore checkpoint (AES-GCM, 1 block); give its key with
// --key-file FILE". Anything that is not a Checkpoint fails naming the first field that does not
// fit (after decryption: "the key opened it but …", a CBC key that is wrong lands here).
CkptFile decodeCkpt(std::string_view bytes, const std::string &source, bool verifyCrc = true, const EncryptionKey &key = {});
CkptFile readCkpt(const std::string &path, bool verifyCrc = true, const EncryptionKey &key = {});

} // namespace netwright::mindspore
