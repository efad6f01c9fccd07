// SPDX-License-Identifier: Apache-2.0
// Building and reading CNTK.proto Dictionaries (../shared/formats/cntk-v2.md, section 3): every
// Dictionary and DictionaryValue carries version 1, every value its non-zero type, and the output
// is serialized deterministically. Private to engine/formats/cntk (it includes generated code).
#pragma once

#include "cntk.pb.h"
#include "core/tensor.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace netwright::cntk::dict {

using Dictionary = CNTK::proto::Dictionary;
using Value = CNTK::proto::DictionaryValue;

Dictionary make();
Value sizeT(uint64_t v);
Value integer(int32_t v);
Value boolean(bool v);
Value real(double v);
Value string(const std::string &v);
Value shape(const std::vector<uint64_t> &dims);
Value axis(int32_t index, const std::string &name, bool ordered);
Value vector(std::vector<Value> items);
Value dictionary(Dictionary d);
// Float32/Float64 tensors as NDArrayView (values in the tensor's memory order) with `cntkShape`.
Value array(const Tensor &t, const std::vector<uint64_t> &cntkShape);
// The reversed (column-major) shape of a row-major tensor shape.
std::vector<uint64_t> reversed(const Shape &shape);

void put(Dictionary &d, const std::string &key, Value v);
std::string serialize(const Dictionary &d);
// Parses a top-level Dictionary; throws Error naming `source` when the bytes are not one.
Dictionary parse(std::string_view bytes, const std::string &source);

// Lookups; nullptr when absent.
const Value *find(const Dictionary &d, const std::string &key);
// A typed read of a present key; throws Error "<source>: <key> is not a <type>".
uint64_t getSizeT(const Dictionary &d, const std::string &key, const std::string &source);
std::string getString(const Dictionary &d, const std::string &key, const std::string &source);
// The NDArrayView as a tensor with the reversed (row-major) shape; float16 becomes float32
// (CNTK stores it widened), int8 Int8, int16 Int16.
Tensor toTensor(const CNTK::proto::NDArrayView &v, const std::string &source, const std::string &what);
// Read the whole file (errors name it).
std::string readFile(const std::string &path);

} // namespace netwright::cntk::dict
