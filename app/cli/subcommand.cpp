// SPDX-License-Identifier: Apache-2.0
#include "cli/subcommand.h"

#include <cstdio>

namespace netwright::cli {

std::optional<int> parseSubcommand(QCommandLineParser &parser, const QStringList &arguments, const char *name, int positionals,
                                   const char *positionalError)
{
    if (!parser.parse(arguments)) {
        std::fprintf(stderr, "netwright %s: %s\nSee: netwright %s --help\n", name, qPrintable(parser.errorText()), name);
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        std::fputs(qPrintable(parser.helpText()), stdout);
        return 0;
    }
    if (positionals >= 0 && parser.positionalArguments().size() != positionals + 1) {
        if (positionalError)
            std::fprintf(stderr, "netwright %s: %s\nSee: netwright %s --help\n", name, positionalError, name);
        else
            std::fprintf(stderr, "netwright %s: unexpected argument \"%s\".\n", name,
                         qPrintable(parser.positionalArguments().value(positionals + 1)));
        return 2;
    }
    return std::nullopt;
}

} // namespace netwright::cli
