// SPDX-License-Identifier: Apache-2.0
#include "formats/model_runner.h"

#include "autodiff/executor.h"
#include "core/error.h"
#include "core/rng.h"
#include "formats/format_util.h"
#include "formats/npy/npy_file.h"
#include "formats/onnx/onnx_import.h"

#include <set>

namespace netwright {

Tensor readTensorFile(const std::string &path)
{
    const std::string bytes = readFileBytes(path);
    if (bytes.compare(0, 6, "\x93NUMPY") == 0)
        return decodeNpy(bytes, path);
    return onnx_format::decodeTensorProto(bytes, path);
}

InputArgument parseInputArgument(const std::string &text)
{
    // NAME=FILE when the part before '=' is not itself a path to a file: a file name may hold '='.
    const size_t eq = text.find('=');
    if (eq == std::string::npos || eq == 0 || text.find('/') < eq)
        return {"", text};
    return {text.substr(0, eq), text.substr(eq + 1)};
}

std::map<std::string, Tensor> bindInputs(const Graph &graph, const std::vector<InputArgument> &inputs)
{
    std::map<std::string, Tensor> feeds;
    std::map<std::string, std::string> fileOf;
    size_t next = 0;
    for (const InputArgument &arg : inputs) {
        const ValueInfo *info = nullptr;
        if (!arg.name.empty()) {
            info = graph.findInput(arg.name);
            if (!info) {
                std::string names;
                for (const auto &in : graph.inputs)
                    names += (names.empty() ? "" : ", ") + in.name;
                throw Error("Model \"" + graph.name + "\" has no input named \"" + arg.name + "\" (its inputs: " + names + ").");
            }
        } else {
            while (next < graph.inputs.size() && fileOf.count(graph.inputs[next].name))
                ++next;
            if (next >= graph.inputs.size())
                throw Error("Model \"" + graph.name + "\" takes " + std::to_string(graph.inputs.size()) + " input"
                            + (graph.inputs.size() == 1 ? "" : "s") + "; \"" + arg.path + "\" is one too many.");
            info = &graph.inputs[next++];
        }
        if (fileOf.count(info->name))
            throw Error("Input \"" + info->name + "\" is given twice (\"" + fileOf[info->name] + "\" and \"" + arg.path + "\").");
        Tensor t = readTensorFile(arg.path);
        if (t.dtype() != info->dtype)
            throw Error("Input \"" + info->name + "\" takes " + dtypeName(info->dtype) + "; \"" + arg.path + "\" holds "
                        + dtypeName(t.dtype()) + ".");
        bool fits = info->shape.empty() || t.rank() == static_cast<int>(info->shape.size());
        for (size_t d = 0; fits && d < info->shape.size(); ++d)
            fits = info->shape[d] < 0 || info->shape[d] == t.shape()[d];
        if (!fits)
            throw Error("Input \"" + info->name + "\" has shape " + shapeToString(info->shape) + " (-1 = any); \"" + arg.path
                        + "\" holds " + shapeToString(t.shape()) + ".");
        fileOf[info->name] = arg.path;
        feeds[info->name] = std::move(t);
    }
    std::string missing;
    for (const auto &in : graph.inputs)
        if (!feeds.count(in.name))
            missing += (missing.empty() ? "\"" : ", \"") + in.name + "\" " + dtypeName(in.dtype) + " " + shapeToString(in.shape);
    if (!missing.empty())
        throw Error("Model \"" + graph.name + "\" needs a file for input " + missing + " (give --input FILE in the model's input "
                    "order, or --input NAME=FILE).");
    return feeds;
}

std::vector<ModelOutput> runModel(Graph &graph, const std::map<std::string, Tensor> &feeds)
{
    Executor ex(graph);
    Rng dropout(0); // for a Dropout whose training_mode input asks for a random mask: seeded, so runs repeat
    ex.setDropoutRng(&dropout);
    ex.forward(feeds, false);
    std::vector<ModelOutput> out;
    for (const auto &o : graph.outputs)
        out.push_back({o.name, ex.value(o.name).hostCopy()});
    return out;
}

} // namespace netwright
