// SPDX-License-Identifier: Apache-2.0
// Internal to the MindIR writer: filling mind_ir protos — a primitive's typed attributes, INT64
// tuples (../shared/formats/mindir.md section 4.6) and a node's output abstract.
#pragma once

#include "core/tensor.h"
#include "mind_ir.pb.h"

#include <string>
#include <vector>

namespace netwright::mindspore::mindir {

using A = ::mind_ir::AttributeProto;
using Prim = ::mind_ir::PrimitiveProto;

A *boolAttr(Prim &p, const std::string &name, bool v);
void intAttr(Prim &p, const std::string &name, int64_t v);
void floatAttr(Prim &p, const std::string &name, float v);
void stringAttr(Prim &p, const std::string &name, const std::string &v);
// A tuple of INT64: each element carries its own type and the value in ints[0] (section 4.6).
void fillIntTuple(A &a, const std::vector<int64_t> &v);
void tupleAttr(Prim &p, const std::string &name, const std::vector<int64_t> &v);
// A LIST of STRING (a primitive's input_names / output_names).
void namesAttr(Prim &p, const std::string &name, const std::vector<std::string> &v);
// The abstract of one output: a TENSORS attribute with its dims and element type.
void fillShape(A &a, const Shape &shape, DType dtype);

} // namespace netwright::mindspore::mindir
