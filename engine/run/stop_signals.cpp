// SPDX-License-Identifier: Apache-2.0
#include "run/stop_signals.h"

#include "core/error.h"
#include "core/parallel.h"

#include <atomic>
#include <ctime>
#include <functional>
#include <thread>

#include <pthread.h>
#include <signal.h>

namespace netwright {

namespace {

std::atomic<int> g_received{0};
static_assert(std::atomic<int>::is_always_lock_free, "set from a signal handler");
std::atomic<bool> g_active{false};

// The first signal counts; a second Ctrl-C does not change which one stopped the run.
void record(int sig)
{
    int none = 0;
    g_received.compare_exchange_strong(none, sig);
}

extern "C" void onStopSignal(int sig)
{
    record(sig);
}

sigset_t stopSet()
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
}

// Runs fn on every OpenMP worker the kernels use (not on the calling thread).
void onWorkers(const std::function<void()> &fn)
{
    const int n = threadCount();
    parallelFor(
        n,
        [&fn](int64_t, int64_t, int thread) {
            if (thread != 0)
                fn();
        },
        1);
}

} // namespace

struct StopSignals::State {
    struct sigaction oldInt {}, oldTerm {};
    sigset_t added {}; // the stop signals the constructing thread had open: blocked here, opened again after
    std::jthread taker;
};

StopSignals::StopSignals() : m_state(std::make_unique<State>())
{
    bool expected = false;
    if (!g_active.compare_exchange_strong(expected, true))
        throw Error("SIGINT/SIGTERM already stop another training session in this process.");
    g_received = 0;
    State &s = *m_state;
    const sigset_t set = stopSet();
    struct sigaction action {};
    action.sa_handler = onStopSignal;
    action.sa_flags = SA_RESTART; // a thread with the signals open goes on with its read
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, &s.oldInt);
    ::sigaction(SIGTERM, &action, &s.oldTerm);
    sigset_t before;
    ::pthread_sigmask(SIG_BLOCK, &set, &before);
    sigemptyset(&s.added);
    for (const int sig : {SIGINT, SIGTERM})
        if (!sigismember(&before, sig))
            sigaddset(&s.added, sig);
    onWorkers([&set] { ::pthread_sigmask(SIG_BLOCK, &set, nullptr); });
    // Made after the block, so it starts blocked too, as sigtimedwait needs. The timeout only
    // bounds how long the destructor waits for it; a signal ends the wait at once.
    try {
        s.taker = std::jthread([set](std::stop_token stop) {
            const timespec wait{0, 50'000'000};
            while (!stop.stop_requested()) {
                const int sig = ::sigtimedwait(&set, nullptr, &wait);
                if (sig > 0)
                    record(sig);
            }
        });
    } catch (...) { // no thread to be had: everything as it was
        restore();
        throw;
    }
}

StopSignals::~StopSignals()
{
    restore();
}

void StopSignals::restore()
{
    State &s = *m_state;
    if (s.taker.joinable()) {
        s.taker.request_stop();
        s.taker.join();
    }
    const sigset_t set = stopSet();
    const timespec now{0, 0};
    for (int sig; (sig = ::sigtimedwait(&set, nullptr, &now)) > 0;)
        record(sig);
    ::sigaction(SIGINT, &s.oldInt, nullptr);
    ::sigaction(SIGTERM, &s.oldTerm, nullptr);
    // Only what was added, on the workers too: also those OpenMP started during the session (from
    // a blocked thread, so blocked) are opened again.
    onWorkers([&s] { ::pthread_sigmask(SIG_UNBLOCK, &s.added, nullptr); });
    ::pthread_sigmask(SIG_UNBLOCK, &s.added, nullptr);
    g_active = false;
}

int StopSignals::received() const
{
    return g_received.load();
}

} // namespace netwright
