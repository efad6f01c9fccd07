// SPDX-License-Identifier: Apache-2.0
// What ONNX's operator schemas (libonnx's registry) say about an op: its description and the
// meaning of its inputs, outputs and attributes — for the window's node properties and for the
// names Netron draws weights under ("W", "B"). Plain data, no protobuf. Layer: engine/formats.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace netwright {

struct OpDocumentation {
    struct Item {
        std::string name, type, description; // type: "T", "tensor(int64)", "INTS"
        bool optional = false, variadic = false, required = false;
        std::string defaultValue; // attributes: the default as ONNX states it, "" when none
    };
    std::string opType, domain; // domain "" is ai.onnx
    int sinceVersion = 0;
    std::string doc; // Markdown, as ONNX writes it
    std::vector<Item> inputs, outputs, attributes;
};

// The schema of `opType` ("Conv", or "com.microsoft::Attention" as the description names ops of
// other domains) at opset `opset` (≤ 0: the newest); nullopt when ONNX does not define the op.
std::optional<OpDocumentation> onnxOpDocumentation(const std::string &opType, int opset = 0);

// The opset of the ai.onnx domain a description's "opset_import" property states ("ai.onnx 17,
// ai.onnx.ml 3" → 17); 0 when absent.
int onnxOpset(const std::string &opsetImport);

} // namespace netwright
