// SPDX-License-Identifier: Apache-2.0
#include "checkpoint/weight_matching.h"

#include "checkpoint/folded_batch_norm.h"
#include "checkpoint/training_state.h"
#include "core/error.h"
#include "core/file_io.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <sstream>

namespace netwright {

namespace {

bool endsWith(const std::string &s, const std::string &tail)
{
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

bool startsWith(const std::string &s, const std::string &head)
{
    return s.rfind(head, 0) == 0;
}

std::vector<std::string> segments(const std::string &name)
{
    std::vector<std::string> out;
    std::string part;
    std::istringstream in(name);
    while (std::getline(in, part, '.'))
        out.push_back(part);
    return out;
}

// Edit distance over dotted segments ("layer1.0.bn1.weight" vs "layer1.0.bn2.weight": 1).
size_t segmentDistance(const std::string &a, const std::string &b)
{
    const auto x = segments(a), y = segments(b);
    std::vector<size_t> row(y.size() + 1);
    for (size_t j = 0; j <= y.size(); ++j)
        row[j] = j;
    for (size_t i = 1; i <= x.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= y.size(); ++j) {
            const size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (x[i - 1] == y[j - 1] ? 0 : 1)});
            diagonal = up;
        }
    }
    return row[y.size()];
}

// Entries of a training state that are not model weights: optimizer slots, counters, our extras.
std::string ignoredBecause(const StateEntry &e)
{
    if (e.isString)
        return "a string entry";
    if (endsWith(e.name, "num_batches_tracked"))
        return "BatchNorm's step counter";
    for (const char *p : {"netwright.", "moments.", "moment1.", "moment2.", "accum.", "optimizer_state_dict."})
        if (startsWith(e.name, p))
            return "training state";
    for (const char *n : {"learning_rate", "momentum", "global_step", "epoch_num", "step_num", "beta1_power", "beta2_power", "epoch"})
        if (e.name == n)
            return "training state";
    if (e.tensor.dtype() != DType::Float32 && e.tensor.dtype() != DType::Float64)
        return dtypeName(e.tensor.dtype()) + ", not a weight";
    return {};
}

Tensor asFloat32(const Tensor &t)
{
    if (t.dtype() == DType::Float32)
        return t.hostCopy();
    Tensor out(t.shape());
    const double *d = t.dataAs<double>();
    for (int64_t i = 0; i < t.numel(); ++i)
        out.data()[i] = static_cast<float>(d[i]);
    return out;
}

// The module a node belongs to, from the scope torch.onnx writes into node names:
// "/layer1/layer1.0/conv1/Conv" → "layer1.0.conv1", "/layer2/layer2.0/downsample/downsample.0/Conv"
// → "layer2.0.downsample.0". Empty when the name has no scope.
std::string modulePath(const std::string &nodeName)
{
    if (nodeName.size() < 2 || nodeName.front() != '/')
        return {};
    std::vector<std::string> scopes;
    for (size_t start = 1;;) {
        const size_t slash = nodeName.find('/', start);
        if (slash == std::string::npos)
            break; // the last part names the op ("Conv")
        scopes.push_back(nodeName.substr(start, slash - start));
        start = slash + 1;
    }
    std::string path, previous;
    for (const auto &s : scopes) {
        if (!previous.empty() && startsWith(s, previous + "."))
            path += s.substr(previous.size()); // "layer1" then "layer1.0": the child's qualified name
        else
            path += (path.empty() ? "" : ".") + s;
        previous = s;
    }
    return path;
}

// MindSpore's and PyTorch's names of a BatchNorm's tensors (the last segment), both ways.
std::string batchNormRename(const std::string &name)
{
    static const std::pair<const char *, const char *> kPairs[] = {
        {"moving_mean", "running_mean"}, {"moving_variance", "running_var"}, {"gamma", "weight"}, {"beta", "bias"}};
    const auto dot = name.find_last_of('.');
    const std::string head = dot == std::string::npos ? std::string() : name.substr(0, dot + 1);
    const std::string last = dot == std::string::npos ? name : name.substr(dot + 1);
    for (const auto &[ms, pt] : kPairs) {
        if (last == ms)
            return head + pt;
        if (last == pt)
            return head + ms;
    }
    return {};
}

bool isMindSporeBatchNormName(const std::string &name)
{
    for (const char *tail : {".moving_mean", ".moving_variance", ".gamma", ".beta"})
        if (endsWith(name, tail))
            return true;
    return false;
}

struct FileTensor {
    std::string original; // the name in the file
    std::string name;     // after the renames
    Tensor tensor;
    std::string ignored; // why it is not a weight; empty for weights
    bool renamed = false, consumed = false;
};

class Matcher {
public:
    Matcher(const Graph &graph, const TrainingState &file, const WeightRenames &renames) : m_graph(graph), m_params(modelParameters(graph))
    {
        std::map<std::string, std::string> rename;
        for (const auto &[from, to] : renames)
            rename[from] = to;
        std::set<std::string> used;
        for (const auto &e : file) {
            FileTensor f{e.name, e.name, e.tensor, ignoredBecause(e)};
            if (const auto it = rename.find(e.name); it != rename.end()) {
                f.name = it->second;
                f.renamed = true;
                used.insert(e.name);
            }
            m_file.push_back(std::move(f));
        }
        for (const auto &[from, to] : renames)
            if (!used.count(from))
                m_report.unusedRenames.push_back(from);
        for (size_t i = 0; i < m_file.size(); ++i) {
            if (!m_file[i].ignored.empty())
                continue;
            if (!m_byName.emplace(m_file[i].name, i).second)
                throw Error("The rename to \"" + m_file[i].name + "\" gives two tensors of the checkpoint that name (\""
                            + m_file[m_byName[m_file[i].name]].original + "\" and \"" + m_file[i].original + "\").");
        }
        for (const auto &p : m_params)
            m_paramShape[p.name] = p.shape;
    }

    WeightMatchReport run()
    {
        matchByName();
        matchConvolutions();
        for (const auto &p : m_params) {
            auto it = m_rows.find(p.name);
            m_report.rows.push_back(it != m_rows.end() ? it->second : WeightRow{WeightStatus::Missing, p.name, {}, p.shape, {}, {}});
        }
        for (const auto &f : m_file)
            if (!f.consumed)
                m_report.rows.push_back(WeightRow{f.ignored.empty() ? WeightStatus::Unexpected : WeightStatus::Ignored, {}, f.original, {},
                                                  f.tensor.shape(), f.ignored});
        suggest();
        return std::move(m_report);
    }

private:
    bool undecided(const std::string &param) const { return m_paramShape.count(param) && !m_rows.count(param); }
    // An unconsumed weight of the file by its (renamed) name, or nullptr.
    FileTensor *weight(const std::string &name)
    {
        const auto it = m_byName.find(name);
        return it == m_byName.end() || m_file[it->second].consumed ? nullptr : &m_file[it->second];
    }

    void take(const std::string &param, FileTensor &f, Tensor value, std::string how)
    {
        f.consumed = true;
        const Shape &shape = m_paramShape.at(param);
        if (value.shape() != shape) {
            m_rows[param] = {WeightStatus::ShapeMismatch, param, f.original, shape, f.tensor.shape(), std::move(how)};
            return;
        }
        m_rows[param] = {WeightStatus::Matched, param, f.original, shape, f.tensor.shape(), std::move(how)};
        m_report.values[param] = std::move(value);
    }

    void matchByName()
    {
        for (const auto &p : m_params)
            if (FileTensor *f = weight(p.name))
                take(p.name, *f, f->tensor.shape() == p.shape ? asFloat32(f->tensor) : f->tensor, f->renamed ? "map" : "name");
    }

    // The BatchNorm right after the file's convolution weight at `index` (only the convolution's
    // own bias may stand between), with C channels; its name prefix, or "" when there is none.
    std::string batchNormAfter(size_t index, int64_t channels, BatchNormParams &bn, std::vector<FileTensor *> &parts)
    {
        const std::string conv = m_file[index].name.substr(0, m_file[index].name.size() - 7); // without ".weight"
        for (size_t j = index + 1; j < m_file.size() && j <= index + 2; ++j) {
            const std::string &name = m_file[j].name;
            std::string prefix;
            for (const char *first : {".weight", ".gamma", ".running_mean", ".moving_mean"})
                if (endsWith(name, first) && !startsWith(name, conv + "."))
                    prefix = name.substr(0, name.size() - std::string(first).size());
            if (prefix.empty())
                continue;
            auto find = [&](const char *pt, const char *ms) {
                FileTensor *f = weight(prefix + pt);
                return f ? f : weight(prefix + ms);
            };
            FileTensor *g = find(".weight", ".gamma"), *b = find(".bias", ".beta"), *m = find(".running_mean", ".moving_mean"),
                       *v = find(".running_var", ".moving_variance");
            for (FileTensor *f : {g, b, m, v})
                if (!f || f->tensor.shape() != Shape{channels})
                    return {};
            bn = {asFloat32(g->tensor), asFloat32(b->tensor), asFloat32(m->tensor), asFloat32(v->tensor)};
            parts = {g, b, m, v};
            return prefix;
        }
        return {};
    }

    // Loads the file's convolution weight at `index` into the Conv `node`, folding the BatchNorm
    // that follows it in the file when the model has no BatchNorm of its own there (its bias then
    // holds the folded shift).
    void matchConvolution(const Node &node, size_t index, const std::string &how)
    {
        FileTensor &w = m_file[index];
        const std::string &weightParam = node.inputs[1];
        const std::string biasParam = node.inputs.size() > 2 ? node.inputs[2] : std::string();
        const std::string conv = w.name.substr(0, w.name.size() - 7);
        FileTensor *convBias = weight(conv + ".bias");
        const Shape &shape = m_paramShape.at(weightParam);
        if (w.tensor.shape() != shape || shape.empty()) {
            take(weightParam, w, w.tensor, how);
            return;
        }
        BatchNormParams bn;
        std::vector<FileTensor *> parts;
        const std::string prefix = undecided(biasParam) ? batchNormAfter(index, shape[0], bn, parts) : std::string();
        if (prefix.empty()) {
            take(weightParam, w, asFloat32(w.tensor), how);
            if (convBias && undecided(biasParam))
                take(biasParam, *convBias, asFloat32(convBias->tensor), how);
            return;
        }
        Tensor bias = convBias && convBias->tensor.shape() == Shape{shape[0]} ? asFloat32(convBias->tensor) : Tensor();
        FoldedConv folded = foldBatchNorm(asFloat32(w.tensor), bias.defined() ? &bias : nullptr, bn);
        const std::string with = how + ", folded with BatchNorm " + prefix;
        take(weightParam, w, std::move(folded.weight), with);
        take(biasParam, *parts[1], std::move(folded.bias), with);
        for (FileTensor *f : parts)
            f->consumed = true;
        if (bias.defined())
            convBias->consumed = true;
    }

    void matchConvolutions()
    {
        std::vector<const Node *> pending;
        for (const auto &n : m_graph.nodes) {
            if (n.opType != "Conv" || n.inputs.size() < 2 || !undecided(n.inputs[1]))
                continue;
            const std::string module = modulePath(n.name);
            const auto it = module.empty() ? m_byName.end() : m_byName.find(module + ".weight");
            if (it != m_byName.end() && !m_file[it->second].consumed)
                matchConvolution(n, it->second, "module " + module);
            else
                pending.push_back(&n);
        }
        // No scope in the node names (older exporters): the convolutions in graph order take the
        // file's remaining convolution weights in file order, when they agree in number and shape.
        std::vector<size_t> candidates;
        for (size_t i = 0; i < m_file.size(); ++i)
            if (m_file[i].ignored.empty() && !m_file[i].consumed && endsWith(m_file[i].name, ".weight") && m_file[i].tensor.rank() >= 3)
                candidates.push_back(i);
        if (pending.empty() || pending.size() != candidates.size())
            return;
        for (size_t k = 0; k < pending.size(); ++k)
            if (m_file[candidates[k]].tensor.shape() != m_paramShape.at(pending[k]->inputs[1]))
                return;
        for (size_t k = 0; k < pending.size(); ++k)
            matchConvolution(*pending[k], candidates[k], "convolution " + std::to_string(k + 1) + " in order");
    }

    void suggest()
    {
        std::vector<const WeightRow *> missing;
        std::vector<const FileTensor *> unexpected;
        for (const auto &r : m_report.rows)
            if (r.status == WeightStatus::Missing)
                missing.push_back(&r);
        for (const auto &f : m_file)
            if (!f.consumed && f.ignored.empty())
                unexpected.push_back(&f);
        std::set<const FileTensor *> taken;
        for (const WeightRow *m : missing) {
            const FileTensor *best = nullptr;
            std::string why;
            int rank = 99;
            auto consider = [&](const FileTensor *f, int r, std::string reason) {
                if (r < rank) {
                    best = f;
                    rank = r;
                    why = std::move(reason);
                }
            };
            for (const FileTensor *f : unexpected) {
                if (taken.count(f) || f->tensor.shape() != m->modelShape)
                    continue;
                const std::string &name = f->name;
                const std::string bn = batchNormRename(name);
                const char *bnWhy = isMindSporeBatchNormName(name) ? "MindSpore's BatchNorm name for PyTorch's"
                                                                   : "PyTorch's BatchNorm name for MindSpore's";
                if (!bn.empty() && bn == m->modelName)
                    consider(f, 0, bnWhy);
                for (const std::string &candidate : {name, bn}) {
                    if (candidate.empty())
                        continue;
                    if (endsWith(candidate, "." + m->modelName)) {
                        const std::string extra = candidate.substr(0, candidate.size() - m->modelName.size());
                        consider(f, candidate == name ? 1 : 2,
                                 "prefix \"" + extra + "\"" + (extra == "module." ? " (DataParallel's)" : "")
                                     + (candidate == name ? "" : std::string(", and ") + bnWhy));
                    } else if (endsWith(m->modelName, "." + candidate)) {
                        consider(f, candidate == name ? 1 : 2,
                                 "the model's prefix \"" + m->modelName.substr(0, m->modelName.size() - candidate.size()) + "\""
                                     + (candidate == name ? "" : std::string(", and ") + bnWhy));
                    }
                }
                const size_t distance = segmentDistance(name, m->modelName);
                if (distance <= 1 && segments(name).size() >= 2)
                    consider(f, 3, "a close name, same shape");
            }
            if (best) {
                taken.insert(best);
                m_report.suggestions.push_back({best->original, m->modelName, why});
            }
        }
    }

    const Graph &m_graph;
    std::vector<ModelParameter> m_params;
    std::map<std::string, Shape> m_paramShape;
    std::vector<FileTensor> m_file;
    std::map<std::string, size_t> m_byName; // weights only
    std::map<std::string, WeightRow> m_rows; // the model parameters decided so far
    WeightMatchReport m_report;
};

} // namespace

std::vector<ModelParameter> modelParameters(const Graph &graph)
{
    std::vector<ModelParameter> out;
    std::set<std::string> seen;
    auto add = [&](const std::string &name) {
        const auto it = graph.initializers.find(name);
        if (it != graph.initializers.end() && it->second.dtype() == DType::Float32 && seen.insert(name).second)
            out.push_back({name, it->second.shape()});
    };
    for (const auto &n : graph.nodes)
        for (size_t k = 0; k < n.inputs.size(); ++k)
            if (graph.trainable.count(n.inputs[k]) || (n.opType == "BatchNormalization" && (k == 3 || k == 4)))
                add(n.inputs[k]);
    for (const auto &name : graph.trainable)
        add(name);
    return out;
}

int untieIdentityInitializers(Graph &graph)
{
    std::map<std::string, int> uses;
    for (const auto &n : graph.nodes)
        for (const auto &in : n.inputs)
            ++uses[in];
    for (const auto &o : graph.outputs)
        ++uses[o.name];
    int untied = 0;
    for (auto it = graph.nodes.begin(); it != graph.nodes.end();) {
        const Node &n = *it;
        const bool fromInitializer = n.opType == "Identity" && n.inputs.size() == 1 && n.outputs.size() == 1
                                     && graph.initializers.count(n.inputs[0]) && !graph.initializers.count(n.outputs[0]);
        bool isOutput = false;
        for (const auto &o : graph.outputs)
            isOutput = isOutput || (fromInitializer && o.name == n.outputs[0]);
        if (!fromInitializer || isOutput) {
            ++it;
            continue;
        }
        const std::string source = n.inputs[0], value = n.outputs[0];
        graph.initializers[value] = graph.initializers.at(source).clone();
        if (graph.trainable.count(source))
            graph.trainable.insert(value);
        it = graph.nodes.erase(it);
        ++untied;
        if (--uses[source] == 0) {
            graph.initializers.erase(source);
            graph.trainable.erase(source);
        }
    }
    return untied;
}

WeightRenames readWeightMapFile(const std::string &path)
{
    const std::string text = readRegularFile(path, "weight map", 16u << 20);
    const std::string what = "Cannot read \"" + path + "\" as a weight map: ";
    WeightRenames out;
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && text[first] == '{') {
        const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
        if (j.is_discarded() || !j.is_object())
            throw Error(what + "it starts with \"{\" but is not a JSON object.");
        for (const auto &[from, to] : j.items()) {
            if (!to.is_string())
                throw Error(what + "the value of \"" + from + "\" is not a string (a tensor name).");
            out.emplace_back(from, to.get<std::string>());
        }
        return out;
    }
    std::istringstream in(text);
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        line = line.substr(0, line.find('#')); // a comment runs to the end of its line
        std::istringstream words(line);
        std::vector<std::string> w;
        for (std::string word; words >> word;)
            w.push_back(word);
        if (w.empty())
            continue;
        if (w.size() != 2)
            throw Error(what + "line " + std::to_string(number) + " has " + std::to_string(w.size())
                        + " words; each line is \"FROM TO\" (a name in the checkpoint, the model's name for it).");
        out.emplace_back(w[0], w[1]);
    }
    return out;
}

const char *weightStatusName(WeightStatus status)
{
    switch (status) {
    case WeightStatus::Matched: return "matched";
    case WeightStatus::Missing: return "missing";
    case WeightStatus::Unexpected: return "unexpected";
    case WeightStatus::ShapeMismatch: return "shape mismatch";
    case WeightStatus::Ignored: return "ignored";
    }
    return "?";
}

int WeightMatchReport::count(WeightStatus status) const
{
    return static_cast<int>(std::count_if(rows.begin(), rows.end(), [status](const WeightRow &r) { return r.status == status; }));
}

bool WeightMatchReport::complete() const
{
    return count(WeightStatus::Missing) == 0 && count(WeightStatus::Unexpected) == 0 && count(WeightStatus::ShapeMismatch) == 0
           && unusedRenames.empty();
}

std::string WeightMatchReport::problems() const
{
    std::string out;
    auto list = [&](WeightStatus status, const std::string &label) {
        std::string names;
        int n = 0;
        for (const auto &r : rows) {
            if (r.status != status)
                continue;
            if (++n <= 5) {
                std::string name = status == WeightStatus::Unexpected ? r.fileName : r.modelName;
                if (status == WeightStatus::ShapeMismatch)
                    name += " " + shapeToString(r.fileShape) + " in the file, " + shapeToString(r.modelShape) + " in the model";
                names += (names.empty() ? "" : ", ") + name;
            }
        }
        if (n > 5)
            names += ", …";
        if (n > 0)
            out += (out.empty() ? "" : "; ") + std::to_string(n) + " " + label + " (" + names + ")";
    };
    list(WeightStatus::Missing, "missing");
    list(WeightStatus::Unexpected, "unexpected");
    list(WeightStatus::ShapeMismatch, "of another shape");
    if (!unusedRenames.empty())
        out += (out.empty() ? "" : "; ") + std::to_string(unusedRenames.size()) + " renames of names the file does not have ("
               + unusedRenames.front() + (unusedRenames.size() > 1 ? ", …" : "") + ")";
    return out;
}

WeightMatchReport matchWeights(const Graph &model, const TrainingState &file, const WeightRenames &renames)
{
    return Matcher(model, file, renames).run();
}

WeightMatchReport matchWeightsFile(const Graph &model, const std::string &checkpointPath, const std::string &mapPath, bool strict)
{
    const TrainingState entries = readTrainingStateFile(checkpointPath);
    const WeightRenames renames = mapPath.empty() ? WeightRenames{} : readWeightMapFile(mapPath);
    WeightMatchReport report;
    try {
        report = matchWeights(model, entries, renames);
    } catch (const Error &e) {
        throw Error("Cannot load \"" + checkpointPath + "\" into the model: " + e.what());
    }
    if (strict && !report.complete())
        throw Error("Cannot load \"" + checkpointPath + "\" into the model (strict): " + report.problems()
                    + ". netwright load-check suggests renames; a map file applies them.");
    if (report.count(WeightStatus::Matched) == 0)
        throw Error("Cannot load \"" + checkpointPath + "\" into the model: none of its tensors matches a parameter of the model ("
                    + report.problems() + "). netwright load-check suggests renames; a map file applies them.");
    return report;
}

std::string loadSummary(const WeightMatchReport &report, const std::string &checkpointPath)
{
    int folded = 0;
    for (const auto &r : report.rows)
        folded += r.status == WeightStatus::Matched && r.how.find("folded") != std::string::npos;
    const int matched = report.count(WeightStatus::Matched);
    const int parameters = matched + report.count(WeightStatus::Missing) + report.count(WeightStatus::ShapeMismatch);
    std::string out = "Started from \"" + checkpointPath + "\": " + std::to_string(matched) + " of " + std::to_string(parameters)
                      + " parameters loaded";
    if (folded)
        out += " (" + std::to_string(folded) + " with BatchNorm folded in)";
    const std::string rest = report.problems();
    return out + (rest.empty() ? "." : "; " + rest + ".");
}

WeightMatchReport loadWeightsInto(Graph &model, const std::string &checkpointPath, const std::string &mapPath, bool strict)
{
    Graph graph = model; // tensors are shared, never written: loading replaces them
    untieIdentityInitializers(graph);
    WeightMatchReport report = matchWeightsFile(graph, checkpointPath, mapPath, strict);
    for (auto &[name, value] : report.values)
        graph.initializers[name] = value;
    model = std::move(graph);
    return report;
}

} // namespace netwright
