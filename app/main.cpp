// SPDX-License-Identifier: Apache-2.0
// Entry point: `netwright <subcommand> …` runs headless under a QCoreApplication.
// Layer: app. Exit codes: 0 done, 1 error (one line on stderr), 2 usage, 130 stopped by a signal.
#include "cli/export_command.h"
#include "cli/history_command.h"
#include "cli/inspect_command.h"
#include "cli/resume_command.h"
#include "cli/train_command.h"

#include <QCoreApplication>

#include <cstdio>

namespace {

const char *kUsage =
    "Usage: netwright <command> [options]\n"
    "\n"
    "Netwright trains, inspects and exports neural-network models.\n"
    "\n"
    "Commands:\n"
    "  train      Train a model headless and write a run directory (netwright train --help)\n"
    "  resume     Continue a run from its newest checkpoint (netwright resume --help)\n"
    "  inspect    Show the graph and parameters of a model or checkpoint file (netwright inspect --help)\n"
    "  export     Export a trained model to ONNX or CNTK, verified by reading it back (netwright export --help)\n"
    "  history    List a run's checkpoints, kept and deleted (netwright history --help)\n"
    "\n"
    "Options:\n"
    "  -h, --help     Show this help\n"
    "  -v, --version  Show the version\n";

} // namespace

int main(int argc, char **argv)
{
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
    if (command == QLatin1String("history"))
        return netwright::cli::runHistoryCommand(args);
    if (command == QLatin1String("--version") || command == QLatin1String("-v")) {
        std::printf("netwright %s\n", NETWRIGHT_VERSION);
        return 0;
    }
    if (command.isEmpty() || command == QLatin1String("--help") || command == QLatin1String("-h") || command == QLatin1String("help")) {
        std::fputs(kUsage, stdout);
        return 0;
    }
    std::fprintf(stderr, "netwright: unknown command \"%s\".\n\n%s", qPrintable(command), kUsage);
    return 2;
}
