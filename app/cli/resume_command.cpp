// SPDX-License-Identifier: Apache-2.0
#include "cli/resume_command.h"

#include "checkpoint/checkpoint_manager.h"
#include "checkpoint/training_state.h"
#include "cli/distributed_run.h"
#include "cli/run_directory.h"
#include "cli/train_command.h"
#include "config/run_config.h"
#include "core/error.h"
#include "formats/mindspore/ckpt_file.h"
#include "train/metrics_log.h"
#include "train/training_setup.h"

#include "cli/subcommand.h"

#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>

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
    p.addPositionalArgument(QStringLiteral("RUN_DIR"), QStringLiteral("The run directory (holds config.json and checkpoints)."));
    p.addOption({QStringLiteral("device"), QStringLiteral("Continue on another device than the run used: cpu, cuda or cuda:N "
                                                          "(a checkpoint does not depend on the device that wrote it)."),
                 QStringLiteral("DEVICE")});
    p.addOption({QStringLiteral("json"), QStringLiteral("Print the run's result as JSON on stdout at its end (the progress goes to stderr).")});
    if (const auto done = parseSubcommand(p, arguments, "resume", 1, "give exactly one run directory."))
        return *done;
    DistributedRun dist;
    try {
        dist = DistributedRun::joinIfLaunched();
        const QString dir = QDir::cleanPath(p.positionalArguments().at(1));
        const std::string d = dir.toStdString();
        check(QFileInfo(dir).isDir(), "\"" + d + "\" is not a run directory.");
        const std::string configPath = d + "/config.json";
        check(QFileInfo::exists(QString::fromStdString(configPath)), "\"" + d + "\" has no config.json; is it a run directory?");
        RunConfig config = loadRunConfigFile(configPath, defaultRunConfig());
        const RunConfig fromFile = config;
        if (p.isSet(QStringLiteral("device")))
            config.training.device = deviceOption(p);
        validateRunConfigFrom(config, fromFile, configPath);
        const TrainingData data = loadTrainingData(config.data);
        // Any number of ranks may continue a run: the global batch is the config's, so the steps
        // are the same; each rank takes its share of every batch from the saved cursor.
        auto trainer = dist.makeTrainer(config, data);
        const bool json = p.isSet(QStringLiteral("json"));
        const ResumePoint from = restoreNewest(config, *trainer, d, json ? stderr : stdout, dist);
        return runTrainingSession(config, *trainer, dir, from.file, from.lastStepSave, json, dist);
    } catch (const Error &e) {
        return dist.fail("resume", e.what());
    } catch (const std::bad_alloc &) {
        return dist.fail("resume", "out of memory.");
    } catch (const std::exception &e) {
        return dist.fail("resume", std::string("internal error: ") + e.what());
    }
}

} // namespace netwright::cli
