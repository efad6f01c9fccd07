// SPDX-License-Identifier: Apache-2.0
// PyTorch checkpoints (.pt, .pth, .bin written by torch.save) as a FileFormat
// (formats/file_format.h): named tensors and plain values, no graph. Layer: engine/formats.
#pragma once

namespace netwright {

class FileFormat;
const FileFormat &pytorchFileFormat();

} // namespace netwright
