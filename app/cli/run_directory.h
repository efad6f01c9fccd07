// SPDX-License-Identifier: Apache-2.0
// The run directory a training run writes: config.json (the config as run, every key),
// metrics.jsonl (every step and evaluation). Layer: app/cli.
#pragma once

#include <QString>

namespace netwright::cli {

// --out when given, else runs/<name>-<yyyyMMdd-HHmmss> under the working directory. Creates it;
// refuses a directory that already holds a run unless `continuing`. Throws netwright::Error.
QString prepareRunDirectory(const QString &out, const QString &runName, bool continuing = false);
// The directory prepareRunDirectory would use, without creating anything.
QString runDirectoryName(const QString &out, const QString &runName);

} // namespace netwright::cli
