// SPDX-License-Identifier: Apache-2.0
// Reading Ascend AIR files (a bare ge.proto.ModelDef, ../shared/formats/air.md) into the model
// description: every op of every graph with its GE type, "name:index" inputs and attributes
// (dt attributes decoded with GE's C++ numbering, descriptors with the proto numbering), Data ops
// as graph inputs, Const ops as parameters with their values. Layer: engine/formats.
#pragma once

#include "formats/model_description.h"

#include <optional>
#include <string>
#include <string_view>

namespace netwright::air {

ModelDescription describeAir(std::string_view bytes, const std::string &source);
// The name of a ge.proto.DataType (proto numbering) and of a ge::DataType (C++ numbering).
std::string protoTypeName(int type);
std::string cppTypeName(int64_t type);
// A ge.proto.DataType (proto numbering) as an engine dtype, and back (0 when there is none).
std::optional<DType> protoDType(int type);
int protoTypeOf(DType type);
// A ge::DataType (C++ numbering, the `dt` attributes such as Cast's dst_type) as an engine dtype,
// and back (-1 when there is none).
std::optional<DType> cppDType(int64_t type);
int64_t cppTypeOf(DType type);

} // namespace netwright::air
