// SPDX-License-Identifier: Apache-2.0
// `netwright train`: runs the configured training headless and writes a run directory.
// Layer: app/cli. Returns the process exit code (see README: 0 done, 1 error, 2 usage, 130 stopped).
#pragma once

#include <QStringList>

namespace netwright {
struct RunConfig;
class RunDirectory;
class Trainer;
} // namespace netwright

namespace netwright::cli {

class DistributedRun;

int runTrainCommand(const QStringList &arguments);

struct SessionStart {
    bool restore = false;     // restore the run's newest checkpoint (resume, checkpoint.restore)
    bool startOver = false;   // when every checkpoint is damaged: train from the beginning anyway
    bool writeConfig = false; // record the config (a new run, or train --out over a run)
};
// Trains `trainer` in run directory `dir` through a TrainingSession (the checkpoint restored
// when asked, the metrics log, the checkpoint policy, the breakpoint save, SIGINT/SIGTERM stop
// after the current step and save) with progress on the console. Returns the exit code. json:
// the progress and the summary lines go to stderr, and stdout gets one JSON object with the result
// (run directory, global step, epochs, stopped, newest checkpoint, final test metrics).
// Data-parallel: rank 0 chooses the checkpoint and writes; the other ranks train and print nothing.
int trainInRunDirectory(const RunConfig &config, Trainer &trainer, const RunDirectory &dir, const SessionStart &start, bool json,
                        const DistributedRun &dist);

} // namespace netwright::cli
