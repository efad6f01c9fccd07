// SPDX-License-Identifier: Apache-2.0
#include "formats/graph_import.h"

#include "core/error.h"
#include "ops/op.h"

#include <map>

namespace netwright {

void markTrainableParameters(Graph &graph)
{
    std::map<std::string, bool> differentiable;
    for (const auto &n : graph.nodes)
        for (size_t k = 0; k < n.inputs.size(); ++k) {
            if (n.inputs[k].empty())
                continue;
            bool d = hasKernel(n.opType) && kernelFor(n.opType, DeviceType::Cpu, n).differentiable(k);
            differentiable[n.inputs[k]] = differentiable[n.inputs[k]] || d;
        }
    graph.trainable.clear();
    for (const auto &[name, t] : graph.initializers) {
        const auto it = differentiable.find(name);
        if (t.dtype() == DType::Float32 && it != differentiable.end() && it->second)
            graph.trainable.insert(name);
    }
}

void validateImported(Graph &graph, const std::string &source, const std::string &format)
{
    try {
        graph.validate();
    } catch (const Error &e) {
        throw Error("Cannot import \"" + source + "\" as " + format + ": " + e.what());
    }
}

} // namespace netwright
