// SPDX-License-Identifier: Apache-2.0
// Ascend AIR (GE ModelDef) as a FileFormat (formats/file_format.h). Layer: engine/formats.
#pragma once

namespace netwright {

class FileFormat;
const FileFormat &airFileFormat();

} // namespace netwright
