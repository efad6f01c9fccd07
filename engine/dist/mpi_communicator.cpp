// SPDX-License-Identifier: Apache-2.0
// The Communicator over MPI (Open MPI here). Only this file includes <mpi.h>. Sums are reduced to
// rank 0 and broadcast from there, so every rank gets the same bits whatever reduction tree the
// MPI library picks — the parameters of all ranks then stay bit-identical.
#include "dist/communicator.h"

#include "core/error.h"

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstdio>
#include <vector>

namespace netwright {

namespace {

std::string mpiError(int code)
{
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    return std::string(text, static_cast<size_t>(length));
}

void checkMpi(int code, const char *what)
{
    if (code != MPI_SUCCESS)
        throw Error(std::string("MPI ") + what + " failed: " + mpiError(code) + ".");
}

// MPI counts are int: long buffers go in pieces.
constexpr size_t kChunk = size_t{1} << 28;

class MpiCommunicator final : public Communicator {
public:
    MpiCommunicator()
    {
        int initialised = 0;
        MPI_Initialized(&initialised);
        if (!initialised) {
            int provided = 0;
            checkMpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
            m_owner = true;
        }
        checkMpi(MPI_Comm_dup(MPI_COMM_WORLD, &m_comm), "MPI_Comm_dup");
        MPI_Comm_rank(m_comm, &m_rank);
        MPI_Comm_size(m_comm, &m_size);
        MPI_Comm local;
        checkMpi(MPI_Comm_split_type(m_comm, MPI_COMM_TYPE_SHARED, m_rank, MPI_INFO_NULL, &local), "MPI_Comm_split_type");
        MPI_Comm_size(local, &m_localSize);
        MPI_Comm_free(&local);
    }
    ~MpiCommunicator() override
    {
        MPI_Comm_free(&m_comm);
        if (m_owner)
            MPI_Finalize();
    }

    int rank() const override { return m_rank; }
    int size() const override { return m_size; }
    int localSize() const override { return m_localSize; }

    void allReduceSum(float *data, size_t count) override { reduceThenBroadcast(data, count, MPI_FLOAT, sizeof(float)); }
    void allReduceSum(double *data, size_t count) override { reduceThenBroadcast(data, count, MPI_DOUBLE, sizeof(double)); }

    void allGather(const void *mine, size_t bytes, void *all) override
    {
        check(bytes <= static_cast<size_t>(INT_MAX), "MPI allgather block too large.");
        checkMpi(MPI_Allgather(mine, static_cast<int>(bytes), MPI_BYTE, all, static_cast<int>(bytes), MPI_BYTE, m_comm),
                 "MPI_Allgather");
    }

    void broadcast(std::string &bytes, int root) override
    {
        unsigned long long length = bytes.size();
        checkMpi(MPI_Bcast(&length, 1, MPI_UNSIGNED_LONG_LONG, root, m_comm), "MPI_Bcast");
        bytes.resize(static_cast<size_t>(length));
        for (size_t at = 0; at < bytes.size(); at += kChunk)
            checkMpi(MPI_Bcast(bytes.data() + at, static_cast<int>(std::min(kChunk, bytes.size() - at)), MPI_BYTE, root, m_comm),
                     "MPI_Bcast");
    }

    [[noreturn]] void abort(int code) override
    {
        std::fflush(stdout);
        std::fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, code);
        std::_Exit(code); // MPI_Abort does not return; this is for the compiler
    }

private:
    void reduceThenBroadcast(void *data, size_t count, MPI_Datatype type, size_t elementSize)
    {
        char *p = static_cast<char *>(data);
        if (m_scratch.size() < std::min(count, kChunk) * elementSize && m_rank == 0)
            m_scratch.resize(std::min(count, kChunk) * elementSize);
        for (size_t at = 0; at < count; at += kChunk) {
            const int n = static_cast<int>(std::min(kChunk, count - at));
            char *chunk = p + at * elementSize;
            if (m_rank == 0) {
                checkMpi(MPI_Reduce(chunk, m_scratch.data(), n, type, MPI_SUM, 0, m_comm), "MPI_Reduce");
                std::copy(m_scratch.data(), m_scratch.data() + static_cast<size_t>(n) * elementSize, chunk);
            } else {
                checkMpi(MPI_Reduce(chunk, nullptr, n, type, MPI_SUM, 0, m_comm), "MPI_Reduce");
            }
            checkMpi(MPI_Bcast(chunk, n, type, 0, m_comm), "MPI_Bcast");
        }
    }

    MPI_Comm m_comm = MPI_COMM_NULL;
    int m_rank = 0, m_size = 1, m_localSize = 1;
    bool m_owner = false;
    std::vector<char> m_scratch;
};

} // namespace

bool mpiAvailable()
{
    return true;
}

std::unique_ptr<Communicator> joinMpiWorld()
{
    return std::make_unique<MpiCommunicator>();
}

} // namespace netwright
