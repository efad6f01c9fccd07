// SPDX-License-Identifier: Apache-2.0
// What every subcommand does with its command line before its own work: parse, answer --help,
// and check the number of positional arguments, with usage errors as one line and exit code 2.
// Layer: app/cli.
#pragma once

#include <QCommandLineParser>
#include <QStringList>

#include <optional>

namespace netwright::cli {

// Parses `arguments` (argv, the subcommand at [1]). Returns an exit code when the command is done
// (help shown: 0; usage error: 2), nullopt when it should run. `positionals` counts the arguments
// after the subcommand name; -1 accepts any number.
std::optional<int> parseSubcommand(QCommandLineParser &parser, const QStringList &arguments, const char *name, int positionals,
                                   const char *positionalError = nullptr);

} // namespace netwright::cli
