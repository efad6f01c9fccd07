// SPDX-License-Identifier: Apache-2.0
#include "formats/graph_formats.h"

#include "autodiff/executor.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/file_view.h"
#include "core/rng.h"
#include "formats/cntk/cntk_model.h"
#include "formats/format_util.h"
#include "formats/inference_graph.h"
#include "formats/registry.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace netwright {

const std::vector<GraphFormat> &graphFormats()
{
    static const std::vector<GraphFormat> formats = [] {
        std::vector<GraphFormat> out;
        for (const FileFormat *f : fileFormats())
            if (const auto g = f->graphFormat())
                out.push_back(*g);
        return out;
    }();
    return formats;
}

std::optional<GraphFormat> graphFormat(const std::string &optionOrId)
{
    for (const auto &f : graphFormats())
        if (f.id == optionOrId || f.option == optionOrId)
            return f;
    return std::nullopt;
}

std::optional<GraphFormat> graphFormatForPath(const std::string &path)
{
    std::string ext = std::filesystem::path(path).extension().string();
    for (auto &c : ext)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const auto &f : graphFormats())
        if (std::find(f.extensions.begin(), f.extensions.end(), ext) != f.extensions.end())
            return f;
    return std::nullopt;
}

namespace {

const FileFormat &owner(const GraphFormat &format)
{
    const FileFormat *f = fileFormat(format.id);
    check(f != nullptr, format.name + " is not a format Netwright knows.");
    return *f;
}

} // namespace

Graph importGraph(const GraphFormat &format, std::string_view bytes, const std::string &source)
{
    return owner(format).importGraph(bytes, source);
}

std::string readPlainFile(const std::string &path, const mindspore::EncryptionKey &key)
{
    if (!mindspore::encryptedMode(readFilePrefix(path, 4)))
        return readFileBytes(path);
    const auto view = FileView::open(path);
    return mindspore::decryptMindspore(view->bytes(), key, path); // names a missing or wrong key
}

std::optional<GraphFormat> detectGraphFormat(const std::string &path, FormatDescription *detected, const mindspore::EncryptionKey &key)
{
    // A bounded prefix of a regular file (a FIFO or a directory is refused, never waited on).
    std::string prefix = readFilePrefix(path, 64 * 1024);
    uint64_t size = regularFileSize(path);
    if (mindspore::encryptedMode(prefix) && !key.empty()) { // what the blocks hold decides
        const std::string plain = readPlainFile(path, key);
        prefix = plain.substr(0, 64 * 1024);
        size = plain.size();
    }
    const FormatInfo info = detectFormat(prefix, size, path);
    if (detected)
        *detected = {info.id, info.name};
    const FileFormat *format = fileFormat(info.id);
    // A CNTK v2 file is a model or a trainer checkpoint: the format tells from the file.
    return format && format->holdsGraph(path) ? format->graphFormat() : std::nullopt;
}

Graph importGraphFile(const std::string &path, GraphFormat *detected, const mindspore::EncryptionKey &key)
{
    FormatDescription info;
    const auto format = detectGraphFormat(path, &info, key);
    std::string list;
    for (const auto &f : graphFormats())
        list += (list.empty() ? "" : ", ") + f.name;
    check(format.has_value(), "\"" + path + "\" is a " + info.name + " file, which holds no graph to run; model files are " + list + ".");
    if (detected)
        *detected = *format;
    return importGraph(*format, readPlainFile(path, key), path);
}

std::string exportGraph(const GraphFormat &format, const Graph &model, const GraphExportOptions &options)
{
    return owner(format).exportGraph(model, options);
}

Graph withInputShape(const Graph &model, const std::vector<int64_t> &shape, bool dynamicBatch)
{
    Graph g = model;
    ValueInfo *input = nullptr;
    for (auto &in : g.inputs)
        if (in.name != "labels" && !g.initializers.count(in.name) && !input)
            input = &in;
    const std::string what = "Cannot give \"" + model.name + "\" the input shape " + shapeToString(shape) + ": ";
    check(input != nullptr, what + "it has no data input.");
    check(shape.size() == input->shape.size(), what + "its input \"" + input->name + "\" has " + std::to_string(input->shape.size())
                                                   + " dimensions " + shapeToString(input->shape) + ".");
    for (size_t d = 0; d < shape.size(); ++d) {
        check(shape[d] > 0, what + "dimension " + std::to_string(d) + " must be positive.");
        if (d > 0 && input->shape[d] >= 0)
            check(input->shape[d] == shape[d], what + "its input \"" + input->name + "\" fixes dimension " + std::to_string(d) + " at "
                                                   + std::to_string(input->shape[d]) + ".");
    }
    const int64_t batch = input->shape.empty() ? -1 : input->shape[0];
    input->shape = shape;
    if (dynamicBatch)
        input->shape[0] = batch > 0 ? batch : -1; // a batch the model fixes stays (see exportBatch)
    return g;
}

std::vector<int64_t> parseShape(const std::string &text)
{
    std::vector<int64_t> shape;
    std::string part;
    auto flush = [&] {
        check(!part.empty() && part.size() <= 12 && part.find_first_not_of("0123456789") == std::string::npos,
              "\"" + text + "\" is not a shape (whole numbers separated by commas, like 1,3,224,224).");
        shape.push_back(std::stoll(part));
        part.clear();
    };
    for (char c : text) {
        if (c == ',' || c == 'x')
            flush();
        else if (c != ' ' && c != '[' && c != ']')
            part.push_back(c);
    }
    flush();
    return shape;
}

namespace {

// Equal bytes, compared 16 MiB at a time; pages of a mapped file (external data) are given back
// after each piece, so comparing two files of gigabytes keeps memory bounded.
bool sameBytes(const Tensor &a, const Tensor &b)
{
    const auto *p = static_cast<const char *>(a.raw()), *q = static_cast<const char *>(b.raw());
    constexpr size_t kPiece = size_t(16) << 20;
    for (size_t done = 0; done < a.byteSize(); done += kPiece) {
        const size_t n = std::min(kPiece, a.byteSize() - done);
        const bool same = std::memcmp(p + done, q + done, n) == 0;
        releaseIfMapped(p + done, n);
        releaseIfMapped(q + done, n);
        if (!same)
            return false;
    }
    return true;
}

} // namespace

std::string verifyExport(const GraphFormat &format, const std::string &bytes, const std::string &path, const Graph &model)
{
    const std::string failed = "Verification of \"" + path + "\" failed: ";
    const Graph back = importGraph(format, bytes, path);
    const InferenceGraph ig = inferenceGraph(model, true);

    // Weights: every float tensor the model computes with (Clip bounds, Pad's constant value and
    // shapes become constants or attributes in some formats) must come back under its name with
    // the same bytes.
    std::set<std::string> clipBounds;
    for (const Node *n : ig.nodes) {
        if (n->opType == "Clip")
            for (size_t i = 1; i < n->inputs.size(); ++i)
                clipBounds.insert(ig.source(n->inputs[i]));
        if (n->opType == "Pad" && n->inputs.size() > 2 && !n->inputs[2].empty())
            clipBounds.insert(ig.source(n->inputs[2]));
    }
    size_t tensors = 0;
    int64_t values = 0;
    for (const auto &name : ig.usedInitializers) {
        const Tensor &t = model.initializers.at(name);
        if (t.dtype() != DType::Float32 || clipBounds.count(name))
            continue;
        const auto it = back.initializers.find(name);
        check(it != back.initializers.end(), failed + "weight \"" + name + "\" is missing.");
        check(it->second.dtype() == t.dtype() && it->second.numel() == t.numel() && sameBytes(it->second, t),
              failed + "weight \"" + name + "\" differs from the model's.");
        ++tensors;
        values += t.numel();
    }

    // Outputs on a probe batch: the batch the model or the file fixes, else two random samples. A
    // model of gigabytes (its weights mapped from files, compared above a chunk at a time) is not
    // run: that would bring every weight into memory at once.
    if (static_cast<uint64_t>(values) * sizeof(float) > kProbeWeightLimit) {
        char text[200];
        std::snprintf(text, sizeof text, "%zu tensors (%lld values) bit-identical; outputs not probed (weights over %llu MiB)", tensors,
                      static_cast<long long>(values), static_cast<unsigned long long>(kProbeWeightLimit >> 20));
        return text;
    }
    Shape shape = ig.input.shape;
    check(!shape.empty() && !back.inputs.empty(), failed + "the input has no shape.");
    const Shape &written = back.inputs[0].shape;
    const int64_t fileBatch = !written.empty() && written[0] > 0 ? written[0] : -1;
    check(shape[0] < 0 || fileBatch < 0 || shape[0] == fileBatch, failed + "the file fixes the batch at " + std::to_string(fileBatch)
                                                                     + ", the model at " + std::to_string(shape[0]) + ".");
    shape[0] = shape[0] > 0 ? shape[0] : fileBatch > 0 ? fileBatch : 2;
    for (int64_t d : shape)
        check(d > 0, failed + "the input shape " + shapeToString(ig.input.shape) + " has an unknown dimension besides the batch.");
    Tensor probe(shape, ig.input.dtype);
    Rng rng(7);
    for (int64_t i = 0; i < probe.numel(); ++i)
        probe.data()[i] = rng.uniform() * 2.0f - 1.0f;
    Graph original = model; // Executor needs a mutable graph; the tensors are shared, not copied
    // An export is an inference graph: BatchNormalization uses its running statistics even where
    // the model (a training-mode import) says training_mode=1, as the written file does.
    for (Node &n : original.nodes)
        if (n.opType == "BatchNormalization")
            n.attributes.erase("training_mode");
    Graph reread = back;
    Executor a(original), b(reread);
    std::map<std::string, Tensor> feed{{ig.input.name, probe}};
    if (model.findInput("labels"))
        feed["labels"] = Tensor::zeros({shape[0]}, DType::Int64);
    a.forward(feed, false);
    b.forward({{back.inputs.at(0).name, probe}}, false);
    const Tensor &ya = a.value(ig.outputs.at(0).name), &yb = b.value(back.outputs.at(0).name);
    check(ya.shape() == yb.shape(), failed + "the output shape " + shapeToString(yb.shape()) + " is not the model's " + shapeToString(ya.shape()) + ".");
    double worst = 0;
    for (int64_t i = 0; i < ya.numel(); ++i) {
        const double d = std::abs(static_cast<double>(ya.data()[i]) - yb.data()[i]);
        worst = std::max(worst, d / std::max(1.0, std::abs(static_cast<double>(ya.data()[i]))));
    }
    check(worst <= 1e-5, failed + "outputs differ by " + formatNumber(worst) + ".");
    char text[200];
    std::snprintf(text, sizeof text, "%zu tensors (%lld values) bit-identical, outputs on a probe batch equal (max difference %.1e)",
                  tensors, static_cast<long long>(values), worst);
    return text;
}

} // namespace netwright
