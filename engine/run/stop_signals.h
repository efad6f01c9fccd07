// SPDX-License-Identifier: Apache-2.0
// SIGINT and SIGTERM as a request to stop, for as long as a StopSignals lives (`netwright train`'s
// clean stop at the next step boundary).
//
// The signals are never handled on a thread that computes. oneDNN 2.x's JIT sgemm kernels (the
// libdnnl Debian ships; oneDNN issue 4845, fixed upstream in 2026) point the stack pointer into a
// heap workspace while they run, so a signal whose frame the kernel pushes on such a thread is
// written into the heap: glibc aborts later ("corrupted size vs. prev_size") or a free crashes.
// So the constructing thread and OpenMP's workers block both signals while it lives (threads they
// start meanwhile, OpenMP's new workers and the checkpoint writers, inherit the block), and a
// thread of its own takes them (sigtimedwait). A thread started before with the signals open (the
// data readers, which run no oneDNN kernel) can still be the one the kernel picks: it runs a
// handler that only records the signal.
// Layer: engine/run.
#pragma once

#include <memory>

namespace netwright {

class StopSignals {
public:
    // Throws Error when another StopSignals lives (the signals have one owner).
    StopSignals();
    // Destroy on the constructing thread. Takes the signals still pending (they count in
    // received()), then puts back the previous handlers and opens on that thread and OpenMP's
    // workers the signals it blocked.
    ~StopSignals();
    StopSignals(const StopSignals &) = delete;
    StopSignals &operator=(const StopSignals &) = delete;

    // The first signal received (SIGINT or SIGTERM) since construction; 0 while none.
    int received() const;

private:
    void restore();

    struct State;
    std::unique_ptr<State> m_state;
};

} // namespace netwright
