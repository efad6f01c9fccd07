// SPDX-License-Identifier: Apache-2.0
// The collective operations data-parallel training needs, behind one small interface so the
// trainer never sees MPI (or NCCL). Layer: engine/dist. Every call is collective: all ranks make
// the same calls in the same order, from the thread that created the communicator.
#pragma once

#include "core/device.h"

#include <cstddef>
#include <memory>
#include <string>

namespace netwright {

class Communicator {
public:
    virtual ~Communicator() = default;
    virtual int rank() const = 0;
    virtual int size() const = 0;
    // Processes of this job on this machine (for sizing the kernel thread pool).
    virtual int localSize() const = 0;

    // In place: data[i] becomes the sum over ranks. Every rank gets the same bits (the reduction
    // order does not depend on the rank), so parameters updated from it stay identical.
    virtual void allReduceSum(float *data, size_t count) = 0;
    virtual void allReduceSum(double *data, size_t count) = 0;
    // all receives size() blocks of `bytes` bytes, rank order; mine is this rank's block.
    virtual void allGather(const void *mine, size_t bytes, void *all) = 0;
    // bytes of `root` replace bytes on every other rank (any length).
    virtual void broadcast(std::string &bytes, int root) = 0;
    // Ends the whole job: every rank exits with `code`. For an error one rank met alone, which
    // would otherwise leave the others waiting in the next collective.
    [[noreturn]] virtual void abort(int code) = 0;
};

// A sum over the ranks of device memory, for gradients that stay on the GPU (NCCL for CUDA).
// Collective like Communicator, and created collectively by every rank.
class DeviceCollective {
public:
    virtual ~DeviceCollective() = default;
    virtual Device device() const = 0;
    // In place, `count` floats of device memory on device(); every rank gets the same bits.
    virtual void allReduceSum(float *deviceData, size_t count) = 0;
};
// Registered by a device backend that has one (the CUDA backend, with NCCL).
using DeviceCollectiveFactory = std::unique_ptr<DeviceCollective> (*)(Communicator &host, Device device);
void registerDeviceCollectiveFactory(DeviceType type, DeviceCollectiveFactory factory);
// A device collective over the ranks of `host` on `device` (every rank calls it), or nullptr
// when the device's backend has none: the trainer then sums through host memory.
std::unique_ptr<DeviceCollective> makeDeviceCollective(Communicator &host, Device device);

// Whether this process was started by an MPI launcher (mpirun, mpiexec, srun with PMI/PMIx).
bool launchedByMpiLauncher();
// The world size the launcher announced, or 1.
int launcherWorldSize();
// Joins the MPI job this process belongs to (MPI_Init; MPI_Finalize when the communicator is
// destroyed). Throws Error when this build has no MPI (NETWRIGHT_WITH_MPI off).
std::unique_ptr<Communicator> joinMpiWorld();
// Whether this build can train over MPI.
bool mpiAvailable();

} // namespace netwright
