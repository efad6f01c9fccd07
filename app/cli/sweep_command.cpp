// SPDX-License-Identifier: Apache-2.0
#include "cli/sweep_command.h"

#include "cli/run_queue.h"
#include "cli/subcommand.h"
#include "cli/sweep_results.h"
#include "cli/sweep_spec.h"
#include "core/error.h"
#include "dist/communicator.h"
#include "run/run_lock.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QThread>

#include <cstdio>
#include <memory>

namespace netwright::cli {

int runSweepCommand(const QStringList &arguments)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Train every trial of a sweep spec (a base run config, a grid of config keys to values and/or random trials,\n"
        "seeds), each into its own run directory in the sweep folder, N at a time; then the results sorted by the task's\n"
        "metric (results.csv, results.json) and the best trial's run config (best_config.json). Running the same sweep\n"
        "again skips the trials that finished and resumes the interrupted ones from their newest checkpoint.\n"
        "Exit codes: 0 every trial finished; 1 a trial failed (the others still ran) or bad input; 2 usage; 130 stopped."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("sweep"), QStringLiteral("The subcommand."));
    p.addPositionalArgument(QStringLiteral("SPEC"), QStringLiteral("The sweep spec (JSON)."));
    p.addOptions({
        {{QStringLiteral("o"), QStringLiteral("out")}, QStringLiteral("The sweep folder (default: sweeps/<spec name>)."), QStringLiteral("DIR")},
        {{QStringLiteral("j"), QStringLiteral("parallel")},
         QStringLiteral("Trials trained at once, each by a process of its own (default 1). A base that trains on every core "
                        "(training.threads 0) gets cores/N threads per trial."),
         QStringLiteral("N"), QStringLiteral("1")},
        {QStringLiteral("dry-run"), QStringLiteral("List the trials (names and values) and exit; train nothing, write nothing.")},
        {QStringLiteral("json"), QStringLiteral("Print the results (with --dry-run: the trials) as JSON.")},
    });
    if (const auto done = parseSubcommand(p, arguments, "sweep", 1, "give exactly one sweep spec."))
        return *done;
    const QString spec = p.positionalArguments().at(1);
    bool ok = false;
    const int parallel = p.value(QStringLiteral("parallel")).toInt(&ok);
    if (!ok || parallel < 1 || parallel > 256) {
        std::fprintf(stderr, "netwright sweep: --parallel: \"%s\" is not a whole number in 1…256.\n", qPrintable(p.value(QStringLiteral("parallel"))));
        return 2;
    }
    const QString folder = p.isSet(QStringLiteral("out")) ? p.value(QStringLiteral("out"))
                                                          : QStringLiteral("sweeps/") + QFileInfo(spec).completeBaseName();
    const bool json = p.isSet(QStringLiteral("json"));
    SweepPlan plan;
    std::unique_ptr<RunLock> lock;
    try {
        check(!(launchedByMpiLauncher() && launcherWorldSize() > 1),
              "a sweep starts its trials as processes of its own; start it without mpirun.");
        const int threads = parallel > 1 ? std::max(1, QThread::idealThreadCount() / parallel) : 0;
        plan = planSweep(spec, folder, threads);
        if (p.isSet(QStringLiteral("dry-run"))) {
            QJsonArray trials;
            for (const auto &t : plan.trials) {
                QJsonObject values;
                for (const auto &[k, v] : t.values)
                    values[k] = v;
                trials.append(QJsonObject{{"name", t.name}, {"run_dir", plan.runDir(t)}, {"values", values}});
                if (!json)
                    std::printf("%s\n", qPrintable(plan.runDir(t)));
            }
            if (json)
                std::fputs(QJsonDocument(QJsonObject{{"sweep", plan.folder}, {"keys", QJsonArray::fromStringList(plan.keys)}, {"trials", trials}})
                               .toJson(QJsonDocument::Indented)
                               .constData(),
                           stdout);
            return 0;
        }
        check(QDir().mkpath(plan.folder), "Cannot create \"" + plan.folder.toStdString() + "\".");
        try {
            lock = std::make_unique<RunLock>(plan.folder.toStdString()); // one sweep process per folder
        } catch (const Error &e) {
            throw Error("another `netwright sweep` runs in \"" + plan.folder.toStdString() + "\" now (" + e.what() + ")");
        }
        writeSweepFolder(plan);
    } catch (const Error &e) {
        std::fprintf(stderr, "netwright sweep: %s\n", e.what());
        return 1;
    }
    if (!json) {
        std::printf("sweep %s: %zu trials (%s) in %s\n", qPrintable(spec), plan.trials.size(), qPrintable(plan.keys.join(QStringLiteral(", "))),
                    qPrintable(plan.folder));
        std::fflush(stdout);
    }
    std::vector<QueuedRun> runs;
    for (const auto &t : plan.trials)
        runs.push_back({t.name, plan.configPath(t), plan.runDir(t)});
    const int failed = runQueue(runs, {parallel, json});
    SweepResults results;
    try {
        results = writeSweepResults(plan, runs);
    } catch (const Error &e) {
        std::fprintf(stderr, "netwright sweep: %s\n", e.what());
        return 1;
    }
    if (json) {
        QJsonObject o = sweepJson(plan, runs, results);
        o[QStringLiteral("failed")] = failed;
        o[QStringLiteral("stopped")] = queueStopped();
        std::fputs(QJsonDocument(o).toJson(QJsonDocument::Indented).constData(), stdout);
    } else {
        printSweepTable(plan, runs, results);
    }
    if (queueStopped())
        return 130;
    return failed == 0 ? 0 : 1;
}

} // namespace netwright::cli
