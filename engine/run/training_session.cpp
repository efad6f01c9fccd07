// SPDX-License-Identifier: Apache-2.0
#include "run/training_session.h"

#include "core/cpu_level.h"

#include "run/run_lock.h"
#include "run/stop_signals.h"
#include "run/tensorboard_log.h"

#include "checkpoint/checkpoint_manager.h"
#include "checkpoint/training_state.h"
#include "checkpoint/weight_matching.h"
#include "core/error.h"
#include "formats/cntk/trainer_checkpoint.h"
#include "formats/mindspore/ckpt_file.h"
#include "train/trainer.h"

namespace netwright {

namespace {

// SIGINT/SIGTERM become a stop request at the next step boundary while it lives (taken off the
// computing threads: run/stop_signals.h says why).
class SignalStop final : public TrainingObserver {
public:
    explicit SignalStop(std::stop_source &source) : m_source(source) {}
    void onStep(const StepInfo &) override
    {
        if (m_signals.received())
            m_source.request_stop();
    }

private:
    std::stop_source &m_source;
    StopSignals m_signals;
};

} // namespace

TrainingSession::TrainingSession(RunConfig config, RunDirectory directory, Trainer &trainer, Options options)
    : m_config(std::move(config)), m_dir(std::move(directory)), m_trainer(trainer), m_options(options)
{
    // Before anything is read or written: two processes training one run would interleave its
    // logs and checkpoints. Released when the session ends (or the process does, however).
    if (m_options.writer)
        m_lock = std::make_unique<RunLock>(m_dir.path());
}

TrainingSession::~TrainingSession() = default;

void TrainingSession::checkStart(const RunConfig &config, const Trainer &trainer)
{
    checkCpu(config);
    if (!config.initFrom.empty())
        matchWeightsFile(trainer.graph(), config.initFrom, config.initFromMap, config.initFromStrict);
}

void TrainingSession::checkCpu(const RunConfig &config)
{
    cpu::activeLevel(); // a bad NETWRIGHT_CPU_LEVEL is refused before the run directory exists
    if (config.training.precision == "bf16" && !cpu::hasBf16())
        throw Error("training.precision bf16 needs a CPU with AVX512-BF16 or AMX; this one (" + cpu::cpuModelName() + ") runs the "
                    + std::string(cpu::levelName(cpu::activeLevel())) + " level"
                    + (cpu::activeLevel() != cpu::detectedLevel() ? " (capped by NETWRIGHT_CPU_LEVEL)." : "."));
}

void TrainingSession::note(const std::string &text) const
{
    if (m_note)
        m_note(text);
}

std::string TrainingSession::restore(bool startOver, const std::function<std::string(std::string)> &agree)
{
    std::string chosen;
    if (m_options.writer) {
        for (const auto &done : m_dir.recover())
            note(done);
        chosen = m_dir.restoreCheckpoint(m_config, startOver);
    }
    // The writer chooses; every rank restores that one file (the run directory is on a file
    // system every rank sees, as for MindSpore's and CNTK's distributed restore).
    if (agree)
        chosen = agree(chosen);
    m_resumedFrom = chosen;
    if (chosen.empty()) {
        if (m_options.writer)
            note("No checkpoint in " + m_dir.path() + " yet; starting from the beginning.");
    } else {
        const std::string path = m_dir.file(chosen);
        // A .ckpt (plain or encrypted) or a .safetensors file (told apart by content), or CNTK's pair.
        const auto entries = m_config.checkpoint.format == "cntk" ? cntk::readTrainerCheckpoint(path)
                                                                  : readTrainingStateFile(path, {checkpointKey(m_config.checkpoint)});
        restoreTrainingState(m_trainer, entries, path);
        for (const auto &e : entries)
            if (e.name == "netwright.checkpoint.last_step_save" && !e.isString && e.tensor.dtype() == DType::Int64)
                m_lastStepSave = e.tensor.dataAs<int64_t>()[0];
    }
    if (!m_options.writer)
        return m_resumedFrom;
    const TrainerProgress progress = m_trainer.progress();
    // A finished run is left as it is (run() trains nothing and writes nothing).
    if (m_dir.hasMetrics() && !m_trainer.finished()) {
        if (const int64_t torn = m_dir.metrics().tornLine)
            note("metrics.jsonl line " + std::to_string(torn) + " was cut short by the interruption; it is dropped.");
        const int64_t step = chosen.empty() ? 0 : progress.globalStep;
        const bool afterEpochEnd = progress.data.position == 0 && progress.data.epoch > 0;
        MetricsLog::truncateAfter(m_dir.metricsPath(), step, afterEpochEnd);
        // The TensorBoard files are cut back alike (also when this config writes none now: the
        // older points would otherwise stand beside the ones the resumed run writes).
        TensorBoardLog::truncateAfter(m_dir.path(), step, afterEpochEnd);
    }
    return m_resumedFrom;
}

void TrainingSession::writeConfig() const
{
    if (!m_options.writer)
        return;
    // A new run in a directory an earlier, killed start of it used: its temporary files go.
    for (const auto &done : m_dir.recover())
        note(done);
    m_dir.writeConfig(m_config);
}

TrainEndInfo TrainingSession::run(std::stop_token stop)
{
    std::stop_source source;
    std::stop_callback forward(stop, [&source] { source.request_stop(); });
    std::unique_ptr<SignalStop> signalStop;
    std::unique_ptr<MetricsLog> metrics;
    std::unique_ptr<TensorBoardLog> events;
    const bool resuming = !m_resumedFrom.empty();
    if (!resuming && !m_config.initFrom.empty() && m_trainer.progress().globalStep == 0) {
        // Fine-tuning: the new run starts from the checkpoint's weights (checked before any is
        // written; the model was built with its Identity-shared initializers untied for this).
        Graph &graph = m_trainer.graph();
        const WeightMatchReport report = matchWeightsFile(graph, m_config.initFrom, m_config.initFromMap, m_config.initFromStrict);
        for (const auto &[name, value] : report.values)
            graph.initializers.at(name).copyFrom(value); // in place: the executor aliases these tensors
        if (m_options.writer)
            note(loadSummary(report, m_config.initFrom));
    }
    // Before any observer is attached: it can refuse (another session owns the signals).
    if (m_options.stopOnSignal)
        signalStop = std::make_unique<SignalStop>(source);
    if (m_options.writer) {
        metrics = std::make_unique<MetricsLog>(m_dir.metricsPath(), resuming);
        if (m_config.logging.tensorboard) {
            events = std::make_unique<TensorBoardLog>(m_dir.path(), m_config, resuming ? m_trainer.progress().globalStep : -1);
            metrics->setRecordSink([log = events.get()](const MetricsRecord &r) { log->write(r); });
        }
        m_checkpoints = std::make_unique<CheckpointManager>(m_trainer, m_config.checkpoint, m_dir.path(), m_config.model, m_resumedFrom);
        m_checkpoints->continueStepChain(m_lastStepSave);
        if (m_onSaved)
            m_checkpoints->setSavedCallback(m_onSaved);
        m_trainer.addObserver(metrics.get());
    }
    if (m_checkpoints && !m_options.observersBeforeCheckpoints)
        m_trainer.addObserver(m_checkpoints.get());
    for (TrainingObserver *o : m_observers)
        m_trainer.addObserver(o);
    if (m_checkpoints && m_options.observersBeforeCheckpoints)
        m_trainer.addObserver(m_checkpoints.get());
    if (signalStop)
        m_trainer.addObserver(signalStop.get());
    // The trainer keeps its observers: detach the session's own when run() returns.
    struct Detach {
        Trainer &trainer;
        std::vector<TrainingObserver *> observers;
        ~Detach()
        {
            for (TrainingObserver *o : observers)
                trainer.removeObserver(o);
        }
    } detach{m_trainer, {metrics.get(), m_checkpoints.get(), signalStop.get()}};
    detach.observers.insert(detach.observers.end(), m_observers.begin(), m_observers.end());
    try {
        return m_trainer.run(source.get_token());
    } catch (const Error &e) {
        // A diverged loss always leaves its last finite state behind: nothing else would.
        const auto *nonFinite = dynamic_cast<const NonFiniteLossError *>(&e);
        const bool diverged = nonFinite && nonFinite->lastFiniteStateKept();
        if (m_options.writer && m_checkpoints && m_config.checkpoint.enabled
            && (diverged || (m_config.checkpoint.exceptionSave && !nonFinite))) {
            // MindSpore's exception_save: the state of the last finished step, under a name the
            // keep rules never touch; then the error is reported as usual.
            try {
                note("breakpoint checkpoint " + m_checkpoints->saveBreakpoint());
            } catch (const Error &e) {
                note(std::string("could not save a breakpoint checkpoint: ") + e.what());
            }
        }
        throw;
    }
}

std::string TrainingSession::newestCheckpoint() const
{
    return m_checkpoints ? m_checkpoints->latest() : std::string();
}

} // namespace netwright
