// SPDX-License-Identifier: Apache-2.0
#include "formats/pytorch/pytorch_file.h"

#include "core/error.h"
#include "core/file_view.h"
#include "formats/pytorch/pickle_reader.h"

#include "formats/zip_member.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <unordered_map>

namespace netwright::pytorch {

namespace {

constexpr const char *kFormat = "a PyTorch checkpoint";
// The pickle of a checkpoint is small (names and shapes); storages may be large.
constexpr uint64_t kMaxPickleBytes = uint64_t(1) << 30;
constexpr uint64_t kMaxStorageBytes = uint64_t(64) << 30;
constexpr int kMaxDepth = 64;
// Every value the flattening visits (a container shared through the memo is visited once per use).
constexpr size_t kMaxVisits = size_t(4) << 20;
// torch.save's legacy magic number 0x1950a86a20f9469cfc6c, as LONG1 writes it (little-endian).
constexpr std::string_view kLegacyMagic("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);
constexpr int64_t kLegacyProtocol = 1001;

[[noreturn]] void fail(const std::string &path, const std::string &problem)
{
    throw Error("Cannot read \"" + path + "\" as " + std::string(kFormat) + ": " + problem + ".");
}

// ---- the zip archive (libzip over the bytes in memory) ----

using zipfile::Archive;

Archive openArchive(std::string_view bytes, const std::string &path)
{
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t *source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
    if (!source) {
        const std::string text = zip_error_strerror(&error);
        zip_error_fini(&error);
        fail(path, "libzip cannot take its bytes: " + text);
    }
    zip_t *z = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
    if (z) {
        zip_error_fini(&error);
        return Archive(z);
    }
    zip_source_free(source);
    const int code = zip_error_code_zip(&error);
    const std::string text = zip_error_strerror(&error);
    zip_error_fini(&error);
    if (code == ZIP_ER_NOZIP)
        fail(path, "a truncated or damaged zip archive: it starts like one, but the central directory that ends a zip is missing");
    if (code == ZIP_ER_INCONS)
        fail(path, "the zip archive is inconsistent (damaged or truncated): its directory does not match its members");
    fail(path, "libzip cannot open the zip archive: " + text);
}

// The member `name` whole, its declared size checked before anything is allocated.
std::string readMember(zip_t *z, const std::string &name, uint64_t maxBytes, const std::string &path)
{
    const std::string subject = "member \"" + name + "\"";
    const zip_int64_t index = zip_name_locate(z, name.c_str(), 0);
    if (index < 0)
        fail(path, "the archive has no " + subject);
    return zipfile::readMember(z, static_cast<zip_uint64_t>(index), subject, maxBytes, "torch.save stores members uncompressed",
                               [&path](const std::string &problem) { fail(path, problem); });
}

// "<name>/" of the member "<name>/data.pkl" (torch.save names the folder after the file).
std::string archivePrefix(zip_t *z, const std::string &path)
{
    const zip_int64_t count = zip_get_num_entries(z, 0);
    for (zip_int64_t i = 0; i < count; ++i) {
        const char *member = zip_get_name(z, static_cast<zip_uint64_t>(i), 0);
        const std::string_view n = member ? std::string_view(member) : std::string_view();
        if (n == "data.pkl" || n.ends_with("/data.pkl"))
            return std::string(n.substr(0, n.size() - 8));
    }
    fail(path, "the zip archive holds no data.pkl (torch.save writes <name>/data.pkl); is it another kind of zip?");
}

// ---- tensors ----

// Materialises views into contiguous host tensors, within a budget: a hostile view with stride 0
// could otherwise ask for far more memory than the file holds.
class TensorMaker {
public:
    TensorMaker(const std::string &path, uint64_t fileBytes)
        : m_path(path), m_budget(std::max<uint64_t>(4 * fileBytes, uint64_t(64) << 20))
    {
    }

    Tensor make(const TensorView &v, std::string_view storage, const std::string &name, const std::string &storageName)
    {
        const uint64_t es = dtypeSize(v.dtype);
        const std::string subject = "tensor \"" + name + "\"";
        if (static_cast<uint64_t>(v.storageNumel) > storage.size() / es)
            fail(m_path, storageName + " holds " + std::to_string(storage.size()) + " bytes, shorter than the " + std::to_string(v.storageNumel)
                             + " " + dtypeName(v.dtype) + " elements the pickle declares for it");
        unsigned __int128 numel = 1, last = static_cast<uint64_t>(v.offset);
        for (size_t d = 0; d < v.sizes.size(); ++d) {
            numel *= static_cast<uint64_t>(v.sizes[d]);
            if (numel > (uint64_t(1) << 50))
                fail(m_path, subject + " has shape " + shapeToString(v.sizes) + ", too many elements");
            if (v.sizes[d] > 0)
                last += static_cast<unsigned __int128>(static_cast<uint64_t>(v.sizes[d] - 1)) * static_cast<uint64_t>(v.strides[d]);
        }
        if (numel > 0 && last >= static_cast<uint64_t>(v.storageNumel))
            fail(m_path, subject + " (shape " + shapeToString(v.sizes) + ", offset " + std::to_string(v.offset) + ") reaches past the end of "
                             + storageName + ", which holds " + std::to_string(v.storageNumel) + " " + dtypeName(v.dtype) + " elements");
        const uint64_t bytes = static_cast<uint64_t>(numel) * es;
        if (bytes > m_budget)
            fail(m_path, subject + " would take " + std::to_string(bytes) + " bytes as a copy, more than this file can justify (views of a "
                             + "storage may not expand it more than 4 times the file's size)");
        m_budget -= bytes;
        Tensor t(v.sizes, v.dtype);
        auto *out = static_cast<char *>(t.raw());
        const char *src = storage.data();
        // Row-major contiguous: one copy; otherwise element by element with an odometer.
        bool contiguous = true;
        int64_t expect = 1;
        for (size_t d = v.sizes.size(); d-- > 0;) {
            if (v.sizes[d] != 1 && v.strides[d] != expect)
                contiguous = false;
            expect *= v.sizes[d];
        }
        if (contiguous || numel <= 1) {
            if (bytes)
                std::memcpy(out, src + static_cast<uint64_t>(v.offset) * es, static_cast<size_t>(bytes));
            return t;
        }
        const size_t rank = v.sizes.size();
        std::vector<int64_t> index(rank, 0);
        int64_t at = v.offset;
        for (uint64_t k = 0; k < static_cast<uint64_t>(numel); ++k) {
            std::memcpy(out + k * es, src + static_cast<uint64_t>(at) * es, static_cast<size_t>(es));
            for (size_t d = rank; d-- > 0;) {
                at += v.strides[d];
                if (++index[d] < v.sizes[d])
                    break;
                at -= v.strides[d] * v.sizes[d];
                index[d] = 0;
            }
        }
        return t;
    }

private:
    std::string m_path;
    uint64_t m_budget;
};

// Where storages' bytes come from: the zip's <name>/data/<key> members, or the legacy stream.
struct StorageSource {
    zip_t *zip = nullptr;
    std::string prefix;
    std::map<std::string, std::string> loaded;            // zip members read and still to be used
    std::map<std::string, std::string_view> legacy;       // legacy: the bytes after each header
    std::map<std::string, size_t> uses;                   // tensors still to be made from each storage

    // A tensor over `key` has been copied out: a zip member no tensor still needs is freed, so
    // the storages and the tensors are not all in memory at once.
    void used(const std::string &key)
    {
        if (const auto it = uses.find(key); it != uses.end() && --it->second == 0)
            loaded.erase(key);
    }

    std::string describe(const std::string &key) const
    {
        return zip ? "storage \"" + key + "\" (member \"" + prefix + "data/" + key + "\")" : "storage \"" + key + "\"";
    }
    std::string_view bytes(const std::string &key, const std::string &path)
    {
        if (!zip) {
            const auto it = legacy.find(key);
            if (it == legacy.end())
                fail(path, "storage \"" + key + "\" is used by a tensor but not among the storages the file holds");
            return it->second;
        }
        auto it = loaded.find(key);
        if (it == loaded.end())
            it = loaded.emplace(key, readMember(zip, prefix + "data/" + key, kMaxStorageBytes, path)).first;
        return it->second;
    }
};

// ---- flattening the object into named leaves ----

class Flattener {
public:
    Flattener(const std::string &path, StorageSource &storages, TensorMaker &maker) : m_path(path), m_storages(storages), m_maker(maker) {}

    void add(const PyValue &v, const std::string &name, int depth)
    {
        using K = PyValue::Kind;
        if (++m_visits > kMaxVisits)
            fail(m_path, "its object refers to its containers more than " + std::to_string(kMaxVisits) + " times over (shared containers nested in each other)");
        if (depth > kMaxDepth)
            fail(m_path, "\"" + name.substr(0, 200) + "…\" nests containers more than " + std::to_string(kMaxDepth)
                             + " deep (or a container holds itself)");
        switch (v.kind) {
        case K::Dict:
            for (size_t k = 0; k + 1 < v.items.size(); k += 2)
                add(*v.items[k + 1], child(name, keyText(*v.items[k])), depth + 1);
            if (v.items.empty() && !name.empty())
                leaf(name, "dict", "{}");
            return;
        case K::List:
        case K::Tuple:
        case K::Set:
            if (std::all_of(v.items.begin(), v.items.end(), [](const PyValue *x) { return plain(*x); })) {
                leaf(name, v.kind == K::List ? "list" : v.kind == K::Tuple ? "tuple" : "set", pyRepr(v));
                return;
            }
            for (size_t k = 0; k < v.items.size(); ++k)
                add(*v.items[k], child(name, std::to_string(k)), depth + 1);
            return;
        case K::Tensor:
        case K::Storage: {
            const std::string n = name.empty() ? "tensor" : name;
            const std::string key = v.view->storageKey;
            if (m_counting) {
                ++m_storages.uses[key];
                return;
            }
            PytorchEntry e;
            e.name = n;
            e.tensor = m_maker.make(*v.view, m_storages.bytes(key, m_path), n, m_storages.describe(key));
            m_storages.used(key);
            put(std::move(e));
            return;
        }
        case K::Str:
            leaf(name.empty() ? "value" : name, "str", v.s);
            return;
        default:
            leaf(name.empty() ? "value" : name, typeName(v), pyRepr(v));
        }
    }

    // The entries of `root`: a first pass counts the tensors over each storage (so each is freed
    // after its last), the second makes them.
    std::vector<PytorchEntry> flatten(const PyValue &root)
    {
        m_counting = true;
        add(root, {}, 0);
        m_counting = false;
        m_visits = 0;
        m_entries.clear();
        m_index.clear();
        add(root, {}, 0);
        return std::move(m_entries);
    }

private:
    static bool plain(const PyValue &v)
    {
        using K = PyValue::Kind;
        return v.kind == K::None || v.kind == K::Bool || v.kind == K::Int || v.kind == K::BigInt || v.kind == K::Float || v.kind == K::Str
               || v.kind == K::Bytes;
    }
    static std::string typeName(const PyValue &v)
    {
        using K = PyValue::Kind;
        switch (v.kind) {
        case K::None: return "None";
        case K::Bool: return "bool";
        case K::Int:
        case K::BigInt: return "int";
        case K::Float: return "float";
        case K::Str: return "str";
        case K::Bytes: return "bytes";
        case K::Global: return "callable";
        default: return "object";
        }
    }
    static std::string keyText(const PyValue &k) { return k.kind == PyValue::Kind::Str ? k.s : pyRepr(k); }
    static std::string child(const std::string &name, const std::string &key) { return name.empty() ? key : name + "." + key; }

    void leaf(const std::string &name, const std::string &type, std::string text)
    {
        PytorchEntry e;
        e.name = name;
        e.pyType = type;
        e.text = std::move(text);
        put(std::move(e));
    }
    void put(PytorchEntry e)
    {
        // A dict that sets one key twice keeps the last value, as Python does.
        const auto [it, fresh] = m_index.emplace(e.name, m_entries.size());
        if (fresh)
            m_entries.push_back(std::move(e));
        else
            m_entries[it->second] = std::move(e);
    }

    const std::string &m_path;
    StorageSource &m_storages;
    TensorMaker &m_maker;
    std::vector<PytorchEntry> m_entries;
    std::unordered_map<std::string, size_t> m_index;
    size_t m_visits = 0;
    bool m_counting = false;
};

uint64_t readLE64(std::string_view b)
{
    uint64_t v = 0;
    for (int k = 7; k >= 0; --k)
        v = (v << 8) | static_cast<uint8_t>(b[static_cast<size_t>(k)]);
    return v;
}

PytorchFile decodeZip(std::string_view bytes, const std::string &path)
{
    const Archive archive = openArchive(bytes, path);
    PytorchFile file;
    StorageSource storages;
    storages.zip = archive.get();
    storages.prefix = archivePrefix(archive.get(), path);
    file.archiveName = storages.prefix.empty() ? std::string() : storages.prefix.substr(0, storages.prefix.size() - 1);
    if (zip_name_locate(archive.get(), (storages.prefix + "version").c_str(), 0) >= 0) {
        file.version = readMember(archive.get(), storages.prefix + "version", 64, path);
        while (!file.version.empty() && (file.version.back() == '\n' || file.version.back() == '\r'))
            file.version.pop_back();
    }
    if (zip_name_locate(archive.get(), (storages.prefix + "byteorder").c_str(), 0) >= 0) {
        const std::string order = readMember(archive.get(), storages.prefix + "byteorder", 64, path);
        if (order != "little")
            fail(path, "its storages are in " + order.substr(0, 16) + " byte order; this reader takes little-endian files");
    }
    const std::string pickle = readMember(archive.get(), storages.prefix + "data.pkl", kMaxPickleBytes, path);
    PickleReader reader(pickle, path, kFormat);
    size_t offset = 0;
    const PyValue *root = reader.load(offset);
    TensorMaker maker(path, bytes.size());
    Flattener flat(path, storages, maker);
    file.entries = flat.flatten(*root);
    return file;
}

PytorchFile decodeLegacy(std::string_view bytes, const std::string &path)
{
    PickleReader reader(bytes, path, kFormat);
    size_t offset = 0;
    const PyValue *magic = reader.load(offset);
    if (magic->kind != PyValue::Kind::BigInt || magic->s != kLegacyMagic)
        fail(path, "it does not start with torch.save's magic number");
    const PyValue *protocol = reader.load(offset);
    if (protocol->kind != PyValue::Kind::Int || protocol->i != kLegacyProtocol)
        fail(path, "it is a pre-1.6 torch.save file of protocol " + pyRepr(*protocol) + "; this reader takes protocol 1001");
    const PyValue *sysInfo = reader.load(offset);
    if (sysInfo->kind == PyValue::Kind::Dict)
        for (size_t k = 0; k + 1 < sysInfo->items.size(); k += 2)
            if (sysInfo->items[k]->kind == PyValue::Kind::Str && sysInfo->items[k]->s == "little_endian"
                && sysInfo->items[k + 1]->kind == PyValue::Kind::Bool && !sysInfo->items[k + 1]->i)
                fail(path, "it was written on a big-endian machine; this reader takes little-endian files");
    const PyValue *root = reader.load(offset);
    const PyValue *keys = reader.load(offset);
    if (keys->kind != PyValue::Kind::List)
        fail(path, "its list of storage keys is " + pyRepr(*keys).substr(0, 80) + ", not a list");
    // Then each storage in that order: an int64 element count (little-endian), then the elements.
    StorageSource storages;
    for (const PyValue *key : keys->items) {
        if (key->kind != PyValue::Kind::Str)
            fail(path, "its list of storage keys holds " + pyRepr(*key).substr(0, 80) + ", not a string");
        const DType *dtype = reader.storageType(key->s);
        if (!dtype)
            fail(path, "storage \"" + key->s + "\" is listed but no tensor declares its type");
        if (bytes.size() - offset < 8)
            fail(path, "the file ends at byte " + std::to_string(bytes.size()) + ", before storage \"" + key->s + "\"");
        const uint64_t numel = readLE64(bytes.substr(offset, 8));
        offset += 8;
        const uint64_t es = dtypeSize(*dtype);
        if (numel > (bytes.size() - offset) / es)
            fail(path, "storage \"" + key->s + "\" declares " + std::to_string(numel) + " " + dtypeName(*dtype) + " elements but only "
                           + std::to_string(bytes.size() - offset) + " bytes remain: the file is truncated");
        storages.legacy[key->s] = bytes.substr(offset, static_cast<size_t>(numel * es));
        offset += static_cast<size_t>(numel * es);
    }
    PytorchFile file;
    file.legacy = true;
    file.version = std::to_string(kLegacyProtocol);
    TensorMaker maker(path, bytes.size());
    Flattener flat(path, storages, maker);
    file.entries = flat.flatten(*root);
    return file;
}

} // namespace

bool isZipCheckpoint(std::string_view p)
{
    // The first local header: "PK\3\4", name length at byte 26, extra length at 28, name at 30.
    if (p.size() < 30 || p.substr(0, 4) != std::string_view("PK\x03\x04", 4))
        return false;
    const size_t nameLength = static_cast<uint8_t>(p[26]) | static_cast<size_t>(static_cast<uint8_t>(p[27])) << 8;
    if (p.size() < 30 + nameLength)
        return false;
    const std::string_view name = p.substr(30, nameLength);
    return name == "data.pkl" || name.ends_with("/data.pkl");
}

bool isLegacyCheckpoint(std::string_view p)
{
    // PROTO 2..5, LONG1 10 bytes, the magic number.
    return p.size() >= 14 && static_cast<uint8_t>(p[0]) == 0x80 && static_cast<uint8_t>(p[2]) == 0x8a && p[3] == 10
           && p.substr(4, 10) == kLegacyMagic;
}

PytorchFile decodePytorch(std::string_view bytes, const std::string &path)
{
    if (bytes.empty())
        fail(path, "the file is empty");
    if (bytes.substr(0, 4) == std::string_view("PK\x03\x04", 4) || bytes.substr(0, 4) == std::string_view("PK\x05\x06", 4))
        return decodeZip(bytes, path);
    if (isLegacyCheckpoint(bytes))
        return decodeLegacy(bytes, path);
    if (bytes.size() > 262 && bytes.substr(257, 5) == "ustar")
        fail(path, "it is a tar archive, the format of torch.save before version 0.4, which this reader does not take");
    fail(path, "it is neither a torch.save zip archive nor a legacy torch.save stream");
}

PytorchFile readPytorch(const std::string &path)
{
    const auto view = FileView::open(path, "PyTorch checkpoint");
    return decodePytorch(view->bytes(), path);
}

TrainingState pytorchStateEntries(const PytorchFile &file)
{
    TrainingState out;
    for (const auto &e : file.entries) {
        if (e.tensor.defined()) {
            out.push_back(StateEntry::ofTensor(e.name, e.tensor));
        } else if (e.pyType == "int") {
            try {
                out.push_back(StateEntry::ofTensor(e.name, Tensor::fromInt64({}, {std::stoll(e.text)})));
            } catch (const std::exception &) {
                // an integer beyond int64 is no training-state number
            }
        } else if (e.pyType == "float") {
            Tensor t(Shape{}, DType::Float64);
            t.dataAs<double>()[0] = std::strtod(e.text.c_str(), nullptr);
            out.push_back(StateEntry::ofTensor(e.name, t));
        } else if (e.pyType == "str") {
            out.push_back(StateEntry::ofString(e.name, e.text));
        }
    }
    return out;
}

} // namespace netwright::pytorch
