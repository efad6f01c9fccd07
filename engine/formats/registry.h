// SPDX-License-Identifier: Apache-2.0
// The format registry (DESIGN idea 5): every format scores a bounded prefix of the file by
// content; the extension only breaks ties. describeFile() reads the file with the winning
// format's reader into one ModelDescription. Layer: engine/formats.
#pragma once

#include "formats/file_format.h"
#include "formats/model_description.h"
#include "formats/mindspore/ms_encryption.h"

#include <string>
#include <string_view>
#include <vector>

namespace netwright {

// Every format the registry knows, in the order they are tried.
const std::vector<FormatInfo> &knownFormats();
// The format of `bytes` (the first part of a file of `fileSize` bytes named `path`). Throws
// Error naming the file, what was tried and what its first bytes look like when nothing fits;
// recognised formats Netwright cannot read (encrypted files, CNTK v1) are named in the error.
FormatInfo detectFormat(std::string_view prefix, uint64_t fileSize, const std::string &path);
// Detects and reads a whole file. Throws Error naming the file and the problem. An encrypted
// MindSpore file (.ckpt or .mindir) is decrypted with `key` first and described as what it holds,
// with an "encryption" property; without a key it fails with the sentence that a key is needed.
ModelDescription describeFile(const std::string &path, const mindspore::EncryptionKey &key = {});

} // namespace netwright
