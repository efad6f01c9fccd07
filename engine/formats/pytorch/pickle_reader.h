// SPDX-License-Identifier: Apache-2.0
// A restricted reader of Python pickles (protocols 2–5) as torch.save writes them. It interprets
// the opcodes into plain values — containers, numbers, strings, storages and tensor views — and
// never runs anything: a GLOBAL outside a short allow-list is refused, naming the callable.
// Layer: engine/formats. Values live in the reader's arena; pointers stay valid while it lives.
#pragma once

#include "core/tensor.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace netwright::pytorch {

// A tensor as torch._utils._rebuild_tensor_v2 describes it: a view (offset, sizes, strides, all
// in elements) of a storage that the archive holds under `storageKey`.
struct TensorView {
    std::string storageKey;
    DType dtype = DType::Float32;
    int64_t storageNumel = 0; // what the pickle declares the storage holds
    int64_t offset = 0;
    Shape sizes, strides;
};

// One value the pickle built. Dict items: keys at even, values at odd positions of `items`.
struct PyValue {
    enum class Kind { None, Bool, Int, BigInt, Float, Str, Bytes, Tuple, List, Dict, Set, Global, Storage, Tensor };
    Kind kind = Kind::None;
    int64_t i = 0;                 // Int, Bool
    double f = 0;                  // Float
    std::string s;                 // Str, Bytes, BigInt (little-endian two's complement), Global ("module.name")
    std::vector<PyValue *> items;  // Tuple, List, Set, Dict
    std::unique_ptr<TensorView> view; // Storage (offset 0, sizes [numel]), Tensor
};

class PickleReader {
public:
    // `bytes`: a pickle stream (possibly followed by more data); `path` and `format` name the file
    // in errors ("Cannot read "<path>" as <format>: …").
    PickleReader(std::string_view bytes, std::string path, std::string format);

    // Reads one pickle from `offset` up to its STOP; returns its value and sets `offset` past it.
    // Throws Error naming the file: a callable outside the allow-list, an opcode torch.save does
    // not write, a length past the end, a stack or memo underflow, too many objects.
    PyValue *load(size_t &offset);

    [[noreturn]] void fail(const std::string &problem) const;
    const std::string &path() const { return m_path; }
    // The element type of the storage `key`, as its persistent ids declared it; nullptr when the
    // pickles read so far name no such storage.
    const DType *storageType(const std::string &key) const;

private:
    PyValue *make(PyValue::Kind kind);
    PyValue *call(PyValue *callable, PyValue *args, size_t at);
    PyValue *persistentStorage(PyValue *pid, size_t at);

    std::string_view m_bytes;
    std::string m_path, m_format;
    std::vector<std::unique_ptr<PyValue>> m_arena;
    std::unordered_map<std::string, DType> m_storageTypes;
};

// "Python" text of a plain value (numbers, strings, None, booleans, containers of them), for
// showing entries such as epoch or lr; long containers are cut with "…".
std::string pyRepr(const PyValue &v);

} // namespace netwright::pytorch
