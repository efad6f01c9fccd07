// SPDX-License-Identifier: Apache-2.0
#include "formats/registry.h"

#include "core/error.h"
#include "core/file_view.h"
#include "core/file_io.h"
#include "formats/air/air_format.h"
#include "formats/cntk/cntk_format.h"
#include "formats/cntk/cntk_model.h"
#include "formats/format_util.h"
#include "formats/mindspore/ckpt_format.h"
#include "formats/mindspore/graph_meta_format.h"
#include "formats/mindspore/mindir_format.h"
#include "formats/onnx/onnx_format.h"
#include "formats/protobuf_wire.h"
#include "formats/safetensors/safetensors_format.h"
#include "formats/pytorch/pytorch_format.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace netwright {

// The formats Netwright reads, in the order detection tries them. A new format is a folder of its
// own (formats/<format>/<format>_format.{h,cpp}, a FileFormat) and one line here.
const std::vector<const FileFormat *> &fileFormats()
{
    static const std::vector<const FileFormat *> list{
        &onnxFileFormat(),
        &mindsporeCkptFileFormat(),
        &mindirFileFormat(),
        &graphMetaFileFormat(),
        &airFileFormat(),
        &cntkFileFormat(),
        &safetensorsFileFormat(),
        &pytorchFileFormat(),
    };
    return list;
}

const FileFormat *fileFormat(const std::string &idOrOption)
{
    for (const FileFormat *f : fileFormats()) {
        if (f->info().id == idOrOption)
            return f;
        if (const auto g = f->graphFormat(); g && (g->id == idOrOption || g->option == idOrOption))
            return f;
    }
    return nullptr;
}

std::string fileNamePatterns(bool graphOnly)
{
    std::string out;
    for (const FileFormat *f : fileFormats()) {
        if (graphOnly && !f->graphFormat())
            continue;
        for (const auto &ext : graphOnly ? f->graphFormat()->extensions : f->extensions())
            out += (out.empty() ? "*" : " *") + ext;
    }
    return out;
}

Graph FileFormat::importGraph(std::string_view, const std::string &path) const
{
    throw Error("\"" + path + "\": " + info().name + " holds no graph to import.");
}

std::string FileFormat::exportGraph(const Graph &, const GraphExportOptions &) const
{
    throw Error(info().name + " has no graph export.");
}

namespace {

constexpr size_t kPrefixBytes = 64 * 1024;

// Up to 8 top-level fields; empty when the prefix is not a protobuf message.
std::vector<WireField> topFields(std::string_view b, uint64_t fileSize)
{
    std::vector<WireField> out;
    size_t pos = 0;
    while (pos < b.size() && out.size() < 8) {
        uint64_t key = 0;
        if (!wire::readVarint(b, pos, key) || key >> 3 == 0 || key >> 3 > (1u << 29))
            return pos >= b.size() && !out.empty() ? out : std::vector<WireField>{};
        WireField f;
        f.number = static_cast<uint32_t>(key >> 3);
        f.type = static_cast<uint32_t>(key & 7);
        if (f.type == 0) {
            if (!wire::readVarint(b, pos, f.varint))
                return out;
        } else if (f.type == 2) {
            uint64_t len = 0;
            if (!wire::readVarint(b, pos, len))
                return {};
            if (len > fileSize - std::min<uint64_t>(pos, fileSize)) {
                // The file ends inside this field: a truncated file of the format the fields so
                // far identify (its reader then says where it ends); a first field like this is
                // no evidence of anything.
                if (out.empty())
                    return {};
                f.payload = b.substr(pos);
                out.push_back(f);
                return out;
            }
            f.payload = b.substr(pos, std::min<uint64_t>(len, b.size() - pos));
            pos += len;
        } else if (f.type == 1 || f.type == 5) {
            pos += f.type == 1 ? 8 : 4;
        } else {
            return {};
        }
        out.push_back(f);
    }
    return out;
}

std::string hexPrefix(std::string_view b)
{
    std::string s;
    char h[4];
    for (size_t i = 0; i < std::min<size_t>(b.size(), 16); ++i) {
        std::snprintf(h, sizeof h, "%02x ", static_cast<uint8_t>(b[i]));
        s += h;
    }
    if (!s.empty())
        s.pop_back();
    std::string text;
    for (size_t i = 0; i < std::min<size_t>(b.size(), 16); ++i)
        text += b[i] >= 0x20 && b[i] < 0x7f ? b[i] : '.';
    return s + " \"" + text + "\"";
}

bool hasExtension(const FileFormat &f, const std::string &ext)
{
    const auto list = f.extensions();
    return std::find(list.begin(), list.end(), ext) != list.end();
}

const FileFormat &detect(std::string_view prefix, uint64_t fileSize, const std::string &path)
{
    if (cntk::isLegacyV1(prefix))
        throw Error("\"" + path + "\" is a " + cntk::legacyV1Kind(prefix) + "; Netwright reads CNTK v2 files, not v1.");
    if (prefix.size() >= 4) {
        uint32_t magic = 0;
        std::memcpy(&magic, prefix.data(), 4);
        if (const auto mode = mindspore::encryptedMode(prefix))
            throw Error("\"" + path + "\" is an encrypted MindSpore " + mindspore::encryptedKind(path) + " ("
                        + mindspore::encModeName(*mode) + "); a key is needed: give its key with --key-file FILE.");
    }
    if (fileSize == 0)
        throw Error("\"" + path + "\" is empty.");
    const FilePrefix p{prefix, fileSize, topFields(prefix, fileSize)};
    const std::string ext = std::filesystem::path(path).extension().string();
    const FileFormat *best = nullptr;
    int bestScore = 0;
    for (const FileFormat *f : fileFormats()) {
        // Every format scores every prefix: the protobuf formats find no fields in a zip or a
        // pickle and answer 0.
        int score = f->score(p);
        if (score > 0 && hasExtension(*f, ext))
            score += 5; // the extension breaks ties
        if (score > bestScore) {
            bestScore = score;
            best = f;
        }
    }
    if (!best) {
        std::string tried;
        for (const auto &f : knownFormats())
            tried += (tried.empty() ? "" : ", ") + f.name;
        throw Error("\"" + path + "\" is not a file Netwright reads (tried " + tried + ", CNTK v1, encrypted MindSpore); it starts with "
                    + hexPrefix(prefix) + ".");
    }
    return *best;
}

} // namespace

const std::vector<FormatInfo> &knownFormats()
{
    static const std::vector<FormatInfo> list = [] {
        std::vector<FormatInfo> l;
        for (const FileFormat *f : fileFormats())
            l.push_back(f->info());
        return l;
    }();
    return list;
}

FormatInfo detectFormat(std::string_view prefix, uint64_t fileSize, const std::string &path)
{
    return detect(prefix, fileSize, path).info();
}

namespace {

// An encrypted file: its blocks walked (every length checked), decrypted, and what they hold
// described by the format their plaintext is.
ModelDescription describeEncrypted(const std::string &path, const mindspore::EncryptionKey &key)
{
    const auto view = FileView::open(path);
    if (key.empty())
        throw Error(mindspore::keyNeededMessage(view->bytes(), path));
    const auto layout = mindspore::encryptedLayout(view->bytes(), path);
    const std::string plain = mindspore::decryptMindspore(view->bytes(), key, path);
    const FileFormat *f = nullptr;
    try {
        f = &detect(std::string_view(plain).substr(0, kPrefixBytes), plain.size(), path);
    } catch (const Error &) {
        throw Error("Cannot read \"" + path + "\": the key opened its " + mindspore::encModeName(layout.mode)
                    + " blocks, but what they hold is neither a MindSpore checkpoint nor a MindIR file (wrong key or altered file).");
    }
    ModelDescription d = f->describe(plain, path);
    d.properties.emplace_back("encryption", mindspore::encModeName(layout.mode) + ", " + std::to_string(layout.blocks)
                                                + (layout.blocks == 1 ? " block" : " blocks"));
    return d;
}

} // namespace

ModelDescription describeFile(const std::string &path, const mindspore::EncryptionKey &key)
{
    // Detection decides from a bounded prefix before anything large is read: a file of zeros of
    // many gigabytes is refused at once.
    const std::string prefix = readFilePrefix(path, kPrefixBytes);
    if (mindspore::encryptedMode(prefix))
        return describeEncrypted(path, key);
    const FileFormat &f = detect(prefix, regularFileSize(path), path);
    // Mapped, not read: a reader touches only what it describes (a safetensors or PyTorch file
    // of gigabytes gives its pages back tensor by tensor).
    const auto view = FileView::open(path);
    const std::string_view bytes = view->bytes();
    try {
        return f.describe(bytes, path);
    } catch (const Error &) {
        // The content looked like one format but is not; if the name promises another, that
        // format's reader says best what is wrong (a .ckpt that is not a Checkpoint, …).
        const std::string ext = std::filesystem::path(path).extension().string();
        for (const FileFormat *other : fileFormats())
            if (other != &f && hasExtension(*other, ext))
                return other->describe(bytes, path);
        throw;
    }
}

} // namespace netwright
