// SPDX-License-Identifier: Apache-2.0
// One file format behind one interface (in the manner of Tiled's FileFormat and Netron's one
// module per format): it declares its id, name and extensions, scores a bounded prefix of a file,
// describes a file for inspection and, where it can, imports a trainable graph and exports one.
// Each format lives in its own folder (formats/<format>/<format>_format.cpp); the registry
// (formats/registry.cpp) lists them in one place, and everything that names formats — detection,
// inspect, export and convert, the CLI's help, the export wizard, the file dialogs — asks it.
// Layer: engine/formats.
#pragma once

#include "formats/external_data.h"
#include "formats/model_description.h"
#include "graph/graph.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace netwright {

struct FormatInfo {
    std::string id;    // onnx, mindspore-ckpt, mindir, mindspore-graph-meta, air, cntk-v2
    std::string name;  // for people: "ONNX", "MindSpore checkpoint", …
};

// The graph side of a format a model converts between (import, export, verify).
struct GraphFormat {
    std::string id;                      // onnx, mindir, air, cntk-model
    std::string option;                  // the --format value: onnx, mindir, air, cntk
    std::string name;                    // for people: "ONNX", "MindSpore MindIR", …
    std::string extension;               // what export appends: .onnx, .mindir, .air, .model
    std::vector<std::string> extensions; // what `convert OUT` recognises (extension first)
    std::string readers;                 // who reads such a file: "onnxruntime and every ONNX runtime"
};

struct GraphExportOptions {
    int64_t opset = 13;          // ONNX only
    bool dynamicBatch = true;    // a free batch where the model leaves it free; a fixed one stays (exportBatch())
    std::string producerVersion; // Netwright's version
    std::vector<std::pair<std::string, std::string>> metadata; // ONNX metadata_props, MindIR user_info
    // ONNX only: large initializers as external data in a file beside the model, which the export
    // plans here and the caller writes (writeExternalData) before verifying. Null: all inline.
    std::shared_ptr<ExternalDataPlan> externalData;
};

// A top-level protobuf field seen in a file's prefix; a payload cut by the prefix (or by the
// file's end) is kept short.
struct WireField {
    uint32_t number = 0, type = 0;
    uint64_t varint = 0;
    std::string_view payload;
};

// What a format scores: the first bytes of a file (up to 64 KiB), its size, and — when those
// bytes read as a protobuf message — its first top-level fields (up to 8; empty otherwise).
struct FilePrefix {
    std::string_view bytes;
    uint64_t fileSize = 0;
    std::vector<WireField> fields;
};

class FileFormat {
public:
    virtual ~FileFormat() = default;

    virtual FormatInfo info() const = 0;
    // The usual file name endings; they only break ties between formats that match by content.
    virtual std::vector<std::string> extensions() const = 0;
    // 0: not this format; more: surer. Decides from the prefix alone.
    virtual int score(const FilePrefix &prefix) const = 0;
    // The whole file for `netwright inspect` and the window. Throws Error naming `path`.
    virtual ModelDescription describe(std::string_view bytes, const std::string &path) const = 0;

    // The graph side (none by default).
    virtual std::optional<GraphFormat> graphFormat() const { return std::nullopt; }
    // Whether the file at `path` (of this format) holds a graph: a CNTK v2 file may be a trainer
    // checkpoint instead of a model.
    virtual bool holdsGraph(const std::string &path) const { return graphFormat().has_value(); }
    // Throws Error naming `path` and what the engine cannot take.
    virtual Graph importGraph(std::string_view bytes, const std::string &path) const;
    // The serialized file; throws Error listing every node that does not map.
    virtual std::string exportGraph(const Graph &model, const GraphExportOptions &options) const;
};

// Every format, in the order detection tries them (formats/registry.cpp).
const std::vector<const FileFormat *> &fileFormats();
// By its id (FormatInfo::id) or its graph id or --format value; nullptr when none.
const FileFormat *fileFormat(const std::string &idOrOption);
// "*.onnx *.ckpt …": every extension of the formats (graphOnly: of those with a graph side), for
// file dialogs' name filters.
std::string fileNamePatterns(bool graphOnly);

} // namespace netwright
