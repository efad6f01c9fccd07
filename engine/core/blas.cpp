// SPDX-License-Identifier: Apache-2.0
#include "core/blas.h"

#include "core/cpu_level.h"
#include "core/dnnl_common.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/small_gemm_isa.h"

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl.hpp>
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace netwright::blas {

namespace {

thread_local Precision t_precision = Precision::Fp32;

uint16_t roundToBf16(float f)
{
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) // NaN: keep it a (quiet) NaN
        return static_cast<uint16_t>((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u); // round to nearest, ties to even
    return static_cast<uint16_t>(u >> 16);
}

void convertPortable(const float *src, uint16_t *dst, int64_t n)
{
    for (int64_t i = 0; i < n; ++i)
        dst[i] = roundToBf16(src[i]);
}

// AVX512-BF16's VCVTNE2PS2BF16 rounds to nearest even in one instruction (denormals to zero, as
// the bf16 matmul kernels also treat them). Only called where cpu::hasBf16().
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16"))) void convertNative(const float *src, uint16_t *dst, int64_t n)
{
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512bh r = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + i + 16), _mm512_loadu_ps(src + i));
        _mm512_storeu_si512(dst + i, reinterpret_cast<__m512i>(r));
    }
    for (; i < n; i += 16) {
        const int64_t left = std::min<int64_t>(16, n - i);
        const __mmask16 m = static_cast<__mmask16>((1u << left) - 1u);
        const __m256bh r = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src + i));
        _mm256_mask_storeu_epi16(dst + i, m, reinterpret_cast<__m256i>(r));
    }
}

void convert(const float *src, uint16_t *dst, int64_t n)
{
    static const bool native = cpu::hasBf16();
    if (native)
        convertNative(src, dst, n);
    else
        convertPortable(src, dst, n);
}

// rows × cols floats with row stride ld → a dense rows × cols bfloat16 block; over the threads
// when it is big (a row's rounding does not depend on who converts it).
void convertBlock(const float *src, int64_t rows, int64_t cols, int64_t ld, uint16_t *dst)
{
    parallelFor(rows, [=](int64_t r0, int64_t r1, int) {
        if (ld == cols) {
            convert(src + r0 * ld, dst + r0 * cols, (r1 - r0) * cols);
            return;
        }
        for (int64_t r = r0; r < r1; ++r)
            convert(src + r * ld, dst + r * cols, cols);
    }, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, cols)));
}

// Products below this many multiply-adds run on the calling thread alone.
constexpr int64_t kSerialBelow = 64 * 64 * 64;

// One matmul primitive per shape, per thread: made on a thread's first multiply of that shape
// (oneDNN's own primitive cache makes a second thread's cheap), reused by every later step.
using Key = std::tuple<bool, bool, int64_t, int64_t, int64_t, int64_t, float, float, int>;

struct KeyHash {
    size_t operator()(const Key &k) const
    {
        size_t h = std::hash<int64_t>()(std::get<2>(k));
        auto mix = [&h](size_t v) { h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); };
        mix(std::get<0>(k) * 2 + std::get<1>(k));
        mix(std::hash<int64_t>()(std::get<3>(k)));
        mix(std::hash<int64_t>()(std::get<4>(k)));
        mix(std::hash<int64_t>()(std::get<5>(k)));
        mix(std::hash<float>()(std::get<6>(k)));
        mix(std::hash<float>()(std::get<7>(k)));
        mix(static_cast<size_t>(std::get<8>(k)));
        return h;
    }
};

// The memory objects are made once with the primitive and pointed at each call's buffers, so a
// multiply allocates nothing.
struct Matmul {
    dnnl::matmul primitive;
    dnnl::memory src, weights, dst, scratchpad;
    size_t scratchpadBytes = 0;
    std::unordered_map<int, dnnl::memory> args;
};

using dnnlutil::cpuEngine;

// A batched fp32 product: transposes, batch, M, N, K, lda, ldb, ldc, the three batch strides, alpha,
// beta, threads.
struct BatchedKey {
    bool transA, transB;
    int64_t dims[10];
    float alpha, beta;
    int threads;
    bool operator==(const BatchedKey &o) const
    {
        return transA == o.transA && transB == o.transB && std::equal(dims, dims + 10, o.dims) && alpha == o.alpha
            && beta == o.beta && threads == o.threads;
    }
};

struct BatchedKeyHash {
    size_t operator()(const BatchedKey &k) const
    {
        size_t h = static_cast<size_t>(k.transA * 2 + k.transB) ^ (static_cast<size_t>(k.threads) << 3);
        auto mix = [&h](size_t v) { h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); };
        for (int64_t d : k.dims)
            mix(std::hash<int64_t>()(d));
        mix(std::hash<float>()(k.alpha));
        mix(std::hash<float>()(k.beta));
        return h;
    }
};

struct ThreadState {
    std::unordered_map<Key, Matmul, KeyHash> matmuls;
    std::unordered_map<BatchedKey, Matmul, BatchedKeyHash> batched;
    std::vector<uint16_t> a, b; // the bf16 copies of A and B
    std::vector<uint8_t> scratchpad;
    dnnl::stream stream{cpuEngine()};
};

ThreadState &threadState()
{
    thread_local ThreadState state;
    return state;
}

// The shared part of a matmul primitive: memory objects without buffers, the user scratchpad.
Matmul finishMatmul(const dnnl::memory::desc &src, const dnnl::memory::desc &weights, const dnnl::memory::desc &dst,
                    float alpha, float beta)
{
    dnnl::primitive_attr attr = dnnlutil::userScratchpad();
    if (alpha != 1.0f)
        attr.set_output_scales(0, {alpha});
    if (beta != 0.0f) {
        dnnl::post_ops ops;
        ops.append_sum(beta);
        attr.set_post_ops(ops);
    }
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, weights, dst), attr, cpuEngine());
    Matmul m;
    m.primitive = dnnl::matmul(pd);
    dnnl::engine &e = cpuEngine();
    m.src = dnnl::memory(src, e, DNNL_MEMORY_NONE);
    m.weights = dnnl::memory(weights, e, DNNL_MEMORY_NONE);
    m.dst = dnnl::memory(dst, e, DNNL_MEMORY_NONE);
    m.args = {{DNNL_ARG_SRC, m.src}, {DNNL_ARG_WEIGHTS, m.weights}, {DNNL_ARG_DST, m.dst}};
    m.scratchpadBytes = pd.scratchpad_desc().get_size();
    if (m.scratchpadBytes) {
        m.scratchpad = dnnl::memory(pd.scratchpad_desc(), e, DNNL_MEMORY_NONE);
        m.args.emplace(DNNL_ARG_SCRATCHPAD, m.scratchpad);
    }
    return m;
}

// Runs m on the calling thread's stream with these buffers.
void runMatmul(ThreadState &s, Matmul &m, const void *src, const void *weights, float *dst)
{
    if (s.scratchpad.size() < m.scratchpadBytes)
        s.scratchpad.resize(m.scratchpadBytes);
    m.src.set_data_handle(const_cast<void *>(src));
    m.weights.set_data_handle(const_cast<void *>(weights));
    m.dst.set_data_handle(dst);
    if (m.scratchpadBytes)
        m.scratchpad.set_data_handle(s.scratchpad.data());
    m.primitive.execute(s.stream, m.args);
    s.stream.wait();
}

Matmul makeMatmul(bool transA, bool transB, int64_t M, int64_t N, int64_t K, int64_t ldc, float alpha, float beta)
{
    using dt = dnnl::memory::data_type;
    // The bf16 copies are dense and keep A's and B's orientation: a transposed operand is read
    // through its strides, not copied transposed.
    const dnnl::memory::dims srcStrides = transA ? dnnl::memory::dims{1, M} : dnnl::memory::dims{K, 1};
    const dnnl::memory::dims weightStrides = transB ? dnnl::memory::dims{1, K} : dnnl::memory::dims{N, 1};
    const dnnl::memory::desc src({M, K}, dt::bf16, srcStrides), weights({K, N}, dt::bf16, weightStrides);
    const dnnl::memory::desc dst({M, N}, dt::f32, dnnl::memory::dims{ldc, 1});
    return finishMatmul(src, weights, dst, alpha, beta);
}

void gemmBf16(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
              const float *B, int64_t ldb, float beta, float *C, int64_t ldc)
{
    ThreadState &s = threadState();
    // oneDNN fixes a primitive's thread count when it is made and opens a parallel region for
    // every run: a small product runs on one thread, as sgemm would choose, and the primitive is
    // made (and cached) for the team size the scope gives.
    const SerialBelow team(M * N * K, kSerialBelow);
    const Key key{transA, transB, M, N, K, ldc, alpha, beta, team.threads()};
    auto it = s.matmuls.find(key);
    if (it == s.matmuls.end())
        it = s.matmuls.emplace(key, makeMatmul(transA, transB, M, N, K, ldc, alpha, beta)).first;
    if (s.a.size() < static_cast<size_t>(M * K))
        s.a.resize(static_cast<size_t>(M * K));
    if (s.b.size() < static_cast<size_t>(K * N))
        s.b.resize(static_cast<size_t>(K * N));
    if (transA)
        convertBlock(A, K, M, lda, s.a.data());
    else
        convertBlock(A, M, K, lda, s.a.data());
    if (transB)
        convertBlock(B, N, K, ldb, s.b.data());
    else
        convertBlock(B, K, N, ldb, s.b.data());
    runMatmul(s, it->second, s.a.data(), s.b.data(), C);
}

// The fp32 batch as one matmul primitive over [batch, M, K] · [batch, K, N], each operand read
// in place through its strides (a transposed one included).
void gemmBatchedFp32(bool transA, bool transB, int64_t batch, int64_t M, int64_t N, int64_t K, float alpha,
                     const float *A, int64_t lda, int64_t strideA, const float *B, int64_t ldb, int64_t strideB,
                     float beta, float *C, int64_t ldc, int64_t strideC)
{
    ThreadState &s = threadState();
    const SerialBelow team(batch * M * N * K, kSerialBelow);
    const BatchedKey key{transA, transB, {batch, M, N, K, lda, ldb, ldc, strideA, strideB, strideC}, alpha, beta, team.threads()};
    if (s.batched.size() >= 64 && !s.batched.count(key)) // shapes that vary run to run: keep the cache bounded
        s.batched.clear();
    auto it = s.batched.find(key);
    if (it == s.batched.end()) {
        using dt = dnnl::memory::data_type;
        using dims = dnnl::memory::dims;
        const dnnl::memory::desc src({batch, M, K}, dt::f32, transA ? dims{strideA, 1, lda} : dims{strideA, lda, 1});
        const dnnl::memory::desc weights({batch, K, N}, dt::f32, transB ? dims{strideB, 1, ldb} : dims{strideB, ldb, 1});
        const dnnl::memory::desc dst({batch, M, N}, dt::f32, dims{strideC, ldc, 1});
        it = s.batched.emplace(key, finishMatmul(src, weights, dst, alpha, beta)).first;
    }
    runMatmul(s, it->second, A, B, C);
}

} // namespace

Precision precision() { return t_precision; }

bool fp32ByMatmulPrimitive(bool transA, bool transB, int64_t M, int64_t N, int64_t K)
{
    // oneDNN's sgemm multiplies A·Bᵀ (a Linear layer's forward: both operands read along the inner
    // dimension) far below the matmul primitive's brgemm kernels once that dimension is long.
    // Measured 2026-12-07 on the 2-core AVX-512 EPYC (2 threads, medians of 200 runs, sgemm time /
    // primitive time, operands hot and cold in cache): 64×3136·3136×128 1.27–2.08 / 1.22–1.56,
    // 64×2048·2048×512 2.67 / 2.35, 64×2048·2048×1000 2.83 / 2.56, 256×2048·2048×256 2.31 / 1.92,
    // 64×512·512×256 2.18 / 1.31, 2048×1024·1024×256 1.31 / 1.20, 8×2048·2048×512 1.07 / 1.14;
    // but 1 or 4 rows 0.31–0.80, 10 columns 0.78–1.35, and a short inner dimension (a ViT's 64 or
    // 256) or another layout (A·B, Aᵀ·B: the layer's gradients) 0.68–1.15.
    return !transA && transB && K >= 512 && M >= 8 && N >= 16;
}

bool runsInBf16(int64_t M, int64_t N, int64_t K, bool transA)
{
    const cpu::Level level = cpu::activeLevel();
    if (level < cpu::Level::Avx512Bf16 || M <= 0 || N <= 0 || K <= 0)
        return false;
    if (level >= cpu::Level::Amx)
        return true;
    // Converting A and B is a pass over M·K + K·N elements, and AVX512-BF16's dot products are at
    // most twice sgemm's: a product has to do enough multiply-adds per converted element, M·N/(M+N)
    // of them, or run over enough rows that B's bf16 copy is reused (oneDNN's bf16 kernels
    // re-block B for every call; with few rows that costs more than the halved multiplies save).
    // Measured on a 2-core AVX512-BF16 EPYC (docs/benchmarks.md, "Which products run in bf16"):
    // 1.2–2× sgemm at M·N/(M+N) ≥ 128 or M ≥ 1024 with N, K ≥ 64; 0.4–1.0× for weight gradients
    // (M ≤ 256, K ≥ 2048), a 3136-wide data gradient of 64 rows, 512 rows of 64×64, 32-wide outputs.
    // A long inner dimension read along A's rows gains too, whatever the layer: 1.34–1.54× for
    // cnn-small's 64×3136 · 3136×128ᵀ forward, 1.85–2.07× for 64×1024 · 1024×{288,576}ᵀ (per-image
    // weight gradients of im2col Conv and ConvTranspose), 0.97–1.68× for 256×1024 · 1024×128
    // (2026-12-07 evening). Weight gradients that read A transposed over the rows do not gain.
    const double perElement = static_cast<double>(M) * static_cast<double>(N) / static_cast<double>(M + N);
    return perElement >= 128.0 || (M >= 1024 && N >= 64 && K >= 64) || (!transA && K >= 1024 && perElement >= 32.0);
}

PrecisionScope::PrecisionScope(Precision p) : m_previous(t_precision)
{
    // Made on every worker of every parallel region: the message is built only when it is thrown.
    if (p == Precision::Bf16 && !cpu::hasBf16())
        throw Error("bf16 matrix multiplies need a CPU with AVX512-BF16 or AMX; this one (" + cpu::cpuModelName()
                    + ") runs the " + std::string(cpu::levelName(cpu::activeLevel())) + " level.");
    t_precision = p;
}

PrecisionScope::~PrecisionScope() { t_precision = m_previous; }

const char *precisionName(Precision p) { return p == Precision::Bf16 ? "bf16" : "fp32"; }

void toBf16(const float *src, uint16_t *dst, int64_t n) { convert(src, dst, n); }

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
    dnnlutil::prepareThreads();
    if (t_precision == Precision::Bf16 && runsInBf16(M, N, K, transA)) {
        try {
            gemmBf16(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        } catch (const dnnl::error &e) {
            throw Error("bf16 matrix multiply " + std::to_string(M) + "x" + std::to_string(K) + " by " + std::to_string(K) + "x"
                        + std::to_string(N) + " failed in oneDNN: " + e.what());
        }
        return;
    }
    if (fp32ByMatmulPrimitive(transA, transB, M, N, K)) {
        try {
            gemmBatchedFp32(transA, transB, 1, M, N, K, alpha, A, lda, M * lda, B, ldb, N * ldb, beta, C, ldc, M * ldc);
        } catch (const dnnl::error &e) {
            throw Error("matrix multiply " + std::to_string(M) + "x" + std::to_string(K) + " by " + std::to_string(K) + "x"
                        + std::to_string(N) + " failed in oneDNN: " + e.what());
        }
        return;
    }
    const dnnl_status_t status = dnnl_sgemm(transA ? 'T' : 'N', transB ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    if (status != dnnl_success) // the message only when it is thrown: this runs thousands of times a step
        throw Error("matrix multiply " + std::to_string(M) + "x" + std::to_string(K) + " by " + std::to_string(K) + "x"
                    + std::to_string(N) + " failed in oneDNN (status " + std::to_string(static_cast<int>(status)) + ").");
}

bool usesSmallGemm(int64_t M, int64_t N, int64_t K)
{
    return M <= kSmallGemmMax && N <= kSmallGemmMax && K >= 1 && K <= kSmallGemmMax;
}

bool parallelOverBatches(int64_t batches, int64_t M, int64_t N, int64_t K)
{
    return batches >= 2 && batches >= threadCount() && M * N * K <= (int64_t(1) << 22);
}

void gemmBatched(bool transA, bool transB, int64_t batch, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                 int64_t lda, int64_t strideA, const float *B, int64_t ldb, int64_t strideB, float beta, float *C,
                 int64_t ldc, int64_t strideC)
{
    if (batch <= 0 || M <= 0 || N <= 0)
        return;
    if (batch >= 2 && usesSmallGemm(M, N, K)) {
        const SmallGemmBatch run = smallGemmBatch(); // no oneDNN here: the level alone picks the kernel
        const int64_t perMatrix = M * N * K;
        parallelFor(batch, [&](int64_t i0, int64_t i1, int) {
            run(transA, transB, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC, i0, i1);
        }, std::max<int64_t>(1, 32768 / perMatrix));
        return;
    }
    if (batch == 1 || K <= 0 || (t_precision == Precision::Bf16 && runsInBf16(M, N, K, transA))) {
        // One GEMM per matrix; many small ones go parallel over the batch (each on one thread).
        auto one = [&](int64_t i) {
            gemm(transA, transB, M, N, K, alpha, A + i * strideA, lda, B + i * strideB, ldb, beta, C + i * strideC, ldc);
        };
        if (parallelOverBatches(batch, M, N, K))
            parallelFor(batch, [&](int64_t i0, int64_t i1, int) {
                for (int64_t i = i0; i < i1; ++i)
                    one(i);
            });
        else
            for (int64_t i = 0; i < batch; ++i)
                one(i);
        return;
    }
    dnnlutil::prepareThreads();
    try {
        gemmBatchedFp32(transA, transB, batch, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC);
    } catch (const dnnl::error &e) {
        throw Error("batched matrix multiply " + std::to_string(batch) + " x " + std::to_string(M) + "x" + std::to_string(K)
                    + " by " + std::to_string(K) + "x" + std::to_string(N) + " failed in oneDNN: " + e.what());
    }
}

} // namespace netwright::blas
