// SPDX-License-Identifier: Apache-2.0
#include "checkpoint/save_policy.h"

#include "checkpoint/checkpoint_manager.h"
#include "checkpoint/cntk_policy.h"

namespace netwright {

namespace {

class MindsporeSavePolicy final : public SavePolicy {
public:
    MindsporeSavePolicy(const CheckpointSettings &s, double startTime) : m_s(s), m_lastTime(startTime) {}

    std::optional<SaveRequest> afterStep(const StepInfo &s, const SavePosition &p) override
    {
        bool due = false;
        if (m_s.saveCheckpointSteps > 0) {
            due = s.globalStep >= m_stepChain + m_s.saveCheckpointSteps;
            if (due)
                m_stepChain = s.globalStep;
        } else if (m_s.saveCheckpointSeconds > 0 && p.now - m_lastTime > m_s.saveCheckpointSeconds) {
            due = true;
            m_lastTime = p.now;
        }
        if (!due || s.globalStep == p.lastSavedStep)
            return std::nullopt;
        return SaveRequest{s.epoch, s.globalStep, m_s.saveCheckpointSteps > 0 ? "save_checkpoint_steps" : "save_checkpoint_seconds", {}};
    }
    std::optional<SaveRequest> afterEvaluation(const EvalInfo &e, const SavePosition &) override
    {
        if (!m_s.saveEveryEpoch)
            return std::nullopt;
        return SaveRequest{e.epoch, e.globalStep, "save_every_epoch", {}};
    }
    std::optional<SaveRequest> atEnd(const TrainEndInfo &e, int64_t epoch, const SavePosition &p) override
    {
        if (!m_s.saveAtEnd || e.globalStep == p.lastSavedStep || e.globalStep == 0)
            return std::nullopt;
        return SaveRequest{epoch, e.globalStep, e.stopped ? "stopped" : "save_at_end", {}};
    }
    bool mindsporeFiles() const override { return true; }

private:
    CheckpointSettings m_s;
    double m_lastTime;
};

class CntkSavePolicy final : public SavePolicy {
public:
    CntkSavePolicy(const CheckpointSettings &s, const std::string &defaultPrefix)
        : m_s(s), m_file(cntkFilename(s, defaultPrefix)), m_trigger(static_cast<uint64_t>(s.cntk.frequency))
    {
    }

    // CNTK recomputes the action's index from the restored count.
    void begin(const SavePosition &p) override { m_trigger.restore(p.units); }
    std::optional<SaveRequest> afterStep(const StepInfo &s, const SavePosition &p) override
    {
        if (const auto index = m_trigger.afterMinibatch(p.units))
            return SaveRequest{s.epoch, s.globalStep, "cntk_frequency", name(index)};
        return std::nullopt;
    }
    std::optional<SaveRequest> afterEvaluation(const EvalInfo &, const SavePosition &) override { return std::nullopt; }
    std::optional<SaveRequest> atEnd(const TrainEndInfo &e, int64_t epoch, const SavePosition &p) override
    {
        // The final partial period; a stop always saves, under the current period's name.
        auto index = m_trigger.atEnd(p.units);
        if (!index && e.stopped && e.globalStep != p.lastSavedStep && e.globalStep != 0)
            index = m_trigger.index();
        if (!index)
            return std::nullopt;
        return SaveRequest{epoch, e.globalStep, e.stopped ? "stopped" : "cntk_final_period", name(index)};
    }
    std::optional<SaveRequest> afterEnd(const TrainEndInfo &e, int64_t epoch, const std::function<bool(const std::string &)> &exists) override
    {
        // preserve_all: the plain name as well, if it is not there yet.
        if (!m_s.cntk.preserveAll || e.stopped || e.globalStep == 0 || exists(m_file))
            return std::nullopt;
        return SaveRequest{epoch, e.globalStep, "cntk_final", m_file};
    }
    bool mindsporeFiles() const override { return false; }
    std::string cntkFile() const override { return m_file; }

private:
    std::string name(std::optional<uint64_t> index) const
    {
        return cntk_policy::checkpointName(m_file, m_s.cntk.preserveAll ? index : std::nullopt);
    }

    CheckpointSettings m_s;
    std::string m_file;
    cntk_policy::Trigger m_trigger;
};

} // namespace

std::unique_ptr<SavePolicy> makeSavePolicy(const CheckpointSettings &settings, const std::string &defaultPrefix, double startTime)
{
    if (settings.format == "cntk")
        return std::make_unique<CntkSavePolicy>(settings, defaultPrefix);
    return std::make_unique<MindsporeSavePolicy>(settings, startTime);
}

} // namespace netwright
