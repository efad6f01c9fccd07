// SPDX-License-Identifier: Apache-2.0
#include "checkpoint/checkpoint_manager.h"

#include "checkpoint/mindspore_policy.h"
#include "checkpoint/training_state.h"
#include "core/error.h"
#include "formats/cntk/trainer_checkpoint.h"
#include "formats/mindspore/ckpt_file.h"
#include "formats/mindspore/graph_meta.h"
#include "formats/safetensors/safetensors_file.h"
#include "run/run_directory.h"
#include "train/trainer.h"

#include <algorithm>
#include <tuple>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace netwright {

namespace fs = std::filesystem;
using run::HistoryEvent;

namespace {

double realClock()
{
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

run::HistoryEvent linkedEvent(const std::string &link, const std::string &target)
{
    run::HistoryEvent e;
    e.kind = run::HistoryEvent::Kind::Linked;
    e.file = link;
    e.target = target;
    e.rule = "save_last";
    return e;
}

} // namespace

std::optional<double> CheckpointRecord::monitored(const std::string &monitor) const
{
    if (monitor == "eval_accuracy")
        return evalAccuracy;
    if (monitor == "eval_loss")
        return evalLoss;
    for (const auto &m : evalMetrics)
        if ("eval_" + m.name == monitor)
            return m.value;
    return std::nullopt;
}

void CheckpointManager::setMetrics(CheckpointRecord &r, const EvalInfo &e) const
{
    r.evalLoss = e.loss;
    r.evalAccuracy.reset();
    r.evalMetrics.clear();
    for (const auto &m : e.metrics) {
        if (m.name == "accuracy")
            r.evalAccuracy = m.value;
        else
            r.evalMetrics.push_back(m);
    }
    if (e.metrics.empty()) // an EvalInfo made without the task's metrics (a classification)
        r.evalAccuracy = e.accuracy;
}

CheckpointManager::CheckpointManager(Trainer &trainer, const CheckpointSettings &settings, std::string directory,
                                     std::string defaultPrefix, std::string resumedFrom, Clock clock)
    : m_s(settings), m_dir(std::move(directory)), m_resumedFrom(std::move(resumedFrom)), m_clock(clock ? std::move(clock) : Clock(realClock)),
      m_files(diskCheckpointFiles(m_dir)), m_trainer(&trainer)
{
    m_key = checkpointKey(m_s); // read once, before the first save can need it
    init(defaultPrefix);
}

CheckpointManager::CheckpointManager(const CheckpointSettings &settings, std::string directory, std::string defaultPrefix, Clock clock)
    : m_s(settings), m_dir(std::move(directory)), m_clock(std::move(clock))
{
    auto simulation = std::make_unique<SimulatedCheckpointFiles>(m_dir);
    m_simulation = simulation.get();
    m_files = std::move(simulation);
    init(defaultPrefix);
}

const std::vector<std::string> &CheckpointManager::planLog() const
{
    static const std::vector<std::string> none;
    return m_simulation ? m_simulation->log() : none;
}

std::vector<ms_policy::FileInfo> CheckpointManager::listing() const
{
    return m_files->listing();
}

void CheckpointManager::init(const std::string &defaultPrefix)
{
    std::tie(m_monitor, m_higherIsBetter) = resolveMonitor(m_s, m_trainer ? m_trainer->settings().task : std::string("classification"));
    m_policy = makeSavePolicy(m_s, defaultPrefix, m_clock());
    m_files->recover(m_policy->cntkFile());
    std::vector<std::string> names;
    for (const auto &f : listing())
        names.push_back(f.name);
    const std::string base = m_s.prefix.empty() ? defaultPrefix : m_s.prefix;
    // A resumed run continues its own files; a new run in a used directory gets the next prefix.
    m_prefix = m_resumedFrom.empty() ? ms_policy::resolvePrefix(names, base) : base;
    if (!m_resumedFrom.empty() && m_resumedFrom.rfind(base + "_", 0) == 0) {
        const size_t dash = m_resumedFrom.find('-', base.size());
        if (dash != std::string::npos)
            m_prefix = m_resumedFrom.substr(0, dash);
    }
    m_lastTimeForKeep = m_clock();
}

void CheckpointManager::onTrainBegin(const TrainBeginInfo &b)
{
    m_stepsPerEpoch = std::max<int64_t>(1, b.stepsPerEpoch);
    m_samplesPerEpoch = std::max<int64_t>(1, b.trainSamples); // drop_last already taken off
    m_lastSavedStep = b.startGlobalStep; // a resumed run does not save its starting point again
    if (m_trainer) {
        const TrainerProgress p = m_trainer->progress();
        m_cursorEpoch = p.data.epoch + 1;
        m_cursorPosition = p.data.position;
        m_globalStep = p.globalStep;
    }
    m_policy->begin(position());
    if (!m_resumedFrom.empty()) {
        CheckpointRecord r;
        r.file = m_resumedFrom;
        r.globalStep = b.startGlobalStep;
        m_records.push_back(r);
    }
}

void CheckpointManager::onStep(const StepInfo &s)
{
    if (!m_s.enabled)
        return;
    finishPending(false); // report a finished background save (or its failure) on this thread
    if (s.epoch != m_cursorEpoch) {
        m_cursorEpoch = s.epoch;
        m_cursorPosition = 0;
    }
    m_cursorPosition += s.batchSize;
    m_globalStep = s.globalStep;
    if (m_policy->mindsporeFiles() && !m_graphMetaWritten) {
        // As ModelCheckpoint: `<prefix>-graph.meta` once per run, at the first step end.
        const std::string meta = RunDirectory::graphMetaName(m_prefix);
        m_files->writeGraphMeta(meta, [&](const std::string &path) {
            mindspore::writeGraphMeta(path, m_trainer->graph(), std::max<int64_t>(1, s.batchSize));
        });
        HistoryEvent e;
        e.kind = HistoryEvent::Kind::GraphMeta;
        e.file = meta;
        e.globalStep = s.globalStep;
        log(e);
        m_graphMetaWritten = true;
    }
    if (const auto request = m_policy->afterStep(s, position()))
        save(*request, nullptr);
}

void CheckpointManager::onEvaluation(const EvalInfo &e)
{
    if (!m_s.enabled)
        return;
    finishPending(true);
    if (e.globalStep == m_lastSavedStep && !m_records.empty() && m_records.back().globalStep == e.globalStep) {
        if (!m_files->knowsMetrics())
            return; // a plan knows no metrics
        // The step trigger already wrote this point: attach the metrics to it.
        setMetrics(m_records.back(), e);
        HistoryEvent m;
        m.kind = HistoryEvent::Kind::Metrics;
        m.file = m_records.back().file;
        m.evalAccuracy = m_records.back().evalAccuracy;
        m.evalLoss = e.loss;
        m.evalMetrics = m_records.back().evalMetrics;
        log(m);
        return;
    }
    if (const auto request = m_policy->afterEvaluation(e, position()))
        save(*request, &e);
}

void CheckpointManager::onTrainEnd(const TrainEndInfo &e)
{
    if (!m_s.enabled)
        return;
    const int64_t epoch = (e.globalStep - 1) / m_stepsPerEpoch + 1;
    if (const auto request = m_policy->atEnd(e, epoch, position()))
        save(*request, nullptr);
    finishPending(true); // training is not over until its last checkpoint is on disk
    if (const auto request = m_policy->afterEnd(e, epoch, [this](const std::string &file) { return m_files->exists(file); })) {
        save(*request, nullptr);
        finishPending(true);
    }
}

CheckpointManager::~CheckpointManager()
{
    if (m_pending && m_pending->done.valid())
        m_pending->done.wait(); // never leave a writer thread behind (its error was the run's to report)
}

uint64_t CheckpointManager::cntkUnits() const
{
    const auto samples = static_cast<uint64_t>((m_cursorEpoch - 1) * m_samplesPerEpoch + m_cursorPosition);
    if (m_s.cntk.unit == "minibatches")
        return static_cast<uint64_t>(m_globalStep);
    if (m_s.cntk.unit == "sweeps")
        return samples / static_cast<uint64_t>(m_samplesPerEpoch);
    return samples;
}

SavePosition CheckpointManager::position() const
{
    return {m_lastSavedStep, cntkUnits(), m_clock()};
}

void CheckpointManager::save(const SaveRequest &request, const EvalInfo *eval)
{
    const int64_t epoch = request.epoch, globalStep = request.globalStep;
    const char *reason = request.reason;
    std::string name = request.name;
    finishPending(true); // one save in flight at a time, as MindSpore's async_save
    const double now = m_clock();
    ms_policy::Config policy;
    policy.keepCheckpointMax = m_s.keepCheckpointMax;
    policy.keepCheckpointPerNMinutes = m_s.keepCheckpointPerNMinutes;
    policy.saveCheckpointSteps = 1; // only the keep half of the config matters here
    policy = ms_policy::normalize(policy);
    Pending job;
    // The time-window rule decides from the listing as it is before the new file (as MindSpore
    // does); the count rule is applied after the write, to the files no other rule keeps.
    if (policy.keepCheckpointMax == 0 && m_policy->mindsporeFiles())
        job.windowDeletions = ms_policy::filesToDelete(listing(), m_prefix, policy, now, m_lastTimeForKeep,
                                                       ms_policy::checkpointExtension(m_s.format));
    if (name.empty())
        name = ms_policy::checkpointName(m_prefix, epoch, globalStep, m_stepsPerEpoch, ms_policy::checkpointExtension(m_s.format));
    job.path = (fs::path(m_dir) / name).string();
    job.reason = reason;
    job.time = now;
    job.record.file = name;
    job.record.epoch = epoch;
    job.record.globalStep = globalStep;
    if (eval && m_files->knowsMetrics()) { // a plan's evaluations carry no metrics
        setMetrics(job.record, *eval);
    }
    m_lastSavedStep = globalStep;
    m_lastTimeForKeep = now;
    job.done = m_files->save(name, now, m_trainer ? stateWriter(job.path, now) : std::function<int64_t()>(), m_s.asyncSave);
    m_pending = std::move(job);
    if (!m_s.asyncSave || m_files->savesAtOnce())
        finishPending(true);
}

std::function<int64_t()> CheckpointManager::stateWriter(const std::string &path, double now)
{
    auto entries = captureTrainingState(*m_trainer); // deep copies: training may go on while it is written
    Tensor chain(Shape{}, DType::Int64);
    chain.dataAs<int64_t>()[0] = m_policy->stepChain();
    entries.push_back(StateEntry::ofTensor("netwright.checkpoint.last_step_save", chain));
    // epoch_num / step_num as the callback's append_info writes them (MindSpore's names).
    entries.erase(std::remove_if(entries.begin(), entries.end(),
                                 [&](const StateEntry &en) {
                                     return (en.name == "epoch_num" || en.name == "step_num")
                                            && std::find(m_s.appendInfo.begin(), m_s.appendInfo.end(), en.name) == m_s.appendInfo.end();
                                 }),
                  entries.end());
    mindspore::CkptWriteOptions options;
    options.crc = m_s.crcCheck;
    options.key = m_key;
    std::optional<cntk::LearnerCounters> counters;
    if (!m_policy->mindsporeFiles()) {
        const auto samples = static_cast<uint64_t>((m_cursorEpoch - 1) * m_samplesPerEpoch + m_cursorPosition);
        counters = cntk::LearnerCounters{samples, static_cast<uint64_t>(m_globalStep), samples / static_cast<uint64_t>(m_samplesPerEpoch),
                                         m_trainer->settings().baseLr};
    }
    const bool safetensorsFile = m_s.format == "safetensors";
    return [path, entries = std::move(entries), options, now, counters, safetensorsFile, graph = &m_trainer->graph()]() -> int64_t {
        if (counters) {
            // The graph's structure is fixed while training; the values come from `entries`.
            cntk::writeTrainerCheckpoint(path, *graph, entries, *counters);
            struct stat model {}, state {};
            ::stat(path.c_str(), &model);
            ::stat((path + ".ckp").c_str(), &state);
            return model.st_size + state.st_size;
        }
        if (safetensorsFile)
            safetensors::writeSafetensorsState(path, entries);
        else
            mindspore::writeCkpt(path, entries, options);
        // Stamp the file with our clock so the time-window rule sees what the policy saw.
        const long ns = static_cast<long>((now - std::floor(now)) * 1e9);
        const struct timespec times[2] = {{static_cast<time_t>(now), ns}, {static_cast<time_t>(now), ns}};
        ::utimensat(AT_FDCWD, path.c_str(), times, 0);
        struct stat st {};
        ::stat(path.c_str(), &st);
        return st.st_size;
    };
}

void CheckpointManager::finishPending(bool wait)
{
    if (!m_pending || !m_pending->done.valid())
        return;
    if (!wait && m_pending->done.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
        return;
    Pending job = std::move(*m_pending);
    m_pending.reset();
    int64_t bytes = 0;
    try {
        bytes = job.done.get();
    } catch (const std::exception &e) {
        HistoryEvent f;
        f.kind = HistoryEvent::Kind::Failed;
        f.file = job.record.file;
        f.reason = job.reason;
        f.globalStep = job.record.globalStep;
        log(f);
        throw Error(std::string(m_s.asyncSave ? "The asynchronous save of " : "Saving ") + "checkpoint \"" + job.path
                    + "\" failed: " + e.what());
    }
    CheckpointRecord &r = job.record;
    m_records.erase(std::remove_if(m_records.begin(), m_records.end(), [&](const auto &x) { return x.file == r.file; }),
                    m_records.end());
    m_records.push_back(r);
    HistoryEvent saved;
    saved.kind = HistoryEvent::Kind::Saved;
    saved.file = r.file;
    saved.reason = job.reason;
    saved.epoch = r.epoch;
    saved.globalStep = r.globalStep;
    saved.bytes = bytes;
    saved.time = job.time;
    saved.evalAccuracy = r.evalAccuracy;
    saved.evalLoss = r.evalLoss;
    saved.evalMetrics = r.evalMetrics;
    log(saved);
    if (m_onSaved)
        m_onSaved(job.path, r);
    if (!m_policy->mindsporeFiles())
        return; // CNTK: one file overwritten, or (preserve_all) every file kept
    if (m_s.saveLast)
        linkLast(r.file);
    // Deletions happen only now, with the new file safely on disk.
    retain(job.windowDeletions);
}

void CheckpointManager::linkLast(const std::string &file)
{
    // `<prefix>-last.ckpt` is a second name of the newest checkpoint.
    const std::string last = m_prefix + "-last" + ms_policy::checkpointExtension(m_s.format);
    m_files->link(last, file, m_clock());
    log(linkedEvent(last, file));
}

void CheckpointManager::retain(const std::vector<std::string> &windowDeletions)
{
    // Files the other rules keep.
    std::vector<std::string> protectedFiles{latest()};
    if (!m_resumedFrom.empty())
        protectedFiles.push_back(m_resumedFrom);
    if (m_s.saveTopK > 0) {
        std::vector<const CheckpointRecord *> scored;
        for (const auto &r : m_records)
            if (const auto v = r.monitored(m_monitor); v && std::isfinite(*v)) // a NaN metric ranks nowhere
                scored.push_back(&r);
        const bool max = m_higherIsBetter;
        auto value = [&](const CheckpointRecord *r) { return *r->monitored(m_monitor); };
        // Stable: on ties the earlier checkpoint ranks first.
        std::stable_sort(scored.begin(), scored.end(),
                         [&](const auto *a, const auto *b) { return max ? value(a) > value(b) : value(a) < value(b); });
        for (size_t i = 0; i < scored.size() && i < static_cast<size_t>(m_s.saveTopK); ++i)
            protectedFiles.push_back(scored[i]->file);
    }
    auto isProtected = [&](const std::string &file) {
        if (std::find(protectedFiles.begin(), protectedFiles.end(), file) != protectedFiles.end())
            return true;
        const auto rec = std::find_if(m_records.begin(), m_records.end(), [&](const auto &r) { return r.file == file; });
        return m_s.keepPeriod > 0 && rec != m_records.end() && rec->globalStep % m_s.keepPeriod == 0;
    };
    std::vector<std::pair<std::string, std::string>> doomed; // file, rule
    if (m_s.keepCheckpointMax > 0) {
        // keep_checkpoint_max: the newest N managed files stay (by modification time, as
        // MindSpore orders them); older ones go unless another rule keeps them.
        std::vector<ms_policy::FileInfo> managed;
        for (const auto &f : listing())
            if (ms_policy::isManaged(f.name, m_prefix, ms_policy::checkpointExtension(m_s.format)))
                managed.push_back(f);
        std::stable_sort(managed.begin(), managed.end(), [](const auto &a, const auto &b) { return a.mtime > b.mtime; });
        for (size_t i = static_cast<size_t>(m_s.keepCheckpointMax); i < managed.size(); ++i)
            if (!isProtected(managed[i].name))
                doomed.emplace_back(managed[i].name, "keep_checkpoint_max");
    } else {
        for (const auto &f : windowDeletions)
            if (!isProtected(f))
                doomed.emplace_back(f, "keep_checkpoint_per_n_minutes");
    }
    for (const auto &doom : doomed) {
        const auto &[file, rule] = doom;
        const auto rec = std::find_if(m_records.begin(), m_records.end(), [&](const auto &r) { return r.file == doom.first; });
        std::error_code ec;
        m_files->remove(file, ec);
        if (ec)
            continue; // as MindSpore: a failed deletion is not an error
        if (rec != m_records.end())
            m_records.erase(rec);
        HistoryEvent d;
        d.kind = HistoryEvent::Kind::Deleted;
        d.file = file;
        d.rule = rule;
        log(d);
    }
}

void CheckpointManager::log(const HistoryEvent &event)
{
    m_files->record(event);
}

std::string CheckpointManager::saveBreakpoint()
{
    std::vector<std::string> names;
    check(m_trainer != nullptr, "A dry run writes no breakpoint checkpoint.");
    for (const auto &f : listRegularFiles(m_dir))
        names.push_back(f.name);
    const std::string prefix = ms_policy::resolvePrefix(names, m_prefix, true);
    const int64_t step = std::max<int64_t>(1, m_trainer->globalStep());
    const std::string name = ms_policy::breakpointName(prefix, (step - 1) / m_stepsPerEpoch + 1, step, m_stepsPerEpoch,
                                                       ms_policy::checkpointExtension(m_s.format));
    const std::string path = (fs::path(m_dir) / name).string();
    if (m_s.format == "safetensors") {
        safetensors::writeSafetensorsState(path, captureTrainingState(*m_trainer));
    } else {
        mindspore::CkptWriteOptions options;
        options.key = m_key;
        mindspore::writeCkpt(path, captureTrainingState(*m_trainer), options);
    }
    HistoryEvent e;
    e.kind = HistoryEvent::Kind::Saved;
    e.file = name;
    e.reason = "exception_save";
    e.globalStep = m_trainer->globalStep();
    e.hasEpoch = e.hasBytes = false;
    e.time = m_clock();
    log(e);
    return path;
}

std::string findNewestValidCheckpoint(const std::string &directory, const mindspore::EncryptionKey &key)
{
    std::string best;
    int64_t bestStep = -1;
    for (const auto &f : listRegularFiles(directory)) {
        const bool ckpt = f.name.size() > 5 && f.name.compare(f.name.size() - 5, 5, ".ckpt") == 0;
        const bool st = f.name.size() > 12 && f.name.compare(f.name.size() - 12, 12, ".safetensors") == 0;
        if ((!ckpt && !st) || f.name[0] == '.')
            continue;
        try {
            const std::string path = (fs::path(directory) / f.name).string();
            const TrainingState entries = ckpt ? mindspore::readCkpt(path, true, key).entries : safetensors::readSafetensorsState(path);
            for (const auto &e : entries)
                if (e.name == "netwright.train.global_step" && !e.isString && e.tensor.dtype() == DType::Int64
                    && e.tensor.numel() == 1
                    && (e.tensor.dataAs<int64_t>()[0] > bestStep
                        // the save_last alias names the same state as a real checkpoint: prefer the real one
                        || (e.tensor.dataAs<int64_t>()[0] == bestStep
                            && (best.ends_with("-last.ckpt") || best.ends_with("-last.safetensors"))))) {
                    bestStep = e.tensor.dataAs<int64_t>()[0];
                    best = f.name;
                }
        } catch (const Error &) {
            // a damaged or foreign file is not a place to resume from
        }
    }
    return best;
}

std::string cntkFilename(const CheckpointSettings &settings, const std::string &model)
{
    return settings.cntk.filename.empty() ? model + ".dnn" : settings.cntk.filename;
}

std::string findRestoreCheckpoint(const CheckpointSettings &settings, const std::string &model, const std::string &directory)
{
    return settings.format == "cntk" ? findCntkRestoreFile(directory, cntkFilename(settings, model)) : findNewestValidCheckpoint(directory, checkpointKey(settings));
}

std::string findCntkRestoreFile(const std::string &directory, const std::string &filename)
{
    std::vector<std::string> listing;
    for (const auto &f : listRegularFiles(directory))
        if (f.name.size() > 12 && f.name[0] == '.' && f.name.compare(f.name.size() - 12, 12, ".ckp.pending") == 0)
            cntk::recoverInterruptedSave((fs::path(directory) / f.name.substr(1, f.name.size() - 13)).string());
    for (const auto &f : listRegularFiles(directory))
        listing.push_back(f.name);
    // CNTK's rule picks one file; when that pair does not read back, the next best is used.
    while (true) {
        const std::string pick = cntk_policy::findRestoreFile(listing, filename);
        if (pick.empty())
            return pick;
        try {
            cntk::readTrainerCheckpoint((fs::path(directory) / pick).string());
            return pick;
        } catch (const Error &) {
            listing.erase(std::remove(listing.begin(), listing.end(), pick), listing.end());
        }
    }
}

} // namespace netwright
