// SPDX-License-Identifier: Apache-2.0
// `netwright sweep SPEC.json [--out DIR] [--parallel N] [--json]`: every trial of a sweep spec
// (cli/sweep_spec.h) trained into a run directory of its own under the sweep folder, through the
// queue `batch` uses — so a sweep killed at any instant and started again finishes every trial
// once — then the results sorted by the task's metric and the best trial's config. Layer: app/cli.
#pragma once

#include <QStringList>

namespace netwright::cli {

// Exit codes: 0 every trial finished, 1 a trial failed (the others still ran) or bad input,
// 2 usage, 130 stopped by SIGINT/SIGTERM (the running trials saved a checkpoint first).
int runSweepCommand(const QStringList &arguments);

} // namespace netwright::cli
