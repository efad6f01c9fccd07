// SPDX-License-Identifier: Apache-2.0
#include "cli/export_command.h"

#include "autodiff/executor.h"
#include "checkpoint/checkpoint_manager.h"
#include "checkpoint/training_state.h"
#include "config/run_config.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/rng.h"
#include "formats/cntk/cntk_model.h"
#include "formats/cntk/trainer_checkpoint.h"
#include "formats/mindspore/ckpt_file.h"
#include "formats/onnx/onnx_export.h"
#include "formats/onnx/onnx_import.h"
#include "train/trainer.h"
#include "train/training_setup.h"

#include "cli/subcommand.h"

#include <QCommandLineParser>
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>
#include <cstdio>
#include <cstring>

namespace netwright::cli {

namespace {

struct Source {
    QString runDir, checkpoint; // the run and the checkpoint file in it
    QJsonObject record;         // its "saved" line in checkpoints.jsonl, metrics included
};

// Every saved checkpoint still on disk, with its metrics, from checkpoints.jsonl.
std::vector<Source> savedCheckpoints(const QString &dir)
{
    std::vector<Source> out;
    QFile f(dir + "/checkpoints.jsonl");
    if (!f.open(QIODevice::ReadOnly))
        return out;
    for (const QByteArray &line : f.readAll().split('\n')) {
        const QJsonObject o = QJsonDocument::fromJson(line).object();
        const QString file = o["file"].toString();
        if (o["event"] == "metrics") {
            for (auto &s : out)
                if (QFileInfo(s.checkpoint).fileName() == file) {
                    s.record["eval_accuracy"] = o["eval_accuracy"];
                    s.record["eval_loss"] = o["eval_loss"];
                }
        } else if (o["event"] == "saved" && QFileInfo::exists(dir + "/" + file)) {
            std::erase_if(out, [&](const Source &s) { return QFileInfo(s.checkpoint).fileName() == file; });
            out.push_back({dir, dir + "/" + file, o});
        }
    }
    return out;
}

// A run directory: its best checkpoint by test accuracy, else its newest valid one. A file: the
// checkpoint itself, in the run directory that holds it.
Source resolve(const QString &path)
{
    const QFileInfo info(path);
    if (info.isDir()) {
        const QString dir = QDir::cleanPath(path);
        check(QFileInfo::exists(dir + "/config.json"), "\"" + path.toStdString() + "\" has no config.json; is it a run directory?");
        Source best;
        for (const auto &s : savedCheckpoints(dir))
            if (s.record.contains("eval_accuracy") && (best.checkpoint.isEmpty() || s.record["eval_accuracy"].toDouble() > best.record["eval_accuracy"].toDouble()))
                best = s;
        if (!best.checkpoint.isEmpty())
            return best;
        const RunConfig config = loadRunConfigFile((dir + "/config.json").toStdString(), defaultRunConfig());
        const std::string file = config.checkpoint.format == "cntk"
                                     ? findCntkRestoreFile(dir.toStdString(), cntkFilename(config.checkpoint, config.model))
                                     : findNewestValidCheckpoint(dir.toStdString());
        check(!file.empty(), "The run \"" + dir.toStdString() + "\" has no checkpoint to export yet.");
        return {dir, dir + "/" + QString::fromStdString(file), {}};
    }
    check(info.isFile(), "Cannot read \"" + path.toStdString() + "\": no such file or directory.");
    const QString dir = info.absolutePath();
    Source s{dir, info.absoluteFilePath(), {}};
    for (const auto &saved : savedCheckpoints(dir))
        if (QFileInfo(saved.checkpoint).fileName() == info.fileName())
            s.record = saved.record;
    return s;
}

QString sha256(const QString &path)
{
    QFile f(path);
    QCryptographicHash h(QCryptographicHash::Sha256);
    if (f.open(QIODevice::ReadOnly))
        h.addData(&f);
    return QString::fromLatin1(h.result().toHex());
}

// Reads the exported file back: every weight bit-identical, and the same outputs on a probe batch.
std::string verify(const std::string &bytes, const std::string &path, Graph &original)
{
    auto back = onnx_format::importOnnx(bytes, path);
    int64_t weights = 0;
    for (const auto &[name, t] : back.graph.initializers) {
        const auto it = original.initializers.find(name);
        check(it != original.initializers.end() && it->second.dtype() == t.dtype() && it->second.numel() == t.numel()
                  && std::memcmp(it->second.raw(), t.raw(), t.byteSize()) == 0,
              "Verification of \"" + path + "\" failed: weight \"" + name + "\" differs from the model's.");
        weights += t.numel();
    }
    const ValueInfo &in = back.graph.inputs.at(0);
    Shape shape = in.shape;
    shape[0] = shape[0] > 0 ? shape[0] : 2; // a fixed batch as exported, else two samples
    Tensor probe(shape, DType::Float32);
    Rng rng(7);
    for (int64_t i = 0; i < probe.numel(); ++i)
        probe.data()[i] = rng.uniform() * 2.0f - 1.0f;
    Executor a(original), b(back.graph);
    a.forward({{in.name, probe}, {"labels", Tensor::zeros({shape[0]}, DType::Int64)}}, false);
    b.forward({{in.name, probe}}, false);
    const Tensor &ya = a.value(back.graph.outputs.at(0).name), &yb = b.value(back.graph.outputs.at(0).name);
    check(ya.shape() == yb.shape(), "Verification of \"" + path + "\" failed: the output shape differs.");
    double worst = 0;
    for (int64_t i = 0; i < ya.numel(); ++i)
        worst = std::max(worst, static_cast<double>(std::abs(ya.data()[i] - yb.data()[i])));
    check(worst <= 1e-5, "Verification of \"" + path + "\" failed: outputs differ by " + std::to_string(worst) + ".");
    char b2[160];
    std::snprintf(b2, sizeof b2, "%zu tensors (%lld values) bit-identical, outputs on a probe batch equal (max difference %.1e)",
                  back.graph.initializers.size(), static_cast<long long>(weights), worst);
    return b2;
}

// Reads a CNTK model back: every parameter and constant bit-identical to the model's.
std::string verifyCntk(const std::string &bytes, const std::string &path, const Graph &original)
{
    const cntk::Model m = cntk::decodeModel(bytes, path);
    size_t tensors = 0;
    int64_t values = 0;
    for (const auto &v : m.variables) {
        if (!v.value)
            continue;
        const auto it = original.initializers.find(v.name);
        if (it == original.initializers.end())
            continue; // CNTK's own constants (BatchNormalization's sample count)
        check(it->second.numel() == v.value->numel() && std::memcmp(it->second.raw(), v.value->raw(), v.value->byteSize()) == 0,
              "Verification of \"" + path + "\" failed: parameter \"" + v.name + "\" differs from the model's.");
        ++tensors;
        values += v.value->numel();
    }
    size_t expected = 0;
    for (const auto &[name, t] : original.initializers)
        expected += t.dtype() == DType::Float32;
    check(tensors == expected, "Verification of \"" + path + "\" failed: " + std::to_string(tensors) + " of "
                                   + std::to_string(expected) + " parameters found.");
    return std::to_string(tensors) + " tensors (" + std::to_string(values) + " values) bit-identical, root " + m.root + ", "
           + std::to_string(m.functions.size()) + " functions";
}

} // namespace

int runExportCommand(const QStringList &arguments)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Export a trained model for other runtimes. SOURCE is a run directory (its best checkpoint by test accuracy,\n"
        "else its newest) or a checkpoint in one. The file is read back after writing: every weight must be\n"
        "bit-identical and the outputs on a probe batch equal, or nothing is kept."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("export"), QStringLiteral("The subcommand."));
    p.addPositionalArgument(QStringLiteral("SOURCE"), QStringLiteral("A run directory or a checkpoint in one."));
    p.addOptions({
        {QStringLiteral("format"), QStringLiteral("onnx or cntk (CNTK model-v2)."), QStringLiteral("FORMAT"), QStringLiteral("onnx")},
        {QStringLiteral("opset"), QStringLiteral("ONNX opset, 11–17 (default 13)."), QStringLiteral("N"), QStringLiteral("13")},
        {{QStringLiteral("o"), QStringLiteral("out")}, QStringLiteral("The file to write (default: beside the checkpoint, .onnx)."),
         QStringLiteral("FILE")},
        {QStringLiteral("static-batch"), QStringLiteral("Fix the batch dimension to 1 instead of a symbolic \"batch\".")},
    });
    if (const auto done = parseSubcommand(p, arguments, "export", 1, "give exactly one run directory or checkpoint."))
        return *done;
    try {
        const QString format = p.value(QStringLiteral("format"));
        check(format == QLatin1String("onnx") || format == QLatin1String("cntk"),
              "--format \"" + format.toStdString() + "\" is not supported yet (onnx and cntk are).");
        bool ok = false;
        const int opset = p.value(QStringLiteral("opset")).toInt(&ok);
        check(ok, "--opset: \"" + p.value(QStringLiteral("opset")).toStdString() + "\" is not a number.");
        const Source source = resolve(p.positionalArguments().at(1));
        const std::string checkpoint = source.checkpoint.toStdString();
        const RunConfig config = loadRunConfigFile((source.runDir + "/config.json").toStdString(), defaultRunConfig());
        validateRunConfig(config);
        const TrainingData data = loadTrainingData(config.data);
        auto trainer = makeTrainer(config, data);
        const bool ckpt = checkpoint.size() > 5 && checkpoint.compare(checkpoint.size() - 5, 5, ".ckpt") == 0;
        const auto entries = ckpt ? mindspore::readCkpt(checkpoint).entries : cntk::readTrainerCheckpoint(checkpoint);
        restoreTrainingState(*trainer, entries, checkpoint);

        onnx_format::OnnxExportOptions options;
        options.opset = opset;
        options.dynamicBatch = !p.isSet(QStringLiteral("static-batch"));
        options.producerVersion = NETWRIGHT_VERSION;
        options.metadata = {{"netwright.version", NETWRIGHT_VERSION},
                            {"netwright.source", QFileInfo(source.checkpoint).fileName().toStdString()},
                            {"netwright.source_sha256", sha256(source.checkpoint).toStdString()},
                            {"netwright.global_step", std::to_string(trainer->globalStep())},
                            {"netwright.model", config.model},
                            {"netwright.input_normalization", QStringLiteral("(x * %1 - %2) / %3")
                                                                  .arg(config.data.scale, 0, 'g', 6)
                                                                  .arg(config.data.mean, 0, 'g', 6)
                                                                  .arg(config.data.std, 0, 'g', 6)
                                                                  .toStdString()}};
        for (const char *metric : {"eval_accuracy", "eval_loss"})
            if (source.record.contains(metric))
                options.metadata.emplace_back(std::string("netwright.") + metric, QString::number(source.record[metric].toDouble(), 'g', 17).toStdString());
        const bool cntkFormat = format == QLatin1String("cntk");
        const std::string bytes = cntkFormat ? cntk::encodeInferenceModel(trainer->graph()) : onnx_format::exportOnnx(trainer->graph(), options);
        const std::string out = p.isSet(QStringLiteral("out"))
                                    ? p.value(QStringLiteral("out")).toStdString()
                                    : (QFileInfo(source.checkpoint).absolutePath() + "/" + QFileInfo(source.checkpoint).completeBaseName()
                                       + (cntkFormat ? ".model" : ".onnx"))
                                          .toStdString();
        // Verified before anything is on disk.
        const std::string verified = cntkFormat ? verifyCntk(bytes, out, trainer->graph()) : verify(bytes, out, trainer->graph());
        writeFileAtomically(out, bytes);
        const std::string what = cntkFormat ? std::string("CNTK model-v2") : "ONNX opset " + std::to_string(opset);
        std::printf("Exported %s (global step %lld) to %s: %s, %zu bytes\nVerified: %s\n", checkpoint.c_str(),
                    static_cast<long long>(trainer->globalStep()), out.c_str(), what.c_str(), bytes.size(), verified.c_str());
        return 0;
    } catch (const Error &e) {
        std::fflush(stdout);
        std::fprintf(stderr, "netwright export: %s\n", e.what());
        return 1;
    }
}

} // namespace netwright::cli
