// SPDX-License-Identifier: Apache-2.0
#include "cli/run_command.h"

#include "cli/subcommand.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/tensor_stats.h"
#include "formats/graph_formats.h"
#include "formats/model_runner.h"
#include "formats/npy/npy_file.h"

#include <QCommandLineParser>
#include <QDir>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>

namespace netwright::cli {

int runRunCommand(const QStringList &arguments)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Run a model file on input tensors and write its outputs.\n"
        "MODEL is an ONNX, MindIR, AIR or CNTK model-v2 file (detected by content). Each --input is a NumPy .npy file or an ONNX "
        "TensorProto (.pb) file, in the model's input order, or NAME=FILE for the input called NAME. Every output is written as "
        "DIR/output_<k>.npy in the model's output order and listed with its name, element type, shape and statistics."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("run"), QStringLiteral("The subcommand."));
    p.addPositionalArgument(QStringLiteral("MODEL"), QStringLiteral("The model file."));
    p.addOptions({
        {{QStringLiteral("i"), QStringLiteral("input")}, QStringLiteral("An input tensor: FILE (.npy or .pb), or NAME=FILE."), QStringLiteral("FILE")},
        {{QStringLiteral("o"), QStringLiteral("output")}, QStringLiteral("The folder for output_<k>.npy (created if missing)."), QStringLiteral("DIR")},
        {QStringLiteral("threads"), QStringLiteral("Kernel threads (default: every core)."), QStringLiteral("N")},
        {QStringLiteral("json"), QStringLiteral("Print the outputs as JSON.")},
    });
    if (const auto done = parseSubcommand(p, arguments, "run", 1, "expected: netwright run MODEL --input FILE … --output DIR"))
        return *done;
    if (!p.isSet(QStringLiteral("output"))) {
        std::fprintf(stderr, "netwright run: --output DIR is required (where output_<k>.npy are written).\nSee: netwright run --help\n");
        return 2;
    }
    try {
        if (p.isSet(QStringLiteral("threads"))) {
            bool ok = false;
            const int n = p.value(QStringLiteral("threads")).toInt(&ok);
            if (!ok || n < 1)
                throw Error("--threads: \"" + p.value(QStringLiteral("threads")).toStdString() + "\" is not a positive number.");
            setThreadCount(n);
        }
        const std::string modelPath = p.positionalArguments().at(1).toStdString();
        GraphFormat format;
        Graph graph = importGraphFile(modelPath, &format);
        std::vector<InputArgument> inputs;
        for (const QString &v : p.values(QStringLiteral("input")))
            inputs.push_back(parseInputArgument(v.toStdString()));
        const auto feeds = bindInputs(graph, inputs);
        QElapsedTimer timer;
        timer.start();
        const std::vector<ModelOutput> outputs = runModel(graph, feeds);
        const double ms = static_cast<double>(timer.nsecsElapsed()) / 1e6;
        const QString dir = p.value(QStringLiteral("output"));
        if (!QDir().mkpath(dir))
            throw Error("Cannot create the output folder \"" + dir.toStdString() + "\".");
        QJsonArray list;
        for (size_t k = 0; k < outputs.size(); ++k) {
            const std::string file = QDir(dir).filePath(QStringLiteral("output_%1.npy").arg(k)).toStdString();
            writeNpy(file, outputs[k].value);
            const Tensor &t = outputs[k].value;
            const TensorStats s = computeStats(t);
            QJsonArray shape;
            for (int64_t d : t.shape())
                shape.append(static_cast<qint64>(d));
            list.append(QJsonObject{{"index", static_cast<qint64>(k)},
                                    {"name", QString::fromStdString(outputs[k].name)},
                                    {"dtype", QString::fromStdString(dtypeName(t.dtype()))},
                                    {"shape", shape},
                                    {"file", QString::fromStdString(file)},
                                    {"min", s.min},
                                    {"max", s.max},
                                    {"mean", s.mean},
                                    {"nans", static_cast<qint64>(s.nans)}});
        }
        if (p.isSet(QStringLiteral("json"))) {
            const QJsonObject o{{"model", QString::fromStdString(modelPath)}, {"format", QString::fromStdString(format.name)},
                                {"milliseconds", ms}, {"outputs", list}};
            std::fputs(QJsonDocument(o).toJson(QJsonDocument::Indented).constData(), stdout);
            return 0;
        }
        std::printf("%s (%s): %zu output%s in %.1f ms\n", modelPath.c_str(), format.name.c_str(), outputs.size(),
                    outputs.size() == 1 ? "" : "s", ms);
        for (size_t k = 0; k < outputs.size(); ++k) {
            const QJsonObject o = list[static_cast<qsizetype>(k)].toObject();
            const Tensor &t = outputs[k].value;
            std::printf("  %s  %-20s %-8s %-16s min %-10.4g mean %-10.4g max %.4g%s\n",
                        qPrintable(QDir(dir).filePath(QStringLiteral("output_%1.npy").arg(k))), outputs[k].name.c_str(),
                        dtypeName(t.dtype()).c_str(), shapeToString(t.shape()).c_str(), o["min"].toDouble(), o["mean"].toDouble(),
                        o["max"].toDouble(), o["nans"].toInteger() ? qPrintable(QStringLiteral("  (%1 NaN)").arg(o["nans"].toInteger())) : "");
        }
        return 0;
    } catch (const Error &e) {
        std::fprintf(stderr, "netwright run: %s\n", e.what());
        return 1;
    } catch (const std::bad_alloc &) {
        std::fprintf(stderr, "netwright run: out of memory.\n");
        return 1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "netwright run: %s\n", e.what());
        return 1;
    }
}

} // namespace netwright::cli
