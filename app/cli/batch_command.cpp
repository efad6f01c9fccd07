// SPDX-License-Identifier: Apache-2.0
#include "cli/batch_command.h"

#include "checkpoint/checkpoint_manager.h"
#include "cli/subcommand.h"
#include "config/run_config.h"
#include "core/error.h"
#include "dist/communicator.h"
#include "run/run_directory.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <map>

namespace netwright::cli {

namespace {

std::atomic<bool> g_stopRequested{false};
extern "C" void onBatchStopSignal(int) { g_stopRequested = true; }

struct BatchRun {
    QString name, config, dir;
    QString status;          // trained, resumed, finished before, failed (…), not started
    int exitCode = 0;
    qint64 epochsDone = 0, epochs = 0;
    double bestAccuracy = -1; // best test accuracy over the run's evaluations; -1: none
    int checkpoints = 0;      // kept
    double seconds = 0;       // this batch's time on it
};

// The configs named on the command line: files as given, directories as their *.json, by name.
std::vector<BatchRun> collect(const QStringList &inputs, const QString &out)
{
    std::vector<BatchRun> runs;
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
            BatchRun r;
            r.config = QFileInfo(f).absoluteFilePath();
            r.name = QFileInfo(f).completeBaseName();
            r.dir = QDir(out).filePath(r.name);
            const auto [it, fresh] = byName.emplace(r.name, r.config);
            check(fresh, "\"" + it->second.toStdString() + "\" and \"" + r.config.toStdString() + "\" would both run in \""
                             + r.dir.toStdString() + "\": rename one.");
            runs.push_back(r);
        }
    }
    return runs;
}

// What the run directory's logs say: epochs done, best test accuracy, kept checkpoints; true
// when its metrics log ends with a run that was not stopped (finished).
bool readResults(BatchRun &r)
{
    const RunDirectory dir(r.dir.toStdString());
    bool finished = false;
    for (const auto &m : dir.metrics().records) {
        if (m.type == MetricsRecord::Type::Eval) {
            if (m.hasAccuracy) // a classification (other tasks have no accuracy to show)
                r.bestAccuracy = std::max(r.bestAccuracy, m.accuracy);
            r.epochsDone = std::max<qint64>(r.epochsDone, m.epoch);
        } else if (m.type == MetricsRecord::Type::End) {
            finished = !m.stopped;
        } else if (m.type == MetricsRecord::Type::Step) {
            finished = false; // steps after an end: a resumed run still going
        }
    }
    if (dir.hasConfig()) {
        try {
            r.epochs = dir.readConfig().training.epochs;
        } catch (const Error &) {
            r.epochs = 0; // the child reports what is wrong with it
        }
    }
    r.checkpoints = 0;
    for (const auto &row : dir.history())
        r.checkpoints += row.status == "kept" ? 1 : 0;
    return finished;
}

// Whether `dir` holds a checkpoint that resume would restore, found as resume finds it (from the
// files, not the history log: a kill between a checkpoint's rename and its history row leaves a
// whole checkpoint the history does not list yet).
bool hasCheckpoint(const RunDirectory &dir)
{
    return !dir.restoreCheckpoint(dir.readConfig()).empty();
}

// Runs one child to its end; forwards a stop request as SIGTERM (it saves, then exits 130).
int runChild(const QStringList &args, const QString &log)
{
    QProcess child;
    child.setProcessChannelMode(QProcess::MergedChannels);
    child.setStandardOutputFile(log, QIODevice::Append);
    child.start(QCoreApplication::applicationFilePath(), args);
    if (!child.waitForStarted(30000))
        return -1;
    bool forwarded = false;
    while (!child.waitForFinished(200))
        if (g_stopRequested && !forwarded) {
            child.terminate();
            forwarded = true;
        }
    return child.exitStatus() == QProcess::NormalExit ? child.exitCode() : -1;
}

QString accuracyText(double a)
{
    return a < 0 ? QStringLiteral("-") : QString::number(100.0 * a, 'f', 2) + QStringLiteral(" %");
}

} // namespace

int runBatchCommand(const QStringList &arguments)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Train a queue of run configs, one after another, each into its own run directory (OUT/<config name>), with\n"
        "its output in <run>/batch.log; a summary at the end. Running the same batch again skips the runs that\n"
        "finished and resumes the interrupted ones from their newest checkpoint.\n"
        "Exit codes: 0 every run finished; 1 a run failed (the others still ran); 2 usage; 130 stopped by a signal."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("batch"), QStringLiteral("The subcommand."));
    p.addPositionalArgument(QStringLiteral("CONFIG|DIR"), QStringLiteral("Run configs (JSON), or directories of them (*.json, by name)."),
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
    std::vector<BatchRun> runs;
    try {
        // Under mpirun every rank would run the whole queue into the same directories, and each
        // child would think itself an MPI rank.
        check(!(launchedByMpiLauncher() && launcherWorldSize() > 1),
              "a batch runs its trainings one after another from one process; start it without mpirun (a run of its own can "
              "be data-parallel: mpirun -np N netwright train --config …).");
        runs = collect(inputs, p.value(QStringLiteral("out")));
        check(QDir().mkpath(p.value(QStringLiteral("out"))), "Cannot create \"" + p.value(QStringLiteral("out")).toStdString() + "\".");
    } catch (const Error &e) {
        std::fprintf(stderr, "netwright batch: %s\n", e.what());
        return 1;
    }

    g_stopRequested = false;
    std::signal(SIGINT, onBatchStopSignal);
    std::signal(SIGTERM, onBatchStopSignal);
    int failed = 0;
    for (size_t i = 0; i < runs.size(); ++i) {
        BatchRun &r = runs[i];
        if (g_stopRequested) {
            r.status = QStringLiteral("not started");
            continue;
        }
        const QString head = QStringLiteral("[%1/%2] %3").arg(i + 1).arg(runs.size()).arg(r.name);
        try {
            if (readResults(r)) {
                r.status = QStringLiteral("finished before");
                if (!json)
                    std::printf("%s: finished before, skipped\n", qPrintable(head));
                continue;
            }
            const RunDirectory dir(r.dir.toStdString());
            const bool resume = dir.hasConfig() && hasCheckpoint(dir);
            if (!resume && QFileInfo(r.dir).isDir())
                dir.clearUnstarted();
            check(QDir().mkpath(r.dir), "Cannot create \"" + r.dir.toStdString() + "\".");
            if (!json) {
                std::printf("%s: %s in %s (log: %s/batch.log)\n", qPrintable(head), resume ? "resuming" : "training", qPrintable(r.dir),
                            qPrintable(r.dir));
                std::fflush(stdout);
            }
            QElapsedTimer clock;
            clock.start();
            const QStringList args = resume ? QStringList{QStringLiteral("resume"), r.dir}
                                            : QStringList{QStringLiteral("train"), QStringLiteral("--config"), r.config, QStringLiteral("--out"), r.dir};
            r.exitCode = runChild(args, r.dir + QStringLiteral("/batch.log"));
            r.seconds = clock.elapsed() / 1000.0;
            const bool finished = readResults(r);
            if (r.exitCode == 0 && finished) {
                r.status = resume ? QStringLiteral("resumed") : QStringLiteral("trained");
            } else if (r.exitCode == 130 || g_stopRequested) {
                r.status = QStringLiteral("stopped");
            } else {
                r.status = QStringLiteral("failed (exit %1, see batch.log)").arg(r.exitCode);
                ++failed;
            }
        } catch (const Error &e) {
            r.status = QStringLiteral("failed: %1").arg(QString::fromUtf8(e.what()));
            ++failed;
        }
        if (!json)
            std::printf("%s: %s\n", qPrintable(head), qPrintable(r.status));
    }
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);

    if (json) {
        QJsonArray rows;
        for (const auto &r : runs)
            rows.append(QJsonObject{{"run", r.name},
                                    {"config", r.config},
                                    {"dir", r.dir},
                                    {"status", r.status},
                                    {"epochs_done", r.epochsDone},
                                    {"epochs", r.epochs},
                                    {"best_eval_accuracy", r.bestAccuracy < 0 ? QJsonValue() : QJsonValue(r.bestAccuracy)},
                                    {"checkpoints", r.checkpoints},
                                    {"seconds", r.seconds}});
        std::fputs(QJsonDocument(QJsonObject{{"runs", rows}, {"failed", failed}, {"stopped", g_stopRequested.load()}})
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
                        qPrintable(r.epochs > 0 ? QStringLiteral("%1/%2").arg(r.epochsDone).arg(r.epochs) : QStringLiteral("-")), qPrintable(accuracyText(r.bestAccuracy)),
                        r.checkpoints, r.seconds > 0 ? qPrintable(QString::number(r.seconds, 'f', 1) + QStringLiteral(" s")) : "-");
    }
    if (g_stopRequested)
        return 130;
    return failed == 0 ? 0 : 1;
}

} // namespace netwright::cli
