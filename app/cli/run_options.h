// SPDX-License-Identifier: Apache-2.0
// Command-line options that adjust a run config, shared by `train` and `resume`. Layer: app/cli.
#pragma once

#include "config/run_config.h"

#include <string>

class QCommandLineParser;

namespace netwright::cli {

// validateRunConfig(config), where `config` is `fromFile` (the config file `path` over the
// defaults; empty path: none) with command-line options applied: an error the file alone has is
// said as the file's ("Run config \"run.json\": …"), one an option brought in as it is.
void validateRunConfigFrom(const RunConfig &config, const RunConfig &fromFile, const std::string &path);
// --data, --test-data, --test-split, --label, --targets, --task, --loss, --resize,
// --random-crop-padding, --horizontal-flip, --hidden onto
// `config` (paths made absolute); throws Error("--test-split: …") for a value that is not one.
void applyDataOptions(const QCommandLineParser &parser, RunConfig &config);
// The value of --device, checked: throws Error("--device: …") for one that names no device.
std::string deviceOption(const QCommandLineParser &parser);

} // namespace netwright::cli
