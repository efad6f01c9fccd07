// SPDX-License-Identifier: Apache-2.0
// One member of a zip archive (libzip) read whole, as the NumPy .npz and PyTorch readers need it:
// its declared size, compression method and deflate ratio checked before anything is allocated,
// then read in chunks so the buffer grows only with bytes that really arrive; libzip checks the
// CRC at the member's end. Layer: engine/formats. Hostile archives get a sentence, never a crash.
#pragma once

#include <zip.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace netwright::zipfile {

struct ArchiveCloser {
    void operator()(zip_t *z) const { zip_discard(z); } // read-only: never zip_close (it would write back)
};
using Archive = std::unique_ptr<zip_t, ArchiveCloser>;

// Told each problem ("member \"x\" is truncated: …"); it throws the reader's own Error, which names
// the file and the format.
using Fail = std::function<void(const std::string &problem)>;

// Member `index` of `z`, whole. `subject` names it in problems ("member \"data.pkl\""); at most
// `maxBytes`; `methodHint` says which methods the writer uses, for a member of another method
// ("torch.save stores members uncompressed").
std::string readMember(zip_t *z, zip_uint64_t index, const std::string &subject, uint64_t maxBytes, const std::string &methodHint,
                       const Fail &fail);

} // namespace netwright::zipfile
