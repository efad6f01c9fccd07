// SPDX-License-Identifier: Apache-2.0
// The queue `batch` and `sweep` share: run configs, each trained into a run directory of its own
// by a `netwright train` — or `netwright resume` — child process whose output goes to
// <run>/batch.log, N at a time. What makes it resumable lives here, once: a run whose metrics log
// ends finished is skipped, one with a checkpoint is resumed from it (bit for bit), one killed
// before its first checkpoint is cleared and started again, and one another process trains now
// (its run directory's training lock is held) is waited for, never started twice. Layer: app/cli.
#pragma once

#include "run/run_summary.h"

#include <QString>

#include <vector>

namespace netwright::cli {

struct QueuedRun {
    QString name, config, dir; // name: what the progress lines call it
    QString status;            // trained, resumed, finished before, stopped, failed (…), not started
    int exitCode = 0;
    double seconds = 0;        // this queue's time on it
    run::RunSummary results;        // what its logs say, read after it ran (or was skipped)
    bool failed() const { return status.startsWith(QLatin1String("failed")); }
};

struct QueueOptions {
    int parallel = 1;   // children at once
    bool quiet = false; // no progress lines (--json)
};

// Runs the queue to its end, or until SIGINT/SIGTERM: then each running child is sent SIGTERM (it
// saves a checkpoint and exits 130) and the runs not started are "not started". Returns how many
// failed; a failed run does not stop the others.
int runQueue(std::vector<QueuedRun> &runs, const QueueOptions &options);
// Whether the last runQueue() was stopped by a signal.
bool queueStopped();

} // namespace netwright::cli
