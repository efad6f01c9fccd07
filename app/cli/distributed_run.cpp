// SPDX-License-Identifier: Apache-2.0
#include "cli/distributed_run.h"

#include "config/run_config.h"
#include "core/error.h"
#include "train/training_setup.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace netwright::cli {

DistributedRun DistributedRun::joinIfLaunched()
{
    DistributedRun run;
    if (launchedByMpiLauncher() && launcherWorldSize() > 1)
        run.m_comm = joinMpiWorld();
    return run;
}

void DistributedRun::abort(int code) const
{
    if (m_comm)
        m_comm->abort(code);
    std::exit(code);
}

int DistributedRun::fail(const char *command, const std::string &message) const
{
    std::fflush(stdout);
    if (m_comm && !isRoot())
        std::this_thread::sleep_for(std::chrono::seconds(2));
    std::fprintf(stderr, "netwright %s%s: %s\n", command, where().c_str(), message.c_str());
    std::fflush(stderr);
    if (m_comm)
        abort(1);
    return 1;
}

std::string DistributedRun::where() const
{
    return m_comm ? " (rank " + std::to_string(rank()) + " of " + std::to_string(size()) + ")" : std::string();
}

std::string DistributedRun::fromRoot(std::string value) const
{
    if (m_comm)
        m_comm->broadcast(value, 0);
    return value;
}

void DistributedRun::checkSameConfig(const RunConfig &config) const
{
    if (!m_comm)
        return;
    const std::string mine = runConfigToJson(config);
    const std::string root = fromRoot(mine);
    if (root != mine)
        throw Error("this rank resolved a different run config than rank 0 (other options or config file); every rank must "
                    "run the same command.");
}

int DistributedRun::threadsPerRank(int threads) const
{
    if (threads > 0 || !m_comm)
        return threads;
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    return std::max(1, cores / std::max(1, m_comm->localSize()));
}

std::unique_ptr<Trainer> DistributedRun::makeTrainer(const RunConfig &config, const TrainingData &data) const
{
    checkSameConfig(config);
    RunConfig perRank = config;
    perRank.training.threads = threadsPerRank(config.training.threads);
    if (m_comm && config.training.device == "cuda") // one GPU per rank, round robin over this machine's
        perRank.training.device = "cuda:" + std::to_string(m_comm->rank() % startDevice(Device::cuda(0)));
    auto trainer = netwright::makeTrainer(perRank, data);
    trainer->setCommunicator(m_comm.get());
    // Ranks on GPUs of their own sum their gradients there (NCCL) when the backend can; ranks
    // sharing a GPU (NCCL refuses that) sum through MPI.
    const Device device = parseDevice(perRank.training.device);
    if (m_comm && device.type != DeviceType::Cpu && m_comm->localSize() <= startDevice(device))
        trainer->setDeviceCollective(makeDeviceCollective(*m_comm, device));
    return trainer;
}

} // namespace netwright::cli
