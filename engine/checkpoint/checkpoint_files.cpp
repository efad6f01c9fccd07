// SPDX-License-Identifier: Apache-2.0
#include "checkpoint/checkpoint_files.h"

#include "core/error.h"
#include "formats/cntk/trainer_checkpoint.h"
#include "run/checkpoint_history.h"
#include "run/run_directory.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <system_error>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace netwright {

namespace fs = std::filesystem;

namespace {

bool endsWith(const std::string &s, const std::string &suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

class DiskCheckpointFiles final : public CheckpointFiles {
public:
    explicit DiskCheckpointFiles(std::string directory) : m_dir(std::move(directory)) {}

    void recover(const std::string &cntkFile) override
    {
        RunDirectory(m_dir).recover(); // saves a crash interrupted: never a valid checkpoint
        if (cntkFile.empty())
            return;
        for (const auto &f : listing())
            if (endsWith(f.name, ".ckp.pending") && f.name.size() > 13 && f.name[0] == '.')
                // a pair save a crash interrupted: finish it if its model made it, else drop it
                cntk::recoverInterruptedSave((fs::path(m_dir) / f.name.substr(1, f.name.size() - 13)).string());
    }
    std::vector<ms_policy::FileInfo> listing() const override { return listRegularFiles(m_dir); }
    bool exists(const std::string &file) const override
    {
        std::error_code ec;
        return fs::exists(fs::path(m_dir) / file, ec);
    }
    // Unlinking a checkpoint frees its blocks and cached pages: about 2 ms of a 3.4 MB file that
    // the training thread waited for at every save that dropped an old one (keep_checkpoint_max).
    // The name goes at once, by a rename to a hidden one; the bytes on a background thread. A
    // kill in between leaves ".<name>.deleted", which recover() removes at the next start.
    void remove(const std::string &file, std::error_code &ec) override
    {
        const fs::path dir(m_dir), hidden = dir / ("." + file + ".deleted");
        fs::rename(dir / file, hidden, ec);
        if (ec) { // not renamed: remove it here (fs::remove also reports a file already gone as removed)
            fs::remove(dir / file, ec);
            return;
        }
        reapUnlinks(false);
        try {
            m_unlinks.push_back(std::async(std::launch::async, [path = hidden.string()] {
                ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 10);
                ::unlink(path.c_str());
            }));
        } catch (const std::system_error &) { // no thread to be had: unlink it here
            ::unlink(hidden.c_str());
        }
    }
    ~DiskCheckpointFiles() override { reapUnlinks(true); }
    std::future<int64_t> save(const std::string &, double, std::function<int64_t()> write, bool async) override
    {
        if (async)
            return std::async(std::launch::async, [write = std::move(write)]() mutable {
                // Below the training threads: the save uses the cores when training leaves them idle.
                ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 10);
                return write();
            });
        std::promise<int64_t> done;
        done.set_value(write()); // a synchronous save's failure is thrown here, as it happens
        return done.get_future();
    }
    bool savesAtOnce() const override { return false; }
    void link(const std::string &link, const std::string &target, double) override
    {
        // A hard link: no second write, and it stays valid when a keep rule later deletes the
        // original name. Made under a temporary name and renamed over the old link.
        const fs::path dir(m_dir);
        const fs::path tmp = dir / ("." + link + ".link");
        std::error_code ec;
        fs::remove(tmp, ec);
        fs::create_hard_link(dir / target, tmp, ec);
        if (!ec)
            fs::rename(tmp, dir / link, ec);
        if (ec)
            throw Error("Cannot update \"" + (dir / link).string() + "\" to \"" + target + "\": " + ec.message() + ".");
    }
    void writeGraphMeta(const std::string &file, const std::function<void(const std::string &)> &write) override
    {
        write((fs::path(m_dir) / file).string());
    }
    void record(const run::HistoryEvent &event) override
    {
        try {
            RunDirectory(m_dir).appendHistory(event);
        } catch (const Error &) {
            // the history is a record: a failed save reports itself by exception
        }
    }
    bool knowsMetrics() const override { return true; }

private:
    void reapUnlinks(bool wait)
    {
        std::erase_if(m_unlinks, [wait](std::future<void> &f) {
            if (wait)
                f.wait();
            return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
        });
    }

    std::string m_dir;
    std::vector<std::future<void>> m_unlinks; // background unlinks of removed checkpoints
};

} // namespace

std::vector<ms_policy::FileInfo> listRegularFiles(const std::string &dir)
{
    std::vector<ms_policy::FileInfo> out;
    std::error_code ec;
    for (const auto &entry : fs::directory_iterator(dir, ec)) {
        struct stat st {};
        if (::stat(entry.path().c_str(), &st) == 0 && S_ISREG(st.st_mode))
            out.push_back({entry.path().filename().string(), double(st.st_mtim.tv_sec) + double(st.st_mtim.tv_nsec) * 1e-9});
    }
    std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) { return a.name < b.name; });
    return out;
}

std::unique_ptr<CheckpointFiles> diskCheckpointFiles(std::string directory)
{
    return std::make_unique<DiskCheckpointFiles>(std::move(directory));
}

SimulatedCheckpointFiles::SimulatedCheckpointFiles(const std::string &directory)
{
    for (const auto &f : listRegularFiles(directory))
        if (f.name[0] != '.')
            m_files.push_back(f);
}

bool SimulatedCheckpointFiles::exists(const std::string &file) const
{
    return std::any_of(m_files.begin(), m_files.end(), [&](const auto &f) { return f.name == file; });
}

void SimulatedCheckpointFiles::remove(const std::string &file, std::error_code &ec)
{
    ec.clear();
    m_files.erase(std::remove_if(m_files.begin(), m_files.end(), [&](const auto &f) { return f.name == file; }), m_files.end());
}

std::future<int64_t> SimulatedCheckpointFiles::save(const std::string &file, double time, std::function<int64_t()>, bool)
{
    std::error_code ignored;
    remove(file, ignored); // a file of the same name is replaced
    m_files.push_back({file, time});
    std::promise<int64_t> done;
    done.set_value(0); // metrics and sizes are unknown before training
    return done.get_future();
}

void SimulatedCheckpointFiles::link(const std::string &link, const std::string &, double time)
{
    std::error_code ignored;
    remove(link, ignored);
    m_files.push_back({link, time});
}

void SimulatedCheckpointFiles::record(const run::HistoryEvent &event)
{
    std::string line = run::historyEventLine(event);
    line.pop_back(); // the newline
    m_log.push_back(std::move(line));
}

} // namespace netwright
