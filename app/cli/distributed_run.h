// SPDX-License-Identifier: Apache-2.0
// The data-parallel side of `train` and `resume`: a process started by mpirun (or another MPI
// launcher) with more than one rank joins the job here. Only rank 0 touches the run directory —
// the config, the metrics log, the checkpoints and the graph file — as MindSpore and CNTK do;
// the other ranks read the checkpoint rank 0 chose and train quietly. Layer: app/cli.
#pragma once

#include "dist/communicator.h"

#include <memory>
#include <string>

namespace netwright {
struct RunConfig;
struct TrainingData;
class Trainer;
}

namespace netwright::cli {

class DistributedRun {
public:
    // Joins the MPI job when the launcher started more than one rank; else a one-process run.
    // Throws Error when this build has no MPI.
    static DistributedRun joinIfLaunched();

    bool distributed() const { return m_comm != nullptr; }
    bool isRoot() const { return rank() == 0; }
    int rank() const { return m_comm ? m_comm->rank() : 0; }
    int size() const { return m_comm ? m_comm->size() : 1; }
    Communicator *communicator() const { return m_comm.get(); }
    // "" for one process, else " (rank 1 of 2)": appended to the command name in messages.
    std::string where() const;

    // Rank 0's `value` on every rank.
    std::string fromRoot(std::string value) const;
    // Fails on every rank whose config differs from rank 0's (they would train another model).
    void checkSameConfig(const RunConfig &config) const;
    // The kernel threads for each rank: `threads` if set, else the cores shared by the ranks on
    // this machine (2 ranks on 8 cores: 4 each), so ranks never oversubscribe the cores.
    int threadsPerRank(int threads) const;
    // The trainer this rank runs: checks the config against rank 0's, sizes the threads per
    // rank and joins the trainer to the job. One process: makeTrainer(config, data).
    std::unique_ptr<Trainer> makeTrainer(const RunConfig &config, const TrainingData &data) const;
    // An error on one rank ends the whole job (the others would wait for it forever).
    [[noreturn]] void abort(int code) const;
    // Says "netwright <command> (rank r of n): <message>" on stderr and, in a job, ends it. A rank
    // other than 0 waits two seconds first: an error every rank meets (a bad option, a busy run
    // directory) is then said once, by rank 0, whose abort ends the others; one that a rank meets
    // alone is still said by that rank. Returns 1 for a one-process run.
    int fail(const char *command, const std::string &message) const;

private:
    std::shared_ptr<Communicator> m_comm;
};

} // namespace netwright::cli
