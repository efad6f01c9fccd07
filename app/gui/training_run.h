// SPDX-License-Identifier: Apache-2.0
// A training run driven from the window: the same engine, run directory, metrics log and
// checkpoint manager as `netwright train`, on a worker thread. The engine reports through its
// plain observer interface; this adapter hands copies of the reports to the UI thread in batches
// (one queued call at a time, never one per step), so a fast model cannot flood the event loop.
// pause() holds the worker between two steps; stop() ends it after the current step, with the
// final checkpoint the policy asks for. Thread affinity: UI thread (the worker is internal).
// Layer: app.
#pragma once

#include "config/run_config.h"
#include "train/observer.h"

#include <QObject>
#include <QSet>
#include <QString>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

namespace netwright::gui {

struct CheckpointEvent {
    QString file;          // path of the saved checkpoint
    int64_t globalStep = 0, epoch = 0;
};

class TrainingRun : public QObject {
    Q_OBJECT
public:
    explicit TrainingRun(QObject *parent = nullptr);
    ~TrainingRun() override; // stops and joins the worker

    // out: the run directory to create (empty: runs/<name>-<time> under the working directory).
    // Its name is runDirectory() at once; it is created once the data are read and the model is
    // built, so a run that fails before training (bad data, a model that does not fit them)
    // leaves no directory behind. Throws Error (before anything is written) when the device
    // cannot be used.
    void start(const RunConfig &config, const QString &out = {});
    // Continues an existing run in its own directory exactly as `netwright resume DIR` does: the
    // config it was started with, what a killed writer left cleaned up, the newest valid
    // checkpoint restored, the metrics log cut back to it, then the same session trains on.
    // begun() reports the restored step (TrainBeginInfo::startGlobalStep).
    void continueRun(const QString &runDirectory);
    void pause();
    void resume();
    void stop();
    bool isRunning() const { return m_running; }
    bool isPaused() const { return m_paused; }
    QString runDirectory() const { return m_dir; }
    // Whether a run of this process has taken `directory` and not yet finished (it may not exist yet).
    static bool isClaimed(const QString &directory);

signals:
    void begun(const netwright::TrainBeginInfo &info, const QString &runDirectory);
    // In order, batched; wallTimes[i]: when the engine reported steps[i], in seconds since the Unix
    // epoch (the metrics log keeps no clock, so the window stamps the steps it is told of).
    void stepped(const std::vector<netwright::StepInfo> &steps, const std::vector<double> &wallTimes);
    void evaluated(const netwright::EvalInfo &eval);
    void checkpointSaved(const netwright::gui::CheckpointEvent &checkpoint);
    // stopped: ended by stop(); error: empty unless the run failed (one sentence naming the cause).
    void finished(bool stopped, const QString &error);

private:
    class Bridge;
    void deliver();
    static QSet<QString> &claimedDirectories();

    std::jthread m_worker;
    std::stop_source m_stop;
    std::unique_ptr<Bridge> m_bridge;
    QString m_dir;
    bool m_running = false, m_paused = false;
};

} // namespace netwright::gui
