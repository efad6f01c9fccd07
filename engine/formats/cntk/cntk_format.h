// SPDX-License-Identifier: Apache-2.0
// CNTK v2 files (model-v2 and trainer checkpoints) as a FileFormat (formats/file_format.h). Layer: engine/formats.
#pragma once

namespace netwright {

class FileFormat;
const FileFormat &cntkFileFormat();

} // namespace netwright
