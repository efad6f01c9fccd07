// SPDX-License-Identifier: Apache-2.0
#include "cli/export_command.h"

#include "run/run_model.h"

#include "autodiff/executor.h"
#include "checkpoint/checkpoint_manager.h"
#include "checkpoint/training_state.h"
#include "config/run_config.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/rng.h"
#include "formats/cntk/trainer_checkpoint.h"
#include "formats/external_data.h"
#include "formats/mindspore/mindir_external_data.h"
#include "formats/graph_formats.h"
#include "formats/mindspore/ckpt_file.h"
#include "formats/registry.h"
#include "train/trainer.h"
#include "train/training_setup.h"

#include "cli/checkpoint_convert.h"
#include "cli/key_options.h"
#include "cli/subcommand.h"

#include <QCommandLineParser>
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>
#include <memory>

namespace netwright::cli {

namespace {

// Writes `source` as `format` to `out` (or beside the source), verified before it is on disk.
// The options export and convert share.
const QList<QCommandLineOption> kShapeOptions{
    {QStringLiteral("static-batch"), QStringLiteral("Fix the batch dimension (to --input-shape's N, else 1) instead of a dynamic one. "
                                                    "A model whose input fixes its batch (PyTorch's default export) keeps it either way.")},
    {QStringLiteral("input-shape"),
     QStringLiteral("The data input's shape, e.g. 1,3,224,224: sets the dimensions the model leaves free (the ones it fixes must "
                    "agree); N is the batch of --static-batch."),
     QStringLiteral("N,C,H,W")},
    {QStringLiteral("json"), QStringLiteral("Print the result as JSON (source, file, format, bytes, verification).")},
    {QStringLiteral("external-data"),
     QStringLiteral("ONNX: write initializers of --external-threshold bytes or more to a data file beside the model (OUT.data) "
                    "instead of inside it. Automatic when the weights pass protobuf's 2 GB limit. MindIR: the split layout.")},
    {QStringLiteral("external-data-file"), QStringLiteral("ONNX: the data file's name (implies --external-data)."), QStringLiteral("NAME")},
    {QStringLiteral("external-threshold"), QStringLiteral("ONNX: the size from which a tensor goes to the data file (default 1024)."),
     QStringLiteral("BYTES"), QStringLiteral("1024")},
    {QStringLiteral("mindir-split-over"),
     QStringLiteral("MindIR: write MindSpore's split layout (NAME_graph.mindir + NAME_variables/data_0) when the weights pass this "
                    "many bytes (default 1 GiB, as MindSpore; --external-data always splits)."),
     QStringLiteral("BYTES"), QString::number(mindspore::kMindirSplitBytes)},
};

// Where the weights of an export go: inside the model file (plan null), or — ONNX external data,
// MindIR's split layout — in a data file that the export plans, asked for or needed (ONNX over
// protobuf's 2 GB, MindIR over --mindir-split-over, 1 GiB as MindSpore). A split MindIR is
// written as <name>_graph.mindir beside <name>_variables/data_0, as MindSpore names them.
struct ExportTarget {
    std::string modelPath, dataPath;
    std::shared_ptr<ExternalDataPlan> plan;
};

ExportTarget exportTarget(const GraphFormat &format, const Graph &model, const QString &out, const QCommandLineParser &p)
{
    const bool asked = p.isSet(QStringLiteral("external-data")) || p.isSet(QStringLiteral("external-data-file"));
    uint64_t weights = 0;
    for (const auto &[name, t] : model.initializers)
        weights += t.byteSize();
    bool ok = false;
    ExportTarget target{out.toStdString(), {}, nullptr};
    if (format.id == "mindir") {
        const uint64_t over = p.value(QStringLiteral("mindir-split-over")).toULongLong(&ok);
        check(ok, "--mindir-split-over: \"" + p.value(QStringLiteral("mindir-split-over")).toStdString() + "\" is not a byte count.");
        check(!p.isSet(QStringLiteral("external-data-file")), "--external-data-file is for ONNX; a split MindIR names its data file itself.");
        if (!asked && weights <= over)
            return target;
        const mindspore::MindirSplit split = mindspore::mindirSplit(target.modelPath);
        return {split.graphPath, split.dataPath, split.plan};
    }
    if (format.id != "onnx") {
        check(!asked, "--external-data is for ONNX and MindIR exports; " + format.name + " files hold their weights inside.");
        return target;
    }
    if (!asked && weights <= kInlineWeightLimit)
        return target;
    target.plan = std::make_shared<ExternalDataPlan>();
    target.plan->location = p.isSet(QStringLiteral("external-data-file")) ? p.value(QStringLiteral("external-data-file")).toStdString()
                                                                           : QFileInfo(out).fileName().toStdString() + ".data";
    checkExternalDataName(target.plan->location);
    target.plan->threshold = p.value(QStringLiteral("external-threshold")).toULongLong(&ok);
    check(ok, "--external-threshold: \"" + p.value(QStringLiteral("external-threshold")).toStdString() + "\" is not a byte count.");
    target.dataPath = QFileInfo(out).dir().filePath(QString::fromStdString(target.plan->location)).toStdString();
    return target;
}

void exportTo(const QString &sourceArg, const GraphFormat &format, QString out, int opset, const QCommandLineParser &p)
{
    const bool dynamicBatch = !p.isSet(QStringLiteral("static-batch"));
    check(format.id != "onnx" || (opset >= 11 && opset <= 17), "ONNX export writes opsets 11–17, not " + std::to_string(opset) + ".");
    const mindspore::EncryptionKey key = keyFromOptions(p);
    const ExportSource source = loadExportSource(sourceArg.toStdString(), key);
    const std::vector<int64_t> shape =
        p.isSet(QStringLiteral("input-shape")) ? parseShape(p.value(QStringLiteral("input-shape")).toStdString()) : std::vector<int64_t>{};
    const Graph shaped = shape.empty() ? Graph{} : withInputShape(source.graph(), shape, dynamicBatch);
    const Graph &model = shape.empty() ? source.graph() : shaped;
    GraphExportOptions options;
    options.opset = opset;
    options.dynamicBatch = dynamicBatch;
    options.producerVersion = NETWRIGHT_VERSION;
    options.metadata = source.metadata;
    if (out.isEmpty())
        out = QString::fromStdString(source.defaultBase + format.extension);
    const ExportTarget target = exportTarget(format, model, out, p);
    const std::string &path = target.modelPath;
    options.externalData = target.plan;
    const std::string bytes = exportGraph(format, model, options);
    // External data goes first (the model names it, verification reads it); it is removed again
    // when verification fails, so nothing is kept then either.
    const ExternalDataPlan *external = target.plan && !target.plan->tensors.empty() ? target.plan.get() : nullptr;
    const std::string &dataPath = target.dataPath;
    const bool encrypt = !key.empty() && format.id == "mindir";
    const bool encryptedSource = QFileInfo(sourceArg).isFile() && mindspore::encryptedMode(readFilePrefix(sourceArg.toStdString(), 4));
    check(key.empty() || format.id == "mindir" || encryptedSource,
          "--key-file encrypts MindIR files only (MindSpore's block format); " + format.name + " is written in the clear, so leave it out.");
    check(!(encrypt && external), "An encrypted MindIR is written as one file: --key-file and the split layout (--external-data, or "
                                  "weights over --mindir-split-over) exclude each other.");
    if (external) {
        check(QDir().mkpath(QFileInfo(QString::fromStdString(dataPath)).path()),
              "Cannot create the folder of \"" + dataPath + "\" for the model's external data.");
        writeExternalData(*external, dataPath);
    }
    std::string verified;
    try {
        verified = verifyExport(format, bytes, path, model); // before the model is on disk
    } catch (const Error &) {
        if (external)
            QFile::remove(QString::fromStdString(dataPath));
        throw;
    }
    if (encrypt) {
        const std::string sealed = mindspore::encryptMindspore(bytes, key);
        check(mindspore::decryptMindspore(sealed, key, path) == bytes, "Encrypting \"" + path + "\" did not read back; nothing was written.");
        writeFileAtomically(path, sealed);
        verified += "; encrypted with " + mindspore::encModeName(key.writeMode()) + " and decrypted back to the same bytes";
    } else {
        writeFileAtomically(path, bytes);
    }
    const std::string what = format.id == "onnx" ? "ONNX opset " + std::to_string(opset) : format.name;
    if (p.isSet(QStringLiteral("json"))) {
        QJsonObject o{{"source", QString::fromStdString(source.description)},
                      {"file", QString::fromStdString(path)},
                      {"format", QString::fromStdString(format.option)},
                      {"bytes", static_cast<qint64>(QFileInfo(QString::fromStdString(path)).size())},
                      {"encryption", encrypt ? QString::fromStdString(mindspore::encModeName(key.writeMode())) : QJsonValue()},
                      {"verified", QString::fromStdString(verified)}};
        if (format.id == "onnx")
            o["opset"] = opset;
        if (external) {
            o["external_data"] = QString::fromStdString(dataPath);
            o["external_bytes"] = static_cast<qint64>(external->size);
            o["external_tensors"] = static_cast<qint64>(external->tensors.size());
        }
        std::fputs(QJsonDocument(o).toJson(QJsonDocument::Indented).constData(), stdout);
        return;
    }
    std::printf("Exported %s to %s: %s%s, %lld bytes\n", source.description.c_str(), path.c_str(), what.c_str(),
                encrypt ? (" (encrypted, " + mindspore::encModeName(key.writeMode()) + ")").c_str() : "",
                static_cast<long long>(QFileInfo(QString::fromStdString(path)).size()));
    if (external)
        std::printf("External data: %zu tensors, %llu bytes in %s\n", external->tensors.size(),
                    static_cast<unsigned long long>(external->size), dataPath.c_str());
    std::printf("Verified: %s\n", verified.c_str());
}

QString formatList()
{
    QStringList names;
    for (const auto &f : graphFormats())
        names << QString::fromStdString(f.option);
    return names.join(QStringLiteral(", "));
}

// "onnx (ONNX), mindir (MindSpore MindIR), …"
QString formatHelp()
{
    QStringList items;
    for (const auto &f : graphFormats())
        items << QStringLiteral("%1 (%2)").arg(QString::fromStdString(f.option), QString::fromStdString(f.name));
    return items.join(QStringLiteral(", ")) + QStringLiteral(".");
}

// "ONNX, MindSpore MindIR, …"
QString formatNames()
{
    QStringList names;
    for (const auto &f : graphFormats())
        names << QString::fromStdString(f.name);
    return names.join(QStringLiteral(", "));
}

// ".onnx, .mindir, …" — what export appends (all: every extension convert recognises).
QString extensionList(bool all)
{
    QStringList exts;
    for (const auto &f : graphFormats())
        for (const auto &e : all ? f.extensions : std::vector<std::string>{f.extension})
            exts << QString::fromStdString(e);
    return exts.join(QStringLiteral(", "));
}

} // namespace

int runExportCommand(const QStringList &arguments)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Export a model for other runtimes. SOURCE is a run directory (its best checkpoint by test accuracy,\n"
        "else its newest), a checkpoint in one (the graph comes from the run's config), or a model file\n"
        "(ONNX, MindIR, AIR, CNTK model-v2). Every op is checked before writing; the file is read back\n"
        "after: every weight must be bit-identical and the outputs on a probe batch equal, or nothing is kept."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("export"), QStringLiteral("The subcommand."));
    p.addPositionalArgument(QStringLiteral("SOURCE"), QStringLiteral("A run directory, a checkpoint in one, or a model file."));
    p.addOptions({
        {QStringLiteral("format"), formatHelp(), QStringLiteral("FORMAT"), QStringLiteral("onnx")},
        {QStringLiteral("opset"), QStringLiteral("ONNX opset, 11–17 (default 13)."), QStringLiteral("N"), QStringLiteral("13")},
        {{QStringLiteral("o"), QStringLiteral("out")},
         QStringLiteral("The file to write (default: beside the source, %1).").arg(extensionList(false)), QStringLiteral("FILE")},
    });
    p.addOptions(kShapeOptions);
    p.addOptions(keyOptions(true));
    if (const auto done = parseSubcommand(p, arguments, "export", 1, "give exactly one run directory, checkpoint or model file."))
        return *done;
    try {
        const QString name = p.value(QStringLiteral("format"));
        const auto format = graphFormat(name.toStdString());
        check(format.has_value() && name != QLatin1String("cntk-model"),
              "--format \"" + name.toStdString() + "\" is not supported (" + formatList().toStdString() + " are).");
        bool ok = false;
        const int opset = p.value(QStringLiteral("opset")).toInt(&ok);
        check(ok, "--opset: \"" + p.value(QStringLiteral("opset")).toStdString() + "\" is not a number.");
        exportTo(p.positionalArguments().at(1), *format, p.value(QStringLiteral("out")), opset, p);
        return 0;
    } catch (const Error &e) {
        std::fflush(stdout);
        std::fprintf(stderr, "netwright export: %s\n", e.what());
        return 1;
    }
}

int runConvertCommand(const QStringList &arguments)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Convert a model between formats: IN is a model file (%1), a run directory or a checkpoint in one;\n"
        "OUT's extension picks the format (%2). Verified like export: nothing is written unless the file\n"
        "reads back with every weight bit-identical and the same outputs.\n"
        "A checkpoint converts to a checkpoint: OUT ending in .ckpt or .safetensors writes IN's whole training\n"
        "state (every tensor and entry, lossless) in that format, verified the same way.")
                                    .arg(formatNames(), extensionList(true)));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("convert"), QStringLiteral("The subcommand."));
    p.addPositionalArgument(QStringLiteral("IN"), QStringLiteral("A model file, run directory or checkpoint."));
    p.addPositionalArgument(QStringLiteral("OUT"), QStringLiteral("The file to write."));
    p.addOptions({
        {QStringLiteral("opset"), QStringLiteral("ONNX opset, 11–17 (default 13)."), QStringLiteral("N"), QStringLiteral("13")},
    });
    p.addOptions(kShapeOptions);
    p.addOptions(keyOptions(true));
    if (const auto done = parseSubcommand(p, arguments, "convert", 2, "give an input and an output file."))
        return *done;
    try {
        const QString out = p.positionalArguments().at(2);
        if (isCheckpointOutput(out)) { // a training state, not a graph: .ckpt ↔ .safetensors
            convertCheckpointFile(p.positionalArguments().at(1), out, p.isSet(QStringLiteral("json")));
            return 0;
        }
        const auto format = graphFormatForPath(out.toStdString());
        check(format.has_value(), "\"" + out.toStdString() + "\": the extension names no format Netwright writes ("
                                      + extensionList(true).toStdString() + ").");
        bool ok = false;
        const int opset = p.value(QStringLiteral("opset")).toInt(&ok);
        check(ok, "--opset: \"" + p.value(QStringLiteral("opset")).toStdString() + "\" is not a number.");
        exportTo(p.positionalArguments().at(1), *format, out, opset, p);
        return 0;
    } catch (const Error &e) {
        std::fflush(stdout);
        std::fprintf(stderr, "netwright convert: %s\n", e.what());
        return 1;
    }
}

} // namespace netwright::cli
