// SPDX-License-Identifier: Apache-2.0
#include "formats/checkpoint_graph.h"

#include <filesystem>
#include <system_error>

namespace netwright {

std::string graphMetaBeside(const std::string &checkpointPath)
{
    namespace fs = std::filesystem;
    const fs::path path(checkpointPath);
    const std::string stem = path.stem().string();
    std::vector<std::string> prefixes;
    if (const auto dash = stem.rfind('-'); dash != std::string::npos && dash > 0)
        prefixes.push_back(stem.substr(0, dash));
    prefixes.push_back(stem);
    for (const std::string &prefix : prefixes) {
        const fs::path meta = path.parent_path() / (prefix + "-graph.meta");
        std::error_code ec;
        if (fs::is_regular_file(meta, ec))
            return meta.string();
    }
    return {};
}

ModelDescription withGraph(ModelDescription checkpoint, const ModelDescription &graph, const std::string &graphFile)
{
    checkpoint.properties.emplace_back("graph", std::filesystem::path(graphFile).filename().string());
    checkpoint.inputs = graph.inputs;
    checkpoint.outputs = graph.outputs;
    checkpoint.nodes = graph.nodes;
    checkpoint.values = graph.values;
    return checkpoint;
}

} // namespace netwright
