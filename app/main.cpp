// SPDX-License-Identifier: Apache-2.0
// Entry point: `netwright` and `netwright FILE…` open the workbench window (QApplication);
// `netwright <subcommand> …` runs headless under a QCoreApplication (no display needed).
// Layer: app. Exit codes: 0 done, 1 error (one line on stderr), 2 usage, 130 stopped by a signal.
#include "cli/batch_command.h"
#include "cli/compare_command.h"
#include "cli/eval_command.h"
#include "cli/sweep_command.h"
#include "cli/export_command.h"
#include "cli/data_command.h"
#include "cli/run_command.h"
#include "cli/history_command.h"
#include "cli/inspect_command.h"
#include "cli/load_check_command.h"
#include "cli/resume_command.h"
#include "cli/train_command.h"
#include "gui/instance_channel.h"
#include "gui/main_window.h"

#include "core/cpu_level.h"
#include "core/error.h"

#include <QApplication>
#include <QCoreApplication>
#include <QFileInfo>
#include <QIcon>

#include <cstdio>
#include <cstring>

namespace {

const char *kUsage =
    "Usage: netwright [FILE…]              open the workbench window (on the files)\n"
    "       netwright <command> [options]  run headless\n"
    "\n"
    "Netwright trains, inspects and exports neural-network models.\n"
    "\n"
    "Commands:\n"
    "  train      Train a model headless and write a run directory (netwright train --help)\n"
    "  resume     Continue a run from its newest checkpoint (netwright resume --help)\n"
    "  inspect    Show the graph and parameters of a model or checkpoint file (netwright inspect --help)\n"
    "  export     Export a model to ONNX, MindIR, AIR or CNTK, verified by reading it back (netwright export --help)\n"
    "  convert    Convert a model file between those formats, verified the same way (netwright convert --help)\n"
    "  eval       Evaluate a run or model: accuracy, per-class figures, confusion matrix (netwright eval --help)\n"
    "  run        Run a model file on .npy or .pb input tensors and write its outputs (netwright run --help)\n"
    "  load-check Check which tensors of a checkpoint a model takes, with suggested renames (netwright load-check --help)\n"
    "  history    List a run's checkpoints, kept and deleted (netwright history --help)\n"
    "  data       Look at training data: classes, shapes, statistics (netwright data --help)\n"
    "  batch      Train a queue of run configs, each into its own run directory (netwright batch --help)\n"
    "  sweep      Train every trial of a grid or random sweep of run config keys (netwright sweep --help)\n"
    "  compare    Compare runs: the config keys that differ, metrics, checkpoints (netwright compare --help)\n"
    "\n"
    "Options:\n"
    "  -h, --help     Show this help\n"
    "  -v, --version  Show the version and the CPU level the kernels run at\n"
    "\n"
    "Environment:\n"
    "  NETWRIGHT_CPU_LEVEL  Cap the CPU kernels' instruction set: baseline, avx2, avx512, avx512-bf16, amx\n";

int runWindow(int argc, char **argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("Netwright"));
    QApplication::setOrganizationName(QStringLiteral("Netwright"));
    QApplication::setApplicationVersion(QStringLiteral(NETWRIGHT_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("netwright")); // the installed netwright.desktop
    QApplication::setWindowIcon(QIcon::fromTheme(QStringLiteral("netwright")));
    using netwright::gui::InstanceChannel;
    QStringList paths;
    for (int i = 1; i < argc; ++i)
        paths << QFileInfo(QString::fromLocal8Bit(argv[i])).absoluteFilePath();
    // Files go to the window already running, if there is one (the desktop's second open).
    const QString instance = InstanceChannel::defaultName();
    if (!paths.isEmpty() && InstanceChannel::sendToRunning(instance, paths))
        return 0;
    netwright::gui::MainWindow window;
    InstanceChannel channel;
    channel.setOpener([&window](const QString &path) { return window.openPath(path) != nullptr; });
    QObject::connect(&channel, &InstanceChannel::pathsOpened, &window, [&window] {
        window.show();
        window.raise();
        window.activateWindow();
    });
    channel.listen(instance); // a second plain `netwright` opens a window of its own
    window.show();
    window.openPaths(paths);
    return app.exec();
}

bool isCommand(const char *arg)
{
    for (const char *c : {"train", "resume", "inspect", "export", "convert", "eval", "run", "load-check", "history", "data", "batch", "sweep", "compare", "help", "--help", "-h", "--version", "-v"})
        if (std::strcmp(arg, c) == 0)
            return true;
    return false;
}

} // namespace

int main(int argc, char **argv)
{
    // The CPU level is fixed before anything runs: a bad NETWRIGHT_CPU_LEVEL stops every command
    // (and the window) before it writes anything.
    try {
        netwright::cpu::activeLevel();
    } catch (const netwright::Error &e) {
        std::fprintf(stderr, "netwright: %s\n", e.what());
        return 2;
    }
    // The window: no arguments, or only files (as the desktop passes them).
    if (argc == 1)
        return runWindow(argc, argv);
    if (!isCommand(argv[1])) {
        bool files = true;
        for (int i = 1; i < argc; ++i)
            files = files && argv[i][0] != '-' && QFileInfo::exists(QString::fromLocal8Bit(argv[i]));
        if (files)
            return runWindow(argc, argv);
    }
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("netwright"));
    QCoreApplication::setApplicationVersion(QStringLiteral(NETWRIGHT_VERSION));
    const QStringList args = QCoreApplication::arguments();
    const QString command = args.size() > 1 ? args.at(1) : QString();
    if (command == QLatin1String("train"))
        return netwright::cli::runTrainCommand(args);
    if (command == QLatin1String("resume"))
        return netwright::cli::runResumeCommand(args);
    if (command == QLatin1String("inspect"))
        return netwright::cli::runInspectCommand(args);
    if (command == QLatin1String("export"))
        return netwright::cli::runExportCommand(args);
    if (command == QLatin1String("convert"))
        return netwright::cli::runConvertCommand(args);
    if (command == QLatin1String("eval"))
        return netwright::cli::runEvalCommand(args);
    if (command == QLatin1String("run"))
        return netwright::cli::runRunCommand(args);
    if (command == QLatin1String("load-check"))
        return netwright::cli::runLoadCheckCommand(args);
    if (command == QLatin1String("history"))
        return netwright::cli::runHistoryCommand(args);
    if (command == QLatin1String("data"))
        return netwright::cli::runDataCommand(args);
    if (command == QLatin1String("batch"))
        return netwright::cli::runBatchCommand(args);
    if (command == QLatin1String("sweep"))
        return netwright::cli::runSweepCommand(args);
    if (command == QLatin1String("compare"))
        return netwright::cli::runCompareCommand(args);
    if (command == QLatin1String("--version") || command == QLatin1String("-v")) {
        std::printf("netwright %s\n", NETWRIGHT_VERSION);
        try {
            std::printf("CPU kernels: %s\n", netwright::cpu::describeLevel().c_str());
        } catch (const netwright::Error &e) {
            std::fprintf(stderr, "netwright: %s\n", e.what());
            return 2;
        }
        return 0;
    }
    if (command == QLatin1String("--help") || command == QLatin1String("-h") || command == QLatin1String("help")) {
        std::fputs(kUsage, stdout);
        return 0;
    }
    std::fprintf(stderr, "netwright: \"%s\" is neither a command nor a file.\n\n%s", qPrintable(command), kUsage);
    return 2;
}
