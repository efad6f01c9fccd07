// SPDX-License-Identifier: Apache-2.0
#include "cli/progress_reporter.h"

#include "train/task_metrics.h"

#include <cmath>
#include <string>

namespace netwright::cli {

namespace {
std::string duration(double seconds)
{
    if (!std::isfinite(seconds) || seconds < 0)
        return "--";
    const long s = std::lround(seconds);
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
    return buf;
}
} // namespace

ProgressReporter::ProgressReporter(std::FILE *out, bool interactive, int logEvery)
    : m_out(out), m_interactive(interactive), m_logEvery(logEvery)
{
}

void ProgressReporter::clearLine()
{
    if (m_lineOpen) {
        std::fputs("\r\033[K", m_out);
        m_lineOpen = false;
    }
}

void ProgressReporter::onTrainBegin(const TrainBeginInfo &b)
{
    m_begin = b;
    m_start = m_epochStart = m_rateStart = m_lastDraw = Clock::now();
    const std::string where = (b.ranks > 1 ? " × " + std::to_string(b.ranks) + " ranks" : std::string())
                              + (b.device.type != DeviceType::Cpu ? ", on " + b.device.toString() : std::string())
                              + (b.bf16 ? ", bf16 mixed precision" : std::string());
    std::fprintf(m_out, "Training: %lld epoch%s × %lld steps of %lld samples, %lld parameters, %d thread%s%s\n",
                 static_cast<long long>(b.epochs), b.epochs == 1 ? "" : "s", static_cast<long long>(b.stepsPerEpoch),
                 static_cast<long long>(b.trainSamples), static_cast<long long>(b.parameters), b.threads, b.threads == 1 ? "" : "s",
                 where.c_str());
    std::fflush(m_out);
}

void ProgressReporter::onStep(const StepInfo &s)
{
    const auto now = Clock::now();
    const double a = m_stepsSeen == 0 ? 1.0 : 0.05;
    m_smoothedLoss += a * (s.loss - m_smoothedLoss);
    const double stepFigure = s.metric.name.empty() ? s.accuracy : s.metric.value;
    m_smoothedAcc += a * (stepFigure - m_smoothedAcc);
    m_metricName = s.metric.name.empty() ? std::string("accuracy") : s.metric.name;
    ++m_stepsSeen;
    m_imagesSinceRate += s.batchSize;
    m_epochImages += s.batchSize;
    const bool draw = m_interactive ? std::chrono::duration<double>(now - m_lastDraw).count() >= 0.1 || s.step == s.stepsPerEpoch
                                    : s.step % m_logEvery == 0;
    // The rate over the last second on a terminal; over the steps since the previous line in plain
    // lines (which may come faster than one a second).
    const double rateWindow = std::chrono::duration<double>(now - m_rateStart).count();
    if (m_imagesPerSecond == 0.0 || (m_interactive ? rateWindow >= 1.0 : draw)) {
        if (rateWindow > 0.0)
            m_imagesPerSecond = static_cast<double>(m_imagesSinceRate) / rateWindow;
        m_imagesSinceRate = 0;
        m_rateStart = now;
    }
    if (!draw)
        return;
    m_lastDraw = now;
    const double elapsed = std::chrono::duration<double>(now - m_start).count();
    const int64_t done = s.globalStep - m_begin.startGlobalStep;
    const int64_t remaining = s.epochs * s.stepsPerEpoch - s.globalStep;
    const double eta = done > 0 ? elapsed / static_cast<double>(done) * static_cast<double>(remaining) : NAN;
    char line[256];
    char figure[64];
    if (m_metricName == "accuracy")
        std::snprintf(figure, sizeof figure, "acc %5.1f%%", 100.0 * m_smoothedAcc);
    else
        std::snprintf(figure, sizeof figure, "%s", formatMetric({m_metricName, m_smoothedAcc}).c_str());
    std::snprintf(line, sizeof line, "epoch %lld/%lld  step %lld/%lld  loss %.4f  %s  %6.0f %s  ETA %s",
                  static_cast<long long>(s.epoch), static_cast<long long>(s.epochs), static_cast<long long>(s.step),
                  static_cast<long long>(s.stepsPerEpoch), m_smoothedLoss, figure, m_imagesPerSecond, rateUnit(),
                  duration(eta).c_str());
    if (m_interactive) {
        std::fprintf(m_out, "\r\033[K%s", line);
        m_lineOpen = true;
    } else {
        std::fprintf(m_out, "%s\n", line);
    }
    std::fflush(m_out);
}

void ProgressReporter::note(const std::string &text)
{
    clearLine();
    std::fprintf(m_out, "%s\n", text.c_str());
    std::fflush(m_out);
}

void ProgressReporter::onEpochEnd(const EpochInfo &e)
{
    m_lastEpoch = e;
}

void ProgressReporter::onEvaluation(const EvalInfo &e)
{
    clearLine();
    const auto now = Clock::now();
    const double seconds = std::chrono::duration<double>(now - m_epochStart).count();
    m_epochStart = now;
    char train[64];
    if (m_lastEpoch.hasAccuracy)
        std::snprintf(train, sizeof train, "train loss %.4f acc %.2f%%", m_lastEpoch.trainLoss, 100.0 * m_lastEpoch.trainAccuracy);
    else
        std::snprintf(train, sizeof train, "train loss %.4f", m_lastEpoch.trainLoss);
    char test[256];
    if (e.metrics.empty() || e.metrics.front().name == "accuracy")
        std::snprintf(test, sizeof test, "test loss %.4f acc %.2f%%", e.loss, 100.0 * e.accuracy);
    else
        std::snprintf(test, sizeof test, "test loss %.4f  %s", e.loss, formatMetrics(e.metrics).c_str());
    std::fprintf(m_out, "epoch %lld/%lld  %s  |  %s  (%.1f s, %.0f %s)\n", static_cast<long long>(e.epoch),
                 static_cast<long long>(m_begin.epochs), train, test, seconds,
                 seconds > 0 ? static_cast<double>(m_epochImages) / seconds : 0.0, rateUnit());
    m_epochImages = 0;
    std::fflush(m_out);
}

void ProgressReporter::onTrainEnd(const TrainEndInfo &e)
{
    clearLine();
    if (e.stopped)
        std::fprintf(m_out, "Stopped at step %lld.\n", static_cast<long long>(e.globalStep));
    std::fflush(m_out);
}

} // namespace netwright::cli
