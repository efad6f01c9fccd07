// SPDX-License-Identifier: Apache-2.0
#include "cli/run_options.h"

#include "core/device.h"
#include "core/error.h"

#include <QCommandLineParser>

namespace netwright::cli {

void validateRunConfigFrom(const RunConfig &config, const RunConfig &fromFile, const std::string &path)
{
    try {
        validateRunConfig(config);
    } catch (const Error &e) {
        if (path.empty())
            throw;
        try {
            validateRunConfig(fromFile);
        } catch (const Error &f) {
            if (std::string(f.what()) == e.what())
                throw Error("Run config \"" + path + "\": " + e.what());
        }
        throw;
    }
}

std::string deviceOption(const QCommandLineParser &parser)
{
    const std::string text = parser.value(QStringLiteral("device")).toStdString();
    try {
        parseDevice(text);
    } catch (const Error &e) {
        throw Error(std::string("--device: ") + e.what());
    }
    return text;
}

} // namespace netwright::cli
