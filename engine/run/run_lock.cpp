// SPDX-License-Identifier: Apache-2.0
#include "run/run_lock.h"

#include "core/error.h"

#include <cerrno>
#include <filesystem>
#include <map>
#include <mutex>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace netwright {

namespace {

std::string lockPath(const std::string &directory)
{
    return directory + "/" + RunLock::kFile;
}

// The process id the holder wrote, or "" when the file holds none.
std::string holderOf(int fd)
{
    char text[32] = {};
    const ssize_t n = ::pread(fd, text, sizeof(text) - 1, 0);
    if (n <= 0)
        return {};
    std::string pid(text, static_cast<size_t>(n));
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' '))
        pid.pop_back();
    return pid;
}

struct Held {
    int fd = -1;
    int count = 0;
};

// The locks this process holds, by canonical directory: flock(2) excludes open file descriptions,
// so a second RunLock in this process shares the first one's instead of refusing itself.
std::mutex &heldMutex()
{
    static std::mutex m;
    return m;
}

std::map<std::string, Held> &heldLocks()
{
    static std::map<std::string, Held> locks;
    return locks;
}

} // namespace

RunLock::RunLock(const std::string &directory)
{
    std::error_code ec;
    const std::filesystem::path canonical = std::filesystem::weakly_canonical(directory, ec);
    m_key = ec ? directory : canonical.string();
    const std::lock_guard guard(heldMutex());
    auto &held = heldLocks();
    if (auto it = held.find(m_key); it != held.end()) {
        ++it->second.count;
        return;
    }
    const std::string path = lockPath(directory);
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        throw Error("Run directory \"" + directory + "\": cannot create its training lock " + RunLock::kFile + ": " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        const std::string pid = holderOf(fd);
        ::close(fd);
        if (err == EWOULDBLOCK)
            throw Error("Run directory \"" + directory + "\" is being trained by another process" + (pid.empty() ? "" : " (pid " + pid + ")") +
                        "; wait for it to end or stop it before training this run again.");
        throw Error("Run directory \"" + directory + "\": cannot lock " + RunLock::kFile + ": " + std::strerror(err));
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) == 0) {
        [[maybe_unused]] const ssize_t written = ::pwrite(fd, pid.data(), pid.size(), 0);
    }
    held.emplace(m_key, Held{fd, 1});
}

RunLock::~RunLock()
{
    const std::lock_guard guard(heldMutex());
    auto &held = heldLocks();
    auto it = held.find(m_key);
    if (it == held.end() || --it->second.count > 0)
        return;
    ::close(it->second.fd); // releases the flock
    held.erase(it);
}

bool RunLock::held(const std::string &directory)
{
    const int fd = ::open(lockPath(directory).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false; // never trained by a process that locks
    const bool busy = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(fd);
    return busy;
}

} // namespace netwright
