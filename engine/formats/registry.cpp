// SPDX-License-Identifier: Apache-2.0
#include "formats/registry.h"

#include "core/error.h"
#include "core/file_io.h"
#include "formats/air/air_reader.h"
#include "formats/format_util.h"
#include "formats/cntk/cntk_model.h"
#include "formats/cntk/trainer_checkpoint.h"
#include "formats/mindspore/ckpt_file.h"
#include "formats/mindspore/graph_meta.h"
#include "formats/mindspore/mindir_reader.h"
#include "formats/onnx/onnx_reader.h"
#include "formats/protobuf_wire.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

namespace netwright {

namespace {

constexpr size_t kPrefixBytes = 64 * 1024;

// A top-level protobuf field seen in the prefix; a payload cut by the prefix end is kept short.
struct Field {
    uint32_t number = 0, type = 0;
    uint64_t varint = 0;
    std::string_view payload;
};

// Up to 8 top-level fields; empty when the prefix is not a protobuf message.
std::vector<Field> topFields(std::string_view b, uint64_t fileSize)
{
    std::vector<Field> out;
    size_t pos = 0;
    while (pos < b.size() && out.size() < 8) {
        uint64_t key = 0;
        if (!wire::readVarint(b, pos, key) || key >> 3 == 0 || key >> 3 > (1u << 29))
            return pos >= b.size() && !out.empty() ? out : std::vector<Field>{};
        Field f;
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

bool printable(std::string_view s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

bool versionLike(std::string_view s)
{
    return !s.empty() && s.size() < 16 && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; });
}

struct Scored {
    FormatInfo info;
    std::function<int(std::string_view, const std::vector<Field> &)> score; // 0 = not this format
    std::vector<std::string> extensions;
};

const std::vector<Scored> &scorers()
{
    static const std::vector<Scored> list{
        {{"onnx", "ONNX"},
         [](std::string_view, const std::vector<Field> &f) {
             // ModelProto: ir_version (1, varint 3…12) then string/graph/opset fields
             if (f.empty() || f[0].number != 1 || f[0].type != 0 || f[0].varint < 3 || f[0].varint > 12)
                 return 0;
             for (size_t i = 1; i < f.size(); ++i) {
                 const bool known = (f[i].number >= 2 && f[i].number <= 8 && (f[i].type == 2 || f[i].number == 5)) || f[i].number == 14
                                    || f[i].number == 20 || f[i].number == 25;
                 if (!known)
                     return 0;
             }
             return 80;
         },
         {".onnx"}},
        {{"mindspore-ckpt", "MindSpore checkpoint"},
         [](std::string_view, const std::vector<Field> &f) {
             // Checkpoint: repeated value (1) = {tag (1, string), tensor (2)}
             if (f.empty() || f[0].number != 1 || f[0].type != 2 || f[0].payload.empty() || f[0].payload[0] != 0x0a)
                 return 0;
             for (const auto &x : f)
                 if (x.number != 1 || x.type != 2)
                     return 20; // a CRC trailer or junk after the records: still the best guess
             return 70;
         },
         {".ckpt"}},
        {{"mindir", "MindSpore MindIR"},
         [](std::string_view, const std::vector<Field> &f) {
             // ModelProto: ir_version (1, "0.1.1") then producer_name (2, "MindSpore")
             if (f.size() < 2 || f[0].number != 1 || f[0].type != 2 || !versionLike(f[0].payload))
                 return 0;
             return f[1].number == 2 && f[1].type == 2 && printable(f[1].payload) ? 90 : 40;
         },
         {".mindir"}},
        {{"mindspore-graph-meta", "MindSpore graph dump (anf_ir)"},
         [](std::string_view, const std::vector<Field> &f) {
             return f.size() >= 2 && f[0].number == 1 && f[0].type == 0 && f[0].varint == 1 && f[1].number == 4 && f[1].type == 2 ? 90 : 0;
         },
         {".meta"}},
        {{"air", "Ascend AIR (GE ModelDef)"},
         [](std::string_view, const std::vector<Field> &f) {
             // ModelDef: name (1), version (2), custom_version (3), graph (7), attr (11); MindSpore
             // leaves 1–3 empty, so a file usually starts with the graph.
             bool graph = false;
             for (const auto &x : f) {
                 if (x.number == 7 && x.type == 2)
                     graph = true;
                 else if (!((x.number == 1 && x.type == 2 && printable(x.payload)) || (x.number == 2 && x.type == 0) || (x.number == 3 && x.type == 2)
                            || (x.number == 11 && x.type == 2)))
                     return 0;
             }
             return graph ? (f[0].number == 7 ? 75 : 60) : 0;
         },
         {".air"}},
        {{"cntk-v2", "CNTK v2 (model or trainer checkpoint)"},
         [](std::string_view, const std::vector<Field> &f) {
             // Dictionary: version (1, varint) then map entries (2) = {key (1, string), value (2)}
             // (CNTK 2.x writes version 1; later 2.x builds write 2)
             return f.size() >= 2 && f[0].number == 1 && f[0].type == 0 && f[0].varint >= 1 && f[0].varint <= 3 && f[1].number == 2 && f[1].type == 2
                            && !f[1].payload.empty() && f[1].payload[0] == 0x0a
                        ? 90
                        : 0;
         },
         {".model", ".dnn", ".cmf", ".cntk", ".ckp"}},
    };
    return list;
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


ValueDescription tensorValue(const std::string &name, const std::string &dtype, const Tensor &t)
{
    ValueDescription v;
    v.name = name;
    v.dtype = dtype;
    v.shape.assign(t.shape().begin(), t.shape().end());
    v.value = t;
    return v;
}

ModelDescription describeCkpt(std::string_view bytes, const std::string &path)
{
    const auto file = mindspore::decodeCkpt(bytes, path, true);
    ModelDescription d;
    d.format = "mindspore-ckpt";
    d.formatName = "MindSpore checkpoint";
    d.properties.emplace_back("entries", std::to_string(file.entries.size()));
    d.properties.emplace_back("crc_trailer", file.hasCrc ? "verified" : "none");
    for (const auto &e : file.entries) {
        if (e.isString) {
            ValueDescription v;
            v.name = e.name;
            v.dtype = "str";
            v.shapeKnown = false;
            v.text = e.text;
            d.parameters.push_back(std::move(v));
        } else {
            d.parameters.push_back(tensorValue(e.name, mindspore::mindsporeTypeName(e.tensor.dtype()), e.tensor));
        }
    }
    return d;
}

ModelDescription describeCntkModel(std::string_view bytes, const std::string &path)
{
    const cntk::Model m = cntk::decodeModel(bytes, path);
    ModelDescription d;
    d.format = "cntk-model";
    d.formatName = "CNTK model-v2";
    if (!m.uid.empty())
        d.properties.emplace_back("uid", m.uid);
    d.properties.emplace_back("root", m.root);
    if (!m.name.empty())
        d.properties.emplace_back("name", m.name);
    for (const auto &v : m.variables) {
        ValueDescription x;
        x.name = v.name.empty() || v.name == v.uid ? v.uid : v.name + " (" + v.uid + ")";
        x.dtype = v.dataType;
        x.shape.assign(v.cntkShape.rbegin(), v.cntkShape.rend()); // row-major, as the values
        if (v.value)
            x.value = *v.value;
        if (v.kind == cntk::VariableKind::Parameter || v.kind == cntk::VariableKind::Constant)
            d.parameters.push_back(std::move(x));
        else if (v.kind == cntk::VariableKind::Output)
            d.outputs.push_back(std::move(x)); // some writers list the function's outputs among its variables
        else
            d.inputs.push_back(std::move(x));
    }
    for (const auto &f : m.functions) {
        NodeDescription n;
        n.name = f.name.empty() || f.name == f.uid ? f.uid : f.name + " (" + f.uid + ")";
        n.opType = f.opName;
        n.inputs = f.inputs;
        n.outputs.push_back(f.uid + "_Output_0");
        d.nodes.push_back(std::move(n));
    }
    if (d.outputs.empty() && !m.functions.empty())
        d.outputs.push_back({m.functions.back().uid + "_Output_0", "", {}, false, {}, std::nullopt, {}});
    return d;
}

ModelDescription describeCntkCheckpoint(const std::string &path)
{
    const auto l = cntk::listTrainerCheckpoint(path);
    ModelDescription d;
    d.format = "cntk-ckp";
    d.formatName = "CNTK trainer checkpoint";
    d.properties.emplace_back("version", std::to_string(l.version));
    d.properties.emplace_back("learners", std::to_string(l.learners));
    if (!l.modelFile.empty())
        d.properties.emplace_back("model", l.modelFile);
    for (const auto &i : l.items) {
        ValueDescription v;
        v.name = i.path;
        v.dtype = i.tensor ? dtypeName(i.tensor->dtype()) : i.type;
        if (i.tensor) {
            v.shape.assign(i.tensor->shape().begin(), i.tensor->shape().end());
            v.value = *i.tensor;
        } else {
            v.shapeKnown = false;
            v.text = i.text;
        }
        d.parameters.push_back(std::move(v));
    }
    return d;
}

} // namespace

const std::vector<FormatInfo> &knownFormats()
{
    static const std::vector<FormatInfo> list = [] {
        std::vector<FormatInfo> l;
        for (const auto &s : scorers())
            l.push_back(s.info);
        return l;
    }();
    return list;
}

FormatInfo detectFormat(std::string_view prefix, uint64_t fileSize, const std::string &path)
{
    if (cntk::isLegacyV1(prefix))
        throw Error("\"" + path + "\" is a " + cntk::legacyV1Kind(prefix) + "; Netwright reads CNTK v2 files, not v1.");
    if (prefix.size() >= 4) {
        uint32_t magic = 0;
        std::memcpy(&magic, prefix.data(), 4);
        const char *mode = magic == 0x7F3A5ED8 ? "AES-GCM" : magic == 0x7F3A5ED9 ? "AES-CBC" : magic == 0x7F3A5EDA ? "SM4-CBC" : nullptr;
        if (mode)
            throw Error("\"" + path + "\" is an encrypted MindSpore file (checkpoint or MindIR, " + mode
                        + "); a key is needed to read it.");
    }
    if (fileSize == 0)
        throw Error("\"" + path + "\" is empty.");
    const std::vector<Field> fields = topFields(prefix, fileSize);
    const std::string ext = std::filesystem::path(path).extension().string();
    const Scored *best = nullptr;
    int bestScore = 0;
    for (const auto &s : scorers()) {
        int score = fields.empty() ? 0 : s.score(prefix, fields);
        if (score > 0 && std::find(s.extensions.begin(), s.extensions.end(), ext) != s.extensions.end())
            score += 5; // the extension breaks ties
        if (score > bestScore) {
            bestScore = score;
            best = &s;
        }
    }
    if (!best) {
        std::string tried;
        for (const auto &f : knownFormats())
            tried += (tried.empty() ? "" : ", ") + f.name;
        throw Error("\"" + path + "\" is not a file Netwright reads (tried " + tried + ", CNTK v1, encrypted MindSpore); it starts with "
                    + hexPrefix(prefix) + ".");
    }
    return best->info;
}

namespace {

ModelDescription readAs(const std::string &id, const std::string &bytes, const std::string &path)
{
    if (id == "onnx")
        return onnx_format::describeOnnx(bytes, path);
    if (id == "mindspore-ckpt")
        return describeCkpt(bytes, path);
    if (id == "mindir")
        return mindspore::describeMindir(bytes, path);
    if (id == "mindspore-graph-meta")
        return mindspore::describeGraphMeta(bytes, path);
    if (id == "air")
        return air::describeAir(bytes, path);
    // CNTK v2: a model or a trainer checkpoint, by its keys — unless the file is cut short.
    if (const std::string cut = truncationNote(bytes); !cut.empty())
        throw Error("Cannot read \"" + path + "\" as CNTK v2: the Dictionary does not parse" + cut + ".");
    const cntk::FileKind kind = cntk::classify(path);
    if (kind == cntk::FileKind::TrainerCheckpoint)
        return describeCntkCheckpoint(path);
    if (kind == cntk::FileKind::Model)
        return describeCntkModel(bytes, path);
    throw Error("\"" + path + "\" starts like a CNTK v2 Dictionary but is neither a CNTK model (no \"primitive_functions\") nor a "
                "trainer checkpoint (no \"Learners\").");
}

} // namespace

ModelDescription describeFile(const std::string &path)
{
    // Detection decides from a bounded prefix before anything large is read: a file of zeros of
    // many gigabytes is refused at once.
    const FormatInfo f = detectFormat(readFilePrefix(path, kPrefixBytes), regularFileSize(path), path);
    const std::string bytes = readFileBytes(path);
    try {
        return readAs(f.id, bytes, path);
    } catch (const Error &) {
        // The content looked like one format but is not; if the name promises another, that
        // format's reader says best what is wrong (a .ckpt that is not a Checkpoint, …).
        const std::string ext = std::filesystem::path(path).extension().string();
        for (const auto &s : scorers())
            if (s.info.id != f.id && std::find(s.extensions.begin(), s.extensions.end(), ext) != s.extensions.end())
                return readAs(s.info.id, bytes, path);
        throw;
    }
}

} // namespace netwright
