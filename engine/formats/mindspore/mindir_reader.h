// SPDX-License-Identifier: Apache-2.0
// Reading MindSpore MindIR files (../shared/formats/mindir.md) into the model description: the
// main graph and every function graph, `REF::` op types resolved through the primitive table
// (attribute-style files) or inline attributes (legacy ≤ 1.6 files), constants, graph inputs and
// outputs, and the parameters with their raw_data. Encrypted files are recognised and refused
// with the message that a key is needed. Layer: engine/formats.
#pragma once

#include "formats/model_description.h"

#include <string>
#include <string_view>

namespace netwright::mindspore {

ModelDescription describeMindir(std::string_view bytes, const std::string &source);

} // namespace netwright::mindspore
