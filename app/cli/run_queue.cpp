// SPDX-License-Identifier: Apache-2.0
#include "cli/run_queue.h"

#include "core/error.h"
#include "run/run_directory.h"
#include "run/run_lock.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QProcess>
#include <QThread>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <deque>
#include <memory>

namespace netwright::cli {

namespace {

std::atomic<bool> g_stopRequested{false};
extern "C" void onQueueStopSignal(int) { g_stopRequested = true; }

// Whether `dir` holds a checkpoint that resume would restore, found as resume finds it (from the
// files, not the history log: a kill between a checkpoint's rename and its history row leaves a
// whole checkpoint the history does not list yet).
bool hasCheckpoint(const RunDirectory &dir)
{
    return !dir.restoreCheckpoint(dir.readConfig()).empty();
}

struct Child {
    size_t index = 0;
    bool resume = false, forwarded = false;
    std::unique_ptr<QProcess> process;
    QElapsedTimer clock;
};

class Queue {
public:
    Queue(std::vector<QueuedRun> &runs, const QueueOptions &options) : m_runs(runs), m_options(options) {}

    int run()
    {
        for (;;) {
            while (!g_stopRequested && static_cast<int>(m_children.size()) < std::max(1, m_options.parallel)) {
                const auto i = nextRun();
                if (!i)
                    break;
                start(*i);
            }
            if (m_children.empty()) {
                if (g_stopRequested || (m_next == m_runs.size() && m_waiting.empty()))
                    break;
                QThread::msleep(250); // only runs another process trains are left: wait for it
                continue;
            }
            const int slice = std::max(20, 200 / static_cast<int>(m_children.size()));
            for (auto it = m_children.begin(); it != m_children.end();) {
                if (g_stopRequested && !it->forwarded) {
                    it->process->terminate(); // the child saves a checkpoint, then exits 130
                    it->forwarded = true;
                }
                if (it->process->waitForFinished(slice) || it->process->state() == QProcess::NotRunning) {
                    finish(*it);
                    it = m_children.erase(it);
                } else {
                    ++it;
                }
            }
        }
        for (auto &r : m_runs)
            if (r.status.isEmpty())
                r.status = QStringLiteral("not started");
        return m_failed;
    }

private:
    std::optional<size_t> nextRun()
    {
        for (auto it = m_waiting.begin(); it != m_waiting.end(); ++it)
            if (!RunLock::held(m_runs[*it].dir.toStdString())) {
                const size_t i = *it;
                m_waiting.erase(it);
                return i;
            }
        if (m_next < m_runs.size())
            return m_next++;
        return std::nullopt;
    }

    QString head(size_t i) const { return QStringLiteral("[%1/%2] %3").arg(i + 1).arg(m_runs.size()).arg(m_runs[i].name); }

    void say(size_t i, const QString &what) const
    {
        if (!m_options.quiet) {
            std::printf("%s: %s\n", qPrintable(head(i)), qPrintable(what));
            std::fflush(stdout);
        }
    }

    void fail(size_t i, const QString &status)
    {
        m_runs[i].status = status;
        ++m_failed;
        say(i, status);
    }

    void start(size_t i)
    {
        QueuedRun &r = m_runs[i];
        try {
            const std::string path = r.dir.toStdString();
            if (RunLock::held(path)) {
                // Another process trains it (a child a killed queue left running, another queue):
                // wait for it to end, then look again — never train one run twice at once.
                if (std::find(m_waiting.begin(), m_waiting.end(), i) == m_waiting.end()) {
                    say(i, QStringLiteral("another process is training %1; waiting for it").arg(r.dir));
                    m_waiting.push_back(i);
                }
                return;
            }
            r.results = run::summarizeRun(r.dir.toStdString());
            if (r.results.finished) {
                r.status = QStringLiteral("finished before");
                say(i, QStringLiteral("finished before, skipped"));
                return;
            }
            const RunDirectory dir(path);
            const bool resume = dir.hasConfig() && hasCheckpoint(dir);
            if (!resume && QFileInfo(r.dir).isDir())
                dir.clearUnstarted();
            check(QDir().mkpath(r.dir), "Cannot create \"" + path + "\".");
            say(i, QStringLiteral("%1 in %2 (log: %2/batch.log)").arg(resume ? QStringLiteral("resuming") : QStringLiteral("training"), r.dir));
            Child c;
            c.index = i;
            c.resume = resume;
            c.process = std::make_unique<QProcess>();
            c.process->setProcessChannelMode(QProcess::MergedChannels);
            c.process->setStandardOutputFile(r.dir + QStringLiteral("/batch.log"), QIODevice::Append);
            c.clock.start();
            c.process->start(QCoreApplication::applicationFilePath(),
                             resume ? QStringList{QStringLiteral("resume"), r.dir}
                                    : QStringList{QStringLiteral("train"), QStringLiteral("--config"), r.config, QStringLiteral("--out"), r.dir});
            if (!c.process->waitForStarted(30000)) {
                r.exitCode = -1;
                fail(i, QStringLiteral("failed (cannot start %1)").arg(QCoreApplication::applicationFilePath()));
                return;
            }
            m_children.push_back(std::move(c));
        } catch (const Error &e) {
            fail(i, QStringLiteral("failed: %1").arg(QString::fromUtf8(e.what())));
        }
    }

    void finish(Child &c)
    {
        QueuedRun &r = m_runs[c.index];
        r.exitCode = c.process->exitStatus() == QProcess::NormalExit ? c.process->exitCode() : -1;
        r.seconds = c.clock.elapsed() / 1000.0;
        try {
            r.results = run::summarizeRun(r.dir.toStdString());
        } catch (const Error &e) {
            fail(c.index, QStringLiteral("failed: %1").arg(QString::fromUtf8(e.what())));
            return;
        }
        if (r.exitCode == 0 && r.results.finished) {
            r.status = c.resume ? QStringLiteral("resumed") : QStringLiteral("trained");
            say(c.index, r.status);
        } else if (r.exitCode == 130 || g_stopRequested) {
            r.status = QStringLiteral("stopped");
            say(c.index, r.status);
        } else {
            fail(c.index, QStringLiteral("failed (exit %1, see batch.log)").arg(r.exitCode));
        }
    }

    std::vector<QueuedRun> &m_runs;
    const QueueOptions m_options;
    std::vector<Child> m_children;
    std::deque<size_t> m_waiting;
    size_t m_next = 0;
    int m_failed = 0;
};

} // namespace

int runQueue(std::vector<QueuedRun> &runs, const QueueOptions &options)
{
    g_stopRequested = false;
    std::signal(SIGINT, onQueueStopSignal);
    std::signal(SIGTERM, onQueueStopSignal);
    const int failed = Queue(runs, options).run();
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    return failed;
}

bool queueStopped()
{
    return g_stopRequested;
}

} // namespace netwright::cli
