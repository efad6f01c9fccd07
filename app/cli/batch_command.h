// SPDX-License-Identifier: Apache-2.0
// `netwright batch CONFIG…|DIR`: a queue of run configs, each trained into a run directory of its
// own (<out>/<config name>) by a `netwright train` — or `netwright resume` — process, whose output
// goes to <run>/batch.log; a summary table (or --json) at the end. Re-running a batch skips the
// runs that finished and resumes the interrupted ones from their newest checkpoint, so a batch
// killed anywhere ends bit-identical to one that never was (the queue: cli/run_queue.h). A sweep
// spec among the configs stands for its trials (cli/sweep_spec.h). Layer: app/cli.
#pragma once

#include <QStringList>

namespace netwright::cli {

// Exit codes: 0 every run finished, 1 a run failed (the others still ran) or bad input,
// 2 usage, 130 stopped by SIGINT/SIGTERM (the running run saved a checkpoint first).
int runBatchCommand(const QStringList &arguments);

} // namespace netwright::cli
