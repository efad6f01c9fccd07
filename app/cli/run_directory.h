// SPDX-License-Identifier: Apache-2.0
// The run directory a training run writes: config.json (the config as run, every key),
// metrics.jsonl (every step and evaluation). Layer: app/cli.
#pragma once

#include "config/run_config.h"

#include <QString>

class QCommandLineParser;

namespace netwright::cli {

// --out when given, else runs/<name>-<yyyyMMdd-HHmmss> under the working directory. Creates it;
// refuses a directory that already holds a run unless `continuing`. Throws netwright::Error.
QString prepareRunDirectory(const QString &out, const QString &runName, bool continuing = false);
// The directory prepareRunDirectory would use, without creating anything.
QString runDirectoryName(const QString &out, const QString &runName);
// Writes the run's config.json (atomically). A model file (model.file) is copied into the run
// directory first, unless it is there already, and the config names the copy relative to itself —
// so the run directory holds what was trained and resume, export and a moved directory still find
// it. Throws netwright::Error naming the file that could not be copied or written.
void writeRunConfig(const QString &dir, RunConfig config);
// The model file a run directory's config.json names (its copy in the directory), or empty.
QString runModelFile(const QString &dir);
// validateRunConfig(config), where `config` is `fromFile` (the config file `path` over the
// defaults; empty path: none) with command-line options applied: an error the file alone has is
// said as the file's ("Run config \"run.json\": …"), one an option brought in as it is.
void validateRunConfigFrom(const RunConfig &config, const RunConfig &fromFile, const std::string &path);
// The value of --device, checked: throws Error("--device: …") for one that names no device.
std::string deviceOption(const QCommandLineParser &parser);

} // namespace netwright::cli
