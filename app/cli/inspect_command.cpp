// SPDX-License-Identifier: Apache-2.0
#include "cli/inspect_command.h"

#include "core/error.h"
#include "core/file_io.h"
#include "core/tensor_stats.h"
#include "formats/model_summary.h"
#include "formats/registry.h"
#include "formats/value_shapes.h"

#include "cli/key_options.h"
#include "cli/subcommand.h"

#include <QCommandLineParser>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

namespace netwright::cli {

namespace {

// A multi-line text (a run's class names) on one line of the listing, its line ends shown as " | ".
std::string oneLine(std::string text)
{
    for (size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at + 3))
        text.replace(at, 1, " | ");
    return text;
}

QJsonValue number(double v)
{
    return std::isfinite(v) ? QJsonValue(v) : QJsonValue(); // JSON has no NaN/inf: null
}

QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

std::string shapeText(const ValueDescription &v)
{
    if (!v.shapeKnown)
        return v.text.empty() ? "?" : "-"; // "-": a value that is not a tensor
    std::string s = "[";
    for (size_t i = 0; i < v.shape.size(); ++i) {
        if (i)
            s += ',';
        const bool named = i < v.dimNames.size() && !v.dimNames[i].empty();
        s += named ? v.dimNames[i] : v.shape[i] < 0 ? std::string("?") : std::to_string(v.shape[i]);
    }
    return s + "]";
}

// [batch, 3, 224, 224]: a free dimension by its name, "?" when it has none.
QJsonArray shapeJson(const ValueDescription &v)
{
    QJsonArray shape;
    for (size_t i = 0; i < v.shape.size(); ++i) {
        const bool named = i < v.dimNames.size() && !v.dimNames[i].empty();
        shape.append(named ? QJsonValue(q(v.dimNames[i])) : v.shape[i] < 0 ? QJsonValue(QStringLiteral("?")) : QJsonValue(static_cast<qint64>(v.shape[i])));
    }
    return shape;
}

QJsonObject valueJson(const ValueDescription &v)
{
    QJsonObject o{{"name", q(v.name)}, {"dtype", q(v.dtype)}};
    if (v.shapeKnown)
        o["shape"] = shapeJson(v);
    if (!v.heldBy.empty())
        o["held_by"] = q(v.heldBy);
    if (v.value) {
        const TensorStats s = computeStreamingStats(*v.value);
        o["bytes"] = static_cast<qint64>(v.value->byteSize());
        o["min"] = number(s.min);
        o["max"] = number(s.max);
        o["mean"] = number(s.mean);
        o["std"] = number(s.std);
        if (s.nans || s.infinities) {
            o["nan"] = static_cast<qint64>(s.nans);
            o["inf"] = static_cast<qint64>(s.infinities);
        }
    }
    if (!v.text.empty())
        o["value"] = q(v.text);
    return o;
}

void printValues(const char *title, const std::vector<ValueDescription> &values, bool statistics)
{
    if (values.empty())
        return;
    size_t w = 4, wt = 5, ws = 5;
    for (const auto &v : values) {
        w = std::max(w, v.name.size());
        wt = std::max(wt, v.dtype.size());
        ws = std::max(ws, shapeText(v).size());
    }
    w = std::min<size_t>(w, 72);
    std::printf("\n%s (%zu)\n", title, values.size());
    std::printf("  %-*s  %-*s  %-*s", static_cast<int>(w), "name", static_cast<int>(wt), "dtype", static_cast<int>(ws), "shape");
    if (statistics)
        std::printf("  %12s  %12s  %12s  %12s  %10s", "min", "max", "mean", "std", "bytes");
    std::printf("\n");
    for (const auto &v : values) {
        std::printf("  %-*s  %-*s  %-*s", static_cast<int>(w), v.name.c_str(), static_cast<int>(wt), v.dtype.c_str(), static_cast<int>(ws),
                    shapeText(v).c_str());
        if (v.value) {
            const TensorStats s = computeStreamingStats(*v.value);
            std::printf("  %12.6g  %12.6g  %12.6g  %12.6g  %10zu", s.min, s.max, s.mean, s.std, v.value->byteSize());
            if (s.nans || s.infinities)
                std::printf("  (%lld NaN, %lld inf)", static_cast<long long>(s.nans), static_cast<long long>(s.infinities));
        }
        if (!v.text.empty())
            std::printf("  %s", oneLine(v.text).c_str());
        if (!v.heldBy.empty())
            std::printf("  held by %s", v.heldBy.c_str());
        std::printf("\n");
    }
}

// Node outputs (each name once) and how many of them have a shape: any, and one whose every
// dimension is a number or a named input dimension (no "?").
struct ShapeCoverage {
    int64_t outputs = 0, known = 0, fullyKnown = 0;
};

ShapeCoverage shapeCoverage(const ModelDescription &d, const ValueShapes &shapes)
{
    ShapeCoverage c;
    std::set<std::string> seen;
    for (const auto &n : d.nodes)
        for (const auto &o : n.outputs) {
            if (o.empty() || !seen.insert(o).second)
                continue;
            ++c.outputs;
            const auto it = shapes.values.find(o);
            if (it == shapes.values.end() || !it->second.shapeKnown)
                continue;
            ++c.known;
            bool full = true;
            for (size_t i = 0; i < it->second.shape.size(); ++i)
                full = full && (it->second.shape[i] >= 0 || (i < it->second.dimNames.size() && !it->second.dimNames[i].empty()));
            c.fullyKnown += full;
        }
    return c;
}

std::string join(const std::vector<std::string> &v)
{
    std::string s;
    for (const auto &x : v)
        s += (s.empty() ? "" : ", ") + x;
    return s;
}

} // namespace

int runInspectCommand(const QStringList &arguments)
{
    QCommandLineParser p;
    QStringList formats;
    for (const auto &f : knownFormats())
        formats << QString::fromStdString(f.name);
    p.setApplicationDescription(QStringLiteral(
        "Show what a model or checkpoint file holds: its graph (every node with its op type and attributes, the inputs and\n"
        "outputs with dtypes and shapes) and its parameters with min/max/mean/std and size. The format is detected by\n"
        "content, never by name: %1.").arg(formats.join(QStringLiteral(", "))));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("inspect"), QStringLiteral("The subcommand."));
    p.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("The file to inspect."));
    p.addOption({QStringLiteral("json"), QStringLiteral("Print JSON instead of text.")});
    p.addOptions(keyOptions(false));
    if (const auto done = parseSubcommand(p, arguments, "inspect", 1, "give exactly one file."))
        return *done;
    const std::string path = p.positionalArguments().at(1).toStdString();
    try {
        requireRegularFile(path); // a directory, FIFO, device or link loop is named as what it is
        const ModelDescription d = describeFile(path, keyFromOptions(p));
        const qint64 bytes = QFileInfo(QString::fromStdString(path)).size();
        if (p.isSet(QStringLiteral("json"))) {
            QJsonObject properties;
            for (const auto &[k, v] : d.properties)
                properties[q(k)] = q(v);
            QJsonArray inputs, outputs, nodes, parameters;
            for (const auto &v : d.inputs)
                inputs.append(valueJson(v));
            for (const auto &v : d.outputs)
                outputs.append(valueJson(v));
            for (const auto &v : d.parameters)
                parameters.append(valueJson(v));
            for (const auto &n : d.nodes) {
                QJsonArray in, out;
                for (const auto &x : n.inputs)
                    in.append(q(x));
                for (const auto &x : n.outputs)
                    out.append(q(x));
                QJsonObject attrs;
                for (const auto &a : n.attributes)
                    attrs[q(a.name)] = q(a.value);
                QJsonObject o{{"name", q(n.name)}, {"op_type", q(n.opType)}, {"inputs", in}, {"outputs", out}, {"attributes", attrs}};
                if (!n.graph.empty())
                    o["graph"] = q(n.graph);
                nodes.append(o);
            }
            const ValueShapes shapes = valueShapes(path, d);
            QJsonObject values;
            for (const auto &[name, v] : shapes.values) {
                QJsonObject o{{"dtype", v.dtype.empty() ? QJsonValue() : QJsonValue(q(v.dtype))}};
                o["shape"] = v.shapeKnown ? QJsonValue(shapeJson(v)) : QJsonValue();
                values[q(name)] = o;
            }
            QJsonArray inputNames, outputNames;
            for (const auto &v : d.inputs)
                inputNames.append(q(v.name));
            for (const auto &v : d.outputs)
                outputNames.append(q(v.name));
            QJsonObject ops;
            for (const auto &[op, count] : opHistogram(d))
                ops[q(op)] = count;
            const ParameterTotals totals = parameterTotals(d.parameters);
            const ShapeCoverage coverage = shapeCoverage(d, shapes);
            QJsonObject shapeSummary{{"node_outputs", static_cast<qint64>(coverage.outputs)},
                                     {"known", static_cast<qint64>(coverage.known)},
                                     {"fully_known", static_cast<qint64>(coverage.fullyKnown)}};
            if (!shapes.note.empty())
                shapeSummary["note"] = q(shapes.note);
            QJsonArray assumed;
            for (const AssumedDimension &a : shapes.assumed)
                assumed.append(QJsonObject{{"input", q(a.input)}, {"axis", static_cast<qint64>(a.axis)}, {"size", static_cast<qint64>(a.size)}});
            if (!assumed.isEmpty())
                shapeSummary["assumed"] = assumed;
            const QJsonObject summary{{"inputs", inputNames},
                                      {"outputs", outputNames},
                                      {"nodes", static_cast<qint64>(d.nodes.size())},
                                      {"ops", ops},
                                      {"parameter_tensors", static_cast<qint64>(d.parameters.size())},
                                      {"parameters", static_cast<qint64>(totals.values)},
                                      {"parameter_bytes", static_cast<qint64>(totals.bytes)},
                                      {"held_by_nodes", static_cast<qint64>(totals.heldByNodes)},
                                      {"shapes", shapeSummary}};
            const QJsonObject root{{"file", q(path)},     {"format", q(d.format)},   {"format_name", q(d.formatName)}, {"bytes", bytes},
                                   {"summary", summary},  {"properties", properties}, {"inputs", inputs},              {"outputs", outputs},
                                   {"nodes", nodes},      {"parameters", parameters}, {"values", values}};
            std::fputs(QJsonDocument(root).toJson(QJsonDocument::Indented).constData(), stdout);
            return 0;
        }
        const std::string nodeCount = d.nodes.empty() ? std::string() : std::to_string(d.nodes.size()) + " nodes, ";
        std::printf("%s: %s, %s%zu parameters, %lld bytes\n", path.c_str(), d.formatName.c_str(), nodeCount.c_str(), d.parameters.size(),
                    static_cast<long long>(bytes));
        for (const auto &[k, v] : d.properties)
            std::printf("  %s: %s\n", k.c_str(), oneLine(v).c_str());
        printValues("inputs", d.inputs, false);
        printValues("outputs", d.outputs, false);
        if (!d.nodes.empty()) {
            std::string list;
            for (const auto &[op, count] : opHistogram(d))
                list += (list.empty() ? "" : ", ") + op + " ×" + std::to_string(count);
            std::printf("\nnodes (%zu): %s\n", d.nodes.size(), list.c_str());
            std::string graph;
            size_t index = 0;
            for (const auto &n : d.nodes) {
                const std::string name = n.name.empty() ? "#" + std::to_string(index) : n.name; // unnamed nodes by position
                ++index;
                if (n.graph != graph && !n.graph.empty()) {
                    graph = n.graph;
                    std::printf("  graph %s\n", graph.c_str());
                }
                std::string attrs;
                for (const auto &a : n.attributes)
                    attrs += (attrs.empty() ? "" : ", ") + a.name + "=" + a.value;
                std::printf("  %s  %s  (%s) -> (%s)%s%s\n", name.c_str(), n.opType.c_str(), join(n.inputs).c_str(), join(n.outputs).c_str(),
                            attrs.empty() ? "" : "  ", attrs.c_str());
            }
        }
        if (!d.parameters.empty()) {
            const ParameterTotals t = parameterTotals(d.parameters);
            std::printf("\nweights: %lld floating-point values, %lld bytes in %zu tensors", static_cast<long long>(t.values),
                        static_cast<long long>(t.bytes), d.parameters.size());
            if (t.heldByNodes)
                std::printf(" (%lld held by Constant nodes)", static_cast<long long>(t.heldByNodes));
            std::printf("\n");
        }
        printValues("parameters", d.parameters, true);
        return 0;
    } catch (const Error &e) {
        std::fflush(stdout);
        std::fprintf(stderr, "netwright inspect: %s\n", e.what());
        return 1;
    }
}

} // namespace netwright::cli
