// SPDX-License-Identifier: Apache-2.0
// Engine values as ONNX protobuf messages, for the exporter: element types, tensors (raw
// little-endian data) and node attributes. Private to engine/formats/onnx (it includes onnx's
// generated code); onnx_tensor.h is the reading side.
#pragma once

#include "formats/external_data.h"
#include "graph/graph.h"

#include <onnx/onnx_pb.h>

#include <optional>
#include <string>
#include <vector>

namespace netwright::onnx_format {

// TensorProto.DataType of an engine element type.
int32_t onnxType(DType t);
bool isFloat(DType t);
// `t` as an initializer or tensor attribute named `name`: dims and raw data in C order.
void fillTensor(onnx::TensorProto &p, const std::string &name, const Tensor &t);
// An initializer: inline as fillTensor, or — with a plan and at least its threshold of bytes —
// as external data (location, offset, length) that the plan records for writeExternalData().
void fillInitializer(onnx::TensorProto &p, const std::string &name, const Tensor &t, ExternalDataPlan *plan);
// A 0-d tensor of `type` holding `v`; undefined for the 16-bit float types.
Tensor scalarTensor(DType type, double v);
// An int64 or int32 tensor's values; nullopt for other element types.
std::optional<std::vector<int64_t>> intsOf(const Tensor &t);
// Writes an attribute; false for a subgraph (GRAPH attributes are written by the exporter's
// subgraph writer).
bool fillAttribute(onnx::AttributeProto &a, const std::string &name, const Attribute &value);
// ONNX's IR version for an opset (the newest IR the opset appeared with).
int64_t irVersionFor(int64_t opset);

} // namespace netwright::onnx_format
