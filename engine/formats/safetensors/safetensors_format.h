// SPDX-License-Identifier: Apache-2.0
// safetensors files as a FileFormat (formats/file_format.h): detected by content (a plausible
// 8-byte header length followed by '{'), described tensor by tensor with the __metadata__.
// Layer: engine/formats.
#pragma once

namespace netwright {

class FileFormat;
const FileFormat &safetensorsFileFormat();

} // namespace netwright
