// SPDX-License-Identifier: Apache-2.0
// The model formats Netwright both reads into a runnable graph and writes — ONNX, MindIR, AIR
// and CNTK model-v2 — behind one interface: import a file of any of them (detected by content),
// export a graph to any of them, and check an exported file by importing it back. `netwright
// export`, `netwright convert` and the export wizard use it. Layer: engine/formats.
#pragma once

#include "formats/file_format.h"
#include "formats/mindspore/ms_encryption.h"
#include "graph/graph.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace netwright {

struct FormatDescription {
    std::string id, name; // the registry's detection: "cntk-v2", "CNTK v2 (model or trainer checkpoint)"
};

// The graph sides of the registry's formats (FileFormat::graphFormat()), in its order.
const std::vector<GraphFormat> &graphFormats();
// By --format value or registry id; nullopt when the format has no graph import/export.
std::optional<GraphFormat> graphFormat(const std::string &optionOrId);
// By a file name's extension (.onnx, .mindir, .air, .model/.dnn/.cmf), for `convert IN OUT`: the
// format of a file that does not exist yet (an existing file is always detected by content).
std::optional<GraphFormat> graphFormatForPath(const std::string &path);

// The graph format of a file by content: nullopt for other formats (checkpoints, graph dumps);
// Error naming the file when it cannot be read or is of no known format. An encrypted MindSpore
// file is decrypted with `key` first (without one: Error saying a key is needed).
std::optional<GraphFormat> detectGraphFormat(const std::string &path, FormatDescription *detected = nullptr,
                                             const mindspore::EncryptionKey &key = {});

Graph importGraph(const GraphFormat &format, std::string_view bytes, const std::string &source);
// Detects the format by content; Error naming the file when it is not a graph format.
Graph importGraphFile(const std::string &path, GraphFormat *detected = nullptr, const mindspore::EncryptionKey &key = {});
// The bytes of a model or checkpoint file, decrypted with `key` when it is an encrypted MindSpore
// file (Error saying a key is needed when none is given).
std::string readPlainFile(const std::string &path, const mindspore::EncryptionKey &key = {});

// The serialized file; Error listing every node that does not map (nothing produced then).
std::string exportGraph(const GraphFormat &format, const Graph &model, const GraphExportOptions &options);

// The model with its data input shaped [N, …] as `shape` says, for export: the dimensions the
// model leaves free are set, the ones it fixes must agree; N becomes the batch of a static-batch
// export (dynamicBatch false) and is otherwise ignored: the batch stays free, or fixed where the
// model fixes it (see exportBatch()). The tensors are shared, not copied.
// Throws Error naming the model, the input and the dimension that does not fit.
Graph withInputShape(const Graph &model, const std::vector<int64_t> &shape, bool dynamicBatch);
// "1,3,224,224" (or "1x3x224x224") as a shape; Error for anything else.
std::vector<int64_t> parseShape(const std::string &text);

// Reads exported `bytes` back (external data from beside `path`): every weight the model uses
// present and bit-identical, and the same outputs on a random probe batch (within 1e-5) — of the
// batch the model or the file fixes, else 2; a model with more than kProbeWeightLimit bytes of
// float weights is compared weight by weight only (with bounded memory), not run. Returns a
// one-line summary; throws Error naming `path` otherwise.
constexpr uint64_t kProbeWeightLimit = uint64_t(1) << 30;
std::string verifyExport(const GraphFormat &format, const std::string &bytes, const std::string &path, const Graph &model);

} // namespace netwright
