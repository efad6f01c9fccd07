// SPDX-License-Identifier: Apache-2.0
// The run directory's training lock: one process at a time trains a run (`netwright train`,
// `resume`, the window's panel and its Continue Training), and anyone can ask whether a process
// trains it now — exactly, not by the age of its logs: the lock is an flock(2) on
// `<run>/.training.lock`, which the kernel drops when the process ends, however it ends.
// Layer: engine/run.
#pragma once

#include <string>

namespace netwright {

class RunLock {
public:
    static constexpr const char *kFile = ".training.lock";

    // Takes the lock of the run directory `directory`, writing this process's id into the file.
    // Throws Error naming the directory (and the process training it) when another process has
    // it. Within one process the lock is shared (counted): a command takes it as soon as it opens
    // the run, and its training session takes it again.
    explicit RunLock(const std::string &directory);
    ~RunLock();
    RunLock(const RunLock &) = delete;
    RunLock &operator=(const RunLock &) = delete;

    // Whether a process (this one too) holds the lock of `directory` now. Creates nothing.
    static bool held(const std::string &directory);

private:
    std::string m_key;
};

} // namespace netwright
