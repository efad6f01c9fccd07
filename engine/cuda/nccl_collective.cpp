// SPDX-License-Identifier: Apache-2.0
// Data-parallel gradient sums on GPUs through NCCL: the ranks of an MPI job agree on an NCCL
// unique id over the host communicator, and each rank's gradients are then summed in device
// memory without a trip through the host. Layer: engine/cuda (built when NCCL is found beside
// the CUDA toolkit). NCCL's ring all-reduce gives every rank the same bits, as the trainer needs.
#include "cuda/cuda_device.h"

#include "core/error.h"
#include "dist/communicator.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <cstring>

namespace netwright::cuda {

namespace {

void checkNccl(ncclResult_t status, const char *what)
{
    if (status != ncclSuccess)
        throw Error(std::string("NCCL ") + what + " failed: " + ncclGetErrorString(status) + ".");
}

class NcclCollective final : public DeviceCollective {
public:
    NcclCollective(Communicator &host, Device device) : m_device(device)
    {
        ncclUniqueId id{};
        if (host.rank() == 0)
            checkNccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
        std::string bytes(reinterpret_cast<const char *>(&id), sizeof id);
        host.broadcast(bytes, 0);
        check(bytes.size() == sizeof id, "The NCCL id from rank 0 has " + std::to_string(bytes.size()) + " bytes, expected "
                                             + std::to_string(sizeof id) + ".");
        std::memcpy(&id, bytes.data(), sizeof id);
        if (cudaSetDevice(device.index) != cudaSuccess)
            throw Error("Cannot select " + device.toString() + " for NCCL.");
        checkNccl(ncclCommInitRank(&m_comm, host.size(), id, host.rank()), "ncclCommInitRank");
    }
    ~NcclCollective() override
    {
        if (m_comm)
            ncclCommDestroy(m_comm);
    }
    Device device() const override { return m_device; }
    void allReduceSum(float *deviceData, size_t count) override
    {
        // The default stream, as the kernels: NCCL starts after them and the next kernels after it.
        checkNccl(ncclAllReduce(deviceData, deviceData, count, ncclFloat, ncclSum, m_comm, nullptr), "ncclAllReduce");
        synchronize(); // a failed rank surfaces here, not in a later kernel
    }

private:
    Device m_device;
    ncclComm_t m_comm = nullptr;
};

std::unique_ptr<DeviceCollective> makeNccl(Communicator &host, Device device)
{
    return std::make_unique<NcclCollective>(host, device);
}

} // namespace

void registerNcclCollective()
{
    registerDeviceCollectiveFactory(DeviceType::Cuda, &makeNccl);
}

} // namespace netwright::cuda
