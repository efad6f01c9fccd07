// SPDX-License-Identifier: Apache-2.0
#include "gui/training_run.h"

#include "checkpoint/checkpoint_manager.h"
#include "core/device.h"
#include "core/error.h"
#include "run/run_directory.h"
#include "run/run_lock.h"
#include "run/training_session.h"
#include "train/training_setup.h"

#include <QDir>
#include <QFileInfo>
#include <QMetaObject>
#include <QSet>

#include <chrono>

namespace netwright::gui {

// The observer on the training thread: queues copies of the reports and posts one delivery at a
// time to the UI thread; holds the training thread while paused.
class TrainingRun::Bridge final : public TrainingObserver {
public:
    explicit Bridge(TrainingRun *owner) : m_owner(owner) {}

    void onTrainBegin(const TrainBeginInfo &info) override
    {
        {
            std::lock_guard lock(m_mutex);
            m_begin = info;
        }
        post();
    }
    void onStep(const StepInfo &s) override
    {
        {
            std::lock_guard lock(m_mutex);
            m_steps.push_back(s);
            m_wallTimes.push_back(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
        }
        post();
        std::unique_lock lock(m_pauseMutex);
        m_pauseChanged.wait(lock, [this] { return !m_pausedFlag || m_stopToken.stop_requested(); });
    }
    void onEvaluation(const EvalInfo &e) override
    {
        {
            std::lock_guard lock(m_mutex);
            m_evals.push_back(e);
        }
        post();
    }
    void saved(const std::string &path, const CheckpointRecord &r)
    {
        {
            std::lock_guard lock(m_mutex);
            m_checkpoints.push_back({QString::fromStdString(path), r.globalStep, r.epoch});
        }
        post();
    }
    void finish(bool stopped, QString error)
    {
        {
            std::lock_guard lock(m_mutex);
            m_finished = true;
            m_stopped = stopped;
            m_error = std::move(error);
        }
        post();
    }
    void setPaused(bool paused)
    {
        {
            std::lock_guard lock(m_pauseMutex);
            m_pausedFlag = paused;
        }
        m_pauseChanged.notify_all();
    }
    void setStopToken(std::stop_token t) { m_stopToken = std::move(t); }
    void wake() { m_pauseChanged.notify_all(); }

    // UI thread: everything queued since the last delivery.
    struct Batch {
        std::optional<TrainBeginInfo> begin;
        std::vector<StepInfo> steps;
        std::vector<double> wallTimes;
        std::vector<EvalInfo> evals;
        std::vector<CheckpointEvent> checkpoints;
        bool finished = false, stopped = false;
        QString error;
    };
    Batch take()
    {
        std::lock_guard lock(m_mutex);
        m_posted = false;
        Batch b;
        b.begin = std::exchange(m_begin, std::nullopt);
        b.steps.swap(m_steps);
        b.wallTimes.swap(m_wallTimes);
        b.evals.swap(m_evals);
        b.checkpoints.swap(m_checkpoints);
        b.finished = m_finished;
        b.stopped = m_stopped;
        b.error = m_error;
        m_finished = false;
        return b;
    }

private:
    void post()
    {
        {
            std::lock_guard lock(m_mutex);
            if (m_posted)
                return;
            m_posted = true;
        }
        QMetaObject::invokeMethod(m_owner, &TrainingRun::deliver, Qt::QueuedConnection);
    }

    TrainingRun *m_owner;
    std::mutex m_mutex;
    bool m_posted = false;
    std::optional<TrainBeginInfo> m_begin;
    std::vector<StepInfo> m_steps;
    std::vector<double> m_wallTimes; // when each step was reported
    std::vector<EvalInfo> m_evals;
    std::vector<CheckpointEvent> m_checkpoints;
    bool m_finished = false, m_stopped = false;
    QString m_error;

    std::mutex m_pauseMutex;
    std::condition_variable m_pauseChanged;
    bool m_pausedFlag = false;
    std::stop_token m_stopToken;
};

// The directories of the runs this process has started and not yet finished: their names are
// taken before the directories exist. UI thread only.
QSet<QString> &TrainingRun::claimedDirectories()
{
    static QSet<QString> claimed;
    return claimed;
}

bool TrainingRun::isClaimed(const QString &directory)
{
    return claimedDirectories().contains(directory);
}

TrainingRun::TrainingRun(QObject *parent) : QObject(parent), m_bridge(std::make_unique<Bridge>(this)) {}

TrainingRun::~TrainingRun()
{
    if (m_running)
        claimedDirectories().remove(m_dir);
    m_stop.request_stop();
    m_bridge->setPaused(false);
    if (m_worker.joinable())
        m_worker.join();
}

namespace {

// Runs a worker's `work`; a failure ends the run with its message, and what the session said on
// its own meanwhile (`notes`: a breakpoint checkpoint saved on failure) is added to it.
template <class Bridge, class Work>
void reportingFailures(Bridge *bridge, Work &&work)
{
    std::string notes;
    try {
        work(notes);
    } catch (const Error &e) {
        bridge->finish(false, QString::fromUtf8(e.what()) + (notes.empty() ? QString() : QStringLiteral("\n") + QString::fromStdString(notes)));
    } catch (const std::bad_alloc &) {
        bridge->finish(false, TrainingRun::tr("The run ran out of memory."));
    } catch (const std::exception &e) {
        bridge->finish(false, TrainingRun::tr("The run failed: %1").arg(QString::fromUtf8(e.what())));
    }
}

} // namespace

void TrainingRun::start(const RunConfig &config, const QString &out)
{
    if (m_running)
        return;
    if (m_worker.joinable())
        m_worker.join();
    // A device that cannot be used is said at once (why: no backend, no GPU, no driver), before
    // anything is written. Starting the backend takes a moment, once per program.
    startDevice(parseDevice(config.training.device));
    // The directory's name is known at once; the directory itself is made by the worker once the
    // data are read and the model is built, so that a start refused for the data or the model
    // (a reader's error, a model that does not fit) leaves nothing behind, as `netwright train` does.
    std::string path = RunDirectory::defaultPath(out.toStdString(), config.name);
    for (int k = 2; out.isEmpty() && isClaimed(QString::fromStdString(path)); ++k) // another run started in the same second
        path = RunDirectory::defaultPath({}, config.name) + "-" + std::to_string(k);
    m_dir = QString::fromStdString(path);
    claimedDirectories().insert(m_dir);
    m_stop = std::stop_source();
    m_bridge->setStopToken(m_stop.get_token());
    m_bridge->setPaused(false);
    m_running = true;
    m_paused = false;
    Bridge *bridge = m_bridge.get();
    m_worker = std::jthread([config, path, bridge, token = m_stop.get_token()] {
        reportingFailures(bridge, [&](std::string &notes) {
            const TrainingData data = loadTrainingData(config);
            auto trainer = makeTrainer(config, data);
            if (token.stop_requested()) { // stopped while the data were read: nothing to keep
                bridge->finish(true, {});
                return;
            }
            TrainingSession::checkStart(config, *trainer); // a refused start writes nothing
            const RunDirectory dir = RunDirectory::create(path, config.name, false);
            // The same session as `netwright train`: metrics log, checkpoint policy, breakpoint
            // save on failure; the window adds its bridge.
            TrainingSession::Options options;
            options.observersBeforeCheckpoints = false; // a paused run has written what was due
            TrainingSession session(config, dir, *trainer, options);
            session.setNoteSink([&notes](const std::string &text) { notes += (notes.empty() ? "" : "\n") + text; });
            session.setSavedCallback([bridge](const std::string &path, const CheckpointRecord &r) { bridge->saved(path, r); });
            session.addObserver(bridge);
            session.writeConfig();
            const TrainEndInfo end = session.run(token);
            bridge->finish(end.stopped, {});
        });
    });
}

void TrainingRun::continueRun(const QString &runDirectory)
{
    if (m_running)
        return;
    if (m_worker.joinable())
        m_worker.join();
    m_dir = QDir::cleanPath(QFileInfo(runDirectory).absoluteFilePath());
    claimedDirectories().insert(m_dir);
    m_stop = std::stop_source();
    m_bridge->setStopToken(m_stop.get_token());
    m_bridge->setPaused(false);
    m_running = true;
    m_paused = false;
    Bridge *bridge = m_bridge.get();
    m_worker = std::jthread([path = m_dir.toStdString(), bridge, token = m_stop.get_token()] {
        reportingFailures(bridge, [&](std::string &notes) {
            // As resume_command.cpp: open, recover a config a kill left as its temporary file,
            // read and check the config, read the data, build the trainer, restore, train.
            const RunDirectory dir = RunDirectory::open(path);
            const RunLock lock(path); // as resume: the run is this window's while it reads the data too
            if (!dir.hasConfig())
                for (const auto &done : dir.recover())
                    notes += (notes.empty() ? "" : "\n") + done;
            const RunConfig config = dir.readConfig();
            try {
                validateRunConfig(config);
            } catch (const Error &e) {
                throw Error("Run config \"" + dir.configPath() + "\": " + e.what());
            }
            startDevice(parseDevice(config.training.device));
            TrainingSession::checkCpu(config);
            const TrainingData data = loadTrainingData(config);
            auto trainer = makeTrainer(config, data);
            TrainingSession::Options options;
            options.observersBeforeCheckpoints = false;
            TrainingSession session(config, dir, *trainer, options);
            session.setNoteSink([&notes](const std::string &text) { notes += (notes.empty() ? "" : "\n") + text; });
            session.setSavedCallback([bridge](const std::string &p, const CheckpointRecord &r) { bridge->saved(p, r); });
            session.addObserver(bridge);
            session.restore(false);
            if (trainer->finished()) // nothing left to train: as resume says, the run had finished
                throw Error("Nothing left to train: \"" + path + "\" had finished (" + session.resumedFrom() + ").");
            if (token.stop_requested()) {
                bridge->finish(true, {});
                return;
            }
            const TrainEndInfo end = session.run(token);
            bridge->finish(end.stopped, {});
        });
    });
}

void TrainingRun::pause()
{
    if (m_running && !m_paused) {
        m_paused = true;
        m_bridge->setPaused(true);
    }
}

void TrainingRun::resume()
{
    if (m_running && m_paused) {
        m_paused = false;
        m_bridge->setPaused(false);
    }
}

void TrainingRun::stop()
{
    if (!m_running)
        return;
    m_stop.request_stop();
    m_bridge->wake(); // a paused worker sees the stop
}

void TrainingRun::deliver()
{
    Bridge::Batch b = m_bridge->take();
    if (b.begin)
        emit begun(*b.begin, m_dir);
    if (!b.steps.empty())
        emit stepped(b.steps, b.wallTimes);
    for (const auto &e : b.evals)
        emit evaluated(e);
    for (const auto &c : b.checkpoints)
        emit checkpointSaved(c);
    if (b.finished) {
        claimedDirectories().remove(m_dir);
        m_running = false;
        m_paused = false;
        emit finished(b.stopped, b.error);
    }
}

} // namespace netwright::gui
