// SPDX-License-Identifier: Apache-2.0
#include "checkpoint/checkpoint_manager.h"

#include "checkpoint/mindspore_policy.h"
#include "checkpoint/training_state.h"
#include "core/error.h"
#include "formats/mindspore/ckpt_file.h"
#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fcntl.h>
#include <sys/stat.h>

namespace netwright {

namespace fs = std::filesystem;

namespace {

double realClock()
{
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::vector<ms_policy::FileInfo> listDirectory(const std::string &dir)
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

std::string jsonNumber(double v)
{
    char b[40];
    std::snprintf(b, sizeof b, "%.17g", v);
    return b;
}

} // namespace

CheckpointManager::CheckpointManager(Trainer &trainer, const CheckpointSettings &settings, std::string directory,
                                     std::string defaultPrefix, std::string resumedFrom, Clock clock)
    : m_trainer(trainer), m_s(settings), m_dir(std::move(directory)), m_resumedFrom(std::move(resumedFrom)),
      m_clock(clock ? std::move(clock) : Clock(realClock))
{
    std::vector<std::string> names;
    for (const auto &f : listDirectory(m_dir)) {
        if (f.name[0] == '.' && f.name.find(".ckpt.tmp-") != std::string::npos) {
            std::error_code ec; // a save that a crash interrupted: never a valid checkpoint
            fs::remove(fs::path(m_dir) / f.name, ec);
            continue;
        }
        names.push_back(f.name);
    }
    const std::string base = m_s.prefix.empty() ? defaultPrefix : m_s.prefix;
    // A resumed run continues its own files; a new run in a used directory gets the next prefix.
    m_prefix = m_resumedFrom.empty() ? ms_policy::resolvePrefix(names, base) : base;
    if (!m_resumedFrom.empty() && m_resumedFrom.rfind(base + "_", 0) == 0) {
        const size_t dash = m_resumedFrom.find('-', base.size());
        if (dash != std::string::npos)
            m_prefix = m_resumedFrom.substr(0, dash);
    }
    m_lastTime = m_lastTimeForKeep = m_clock();
}

void CheckpointManager::onTrainBegin(const TrainBeginInfo &b)
{
    m_stepsPerEpoch = std::max<int64_t>(1, b.stepsPerEpoch);
    m_lastSavedStep = b.startGlobalStep; // a resumed run does not save its starting point again
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
    bool due = false;
    const double now = m_clock();
    if (m_s.saveCheckpointSteps > 0) {
        due = s.globalStep >= m_lastStepSave + m_s.saveCheckpointSteps;
        if (due)
            m_lastStepSave = s.globalStep;
    } else if (m_s.saveCheckpointSeconds > 0 && now - m_lastTime > m_s.saveCheckpointSeconds) {
        due = true;
        m_lastTime = now;
    }
    if (due && s.globalStep != m_lastSavedStep)
        save(s.epoch, s.globalStep, m_s.saveCheckpointSteps > 0 ? "save_checkpoint_steps" : "save_checkpoint_seconds", nullptr);
}

void CheckpointManager::onEvaluation(const EvalInfo &e)
{
    if (!m_s.enabled)
        return;
    if (e.globalStep == m_lastSavedStep && !m_records.empty() && m_records.back().globalStep == e.globalStep) {
        // The step trigger already wrote this point: attach the metrics to it.
        m_records.back().evalAccuracy = e.accuracy;
        m_records.back().evalLoss = e.loss;
        log("{\"event\":\"metrics\",\"file\":\"" + m_records.back().file + "\",\"eval_accuracy\":" + jsonNumber(e.accuracy)
            + ",\"eval_loss\":" + jsonNumber(e.loss) + "}");
        return;
    }
    if (m_s.saveEveryEpoch)
        save(e.epoch, e.globalStep, "save_every_epoch", &e);
}

void CheckpointManager::onTrainEnd(const TrainEndInfo &e)
{
    if (!m_s.enabled || !m_s.saveAtEnd || e.globalStep == m_lastSavedStep || e.globalStep == 0)
        return;
    save((e.globalStep - 1) / m_stepsPerEpoch + 1, e.globalStep, e.stopped ? "stopped" : "save_at_end", nullptr);
}

void CheckpointManager::save(int64_t epoch, int64_t globalStep, const char *reason, const EvalInfo *eval)
{
    const double now = m_clock();
    ms_policy::Config policy;
    policy.keepCheckpointMax = m_s.keepCheckpointMax;
    policy.keepCheckpointPerNMinutes = m_s.keepCheckpointPerNMinutes;
    policy.saveCheckpointSteps = 1; // only the keep half of the config matters here
    policy = ms_policy::normalize(policy);
    // The time-window rule decides from the listing as it is before the new file (as MindSpore
    // does); the count rule is applied after the write, to the files no other rule keeps.
    const std::vector<std::string> deletions =
        policy.keepCheckpointMax > 0 ? std::vector<std::string>{}
                                     : ms_policy::filesToDelete(listDirectory(m_dir), m_prefix, policy, now, m_lastTimeForKeep);
    const std::string name = ms_policy::checkpointName(m_prefix, epoch, globalStep, m_stepsPerEpoch);
    auto entries = captureTrainingState(m_trainer);
    // epoch_num / step_num as the callback's append_info writes them (MindSpore's names).
    Tensor chain(Shape{}, DType::Int64);
    chain.dataAs<int64_t>()[0] = m_lastStepSave;
    entries.push_back(mindspore::CkptEntry::ofTensor("netwright.checkpoint.last_step_save", chain));
    entries.erase(std::remove_if(entries.begin(), entries.end(),
                                 [&](const mindspore::CkptEntry &en) {
                                     return (en.name == "epoch_num" || en.name == "step_num")
                                            && std::find(m_s.appendInfo.begin(), m_s.appendInfo.end(), en.name) == m_s.appendInfo.end();
                                 }),
                  entries.end());
    const std::string path = (fs::path(m_dir) / name).string();
    mindspore::CkptWriteOptions options;
    options.crc = m_s.crcCheck;
    mindspore::writeCkpt(path, entries, options);
    // Stamp the file with our clock so the time-window rule sees what the policy saw.
    const struct timespec times[2] = {{static_cast<time_t>(now), static_cast<long>((now - static_cast<time_t>(now)) * 1e9)},
                                      {static_cast<time_t>(now), static_cast<long>((now - static_cast<time_t>(now)) * 1e9)}};
    ::utimensat(AT_FDCWD, path.c_str(), times, 0);
    m_lastSavedStep = globalStep;
    m_lastTimeForKeep = now;
    CheckpointRecord r;
    r.file = name;
    r.epoch = epoch;
    r.globalStep = globalStep;
    if (eval) {
        r.evalAccuracy = eval->accuracy;
        r.evalLoss = eval->loss;
    }
    m_records.erase(std::remove_if(m_records.begin(), m_records.end(), [&](const auto &x) { return x.file == name; }), m_records.end());
    m_records.push_back(r);
    struct stat st {};
    ::stat(path.c_str(), &st);
    log("{\"event\":\"saved\",\"file\":\"" + name + "\",\"reason\":\"" + reason + "\",\"epoch\":" + std::to_string(epoch)
        + ",\"global_step\":" + std::to_string(globalStep) + ",\"bytes\":" + std::to_string(st.st_size) + ",\"time\":"
        + jsonNumber(now) + (eval ? ",\"eval_accuracy\":" + jsonNumber(eval->accuracy) + ",\"eval_loss\":" + jsonNumber(eval->loss) : "")
        + "}");
    if (m_onSaved)
        m_onSaved(path, r);
    // Deletions happen only now, with the new file safely on disk.
    retain(deletions);
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
            if ((m_s.monitor == "eval_accuracy" ? r.evalAccuracy : r.evalLoss).has_value())
                scored.push_back(&r);
        const bool max = m_s.mode == "max";
        auto value = [&](const CheckpointRecord *r) { return m_s.monitor == "eval_accuracy" ? *r->evalAccuracy : *r->evalLoss; };
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
        for (const auto &f : listDirectory(m_dir))
            if (ms_policy::isManaged(f.name, m_prefix))
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
    for (const auto &[file, rule] : doomed) {
        const auto rec = std::find_if(m_records.begin(), m_records.end(), [&](const auto &r) { return r.file == file; });
        std::error_code ec;
        fs::remove(fs::path(m_dir) / file, ec);
        if (ec)
            continue; // as MindSpore: a failed deletion is not an error
        if (rec != m_records.end())
            m_records.erase(rec);
        log("{\"event\":\"deleted\",\"file\":\"" + file + "\",\"rule\":\"" + rule + "\"}");
    }
}

void CheckpointManager::log(const std::string &jsonLine)
{
    const std::string path = (fs::path(m_dir) / "checkpoints.jsonl").string();
    std::FILE *f = std::fopen(path.c_str(), "ab");
    if (!f)
        throw Error("Cannot write the checkpoint history \"" + path + "\".");
    std::fputs((jsonLine + "\n").c_str(), f);
    std::fclose(f);
}

std::string findNewestValidCheckpoint(const std::string &directory)
{
    std::string best;
    int64_t bestStep = -1;
    for (const auto &f : listDirectory(directory)) {
        if (f.name.size() < 5 || f.name.compare(f.name.size() - 5, 5, ".ckpt") != 0 || f.name[0] == '.')
            continue;
        try {
            const auto file = mindspore::readCkpt((fs::path(directory) / f.name).string(), true);
            for (const auto &e : file.entries)
                if (e.name == "netwright.train.global_step" && !e.isString && e.tensor.dtype() == DType::Int64
                    && e.tensor.numel() == 1 && e.tensor.dataAs<int64_t>()[0] > bestStep) {
                    bestStep = e.tensor.dataAs<int64_t>()[0];
                    best = f.name;
                }
        } catch (const Error &) {
            // a damaged or foreign file is not a place to resume from
        }
    }
    return best;
}

} // namespace netwright
