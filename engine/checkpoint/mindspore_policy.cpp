// SPDX-License-Identifier: Apache-2.0
#include "checkpoint/mindspore_policy.h"

#include "core/error.h"

#include <algorithm>
#include <cctype>

namespace netwright::ms_policy {

namespace {
bool endsWith(const std::string &s, const std::string &suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string extensionOf(const std::string &name)
{
    const size_t dot = name.rfind('.');
    return dot == std::string::npos ? std::string() : name.substr(dot);
}

int64_t stepInEpoch(int64_t globalStep, int64_t stepsPerEpoch)
{
    check(globalStep >= 1 && stepsPerEpoch >= 1, "Checkpoint naming needs a step ≥ 1 and steps per epoch ≥ 1.");
    return ((globalStep - 1) % stepsPerEpoch) + 1;
}
} // namespace

Config normalize(Config c)
{
    auto nonNegative = [](int64_t v, const char *name) {
        check(v >= 0, std::string("checkpoint.") + name + " must be 0 or more, got " + std::to_string(v) + ".");
    };
    nonNegative(c.saveCheckpointSteps, "save_checkpoint_steps");
    nonNegative(c.saveCheckpointSeconds, "save_checkpoint_seconds");
    nonNegative(c.keepCheckpointMax, "keep_checkpoint_max");
    nonNegative(c.keepCheckpointPerNMinutes, "keep_checkpoint_per_n_minutes");
    check(c.saveCheckpointSteps || c.saveCheckpointSeconds || c.keepCheckpointMax || c.keepCheckpointPerNMinutes,
          "checkpoint: save_checkpoint_steps, save_checkpoint_seconds, keep_checkpoint_max and "
          "keep_checkpoint_per_n_minutes cannot all be 0.");
    if (c.saveCheckpointSteps > 0)
        c.saveCheckpointSeconds = 0;
    if (c.keepCheckpointMax > 0)
        c.keepCheckpointPerNMinutes = 0;
    else if (c.keepCheckpointPerNMinutes == 0)
        c.keepCheckpointMax = 1;
    return c;
}

std::string resolvePrefix(const std::vector<std::string> &listing, const std::string &prefix, bool breakpointFiles)
{
    check(!prefix.empty() && prefix.find('/') == std::string::npos, "checkpoint.prefix must be a non-empty name without '/'.");
    const size_t L = prefix.size();
    int64_t k = 0;
    for (const std::string &f : listing) {
        const std::string ext = extensionOf(f);
        const bool isBreakpoint = endsWith(f, "_breakpoint.ckpt") || endsWith(f, "_breakpoint.safetensors");
        if (breakpointFiles ? !isBreakpoint : ((ext != ".ckpt" && ext != ".safetensors") || isBreakpoint))
            continue;
        if (f.size() <= L || f.compare(0, L, prefix) != 0 || std::isalpha(static_cast<unsigned char>(f[L])))
            continue;
        const size_t dash = f.find('-', L);
        if (dash == std::string::npos)
            continue;
        const size_t i = dash - L;
        if (i == 0) {
            k = std::max<int64_t>(k, 1);
            continue;
        }
        const std::string s = f.substr(L + 1, i - 1);
        if (!s.empty() && s.size() < 18 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
            k = std::max<int64_t>(k, std::stoll(s) + 1);
    }
    return k > 0 ? prefix + "_" + std::to_string(k) : prefix;
}

std::string checkpointExtension(const std::string &format)
{
    return format == "safetensors" ? ".safetensors" : ".ckpt";
}

std::string checkpointName(const std::string &prefix, int64_t epoch, int64_t globalStep, int64_t stepsPerEpoch, const std::string &extension)
{
    return prefix + "-" + std::to_string(epoch) + "_" + std::to_string(stepInEpoch(globalStep, stepsPerEpoch)) + extension;
}

std::string breakpointName(const std::string &prefix, int64_t epoch, int64_t globalStep, int64_t stepsPerEpoch, const std::string &extension)
{
    return prefix + "-" + std::to_string(epoch) + "_" + std::to_string(stepInEpoch(globalStep, stepsPerEpoch)) + "_breakpoint" + extension;
}

bool isManaged(const std::string &file, const std::string &prefix, const std::string &extension)
{
    if (!endsWith(file, extension) || file.compare(0, prefix.size() + 1, prefix + "-") != 0)
        return false;
    const std::string middle = file.substr(prefix.size(), file.size() - prefix.size() - extension.size());
    return std::none_of(middle.begin(), middle.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
}

bool SaveTrigger::decide(int64_t globalStep, double now, bool force)
{
    if (globalStep == m_lastTriggeredStep)
        return false;
    bool save = false;
    if (m_c.saveCheckpointSteps > 0) {
        save = globalStep >= m_lastTriggeredStep + m_c.saveCheckpointSteps || force;
    } else if (m_c.saveCheckpointSeconds > 0) {
        save = now - m_lastTime > static_cast<double>(m_c.saveCheckpointSeconds) || force;
        if (save)
            m_lastTime = now;
    }
    if (save) {
        m_lastTimeForKeep = now;
        m_lastTriggeredStep = globalStep;
    }
    return save;
}

std::vector<std::string> filesToDelete(const std::vector<FileInfo> &listing, const std::string &prefix, const Config &c,
                                       double now, double lastTimeForKeep, const std::string &extension)
{
    std::vector<const FileInfo *> managed;
    for (const auto &f : listing)
        if (isManaged(f.name, prefix, extension))
            managed.push_back(&f);
    std::vector<std::string> out;
    if (c.keepCheckpointMax > 0) {
        if (static_cast<int64_t>(managed.size()) >= c.keepCheckpointMax && !managed.empty()) {
            // exactly one: the oldest by modification time (first in listing order on ties)
            const FileInfo *oldest = managed.front();
            for (const FileInfo *f : managed)
                if (f->mtime < oldest->mtime)
                    oldest = f;
            out.push_back(oldest->name);
        }
        return out;
    }
    const double window = 60.0 * static_cast<double>(c.keepCheckpointPerNMinutes);
    if (c.keepCheckpointPerNMinutes <= 0 || now - lastTimeForKeep >= window)
        return out;
    std::vector<const FileInfo *> recent;
    for (const FileInfo *f : managed)
        if (now - f->mtime < window)
            recent.push_back(f);
    const FileInfo *keep = nullptr;
    for (const FileInfo *f : recent)
        if (f->mtime < now && (!keep || f->mtime < keep->mtime))
            keep = f;
    for (const FileInfo *f : recent)
        if (f != keep)
            out.push_back(f->name);
    return out;
}

} // namespace netwright::ms_policy
