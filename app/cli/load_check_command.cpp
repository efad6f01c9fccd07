// SPDX-License-Identifier: Apache-2.0
#include "cli/load_check_command.h"

#include "cli/subcommand.h"
#include "checkpoint/training_state.h"
#include "checkpoint/weight_matching.h"
#include "core/error.h"
#include "formats/graph_formats.h"
#include "run/run_model.h"

#include <QCommandLineParser>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>

namespace netwright::cli {

namespace {

QJsonArray shapeJson(const Shape &shape)
{
    QJsonArray a;
    for (int64_t d : shape)
        a.append(static_cast<qint64>(d));
    return a;
}

// The model a MODEL argument names: a model file (ONNX, MindIR, AIR, CNTK model-v2), or a run
// directory (or a checkpoint in one) restored as export restores it. What the loaded model would
// look like when it starts a run: Identity-shared initializers untied.
Graph loadModel(const std::string &argument, std::string &description)
{
    Graph model;
    if (const auto format = modelFileFormat(argument)) {
        model = importGraphFile(argument);
        description = argument + " (" + format->name + ")";
    } else {
        const RunCheckpoint source = chooseRunCheckpoint(argument, "check against");
        model = restoreRunModel(source.dir, source.file).model;
        description = source.dir.file(source.file) + " (the model of a run)";
    }
    untieIdentityInitializers(model);
    return model;
}

void printReport(const WeightMatchReport &report)
{
    for (const auto &r : report.rows) {
        const char *status = weightStatusName(r.status);
        switch (r.status) {
        case WeightStatus::Matched:
            std::printf("  %-11s %-36s %-16s <- %s%s\n", status, r.modelName.c_str(), shapeToString(r.modelShape).c_str(), r.fileName.c_str(),
                        r.how == "name" ? "" : (" (" + r.how + ")").c_str());
            break;
        case WeightStatus::Missing:
            std::printf("  %-11s %-36s %-16s (in the model, not in the checkpoint)\n", status, r.modelName.c_str(),
                        shapeToString(r.modelShape).c_str());
            break;
        case WeightStatus::Unexpected:
            std::printf("  %-11s %-36s %-16s (in the checkpoint, not in the model)\n", status, r.fileName.c_str(),
                        shapeToString(r.fileShape).c_str());
            break;
        case WeightStatus::ShapeMismatch:
            std::printf("  %-11s %-36s %-16s <- %s %s in the checkpoint\n", "shape", r.modelName.c_str(), shapeToString(r.modelShape).c_str(),
                        r.fileName.c_str(), shapeToString(r.fileShape).c_str());
            break;
        case WeightStatus::Ignored:
            std::printf("  %-11s %-36s %-16s (%s)\n", status, r.fileName.c_str(), shapeToString(r.fileShape).c_str(), r.how.c_str());
            break;
        }
    }
    std::printf("%d matched, %d missing, %d unexpected, %d of another shape, %d ignored.\n", report.count(WeightStatus::Matched),
                report.count(WeightStatus::Missing), report.count(WeightStatus::Unexpected), report.count(WeightStatus::ShapeMismatch),
                report.count(WeightStatus::Ignored));
    for (const auto &name : report.unusedRenames)
        std::printf("The map renames \"%s\", which the checkpoint does not have.\n", name.c_str());
    if (!report.suggestions.empty()) {
        std::printf("Suggested renames (save these lines as a --map file):\n");
        for (const auto &s : report.suggestions)
            std::printf("%s %s  # %s\n", s.from.c_str(), s.to.c_str(), s.why.c_str());
    }
}

QJsonObject reportJson(const WeightMatchReport &report, const std::string &checkpoint, const std::string &model)
{
    QJsonArray rows, suggestions, unused;
    for (const auto &r : report.rows) {
        QJsonObject o{{"status", weightStatusName(r.status)}};
        if (!r.modelName.empty()) {
            o["model_name"] = QString::fromStdString(r.modelName);
            o["model_shape"] = shapeJson(r.modelShape);
        }
        if (!r.fileName.empty()) {
            o["file_name"] = QString::fromStdString(r.fileName);
            o["file_shape"] = shapeJson(r.fileShape);
        }
        if (!r.how.empty())
            o["how"] = QString::fromStdString(r.how);
        rows.append(o);
    }
    for (const auto &s : report.suggestions)
        suggestions.append(QJsonObject{{"from", QString::fromStdString(s.from)}, {"to", QString::fromStdString(s.to)},
                                       {"why", QString::fromStdString(s.why)}});
    for (const auto &name : report.unusedRenames)
        unused.append(QString::fromStdString(name));
    return QJsonObject{{"checkpoint", QString::fromStdString(checkpoint)},
                       {"model", QString::fromStdString(model)},
                       {"complete", report.complete()},
                       {"matched", report.count(WeightStatus::Matched)},
                       {"missing", report.count(WeightStatus::Missing)},
                       {"unexpected", report.count(WeightStatus::Unexpected)},
                       {"shape_mismatch", report.count(WeightStatus::ShapeMismatch)},
                       {"ignored", report.count(WeightStatus::Ignored)},
                       {"rows", rows},
                       {"suggestions", suggestions},
                       {"unused_renames", unused}};
}

} // namespace

int runLoadCheckCommand(const QStringList &arguments)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Check which tensors of a checkpoint a model would take, as train --init-from loads them.\n"
        "CHECKPOINT: a MindSpore .ckpt, a CNTK trainer checkpoint or a NumPy .npz of named arrays (np.savez of a state dict). "
        "MODEL: a model file (ONNX, MindIR, AIR, CNTK model-v2) or a run directory. Tensors match by name and shape; a "
        "convolution whose BatchNorm the model has folded in (torch.onnx.export in eval mode) takes the checkpoint's "
        "convolution and BatchNorm folded. Missing, unexpected and mismatched names are listed with suggested renames "
        "(MindSpore's gamma/beta/moving_mean/moving_variance for PyTorch's weight/bias/running_mean/running_var, "
        "DataParallel's module. prefix, close names) as lines of a --map file."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("load-check"), QStringLiteral("The subcommand."));
    p.addPositionalArgument(QStringLiteral("CHECKPOINT"), QStringLiteral("The checkpoint file."));
    p.addPositionalArgument(QStringLiteral("MODEL"), QStringLiteral("The model file or run directory."));
    p.addOptions({
        {QStringLiteral("map"), QStringLiteral("Renames of the checkpoint's tensors first: JSON {\"from\": \"to\"} or lines \"from to\" "
                                               "(# starts a comment)."),
         QStringLiteral("FILE")},
        {QStringLiteral("strict"), QStringLiteral("Exit 1 when anything is missing, unexpected or of another shape.")},
        {QStringLiteral("json"), QStringLiteral("Print the report as JSON.")},
    });
    if (const auto done = parseSubcommand(p, arguments, "load-check", 2, "expected: netwright load-check CHECKPOINT MODEL"))
        return *done;
    try {
        const std::string checkpoint = p.positionalArguments().at(1).toStdString();
        const std::string modelArgument = p.positionalArguments().at(2).toStdString();
        std::string description;
        const Graph model = loadModel(modelArgument, description);
        const WeightMatchReport report = matchWeights(model, readTrainingStateFile(checkpoint),
                                                      p.isSet(QStringLiteral("map")) ? readWeightMapFile(p.value(QStringLiteral("map")).toStdString())
                                                                                     : WeightRenames{});
        if (p.isSet(QStringLiteral("json"))) {
            std::fputs(QJsonDocument(reportJson(report, checkpoint, description)).toJson(QJsonDocument::Indented).constData(), stdout);
        } else {
            std::printf("Checkpoint: %s\nModel: %s\n", checkpoint.c_str(), description.c_str());
            printReport(report);
        }
        std::fflush(stdout);
        if (p.isSet(QStringLiteral("strict")) && !report.complete())
            throw Error("\"" + checkpoint + "\" does not load into the model strictly: " + report.problems() + ".");
        return 0;
    } catch (const Error &e) {
        std::fprintf(stderr, "netwright load-check: %s\n", e.what());
        return 1;
    } catch (const std::bad_alloc &) {
        std::fprintf(stderr, "netwright load-check: out of memory.\n");
        return 1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "netwright load-check: %s\n", e.what());
        return 1;
    }
}

} // namespace netwright::cli
