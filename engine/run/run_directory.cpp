// SPDX-License-Identifier: Apache-2.0
#include "run/run_directory.h"

#include "checkpoint/checkpoint_manager.h"
#include "checkpoint/training_state.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/file_io.h"
#include "formats/cntk/trainer_checkpoint.h"
#include "formats/mindspore/ckpt_file.h"
#include "formats/safetensors/safetensors_file.h"
#include "run/jsonl.h"
#include "run/tensorboard_log.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <sys/stat.h>

namespace netwright {

namespace fs = std::filesystem;

namespace {

bool endsWith(const std::string &s, const std::string &suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool startsWith(const std::string &s, const std::string &prefix)
{
    return s.rfind(prefix, 0) == 0;
}

std::string clean(std::string path)
{
    std::string p = fs::path(path).lexically_normal().string();
    while (p.size() > 1 && p.back() == '/')
        p.pop_back();
    return p.empty() ? std::string(".") : p;
}

bool exists(const std::string &path)
{
    std::error_code ec;
    return fs::exists(fs::symlink_status(path, ec));
}

bool isDirectory(const std::string &path)
{
    std::error_code ec;
    return fs::is_directory(path, ec);
}

// Names in a directory, sorted (hidden ones included).
std::vector<std::string> listNames(const std::string &dir)
{
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto &entry : fs::directory_iterator(dir, ec))
        out.push_back(entry.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

// A temporary file of our naming: an atomic write's `.<name>.tmp-XXXXXX` (also of a CNTK pending
// .ckp: `..<name>.ckp.pending.tmp-…`), a save_last link in the making `.<name>.link`, a removed
// checkpoint whose bytes a background unlink had not yet freed `.<name>.deleted`.
bool isTemporaryName(const std::string &name)
{
    return startsWith(name, ".") && (name.find(".tmp-") != std::string::npos || endsWith(name, ".link") || endsWith(name, ".deleted"));
}

std::string stamp()
{
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm local {};
    ::localtime_r(&now, &local);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &local);
    return buf;
}

} // namespace

RunDirectory::RunDirectory(std::string path) : m_path(std::move(path)) {}

std::string RunDirectory::file(const std::string &name) const
{
    return (fs::path(m_path) / name).string();
}

bool RunDirectory::hasConfig() const
{
    return exists(configPath());
}

bool RunDirectory::hasMetrics() const
{
    return exists(metricsPath());
}

std::string RunDirectory::defaultPath(const std::string &out, const std::string &runName)
{
    if (!out.empty())
        return out;
    const std::string base = "runs/" + runName + "-" + stamp();
    std::string path = base;
    for (int n = 2; exists(path); ++n)
        path = base + "-" + std::to_string(n);
    return path;
}

RunDirectory RunDirectory::create(const std::string &out, const std::string &runName, bool continuing)
{
    const std::string path = defaultPath(out, runName);
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (fs::exists(status) && !fs::is_directory(status))
        throw Error("Cannot use \"" + path + "\" as the run directory: it is a file.");
    if (!continuing && exists((fs::path(path) / kMetricsFile).string()))
        throw Error("The run directory \"" + path + "\" already holds a run; choose another --out, or continue it with netwright resume.");
    fs::create_directories(path, ec);
    if (ec || !isDirectory(path))
        throw Error("Cannot create the run directory \"" + path + "\"" + (ec ? ": " + ec.message() : std::string()) + ".");
    return RunDirectory(clean(path));
}

bool RunDirectory::isRunDirectory(const std::string &path)
{
    return isDirectory(path) && exists((fs::path(path) / kConfigFile).string());
}

RunDirectory RunDirectory::open(const std::string &path)
{
    const std::string p = clean(path);
    if (!isDirectory(p)) {
        if (!exists(p))
            throw Error("\"" + p + "\" is not a run directory: it does not exist.");
        throw Error("\"" + p + "\" is not a run directory.");
    }
    RunDirectory dir(p);
    if (!dir.hasConfig()) {
        bool pending = false;
        for (const auto &name : listNames(p))
            pending = pending || startsWith(name, std::string(".") + kConfigFile + ".tmp-");
        if (!pending)
            throw Error("\"" + p + "\" has no config.json; is it a run directory?");
    }
    return dir;
}

RunConfig RunDirectory::readConfig() const
{
    return loadRunConfigFile(configPath(), defaultRunConfig());
}

void RunDirectory::writeConfig(RunConfig config) const
{
    if (!config.modelFile.empty()) {
        const fs::path source(config.modelFile);
        std::string name = source.filename().string();
        for (const char *own : {kConfigFile, kMetricsFile, kHistoryFile})
            if (name == own)
                name = "model-" + name;
        const fs::path copy = fs::path(m_path) / name;
        std::error_code ec;
        if (!fs::exists(copy, ec) || !fs::equivalent(copy, source, ec)) {
            std::string bytes;
            try {
                bytes = readRegularFile(config.modelFile, "model file");
            } catch (const Error &e) {
                throw Error(std::string("Cannot copy the model file into the run directory: ") + e.what());
            }
            writeFileAtomically(copy.string(), bytes);
        }
        config.modelFile = name;
    }
    writeFileAtomically(configPath(), runConfigToJson(config) + "\n");
}

std::string RunDirectory::modelFile() const
{
    if (!hasConfig())
        return {};
    try {
        return readConfig().modelFile;
    } catch (const Error &) {
        return {};
    }
}

std::vector<run::CheckpointRow> RunDirectory::history() const
{
    return run::historyRows(historyLog(), m_path);
}

std::vector<std::string> RunDirectory::recover() const
{
    std::vector<std::string> done;
    const std::string configTemp = std::string(".") + kConfigFile + ".tmp-";
    if (!hasConfig()) {
        // Killed while writing config.json: a temporary file that parses whole is the config.
        for (const auto &name : listNames(m_path)) {
            if (!startsWith(name, configTemp))
                continue;
            try {
                loadRunConfigFile(file(name), defaultRunConfig());
            } catch (const Error &) {
                continue; // cut short: not the config
            }
            std::error_code ec;
            fs::rename(file(name), configPath(), ec);
            if (!ec) {
                done.push_back("config.json restored from \"" + name + "\", which a kill left complete");
                break;
            }
        }
    }
    for (const auto &name : listNames(m_path)) {
        if (!isTemporaryName(name))
            continue;
        std::error_code ec;
        if (fs::remove(file(name), ec) && !ec)
            done.push_back("removed \"" + name + "\", left by a save or deletion a kill interrupted");
    }
    return done;
}

std::string RunDirectory::restoreCheckpoint(const RunConfig &config, bool startOver) const
{
    const std::string chosen = findRestoreCheckpoint(config.checkpoint, config.model, m_path);
    if (!chosen.empty() || startOver)
        return chosen;
    // Nothing restorable: fine for a run killed before its first save; not when checkpoints are
    // there and all are damaged (starting over would silently throw the trained steps away).
    const bool cntk = config.checkpoint.format == "cntk";
    const mindspore::EncryptionKey key = cntk ? mindspore::EncryptionKey() : checkpointKey(config.checkpoint);
    const std::string cntkName = cntkFilename(config.checkpoint, config.model);
    std::vector<std::string> faults;
    for (const auto &name : listNames(m_path)) {
        if (startsWith(name, "."))
            continue;
        std::string fault;
        if (cntk) {
            const bool ours = name == cntkName
                              || (startsWith(name, cntkName) && name.size() > cntkName.size()
                                  && std::all_of(name.begin() + static_cast<long>(cntkName.size()), name.end(), ::isdigit));
            if (!ours)
                continue;
            try {
                cntk::readTrainerCheckpoint(file(name));
            } catch (const Error &e) {
                fault = e.what();
            }
        } else {
            if (!endsWith(name, ".ckpt") && !endsWith(name, ".safetensors"))
                continue;
            try {
                const TrainingState entries = endsWith(name, ".ckpt") ? mindspore::readCkpt(file(name), true, key).entries
                                                                      : safetensors::readSafetensorsState(file(name));
                const bool state = std::any_of(entries.begin(), entries.end(),
                                               [](const auto &e) { return e.name == "netwright.train.global_step"; });
                if (!state)
                    fault = "\"" + file(name) + "\" holds no training state (no netwright.train.global_step).";
            } catch (const Error &e) {
                fault = e.what();
            }
        }
        if (!fault.empty())
            faults.push_back(fault);
    }
    if (faults.empty())
        return {};
    std::string message = "Cannot resume \"" + m_path + "\": it holds " + std::to_string(faults.size()) + " checkpoint"
                          + (faults.size() == 1 ? "" : "s") + " and none can be restored:";
    for (const auto &f : faults)
        message += "\n  " + f;
    message += "\nMove them away or repair them; or run `netwright resume --start-over " + m_path
               + "` to train again from the beginning (the damaged files are left as they are).";
    throw Error(message);
}

int64_t RunDirectory::dropTornMetricsLine() const
{
    const MetricsLogContents log = metrics();
    if (!log.exists || log.tornLine == 0)
        return 0;
    std::string text;
    for (const auto &r : log.records)
        text += metricsRecordLine(r);
    writeFileAtomically(metricsPath(), text);
    return log.tornLine;
}

RunDirectory RunDirectory::fork(const std::string &checkpointFile) const
{
    const std::string checkpoint = file(checkpointFile);
    check(exists(checkpoint), "\"" + checkpoint + "\" is no longer on disk.");
    const std::string stem = fs::path(checkpointFile).stem().string();
    std::string target = m_path + "-from-" + stem;
    for (int k = 2; exists(target); ++k)
        target = m_path + "-from-" + stem + "-" + std::to_string(k);
    std::error_code ec;
    fs::create_directories(target, ec);
    check(!ec, "Cannot create \"" + target + "\": " + ec.message() + ".");
    RunDirectory fork(target);
    try {
        auto copy = [&](const std::string &name) {
            std::error_code e;
            fs::copy_file(file(name), fork.file(name), e);
            check(!e, "Cannot copy \"" + file(name) + "\" to \"" + fork.file(name) + "\": " + e.message() + ".");
        };
        copy(kConfigFile);
        copy(checkpointFile);
        if (exists(checkpoint + ".ckp"))
            copy(checkpointFile + ".ckp"); // a CNTK pair goes whole
        // resume truncates the metrics to the checkpoint's step: the fork's curves start where
        // this run was at that checkpoint.
        if (hasMetrics())
            copy(kMetricsFile);
        for (const auto &events : TensorBoardLog::eventFiles(m_path))
            copy(fs::path(events).filename().string());
        const std::string model = modelFile();
        if (!model.empty() && fs::path(model).parent_path() == fs::path(m_path))
            copy(fs::path(model).filename().string());
        // The fork's history starts with the checkpoint it was forked at (its row from this run,
        // marked as the fork point, naming this run's file), and its metrics end there: a fork
        // is not finished before it has trained (this run's end record goes), and its curves
        // start where this run was at that checkpoint.
        for (const auto &row : history())
            if (row.file == checkpointFile) {
                run::HistoryEvent e;
                e.kind = run::HistoryEvent::Kind::Saved;
                e.file = checkpointFile;
                e.reason = "fork_point";
                e.target = fs::absolute(checkpoint).lexically_normal().string();
                e.epoch = row.epoch;
                e.globalStep = row.step;
                e.bytes = row.bytes;
                e.time = row.time;
                e.evalAccuracy = row.accuracy;
                e.evalLoss = row.loss;
                e.evalMetrics = row.metrics;
                fork.appendHistory(e);
                if (hasMetrics())
                    MetricsLog::truncateAfter(fork.metricsPath(), row.step, true); // resume cuts again as the checkpoint says
                TensorBoardLog::truncateAfter(fork.path(), row.step, true);
            }
    } catch (...) {
        fs::remove_all(target, ec);
        throw;
    }
    return fork;
}

void RunDirectory::deleteCheckpoint(const std::string &checkpointFile, const std::string &rule) const
{
    const std::string path = file(checkpointFile);
    std::error_code ec;
    if (!fs::remove(path, ec) || ec)
        throw Error("Could not delete \"" + path + "\"" + (ec ? ": " + ec.message() : std::string(": it is not there")) + ".");
    fs::remove(path + ".ckp", ec); // a CNTK pair goes together
    run::HistoryEvent e;
    e.kind = run::HistoryEvent::Kind::Deleted;
    e.file = checkpointFile;
    e.rule = rule;
    e.time = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    appendHistory(e);
}

void RunDirectory::clearUnstarted() const
{
    std::vector<std::string> doomed;
    for (const auto &name : listNames(m_path)) {
        const std::string path = file(name);
        std::error_code ec;
        if (!fs::is_regular_file(fs::symlink_status(path, ec)))
            continue;
        const bool ours = name == kConfigFile || name == kMetricsFile || name == kHistoryFile || name == "batch.log"
                          || endsWith(name, "-graph.meta") || startsWith(name, ".") || TensorBoardLog::isEventFileName(name);
        const bool model = endsWith(name, ".onnx") || endsWith(name, ".mindir") || endsWith(name, ".air") || endsWith(name, ".model");
        check(ours || model, "\"" + m_path + "\" holds \"" + name + "\", which a batch did not write; move it away to re-run.");
        doomed.push_back(path);
    }
    for (const auto &path : doomed) {
        std::error_code ec;
        fs::remove(path, ec);
    }
}

} // namespace netwright
