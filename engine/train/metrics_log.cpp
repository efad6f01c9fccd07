// SPDX-License-Identifier: Apache-2.0
#include "train/metrics_log.h"

#include "core/atomic_file.h"
#include "core/error.h"

#include <fstream>

#include <cerrno>
#include <cstring>

namespace netwright {

namespace {
std::string num(double v)
{
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}
std::string num(float v)
{
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
    return buf;
}
} // namespace

MetricsLog::MetricsLog(const std::string &path, bool append) : m_path(path), m_file(std::fopen(path.c_str(), append ? "ab" : "wb"))
{
    if (!m_file)
        throw Error("Cannot create the metrics log \"" + path + "\": " + std::strerror(errno) + ".");
}

MetricsLog::~MetricsLog()
{
    if (m_file)
        std::fclose(m_file);
}

void MetricsLog::write(const std::string &line)
{
    if (std::fwrite(line.data(), 1, line.size(), m_file) != line.size() || std::fflush(m_file) != 0)
        throw Error("Cannot write the metrics log \"" + m_path + "\": " + std::strerror(errno) + ".");
}

void MetricsLog::truncateAfter(const std::string &path, int64_t globalStep, bool afterEpochEnd)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error("Cannot read the metrics log \"" + path + "\".");
    std::string kept, line;
    while (std::getline(in, line)) {
        if (line.empty() || line.back() != '}')
            continue; // also a partial last line left by a killed process
        const size_t at = line.find("\"global_step\":");
        if (at == std::string::npos || line.rfind("{\"type\":\"end\"", 0) == 0)
            continue;
        const int64_t step = std::stoll(line.substr(at + 14));
        const bool isStep = line.rfind("{\"type\":\"step\"", 0) == 0;
        if (step < globalStep || (step == globalStep && (isStep || afterEpochEnd)))
            kept += line + "\n";
    }
    writeFileAtomically(path, kept);
}

void MetricsLog::onStep(const StepInfo &s)
{
    write("{\"type\":\"step\",\"epoch\":" + std::to_string(s.epoch) + ",\"step\":" + std::to_string(s.step)
          + ",\"global_step\":" + std::to_string(s.globalStep) + ",\"batch_size\":" + std::to_string(s.batchSize)
          + ",\"loss\":" + num(s.loss) + ",\"accuracy\":" + num(s.accuracy) + ",\"lr\":" + num(s.lr) + "}\n");
}

void MetricsLog::onEpochEnd(const EpochInfo &e)
{
    write("{\"type\":\"epoch\",\"epoch\":" + std::to_string(e.epoch) + ",\"global_step\":" + std::to_string(e.globalStep)
          + ",\"samples\":" + std::to_string(e.samples) + ",\"train_loss\":" + num(e.trainLoss)
          + ",\"train_accuracy\":" + num(e.trainAccuracy) + "}\n");
}

void MetricsLog::onEvaluation(const EvalInfo &e)
{
    write("{\"type\":\"eval\",\"epoch\":" + std::to_string(e.epoch) + ",\"global_step\":" + std::to_string(e.globalStep)
          + ",\"split\":\"test\",\"samples\":" + std::to_string(e.samples) + ",\"correct\":" + std::to_string(e.correct)
          + ",\"loss\":" + num(e.loss) + ",\"accuracy\":" + num(e.accuracy) + "}\n");
}

void MetricsLog::onTrainEnd(const TrainEndInfo &e)
{
    write("{\"type\":\"end\",\"global_step\":" + std::to_string(e.globalStep) + ",\"epochs_done\":"
          + std::to_string(e.epochsDone) + ",\"stopped\":" + (e.stopped ? "true" : "false") + "}\n");
}

} // namespace netwright
