// SPDX-License-Identifier: Apache-2.0
#include "cli/resume_command.h"

#include "cli/distributed_run.h"
#include "cli/run_options.h"
#include "cli/train_command.h"
#include "config/run_config.h"
#include "core/error.h"
#include "run/run_directory.h"
#include "run/run_lock.h"
#include "run/training_session.h"

#include <optional>
#include "train/training_setup.h"

#include "cli/subcommand.h"

#include <QCommandLineParser>

#include <cstdio>

namespace netwright::cli {

int runResumeCommand(const QStringList &arguments)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Continue a run from the newest valid checkpoint in its run directory, with the config it was started with.\n"
        "The result is bit-identical to a run that was never interrupted (same threads as the first run).\n"
        "Under mpirun -np N it continues data-parallel, with any N: the global batch is the config's."));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("resume"), QStringLiteral("The subcommand."));
    p.addPositionalArgument(QStringLiteral("RUN_DIR"), QStringLiteral("The run directory (its config, logs and checkpoints)."));
    p.addOption({QStringLiteral("device"), QStringLiteral("Continue on another device than the run used: cpu, cuda or cuda:N "
                                                          "(a checkpoint does not depend on the device that wrote it)."),
                 QStringLiteral("DEVICE")});
    p.addOption({QStringLiteral("json"), QStringLiteral("Print the run's result as JSON on stdout at its end (the progress goes to stderr).")});
    p.addOption({QStringLiteral("start-over"), QStringLiteral("When every checkpoint of the run is damaged: train again from the beginning "
                                                              "(under a new checkpoint prefix; the damaged files stay) instead of stopping.")});
    if (const auto done = parseSubcommand(p, arguments, "resume", 1, "give exactly one run directory."))
        return *done;
    DistributedRun dist;
    try {
        dist = DistributedRun::joinIfLaunched();
        const RunDirectory dir = RunDirectory::open(p.positionalArguments().at(1).toStdString());
        // The run is this process's from now (a second resume of it is refused, the window says
        // it is training) until it exits, while the data are read too.
        std::optional<RunLock> lock;
        if (dist.isRoot())
            lock.emplace(dir.path());
        // Killed while writing its config: the complete temporary file is the config. Rank 0 puts
        // it in place; the others wait for that (fromRoot is a collective) before reading it.
        if (dist.isRoot() && !dir.hasConfig())
            for (const auto &done : dir.recover())
                std::fprintf(p.isSet(QStringLiteral("json")) ? stderr : stdout, "%s\n", done.c_str());
        dist.fromRoot(std::string());
        const std::string configPath = dir.configPath();
        RunConfig config = dir.readConfig();
        const RunConfig fromFile = config;
        if (p.isSet(QStringLiteral("device")))
            config.training.device = deviceOption(p);
        validateRunConfigFrom(config, fromFile, configPath);
        TrainingSession::checkCpu(config); // a bf16 run on a CPU without bf16: refused before anything is read
        const TrainingData data = loadTrainingData(config);
        // Any number of ranks may continue a run: the global batch is the config's, so the steps
        // are the same; each rank takes its share of every batch from the saved cursor.
        auto trainer = dist.makeTrainer(config, data);
        SessionStart start;
        start.restore = true;
        start.startOver = p.isSet(QStringLiteral("start-over"));
        return trainInRunDirectory(config, *trainer, dir, start, p.isSet(QStringLiteral("json")), dist);
    } catch (const Error &e) {
        return dist.fail("resume", e.what());
    } catch (const std::bad_alloc &) {
        return dist.fail("resume", "out of memory.");
    } catch (const std::exception &e) {
        return dist.fail("resume", std::string("internal error: ") + e.what());
    }
}

} // namespace netwright::cli
