// SPDX-License-Identifier: Apache-2.0
// MindSpore's graph dump (<prefix>-graph.meta) as a FileFormat (formats/file_format.h). Layer: engine/formats.
#pragma once

namespace netwright {

class FileFormat;
const FileFormat &graphMetaFileFormat();

} // namespace netwright
