// SPDX-License-Identifier: Apache-2.0
#include "cli/batch_command.h"

#include "cli/run_queue.h"
#include "cli/subcommand.h"
#include "cli/sweep_results.h"
#include "cli/sweep_spec.h"
#include "core/error.h"
#include "dist/communicator.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>
#include <map>

namespace netwright::cli {

namespace {

// The configs named on the command line: files as given, directories as their *.json, by name. A
// sweep spec among them is its trials, in <out>/<spec name>/<trial> (its plan in `sweeps`).
std::vector<QueuedRun> collect(const QStringList &inputs, const QString &out, std::vector<SweepPlan> &sweeps,
                               std::vector<std::pair<size_t, size_t>> &sweepRanges)
{
    std::vector<QueuedRun> runs;
    std::map<QString, QString> byName;
    for (const QString &input : inputs) {
        const QFileInfo info(input);
        QStringList files;
        if (info.isDir()) {
            for (const QString &f : QDir(input).entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name))
                files << QDir(input).filePath(f);
            check(!files.isEmpty(), "\"" + input.toStdString() + "\" holds no run configs (*.json).");
        } else {
            check(info.isFile(), "\"" + input.toStdString() + "\" is neither a run config nor a directory of them.");
            files << input;
        }
        for (const QString &f : files) {
            const QString config = QFileInfo(f).absoluteFilePath(), name = QFileInfo(f).completeBaseName(),
                          dir = QDir(out).filePath(name);
            const auto [it, fresh] = byName.emplace(name, config);
            check(fresh, "\"" + it->second.toStdString() + "\" and \"" + config.toStdString() + "\" would both run in \""
                             + dir.toStdString() + "\": rename one.");
            if (isSweepSpec(f)) {
                sweeps.push_back(planSweep(f, dir));
                const size_t first = runs.size();
                for (const auto &t : sweeps.back().trials)
                    runs.push_back({name + QLatin1Char('/') + t.name, sweeps.back().configPath(t), sweeps.back().runDir(t)});
                sweepRanges.emplace_back(first, runs.size());
            } else {
                runs.push_back({name, config, dir});
            }
        }
    }
    return runs;
}

QString accuracyText(double a)
{
    return a < 0 ? QStringLiteral("-") : QString::number(100.0 * a, 'f', 2) + QStringLiteral(" %");
}

double bestAccuracy(const QueuedRun &r)
{
    const auto it = r.results.best.find("accuracy");
    return it == r.results.best.end() ? -1 : it->second;
}

} // namespace

int runBatchCommand(const QStringList &arguments)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Train a queue of run configs, one after another, each into its own run directory (OUT/<config name>), with\n"
        "its output in <run>/batch.log; a summary at the end. Running the same batch again skips the runs that\n"
        "finished and resumes the interrupted ones from their newest checkpoint. A sweep spec among the configs is\n"
        "its trials, in OUT/<spec name>/<trial>, with the sweep's results there at the end (netwright sweep --help).\n"
        "Exit codes: 0 every run finished; 1 a run failed (the others still ran); 2 usage; 130 stopped by a signal."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("batch"), QStringLiteral("The subcommand."));
    p.addPositionalArgument(QStringLiteral("CONFIG|DIR"), QStringLiteral("Run configs or sweep specs (JSON), or directories of them (*.json, by name)."),
                            QStringLiteral("CONFIG…|DIR…"));
    p.addOptions({
        {{QStringLiteral("o"), QStringLiteral("out")}, QStringLiteral("Where the run directories go (default: runs)."), QStringLiteral("DIR"),
         QStringLiteral("runs")},
        {QStringLiteral("json"), QStringLiteral("Print the summary as JSON.")},
    });
    if (const auto done = parseSubcommand(p, arguments, "batch", -1))
        return *done;
    const QStringList inputs = p.positionalArguments().mid(1);
    if (inputs.isEmpty()) {
        std::fprintf(stderr, "netwright batch: give one or more run configs or directories of them.\n");
        return 2;
    }
    const bool json = p.isSet(QStringLiteral("json"));
    std::vector<QueuedRun> runs;
    std::vector<SweepPlan> sweeps;
    std::vector<std::pair<size_t, size_t>> sweepRanges;
    try {
        // Under mpirun every rank would run the whole queue into the same directories, and each
        // child would think itself an MPI rank.
        check(!(launchedByMpiLauncher() && launcherWorldSize() > 1),
              "a batch runs its trainings one after another from one process; start it without mpirun (a run of its own can "
              "be data-parallel: mpirun -np N netwright train --config …).");
        runs = collect(inputs, p.value(QStringLiteral("out")), sweeps, sweepRanges);
        check(QDir().mkpath(p.value(QStringLiteral("out"))), "Cannot create \"" + p.value(QStringLiteral("out")).toStdString() + "\".");
        for (const auto &plan : sweeps)
            writeSweepFolder(plan);
    } catch (const Error &e) {
        std::fprintf(stderr, "netwright batch: %s\n", e.what());
        return 1;
    }

    const int failed = runQueue(runs, {1, json});
    for (size_t s = 0; s < sweeps.size(); ++s) {
        try {
            writeSweepResults(sweeps[s], std::vector<QueuedRun>(runs.begin() + sweepRanges[s].first, runs.begin() + sweepRanges[s].second));
        } catch (const Error &e) {
            std::fprintf(stderr, "netwright batch: %s\n", e.what());
        }
    }

    if (json) {
        QJsonArray rows;
        for (const auto &r : runs)
            rows.append(QJsonObject{{"run", r.name},
                                    {"config", r.config},
                                    {"dir", r.dir},
                                    {"status", r.status},
                                    {"epochs_done", qint64(r.results.epochsDone)},
                                    {"epochs", qint64(r.results.epochs)},
                                    {"best_eval_accuracy", bestAccuracy(r) < 0 ? QJsonValue() : QJsonValue(bestAccuracy(r))},
                                    {"checkpoints", r.results.checkpoints},
                                    {"seconds", r.seconds}});
        std::fputs(QJsonDocument(QJsonObject{{"runs", rows}, {"failed", failed}, {"stopped", queueStopped()}})
                       .toJson(QJsonDocument::Indented)
                       .constData(),
                   stdout);
    } else {
        int width = 3;
        for (const auto &r : runs)
            width = std::max(width, static_cast<int>(r.name.size()));
        std::printf("\n%-*s  %-15s  %-7s  %-14s  %-11s  %s\n", width, "run", "status", "epochs", "best test acc.", "checkpoints", "time");
        for (const auto &r : runs)
            std::printf("%-*s  %-15s  %-7s  %-14s  %-11d  %s\n", width, qPrintable(r.name), qPrintable(r.status.startsWith(QLatin1String("failed")) ? QStringLiteral("failed") : r.status),
                        qPrintable(r.results.epochs > 0 ? QStringLiteral("%1/%2").arg(r.results.epochsDone).arg(r.results.epochs) : QStringLiteral("-")),
                        qPrintable(accuracyText(bestAccuracy(r))), r.results.checkpoints, r.seconds > 0 ? qPrintable(QString::number(r.seconds, 'f', 1) + QStringLiteral(" s")) : "-");
    }
    if (queueStopped())
        return 130;
    return failed == 0 ? 0 : 1;
}

} // namespace netwright::cli
