// SPDX-License-Identifier: Apache-2.0
// Checkpoint save/load throughput against the plain file operations on the same bytes, in one
// process: a 256 MiB training state (32 float32 tensors of 8 MiB) saved with writeCkpt (temp file,
// write, fsync, rename, directory fsync) vs write + fsync of the raw tensor bytes; loaded with
// readCkpt (parse, CRC-free, into fresh tensors) vs a plain read() of the same tensor bytes into
// fresh tensors of the same shapes, which the program keeps (same allocation, same huge pages).
// Page cache dropped before each read (posix_fadvise DONTNEED); files recreated each round, written
// and read in alternating order; every large allocation a fresh mmap. The best round counts.
// usage: netwright_checkpoint_bench [DIR] [rounds] [--load-only]
#include "checkpoint/checkpoint_manager.h"
#include "core/error.h"
#include "formats/mindspore/ckpt_file.h"
#include "train/training_setup.h"

#include <chrono>
#include <filesystem>
#include <stop_token>
#include <memory>
#include <cstdio>
#include <cstring>
#include <malloc.h>
#include <fcntl.h>
#include <string>
#include <unistd.h>
#include <vector>

using namespace netwright;
using Clock = std::chrono::steady_clock;

namespace {

double seconds(Clock::time_point a, Clock::time_point b)
{
    return std::chrono::duration<double>(b - a).count();
}

void dropCache(const std::string &path)
{
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd >= 0) {
        ::fdatasync(fd);
        ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        ::close(fd);
    }
}

void plainWrite(const std::string &path, const std::vector<mindspore::CkptEntry> &entries)
{
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    for (const auto &e : entries) {
        const char *p = static_cast<const char *>(e.tensor.raw());
        size_t left = e.tensor.byteSize();
        while (left) {
            const ssize_t n = ::write(fd, p, left);
            if (n <= 0)
                throw Error("plain write failed");
            p += n;
            left -= static_cast<size_t>(n);
        }
    }
    ::fsync(fd);
    ::close(fd);
}

// The file streamed through one reused 8 MiB buffer: raw read speed, nothing kept in memory.
double streamRead(const std::string &path)
{
    std::vector<char> buffer(8 << 20);
    const int fd = ::open(path.c_str(), O_RDONLY);
    auto a = Clock::now();
    while (::read(fd, buffer.data(), buffer.size()) > 0) {
    }
    const double t = seconds(a, Clock::now());
    ::close(fd);
    return t;
}

// The whole file into one fresh (uninitialised) new[] buffer of 4 KiB pages: every page faulted
// in on first touch (65,536 faults for 256 MiB). Shown for reference; tensors are not allocated so.
size_t plainReadSmallPages(const std::string &path, std::unique_ptr<char[]> &buffer, size_t size)
{
    buffer.reset(new char[size]);
    const int fd = ::open(path.c_str(), O_RDONLY);
    size_t total = 0;
    while (total < size) {
        const ssize_t n = ::read(fd, buffer.get() + total, std::min<size_t>(size - total, 8 << 20));
        if (n <= 0)
            break;
        total += static_cast<size_t>(n);
    }
    ::close(fd);
    return total;
}

// The baseline of the load: the same bytes read() into fresh tensors shaped like the checkpoint's
// (32 x 8 MiB, allocated as every Tensor is: 2 MiB-aligned, transparent huge pages), which the
// program keeps. This is what any reader of these bytes into tensor memory must at least pay.
size_t plainReadIntoTensors(const std::string &path, std::vector<Tensor> &out, const std::vector<mindspore::CkptEntry> &like)
{
    out.clear();
    const int fd = ::open(path.c_str(), O_RDONLY);
    size_t total = 0;
    for (const auto &e : like) {
        out.emplace_back(e.tensor.shape(), e.tensor.dtype());
        char *p = static_cast<char *>(out.back().raw());
        size_t left = out.back().byteSize();
        while (left) {
            const ssize_t n = ::read(fd, p, left);
            if (n <= 0) {
                ::close(fd);
                return total;
            }
            p += n;
            left -= static_cast<size_t>(n);
            total += static_cast<size_t>(n);
        }
    }
    ::close(fd);
    return total;
}

// Steps/s of cnn-small on Fashion-MNIST (batch 64) for `steps` steps after a warm-up, with a
// checkpoint every `every` steps (0 = none), written synchronously or in the background.
class StepTimer final : public TrainingObserver {
public:
    StepTimer(int warmup, int steps, std::stop_source &stop) : m_warmup(warmup), m_steps(steps), m_stop(stop) {}
    void onStep(const StepInfo &s) override
    {
        if (s.globalStep == m_warmup)
            m_start = Clock::now();
        if (s.globalStep == m_warmup + m_steps) {
            m_seconds = seconds(m_start, Clock::now());
            m_stop.request_stop();
        }
    }
    double secondsPerStep() const { return m_seconds / m_steps; }

private:
    int m_warmup, m_steps;
    std::stop_source &m_stop;
    Clock::time_point m_start;
    double m_seconds = 0;
};

double trainSecondsPerStep(const TrainingData &data, const std::string &dir, int every, bool async)
{
    RunConfig c = defaultRunConfig();
    c.training.threads = 2;
    auto trainer = makeTrainer(c, data);
    std::stop_source stop;
    StepTimer timer(20, 300, stop);
    CheckpointSettings s;
    s.enabled = every > 0;
    s.saveCheckpointSteps = every;
    s.saveEveryEpoch = false;
    s.saveAtEnd = false;
    s.asyncSave = async;
    s.keepCheckpointMax = 2;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    CheckpointManager manager(*trainer, s, dir, "bench");
    trainer->addObserver(&timer);
    trainer->addObserver(&manager);
    trainer->run(stop.get_token());
    return timer.secondsPerStep();
}

} // namespace

int main(int argc, char **argv)
{
    std::vector<std::string> args;
    bool loadOnly = false;
    for (int i = 1; i < argc; ++i)
        (std::strcmp(argv[i], "--load-only") == 0 ? loadOnly = true : (args.emplace_back(argv[i]), false));
    const std::string dir = args.size() > 0 ? args[0] : ".";
    const int rounds = args.size() > 1 ? std::atoi(args[1].c_str()) : 3;
    // Every large allocation its own fresh mmap, given back on free, as in a process that has just
    // started to resume: otherwise glibc's adaptive threshold recycles the previous round's pages
    // into the next round's tensors and whichever side gets them skips its page faults.
    ::mallopt(M_MMAP_THRESHOLD, 1 << 20);
    ::mallopt(M_TRIM_THRESHOLD, 1 << 20);
    std::vector<mindspore::CkptEntry> entries;
    for (int i = 0; i < 32; ++i) {
        Tensor t({2048, 1024});
        for (int64_t k = 0; k < t.numel(); ++k)
            t.data()[k] = static_cast<float>((k * 2654435761u + i) % 1000) * 1e-3f;
        entries.push_back(mindspore::CkptEntry::ofTensor("layer" + std::to_string(i) + ".weight", t));
    }
    const double mib = 32.0 * 8.0;
    const size_t bytes = 32u * 8u * 1024u * 1024u;
    const std::string ckpt = dir + "/bench_state.ckpt", plain = dir + "/bench_plain.bin";
    double bestSave = 1e9, bestPlainWrite = 1e9, bestLoad = 1e9, bestPlainRead = 1e9, bestSmallPages = 1e9, bestStream = 1e9;
    std::vector<double> ratios;
    std::string roundTimes; // "load/plain ms" per round
    for (int r = 0; r < rounds; ++r) {
        // Fresh files each round, written in alternating order, so neither pays for the other.
        ::unlink(ckpt.c_str());
        ::unlink(plain.c_str());
        ::sync();
        double save = 0, plainW = 0;
        for (int k = 0; k < 2; ++k) {
            const bool ckptNow = (k == 0) == (r % 2 == 0);
            auto a = Clock::now();
            if (ckptNow)
                mindspore::writeCkpt(ckpt, entries);
            else
                plainWrite(plain, entries);
            (ckptNow ? save : plainW) = seconds(a, Clock::now());
            ::sync();
        }
        bestSave = std::min(bestSave, save);
        bestPlainWrite = std::min(bestPlainWrite, plainW);
        // The load and its baseline, each from a cold page cache into fresh memory, in alternating
        // order; a state is freed before the other side runs. One untimed pair goes first: here the
        // first read of each file after the writes, and the first read into fresh huge pages, ran
        // 2-7x slower than the next (the memory and the disk state the writes left behind), and the
        // side that went first would pay for it.
        {
            std::vector<Tensor> tensors;
            dropCache(plain);
            plainReadIntoTensors(plain, tensors, entries);
        }
        dropCache(ckpt);
        mindspore::readCkpt(ckpt);
        double load = 0, plainR = 0;
        for (int k = 0; k < 2; ++k) {
            const bool ckptNow = (k == 0) == (r % 2 == 0);
            dropCache(ckptNow ? ckpt : plain);
            if (ckptNow) {
                auto a = Clock::now();
                const auto loaded = mindspore::readCkpt(ckpt);
                load = seconds(a, Clock::now());
                bool same = loaded.entries.size() == entries.size();
                for (size_t i = 0; same && i < entries.size(); ++i)
                    same = loaded.entries[i].name == entries[i].name && loaded.entries[i].tensor.shape() == entries[i].tensor.shape()
                           && std::memcmp(loaded.entries[i].tensor.raw(), entries[i].tensor.raw(), entries[i].tensor.byteSize()) == 0;
                if (!same) {
                    std::fprintf(stderr, "checkpoint_bench: the state read back differs\n");
                    return 1;
                }
            } else {
                std::vector<Tensor> tensors;
                auto a = Clock::now();
                const size_t got = plainReadIntoTensors(plain, tensors, entries);
                plainR = seconds(a, Clock::now());
                if (got != bytes || std::memcmp(tensors[31].raw(), entries[31].tensor.raw(), entries[31].tensor.byteSize()) != 0) {
                    std::fprintf(stderr, "checkpoint_bench: the plain read differs\n");
                    return 1;
                }
            }
        }
        bestLoad = std::min(bestLoad, load);
        bestPlainRead = std::min(bestPlainRead, plainR);
        ratios.push_back(plainR / load);
        roundTimes += (roundTimes.empty() ? "" : ", ") + std::to_string(static_cast<int>(1e3 * load + 0.5)) + "/"
                      + std::to_string(static_cast<int>(1e3 * plainR + 0.5));
        {
            std::unique_ptr<char[]> buffer;
            dropCache(plain);
            auto a = Clock::now();
            const size_t got = plainReadSmallPages(plain, buffer, bytes);
            bestSmallPages = std::min(bestSmallPages, seconds(a, Clock::now()));
            if (got != bytes)
                return 1;
        }
        dropCache(plain);
        bestStream = std::min(bestStream, streamRead(plain));
    }
    ::unlink(ckpt.c_str());
    ::unlink(plain.c_str());
    std::string perRound;
    for (double x : ratios)
        perRound += (perRound.empty() ? "" : " ") + std::to_string(x).substr(0, 4);
    std::printf("256 MiB training state (32 x 8 MiB float32), %d rounds, best of each, directory %s\n", rounds, dir.c_str());
    std::printf("save  %7.0f MiB/s   plain write+fsync %7.0f MiB/s   ratio %.2f (target >= 0.80)\n", mib / bestSave,
                mib / bestPlainWrite, bestPlainWrite / bestSave);
    std::printf("load  %7.0f MiB/s   plain read        %7.0f MiB/s   ratio %.2f (target >= 0.90)   [same bytes into fresh tensors it keeps;"
                " rounds: %s]\n", mib / bestLoad, mib / bestPlainRead, bestPlainRead / bestLoad, perRound.c_str());
    std::printf("      per round, load/plain read in ms (ckpt first in even rounds): %s\n", roundTimes.c_str());
    std::printf("      plain read into new char[] (4 KiB pages) %7.0f MiB/s;  streamed through a reused 8 MiB buffer, keeping nothing, %7.0f MiB/s\n",
                mib / bestSmallPages, mib / bestStream);
    if (loadOnly)
        return 0;

    // Training slowdown from checkpoints every 10 steps (cnn-small, 3.4 MB state).
    const TrainingData data = loadTrainingData(defaultRunConfig());
    const std::string runDir = dir + "/bench_run";
    double none = 1e9, sync = 1e9, async = 1e9, async50 = 1e9;
    for (int r = 0; r < rounds; ++r) {
        none = std::min(none, trainSecondsPerStep(data, runDir, 0, false));
        async = std::min(async, trainSecondsPerStep(data, runDir, 10, true));
        sync = std::min(sync, trainSecondsPerStep(data, runDir, 10, false));
        async50 = std::min(async50, trainSecondsPerStep(data, runDir, 50, true));
    }
    std::filesystem::remove_all(runDir);
    std::printf("cnn-small step time (batch 64, 2 threads, 3.4 MB state): %.2f ms without checkpoints\n", 1e3 * none);
    std::printf("  a checkpoint every 10 steps: async %.2f ms (%+.1f %%, target <= 3 %%), sync %.2f ms (%+.1f %%)\n", 1e3 * async,
                100.0 * (async / none - 1.0), 1e3 * sync, 100.0 * (sync / none - 1.0));
    std::printf("  a checkpoint every 50 steps: async %.2f ms (%+.1f %%)\n", 1e3 * async50, 100.0 * (async50 / none - 1.0));
    return 0;
}
