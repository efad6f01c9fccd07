// SPDX-License-Identifier: Apache-2.0
// What the MPI launchers put in a rank's environment; read without initialising MPI, so a plain
// `netwright train` never loads the MPI runtime.
#include "dist/communicator.h"

#include "core/error.h"

#include <cstdlib>
#include <string>

namespace netwright {

namespace {
// Open MPI, then PMIx (Open MPI 5, srun --mpi=pmix), then PMI-1/2 (MPICH, Intel MPI, srun).
constexpr const char *kSizeVariables[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE", "MPI_LOCALNRANKS"};
constexpr const char *kRankVariables[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"};
} // namespace

bool launchedByMpiLauncher()
{
    for (const char *v : kRankVariables)
        if (std::getenv(v))
            return true;
    return false;
}

int launcherWorldSize()
{
    for (const char *v : kSizeVariables)
        if (const char *s = std::getenv(v)) {
            const int n = std::atoi(s);
            if (n > 0)
                return n;
        }
    return 1;
}

#ifndef NETWRIGHT_HAVE_MPI
bool mpiAvailable()
{
    return false;
}

std::unique_ptr<Communicator> joinMpiWorld()
{
    throw Error("This netwright was built without MPI (NETWRIGHT_WITH_MPI=OFF), so it cannot train as one of "
                + std::to_string(launcherWorldSize()) + " ranks; rebuild with Open MPI installed (libopenmpi-dev).");
}
#endif

} // namespace netwright
