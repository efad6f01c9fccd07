// SPDX-License-Identifier: Apache-2.0
#include "formats/pytorch/pickle_reader.h"

#include "core/error.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <unordered_map>

namespace netwright::pytorch {

namespace {

// No pickle builds more values than this: a state dict of 10,000 tensors builds about 200,000.
constexpr size_t kMaxObjects = size_t(4) << 20;
// A LONG1/LONG4 integer longer than this is no number a checkpoint needs.
constexpr uint64_t kMaxLongBytes = 64;

struct StorageType {
    const char *name;
    DType dtype;
};
// The storage classes torch.save names in its persistent ids, with their element types.
constexpr std::array kStorageTypes{
    StorageType{"torch.FloatStorage", DType::Float32},     StorageType{"torch.DoubleStorage", DType::Float64},
    StorageType{"torch.HalfStorage", DType::Float16},      StorageType{"torch.BFloat16Storage", DType::BFloat16},
    StorageType{"torch.LongStorage", DType::Int64},        StorageType{"torch.IntStorage", DType::Int32},
    StorageType{"torch.ShortStorage", DType::Int16},       StorageType{"torch.CharStorage", DType::Int8},
    StorageType{"torch.ByteStorage", DType::UInt8},        StorageType{"torch.BoolStorage", DType::Bool},
    StorageType{"torch.UntypedStorage", DType::UInt8},     StorageType{"torch.storage.UntypedStorage", DType::UInt8},
    StorageType{"torch.storage._UntypedStorage", DType::UInt8},
};

// Everything else a torch.save pickle may name: the tensor rebuild functions, ordered dicts,
// torch.Size and the builtin containers and numbers (Python 3 and protocol-2 names).
constexpr std::array kAllowed{
    "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor", "torch._utils._rebuild_parameter",
    "torch.Size", "torch.storage.TypedStorage", "torch.storage._TypedStorage",
    "builtins.set", "builtins.frozenset", "builtins.list", "builtins.tuple", "builtins.dict", "builtins.int", "builtins.float", "builtins.bool",
    "__builtin__.set", "__builtin__.frozenset", "__builtin__.list", "__builtin__.tuple", "__builtin__.dict", "__builtin__.int",
    "__builtin__.float", "__builtin__.bool", "__builtin__.long",
};

const StorageType *findStorageType(std::string_view name)
{
    for (const auto &t : kStorageTypes)
        if (name == t.name)
            return &t;
    return nullptr;
}

bool allowed(std::string_view name)
{
    return findStorageType(name) || std::find(kAllowed.begin(), kAllowed.end(), name) != kAllowed.end();
}

std::string shortName(std::string_view name)
{
    const size_t dot = name.rfind('.');
    return std::string(dot == std::string_view::npos ? name : name.substr(dot + 1));
}

std::string kindName(PyValue::Kind k)
{
    using K = PyValue::Kind;
    switch (k) {
    case K::None: return "None";
    case K::Bool: return "a bool";
    case K::Int:
    case K::BigInt: return "an int";
    case K::Float: return "a float";
    case K::Str: return "a string";
    case K::Bytes: return "bytes";
    case K::Tuple: return "a tuple";
    case K::List: return "a list";
    case K::Dict: return "a dict";
    case K::Set: return "a set";
    case K::Global: return "a callable";
    case K::Storage: return "a storage";
    case K::Tensor: return "a tensor";
    }
    return "a value";
}

bool isSequence(const PyValue *v)
{
    return v->kind == PyValue::Kind::Tuple || v->kind == PyValue::Kind::List;
}

std::string formatDouble(double d)
{
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, d);
    std::string s(buf, r.ptr);
    if (s.find_first_of(".eEn") == std::string::npos) // "inf"/"nan" contain n
        s += ".0";
    return s;
}

} // namespace

PickleReader::PickleReader(std::string_view bytes, std::string path, std::string format)
    : m_bytes(bytes), m_path(std::move(path)), m_format(std::move(format))
{
}

void PickleReader::fail(const std::string &problem) const
{
    throw Error("Cannot read \"" + m_path + "\" as " + m_format + ": " + problem + ".");
}

const DType *PickleReader::storageType(const std::string &key) const
{
    const auto it = m_storageTypes.find(key);
    return it == m_storageTypes.end() ? nullptr : &it->second;
}

PyValue *PickleReader::make(PyValue::Kind kind)
{
    if (m_arena.size() >= kMaxObjects)
        fail("its pickle builds more than " + std::to_string(kMaxObjects) + " values, more than any checkpoint needs");
    m_arena.push_back(std::make_unique<PyValue>());
    m_arena.back()->kind = kind;
    return m_arena.back().get();
}

PyValue *PickleReader::persistentStorage(PyValue *pid, size_t at)
{
    // ('storage', storage type, key, location, numel[, view metadata (pre-1.6 files)])
    const std::string where = "the persistent id at byte " + std::to_string(at);
    if (!isSequence(pid) || pid->items.size() < 5 || pid->items[0]->kind != PyValue::Kind::Str || pid->items[0]->s != "storage")
        fail(where + " is not a ('storage', type, key, location, size) tuple");
    const PyValue *type = pid->items[1], *key = pid->items[2], *numel = pid->items[4];
    const StorageType *st = type->kind == PyValue::Kind::Global ? findStorageType(type->s) : nullptr;
    if (!st)
        fail(where + " names " + (type->kind == PyValue::Kind::Global ? type->s : kindName(type->kind))
             + " as its storage type; this reader takes Float, Double, Half, BFloat16, Long, Int, Short, Char, Byte and Bool storages");
    if (key->kind != PyValue::Kind::Str && key->kind != PyValue::Kind::Int)
        fail(where + " has " + kindName(key->kind) + " as its storage key, not a string");
    if (numel->kind != PyValue::Kind::Int || numel->i < 0)
        fail(where + " has no valid storage size");
    if (pid->items.size() > 5 && pid->items[5]->kind != PyValue::Kind::None)
        fail(where + " is a view of another storage (pre-1.6 view metadata), which this reader does not take");
    PyValue *v = make(PyValue::Kind::Storage);
    v->view = std::make_unique<TensorView>();
    v->view->storageKey = key->kind == PyValue::Kind::Str ? key->s : std::to_string(key->i);
    v->view->dtype = st->dtype;
    v->view->storageNumel = numel->i;
    v->view->sizes = {numel->i};
    v->view->strides = {1};
    const auto seen = m_storageTypes.emplace(v->view->storageKey, st->dtype);
    if (!seen.second && seen.first->second != st->dtype)
        fail(where + " declares storage \"" + v->view->storageKey + "\" as " + dtypeName(st->dtype) + ", an earlier one as "
             + dtypeName(seen.first->second));
    return v;
}

PyValue *PickleReader::call(PyValue *callable, PyValue *args, size_t at)
{
    using K = PyValue::Kind;
    const std::string where = " (at byte " + std::to_string(at) + ")";
    if (callable->kind != K::Global)
        fail("its pickle calls " + kindName(callable->kind) + where + "; only the tensor rebuild functions and containers are read");
    if (args->kind != K::Tuple)
        fail("its pickle calls " + callable->s + " with " + kindName(args->kind) + " as arguments" + where + ", not a tuple");
    const std::string &name = callable->s;
    const auto &a = args->items;
    const std::string fn = shortName(name);
    if (name == "collections.OrderedDict" || fn == "dict") {
        PyValue *d = make(K::Dict);
        if (!a.empty() && a[0]->kind == K::Dict)
            d->items = a[0]->items;
        else if (!a.empty() && isSequence(a[0]))
            for (PyValue *pair : a[0]->items) {
                if (!isSequence(pair) || pair->items.size() != 2)
                    fail("its pickle builds an ordered dict from " + kindName(pair->kind) + where + ", not from (key, value) pairs");
                d->items.push_back(pair->items[0]);
                d->items.push_back(pair->items[1]);
            }
        return d;
    }
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
        // (storage, storage_offset, size, stride[, requires_grad, backward_hooks[, metadata]])
        if (a.size() < 4 || a[0]->kind != K::Storage || a[1]->kind != K::Int || !isSequence(a[2]) || !isSequence(a[3]))
            fail("its pickle calls " + name + where + " without (storage, offset, size, stride)");
        if (a[2]->items.size() != a[3]->items.size() || a[2]->items.size() > 32)
            fail("a tensor" + where + " has " + std::to_string(a[2]->items.size()) + " sizes and " + std::to_string(a[3]->items.size())
                 + " strides (at most 32 dimensions, one stride each)");
        PyValue *t = make(K::Tensor);
        t->view = std::make_unique<TensorView>(*a[0]->view);
        t->view->offset = a[1]->i;
        t->view->sizes.clear();
        t->view->strides.clear();
        for (size_t d = 0; d < a[2]->items.size(); ++d) {
            const PyValue *size = a[2]->items[d], *stride = a[3]->items[d];
            if (size->kind != K::Int || stride->kind != K::Int || size->i < 0 || stride->i < 0)
                fail("a tensor" + where + " has a size or stride that is not a non-negative integer");
            t->view->sizes.push_back(size->i);
            t->view->strides.push_back(stride->i);
        }
        if (t->view->offset < 0)
            fail("a tensor" + where + " has a negative storage offset");
        return t;
    }
    if (name == "torch._utils._rebuild_parameter") {
        if (a.empty() || a[0]->kind != K::Tensor)
            fail("its pickle calls " + name + where + " without a tensor");
        return a[0];
    }
    if (name == "torch.Size" || fn == "tuple" || fn == "list" || fn == "set" || fn == "frozenset") {
        PyValue *c = make(fn == "list" ? K::List : fn == "set" || fn == "frozenset" ? K::Set : K::Tuple);
        if (!a.empty()) {
            if (!isSequence(a[0]) && a[0]->kind != K::Set)
                fail("its pickle calls " + name + " on " + kindName(a[0]->kind) + where);
            c->items = a[0]->items;
        }
        return c;
    }
    if (fn == "int" || fn == "long" || fn == "float" || fn == "bool") {
        if (a.size() != 1 || (a[0]->kind != K::Int && a[0]->kind != K::Float && a[0]->kind != K::Bool))
            fail("its pickle calls " + name + where + " on something other than one number");
        PyValue *n = make(fn == "float" ? K::Float : fn == "bool" ? K::Bool : K::Int);
        const double x = a[0]->kind == K::Float ? a[0]->f : static_cast<double>(a[0]->i);
        if (fn == "float")
            n->f = x;
        else if (fn == "bool")
            n->i = x != 0;
        else if (a[0]->kind == K::Float && !(x >= -9.2e18 && x <= 9.2e18))
            fail("its pickle calls " + name + where + " on a float out of range");
        else
            n->i = a[0]->kind == K::Float ? static_cast<int64_t>(x) : a[0]->i;
        return n;
    }
    fail("its pickle calls " + name + where + " with arguments, which this reader does not take");
}

PyValue *PickleReader::load(size_t &offset)
{
    using K = PyValue::Kind;
    std::vector<PyValue *> stack;
    std::vector<size_t> marks;
    std::unordered_map<uint64_t, PyValue *> memo;
    const std::string_view b = m_bytes;
    size_t pos = offset;

    auto need = [&](uint64_t n, const char *what) {
        if (n > b.size() - pos)
            fail(std::string("its pickle ends inside ") + what + " at byte " + std::to_string(pos) + " (" + std::to_string(n) + " bytes declared, "
                 + std::to_string(b.size() - pos) + " left)");
    };
    auto uint = [&](int n, const char *what) -> uint64_t {
        need(static_cast<uint64_t>(n), what);
        uint64_t v = 0;
        for (int k = n - 1; k >= 0; --k)
            v = (v << 8) | static_cast<uint8_t>(b[pos + static_cast<size_t>(k)]);
        pos += static_cast<size_t>(n);
        return v;
    };
    auto pop = [&](size_t at) -> PyValue * {
        if (stack.empty() || (!marks.empty() && stack.size() <= marks.back()))
            fail("its pickle takes a value from an empty stack at byte " + std::to_string(at));
        PyValue *v = stack.back();
        stack.pop_back();
        return v;
    };
    auto top = [&](size_t at) -> PyValue * {
        if (stack.empty())
            fail("its pickle uses a value from an empty stack at byte " + std::to_string(at));
        return stack.back();
    };
    auto popMark = [&](size_t at) -> std::vector<PyValue *> {
        if (marks.empty())
            fail("its pickle closes a MARK it never opened at byte " + std::to_string(at));
        std::vector<PyValue *> items(stack.begin() + static_cast<std::ptrdiff_t>(marks.back()), stack.end());
        stack.resize(marks.back());
        marks.pop_back();
        return items;
    };
    auto text = [&](uint64_t n, K kind, const char *what) {
        need(n, what);
        PyValue *v = make(kind);
        v->s.assign(b.substr(pos, static_cast<size_t>(n)));
        pos += static_cast<size_t>(n);
        stack.push_back(v);
    };
    auto line = [&](const char *what) -> std::string {
        const size_t end = b.find('\n', pos);
        if (end == std::string_view::npos || end - pos > 256)
            fail(std::string("its pickle has no end to ") + what + " at byte " + std::to_string(pos));
        std::string s(b.substr(pos, end - pos));
        pos = end + 1;
        return s;
    };
    auto global = [&](const std::string &module, const std::string &name, size_t at) {
        const std::string full = module + "." + name;
        if (!allowed(full)) {
            // A class of a model's own (torch.save(model) rather than its state_dict()) gets a hint.
            static const std::array system{"os", "posix", "nt", "subprocess", "builtins", "__builtin__", "sys", "shutil", "socket", "runpy", "importlib"};
            const std::string root = module.substr(0, module.find('.'));
            const bool userClass = !name.empty() && name[0] >= 'A' && name[0] <= 'Z' && std::find(system.begin(), system.end(), root) == system.end();
            fail("it calls " + full + " (at byte " + std::to_string(at) + "), which Netwright never runs (only tensors and plain containers are read)"
                 + (userClass ? std::string("; a whole pickled model needs its Python classes, so save its state_dict() instead") : std::string()));
        }
        PyValue *g = make(K::Global);
        g->s = full;
        stack.push_back(g);
    };
    auto addItems = [&](PyValue *target, const std::vector<PyValue *> &items, size_t at) {
        if (target->kind == K::Dict) {
            if (items.size() % 2)
                fail("its pickle sets a dict item without a value at byte " + std::to_string(at));
        } else if (target->kind != K::List && target->kind != K::Set) {
            fail("its pickle adds items to " + kindName(target->kind) + " at byte " + std::to_string(at));
        }
        target->items.insert(target->items.end(), items.begin(), items.end());
    };

    while (true) {
        if (pos >= b.size())
            fail("its pickle ends at byte " + std::to_string(pos) + " without a STOP");
        const size_t at = pos;
        const auto op = static_cast<uint8_t>(b[pos++]);
        switch (op) {
        case 0x80: // PROTO
            if (const uint64_t p = uint(1, "PROTO"); p < 2 || p > 5)
                fail("it is a pickle of protocol " + std::to_string(p) + "; torch.save writes protocols 2 to 5");
            break;
        case 0x95: uint(8, "FRAME"); break; // frames only group opcodes
        case '}': stack.push_back(make(K::Dict)); break;
        case ']': stack.push_back(make(K::List)); break;
        case ')': stack.push_back(make(K::Tuple)); break;
        case 0x8f: stack.push_back(make(K::Set)); break; // EMPTY_SET
        case '(': marks.push_back(stack.size()); break;
        case 0x85:
        case 0x86:
        case 0x87: { // TUPLE1..3
            PyValue *t = make(K::Tuple);
            t->items.resize(op - 0x84u);
            for (size_t k = t->items.size(); k-- > 0;)
                t->items[k] = pop(at);
            stack.push_back(t);
            break;
        }
        case 't': { // TUPLE
            PyValue *t = make(K::Tuple);
            t->items = popMark(at);
            stack.push_back(t);
            break;
        }
        case 0x91: { // FROZENSET
            PyValue *t = make(K::Set);
            t->items = popMark(at);
            stack.push_back(t);
            break;
        }
        case 'l': { // LIST
            PyValue *t = make(K::List);
            t->items = popMark(at);
            stack.push_back(t);
            break;
        }
        case 'd': { // DICT
            PyValue *t = make(K::Dict);
            addItems(t, popMark(at), at);
            stack.push_back(t);
            break;
        }
        case 's': { // SETITEM
            PyValue *value = pop(at);
            PyValue *key = pop(at);
            addItems(top(at), {key, value}, at);
            break;
        }
        case 'u':   // SETITEMS
        case 'e':   // APPENDS
        case 0x90: { // ADDITEMS
            const auto items = popMark(at);
            addItems(top(at), items, at);
            break;
        }
        case 'a': { // APPEND
            PyValue *value = pop(at);
            addItems(top(at), {value}, at);
            break;
        }
        case 'J': {
            PyValue *v = make(K::Int);
            v->i = static_cast<int32_t>(static_cast<uint32_t>(uint(4, "BININT")));
            stack.push_back(v);
            break;
        }
        case 'K':
        case 'M': {
            PyValue *v = make(K::Int);
            v->i = static_cast<int64_t>(uint(op == 'K' ? 1 : 2, "BININT"));
            stack.push_back(v);
            break;
        }
        case 0x8a:   // LONG1
        case 0x8b: { // LONG4
            const uint64_t n = uint(op == 0x8a ? 1 : 4, "LONG");
            if (n > kMaxLongBytes)
                fail("its pickle holds an integer of " + std::to_string(n) + " bytes at byte " + std::to_string(at));
            need(n, "LONG");
            PyValue *v = make(K::Int);
            if (n > 8) {
                v->kind = K::BigInt;
                v->s.assign(b.substr(pos, static_cast<size_t>(n)));
                pos += static_cast<size_t>(n);
            } else if (n > 0) {
                const uint64_t raw = uint(static_cast<int>(n), "LONG");
                const int shift = 64 - 8 * static_cast<int>(n);
                v->i = shift ? static_cast<int64_t>(raw << shift) >> shift : static_cast<int64_t>(raw); // sign-extend
            }
            stack.push_back(v);
            break;
        }
        case 'G': { // BINFLOAT: big-endian
            need(8, "BINFLOAT");
            uint64_t raw = 0;
            for (int k = 0; k < 8; ++k)
                raw = (raw << 8) | static_cast<uint8_t>(b[pos + static_cast<size_t>(k)]);
            pos += 8;
            PyValue *v = make(K::Float);
            v->f = std::bit_cast<double>(raw);
            stack.push_back(v);
            break;
        }
        case 'X': text(uint(4, "BINUNICODE"), K::Str, "a string"); break;
        case 0x8c: text(uint(1, "SHORT_BINUNICODE"), K::Str, "a string"); break;
        case 0x8d: text(uint(8, "BINUNICODE8"), K::Str, "a string"); break;
        case 'T': text(uint(4, "BINSTRING"), K::Str, "a string"); break;
        case 'U': text(uint(1, "SHORT_BINSTRING"), K::Str, "a string"); break;
        case 'B': text(uint(4, "BINBYTES"), K::Bytes, "bytes"); break;
        case 'C': text(uint(1, "SHORT_BINBYTES"), K::Bytes, "bytes"); break;
        case 0x8e: text(uint(8, "BINBYTES8"), K::Bytes, "bytes"); break;
        case 'q': memo[uint(1, "BINPUT")] = top(at); break;
        case 'r': memo[uint(4, "LONG_BINPUT")] = top(at); break;
        case 0x94: memo[memo.size()] = top(at); break; // MEMOIZE
        case 'h':
        case 'j': {
            const uint64_t k = uint(op == 'h' ? 1 : 4, "BINGET");
            const auto it = memo.find(k);
            if (it == memo.end())
                fail("its pickle gets memo entry " + std::to_string(k) + " at byte " + std::to_string(at) + ", which it never put");
            stack.push_back(it->second);
            break;
        }
        case 'c': { // GLOBAL "module\nname\n"
            const std::string module = line("a GLOBAL's module");
            const std::string name = line("a GLOBAL's name");
            global(module, name, at);
            break;
        }
        case 0x93: { // STACK_GLOBAL
            PyValue *name = pop(at);
            PyValue *module = pop(at);
            if (module->kind != K::Str || name->kind != K::Str)
                fail("its pickle names a callable with " + kindName(module->kind) + " and " + kindName(name->kind) + " at byte " + std::to_string(at));
            global(module->s, name->s, at);
            break;
        }
        case 'R':    // REDUCE
        case 0x81: { // NEWOBJ
            PyValue *args = pop(at);
            PyValue *callable = pop(at);
            stack.push_back(call(callable, args, at));
            break;
        }
        case 0x92: { // NEWOBJ_EX: cls, args, kwargs
            pop(at);
            PyValue *args = pop(at);
            PyValue *callable = pop(at);
            stack.push_back(call(callable, args, at));
            break;
        }
        case 'b': // BUILD: an object's attributes (an OrderedDict's _metadata); nothing to set
            pop(at);
            top(at);
            break;
        case 'Q': stack.push_back(persistentStorage(pop(at), at)); break; // BINPERSID
        case 'N': stack.push_back(make(K::None)); break;
        case 0x88:
        case 0x89: {
            PyValue *v = make(K::Bool);
            v->i = op == 0x88;
            stack.push_back(v);
            break;
        }
        case '0': pop(at); break;                           // POP
        case '1': popMark(at); break;                       // POP_MARK
        case '2': stack.push_back(top(at)); break;          // DUP
        case '.': {                                         // STOP
            PyValue *v = pop(at);
            offset = pos;
            return v;
        }
        default: {
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02x", op);
            fail("its pickle has opcode " + std::string(hex) + " at byte " + std::to_string(at)
                 + ", which the pickles torch.save writes do not use");
        }
        }
    }
}

namespace {

// Appends v's text to `out`; stops once `out` passes kMaxReprChars (shared containers could
// otherwise make the text exponentially long).
constexpr size_t kMaxReprChars = 2000;

void appendRepr(const PyValue &v, int depth, std::string &out)
{
    using K = PyValue::Kind;
    if (out.size() > kMaxReprChars)
        return;
    if (depth > 8) {
        out += "…";
        return;
    }
    switch (v.kind) {
    case K::None: out += "None"; return;
    case K::Bool: out += v.i ? "True" : "False"; return;
    case K::Int: out += std::to_string(v.i); return;
    case K::BigInt: out += "<integer of " + std::to_string(v.s.size()) + " bytes>"; return;
    case K::Float: out += formatDouble(v.f); return;
    case K::Str: out += "'" + v.s.substr(0, 200) + (v.s.size() > 200 ? "…'" : "'"); return;
    case K::Bytes: out += "<" + std::to_string(v.s.size()) + " bytes>"; return;
    case K::Global: out += v.s; return;
    case K::Storage: out += "<storage " + v.view->storageKey + ">"; return;
    case K::Tensor: out += "<tensor " + dtypeName(v.view->dtype) + " " + shapeToString(v.view->sizes) + ">"; return;
    case K::Tuple:
    case K::List:
    case K::Set:
    case K::Dict: break;
    }
    const bool dict = v.kind == K::Dict;
    out += v.kind == K::List ? "[" : v.kind == K::Tuple ? "(" : "{";
    const size_t step = dict ? 2 : 1;
    for (size_t k = 0; k + step - 1 < v.items.size(); k += step) {
        if (k / step >= 32 || out.size() > kMaxReprChars) {
            out += ", …";
            break;
        }
        out += k ? ", " : "";
        appendRepr(*v.items[k], depth + 1, out);
        if (dict) {
            out += ": ";
            appendRepr(*v.items[k + 1], depth + 1, out);
        }
    }
    if (v.kind == K::Tuple && v.items.size() == 1)
        out += ",";
    out += v.kind == K::List ? "]" : v.kind == K::Tuple ? ")" : "}";
}

} // namespace

std::string pyRepr(const PyValue &v)
{
    std::string out;
    appendRepr(v, 0, out);
    return out;
}

} // namespace netwright::pytorch
