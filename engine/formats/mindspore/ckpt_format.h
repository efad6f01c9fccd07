// SPDX-License-Identifier: Apache-2.0
// MindSpore checkpoints (.ckpt) as a FileFormat (formats/file_format.h). Layer: engine/formats.
#pragma once

namespace netwright {

class FileFormat;
const FileFormat &mindsporeCkptFileFormat();

} // namespace netwright
