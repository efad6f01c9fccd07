// SPDX-License-Identifier: Apache-2.0
#include "cli/export_source.h"

#include "checkpoint/checkpoint_manager.h"
#include "checkpoint/training_state.h"
#include "config/run_config.h"
#include "core/error.h"
#include "formats/cntk/trainer_checkpoint.h"
#include "formats/graph_formats.h"
#include "formats/mindspore/ckpt_file.h"
#include "train/training_setup.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

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
        const std::string file = findRestoreCheckpoint(config.checkpoint, config.model, dir.toStdString());
        check(!file.empty(), "The run \"" + dir.toStdString() + "\" has no checkpoint to export yet.");
        return {dir, dir + "/" + QString::fromStdString(file), {}};
    }
    check(info.isFile(), "Cannot read \"" + path.toStdString() + "\": no such file or directory.");
    const QString dir = info.absolutePath();
    check(QFileInfo::exists(dir + "/config.json"),
          "\"" + path.toStdString() + "\" is a checkpoint outside a run directory (no config.json beside it): a checkpoint holds "
          "the weights but not the graph, which comes from the run's config. Export the run directory, or a model file.");
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

// A model file of a graph format — unless it is a CNTK checkpoint model beside its .ckp in a run.
bool isModelFile(const QString &path, GraphFormat *format)
{
    const QFileInfo info(path);
    if (!info.isFile())
        return false;
    try {
        const auto g = detectGraphFormat(path.toStdString());
        if (!g)
            return false;
        if (g->id == "cntk-model" && QFileInfo::exists(path + ".ckp") && QFileInfo::exists(info.absolutePath() + "/config.json"))
            return false; // a CNTK trainer checkpoint's model, in its run
        *format = *g;
        return true;
    } catch (const Error &) {
        return false; // not recognised: the checkpoint path reports it
    }
}

} // namespace

ExportSource loadExportSource(const QString &argument)
{
    ExportSource l;
    GraphFormat format;
    if (isModelFile(argument, &format)) {
        l.imported = importGraphFile(argument.toStdString());
        const QFileInfo info(argument);
        l.description = argument.toStdString() + " (" + format.name + ")";
        l.defaultBase = info.absolutePath() + "/" + info.completeBaseName();
        l.metadata = {{"netwright.version", NETWRIGHT_VERSION},
                      {"netwright.source", info.fileName().toStdString()},
                      {"netwright.source_format", format.name},
                      {"netwright.source_sha256", sha256(argument).toStdString()}};
        return l;
    }
    const Source source = resolve(argument);
    const std::string checkpoint = source.checkpoint.toStdString();
    const RunConfig config = loadRunConfigFile((source.runDir + "/config.json").toStdString(), defaultRunConfig());
    validateRunConfig(config);
    const TrainingData data = loadTrainingData(config.data);
    l.trainer = makeTrainer(config, data);
    const bool ckpt = checkpoint.size() > 5 && checkpoint.compare(checkpoint.size() - 5, 5, ".ckpt") == 0;
    const auto entries = ckpt ? mindspore::readCkpt(checkpoint).entries : cntk::readTrainerCheckpoint(checkpoint);
    restoreTrainingState(*l.trainer, entries, checkpoint);
    l.description = checkpoint + " (global step " + std::to_string(l.trainer->globalStep()) + ")";
    l.defaultBase = QFileInfo(source.checkpoint).absolutePath() + "/" + QFileInfo(source.checkpoint).completeBaseName();
    l.metadata = {{"netwright.version", NETWRIGHT_VERSION},
                  {"netwright.source", QFileInfo(source.checkpoint).fileName().toStdString()},
                  {"netwright.source_sha256", sha256(source.checkpoint).toStdString()},
                  {"netwright.global_step", std::to_string(l.trainer->globalStep())},
                  {"netwright.model", config.model},
                  {"netwright.input_normalization", QStringLiteral("(x * %1 - %2) / %3")
                                                        .arg(config.data.scale, 0, 'g', 6)
                                                        .arg(config.data.mean, 0, 'g', 6)
                                                        .arg(config.data.std, 0, 'g', 6)
                                                        .toStdString()}};
    for (const char *metric : {"eval_accuracy", "eval_loss"})
        if (source.record.contains(metric))
            l.metadata.emplace_back(std::string("netwright.") + metric, QString::number(source.record[metric].toDouble(), 'g', 17).toStdString());
    return l;
}


} // namespace netwright::cli
