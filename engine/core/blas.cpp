// SPDX-License-Identifier: Apache-2.0
#include "core/blas.h"

#include "core/cpu_level.h"
#include "core/error.h"
#include "core/parallel.h"

#include <oneapi/dnnl/dnnl.h>
#include <omp.h>

#include <algorithm>
#include <string>

namespace netwright::blas {

void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
          const float *B, int64_t ldb, float beta, float *C, int64_t ldc)
{
    if (M <= 0 || N <= 0)
        return;
    cpu::activeLevel(); // fixes oneDNN's instruction set before its first kernel
    if (K <= 0) { // no products: C = beta * C (beta == 0 clears, NaN-safe)
        for (int64_t i = 0; i < M; ++i) {
            float *row = C + i * ldc;
            if (beta == 0.0f)
                std::fill(row, row + N, 0.0f);
            else
                for (int64_t j = 0; j < N; ++j)
                    row[j] *= beta;
        }
        return;
    }
    // oneDNN threads with OpenMP over the calling thread's team size (one thread inside a
    // parallel region): make it ours, whichever thread trains.
    if (!inParallelRegion() && omp_get_max_threads() != threadCount())
        omp_set_num_threads(threadCount());
    const dnnl_status_t status = dnnl_sgemm(transA ? 'T' : 'N', transB ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    check(status == dnnl_success, "matrix multiply " + std::to_string(M) + "x" + std::to_string(K) + " by "
                                      + std::to_string(K) + "x" + std::to_string(N) + " failed in oneDNN (status "
                                      + std::to_string(static_cast<int>(status)) + ").");
}

} // namespace netwright::blas
