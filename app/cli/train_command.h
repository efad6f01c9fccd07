// SPDX-License-Identifier: Apache-2.0
// `netwright train`: runs the configured training headless and writes a run directory.
// Layer: app/cli. Returns the process exit code (see README: 0 done, 1 error, 2 usage, 130 stopped).
#pragma once

#include <QStringList>

#include <cstdint>
#include <cstdio>
#include <string>

namespace netwright {
struct RunConfig;
class Trainer;
} // namespace netwright

namespace netwright::cli {

class DistributedRun;

int runTrainCommand(const QStringList &arguments);

struct ResumePoint {
    std::string file;         // the checkpoint restored (empty: none, start from the beginning)
    int64_t lastStepSave = 0; // where the save_checkpoint_steps chain stood
};
// Restores the newest valid checkpoint in `dir` into `trainer` and cuts dir's metrics log back to
// it; with no checkpoint, the run starts over (and the metrics log is emptied). With
// checkpoint.format "cntk" the checkpoint is found by CNTK's restore scan.
// `out` gets the one line it prints. Data-parallel: rank 0 chooses the checkpoint and trims the
// log, every rank restores the same file.
ResumePoint restoreNewest(const RunConfig &config, Trainer &trainer, const std::string &dir, std::FILE *out,
                          const DistributedRun &dist);
ResumePoint restoreNewest(const RunConfig &config, Trainer &trainer, const std::string &dir, std::FILE *out = stdout);
// Trains `trainer` into run directory `dir` with progress, the metrics log (appended to when
// resuming) and the checkpoint policy; SIGINT/SIGTERM stop after the current step and save.
// Returns the exit code. json: the progress and the summary lines go to stderr, and stdout gets
// one JSON object with the result (run directory, global step, epochs, stopped, newest
// checkpoint, final test metrics).
// Data-parallel: rank 0 does all of the above; the other ranks train and print nothing.
int runTrainingSession(const RunConfig &config, Trainer &trainer, const QString &dir, const std::string &resumedFrom,
                       int64_t lastStepSave, bool json, const DistributedRun &dist);
int runTrainingSession(const RunConfig &config, Trainer &trainer, const QString &dir, const std::string &resumedFrom,
                       int64_t lastStepSave, bool json = false);

} // namespace netwright::cli
