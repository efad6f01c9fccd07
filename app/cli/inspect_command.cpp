// SPDX-License-Identifier: Apache-2.0
#include "cli/inspect_command.h"

#include "core/error.h"
#include "core/tensor_stats.h"
#include "formats/cntk/cntk_model.h"
#include "formats/cntk/trainer_checkpoint.h"
#include "formats/mindspore/ckpt_file.h"
#include "formats/mindspore/graph_meta.h"

#include "cli/subcommand.h"

#include <QCommandLineParser>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>

namespace netwright::cli {

namespace {

QJsonValue number(double v)
{
    return std::isfinite(v) ? QJsonValue(v) : QJsonValue(); // JSON has no NaN/inf: null
}

std::string typeName(const mindspore::CkptEntry &e)
{
    return e.isString ? std::string("str") : mindspore::mindsporeTypeName(e.tensor.dtype());
}

// shape, bytes and statistics of a tensor, as JSON fields
void addTensorFields(QJsonObject &o, const Tensor &t)
{
    QJsonArray shape;
    for (int64_t d : t.shape())
        shape.append(static_cast<qint64>(d));
    const TensorStats s = computeStats(t);
    o["shape"] = shape;
    o["bytes"] = static_cast<qint64>(t.byteSize());
    o["min"] = number(s.min);
    o["max"] = number(s.max);
    o["mean"] = number(s.mean);
    o["std"] = number(s.std);
    if (s.nans || s.infinities) {
        o["nan"] = static_cast<qint64>(s.nans);
        o["inf"] = static_cast<qint64>(s.infinities);
    }
}

void printHeader(size_t w)
{
    std::printf("%-*s  %-8s  %-16s  %12s  %12s  %12s  %12s  %10s\n", static_cast<int>(w), "name", "dtype", "shape", "min", "max", "mean",
                "std", "bytes");
}

void printTensorRow(size_t w, const std::string &name, const std::string &dtype, const Tensor &t)
{
    const TensorStats s = computeStats(t);
    std::printf("%-*s  %-8s  %-16s  %12.6g  %12.6g  %12.6g  %12.6g  %10zu%s\n", static_cast<int>(w), name.c_str(), dtype.c_str(),
                shapeToString(t.shape()).c_str(), s.min, s.max, s.mean, s.std, t.byteSize(),
                s.nans || s.infinities ? ("  (" + std::to_string(s.nans) + " NaN, " + std::to_string(s.infinities) + " inf)").c_str() : "");
}

void printJson(const QJsonObject &root)
{
    std::fputs(QJsonDocument(root).toJson(QJsonDocument::Indented).constData(), stdout);
}

int inspectCntkModel(const std::string &path, qint64 bytes, bool json)
{
    const cntk::Model m = cntk::readModel(path);
    std::map<std::string, int> ops;
    for (const auto &f : m.functions)
        ++ops[f.opName];
    static const char *kinds[] = {"Input", "Output", "Parameter", "Constant", "Placeholder"};
    auto kindName = [](cntk::VariableKind k) { return std::string(kinds[static_cast<int>(k) % 5]); };
    if (json) {
        QJsonArray variables, functions;
        for (const auto &v : m.variables) {
            QJsonObject o{{"uid", QString::fromStdString(v.uid)}, {"name", QString::fromStdString(v.name)},
                          {"kind", QString::fromStdString(kindName(v.kind))}, {"dtype", QString::fromStdString(v.dataType)}};
            if (v.value)
                addTensorFields(o, *v.value);
            variables.append(o);
        }
        for (const auto &f : m.functions) {
            QJsonArray inputs;
            for (const auto &i : f.inputs)
                inputs.append(QString::fromStdString(i));
            functions.append(QJsonObject{{"uid", QString::fromStdString(f.uid)}, {"name", QString::fromStdString(f.name)},
                                         {"op", QString::fromStdString(f.opName)}, {"inputs", inputs}});
        }
        printJson({{"file", QString::fromStdString(path)}, {"format", "cntk-model-v2"}, {"bytes", bytes},
                   {"root", QString::fromStdString(m.root)}, {"variables", variables}, {"functions", functions}});
        return 0;
    }
    std::printf("%s: CNTK model-v2, %zu variables, %zu functions (root %s), %lld bytes\n", path.c_str(), m.variables.size(),
                m.functions.size(), m.root.c_str(), static_cast<long long>(bytes));
    std::string opList;
    for (const auto &[op, n] : ops)
        opList += (opList.empty() ? "" : ", ") + op + " ×" + std::to_string(n);
    std::printf("functions: %s\n", opList.c_str());
    size_t w = 4;
    for (const auto &v : m.variables)
        w = std::max(w, v.name.size() + v.uid.size() + 3);
    printHeader(w);
    for (const auto &v : m.variables) {
        const std::string label = (v.name.empty() ? v.uid : v.name + " (" + v.uid + ")");
        if (v.value) {
            printTensorRow(w, label, v.dataType, *v.value);
        } else {
            std::string shape = "[";
            for (size_t i = v.cntkShape.size(); i-- > 0;)
                shape += std::to_string(v.cntkShape[i]) + (i ? "," : "");
            std::printf("%-*s  %-8s  %-16s  %s\n", static_cast<int>(w), label.c_str(), v.dataType.c_str(), (shape + "]").c_str(),
                        kindName(v.kind).c_str());
        }
    }
    return 0;
}

int inspectCntkCheckpoint(const std::string &path, qint64 bytes, bool json)
{
    const cntk::TrainerCheckpointListing l = cntk::listTrainerCheckpoint(path);
    if (json) {
        QJsonArray items;
        for (const auto &i : l.items) {
            QJsonObject o{{"path", QString::fromStdString(i.path)}, {"type", QString::fromStdString(i.type)}};
            if (i.tensor) {
                o["dtype"] = QString::fromStdString(dtypeName(i.tensor->dtype()));
                addTensorFields(o, *i.tensor);
            } else {
                o["value"] = QString::fromStdString(i.text);
            }
            items.append(o);
        }
        printJson({{"file", QString::fromStdString(path)}, {"format", "cntk-trainer-checkpoint"}, {"bytes", bytes},
                   {"version", static_cast<qint64>(l.version)}, {"learners", static_cast<qint64>(l.learners)},
                   {"model", QString::fromStdString(l.modelFile)}, {"items", items}});
        return 0;
    }
    std::printf("%s: CNTK trainer checkpoint (version %llu), %zu learner%s, %lld bytes\n", path.c_str(),
                static_cast<unsigned long long>(l.version), l.learners, l.learners == 1 ? "" : "s", static_cast<long long>(bytes));
    if (!l.modelFile.empty())
        std::printf("parameter names from %s\n", l.modelFile.c_str());
    size_t w = 4;
    for (const auto &i : l.items)
        w = std::max(w, i.path.size());
    printHeader(w);
    for (const auto &i : l.items) {
        if (i.tensor)
            printTensorRow(w, i.path, dtypeName(i.tensor->dtype()), *i.tensor);
        else
            std::printf("%-*s  %-8s  %s\n", static_cast<int>(w), i.path.c_str(), i.type.c_str(), i.text.c_str());
    }
    return 0;
}

} // namespace

int runInspectCommand(const QStringList &arguments)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Show what a file holds, detected by content (never by name):\n"
        "  MindSpore checkpoints (.ckpt): every entry with its dtype, shape, min/max/mean/std and size;\n"
        "  CNTK trainer checkpoints (.ckp): the learner state (counters, schedule, smoothed gradients) and external state;\n"
        "  CNTK model-v2 files (.model, .dnn, .cmf): the variables with their values' statistics, and the functions;\n"
        "  MindSpore graph dumps (<prefix>-graph.meta): the nodes by operator."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("inspect"), QStringLiteral("The subcommand."));
    p.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("The file to inspect."));
    p.addOption({QStringLiteral("json"), QStringLiteral("Print JSON instead of a table.")});
    if (const auto done = parseSubcommand(p, arguments, "inspect", 1, "give exactly one file."))
        return *done;
    const std::string path = p.positionalArguments().at(1).toStdString();
    try {
        const bool json = p.isSet(QStringLiteral("json"));
        const qint64 bytes = QFileInfo(QString::fromStdString(path)).size();
        std::string head(8, '\0');
        {
            std::ifstream in(path, std::ios::binary);
            check(static_cast<bool>(in), "Cannot read \"" + path + "\": no such file or no permission.");
            in.read(head.data(), static_cast<std::streamsize>(head.size()));
            head.resize(static_cast<size_t>(in.gcount()));
        }
        if (cntk::isLegacyV1(head))
            throw Error("\"" + path + "\" is a " + cntk::legacyV1Kind(head) + "; Netwright reads CNTK v2 files only.");
        if (cntk::isV2Dictionary(head)) {
            const cntk::FileKind kind = cntk::classify(path);
            if (kind == cntk::FileKind::TrainerCheckpoint)
                return inspectCntkCheckpoint(path, bytes, json);
            if (kind == cntk::FileKind::Model)
                return inspectCntkModel(path, bytes, json);
        }
        if (head.size() >= 3 && head[0] == 0x08 && head[1] == 0x01 && head[2] == 0x22) {
            // ir_version 1, then the graph: MindSpore's <prefix>-graph.meta (anf_ir ModelProto)
            const auto g = mindspore::readGraphMeta(path);
            if (json) {
                QJsonObject ops;
                for (const auto &[op, n] : g.opCounts)
                    ops[QString::fromStdString(op)] = n;
                printJson({{"file", QString::fromStdString(path)}, {"format", "mindspore-graph-meta"}, {"bytes", bytes},
                           {"graph", QString::fromStdString(g.name)}, {"nodes", static_cast<qint64>(g.nodes)},
                           {"parameters", static_cast<qint64>(g.parameters)}, {"ops", ops}});
                return 0;
            }
            std::string opList;
            for (const auto &[op, n] : g.opCounts)
                opList += (opList.empty() ? "" : ", ") + op + " ×" + std::to_string(n);
            std::printf("%s: MindSpore graph dump (anf_ir, graph \"%s\"), %zu nodes, %zu parameters, %lld bytes\nops: %s\n",
                        path.c_str(), g.name.c_str(), g.nodes, g.parameters, static_cast<long long>(bytes), opList.c_str());
            return 0;
        }
        const mindspore::CkptFile file = mindspore::readCkpt(path, true);
        if (json) {
            QJsonArray entries;
            for (const auto &e : file.entries) {
                QJsonObject o{{"name", QString::fromStdString(e.name)}, {"dtype", QString::fromStdString(typeName(e))}};
                if (e.isString)
                    o["value"] = QString::fromStdString(e.text);
                else
                    addTensorFields(o, e.tensor);
                entries.append(o);
            }
            printJson({{"file", QString::fromStdString(path)}, {"format", "mindspore-ckpt"}, {"bytes", bytes},
                       {"crc_trailer", file.hasCrc}, {"entries", entries}});
            return 0;
        }
        std::printf("%s: MindSpore checkpoint, %zu entries, %lld bytes%s\n", path.c_str(), file.entries.size(),
                    static_cast<long long>(bytes), file.hasCrc ? ", CRC-32 trailer verified" : "");
        size_t w = 4;
        for (const auto &e : file.entries)
            w = std::max(w, e.name.size());
        printHeader(w);
        for (const auto &e : file.entries) {
            if (e.isString)
                std::printf("%-*s  %-8s  \"%s\"\n", static_cast<int>(w), e.name.c_str(), "str", e.text.c_str());
            else
                printTensorRow(w, e.name, typeName(e), e.tensor);
        }
        return 0;
    } catch (const Error &e) {
        std::fprintf(stderr, "netwright inspect: %s\n", e.what());
        return 1;
    }
}

} // namespace netwright::cli
