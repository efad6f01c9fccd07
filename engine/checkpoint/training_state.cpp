// SPDX-License-Identifier: Apache-2.0
#include "checkpoint/training_state.h"

#include "core/error.h"
#include "train/trainer.h"

#include <cstring>
#include <map>

namespace netwright {

using mindspore::CkptEntry;

namespace {

Tensor scalarI64(int64_t v)
{
    Tensor t(Shape{}, DType::Int64);
    t.dataAs<int64_t>()[0] = v;
    return t;
}

Tensor scalarF64(double v)
{
    Tensor t(Shape{}, DType::Float64);
    t.dataAs<double>()[0] = v;
    return t;
}

Tensor rngState(const Rng::State &s)
{
    Tensor t(Shape{4}, DType::UInt64);
    std::memcpy(t.raw(), s.data(), sizeof(uint64_t) * 4);
    return t;
}

class Entries {
public:
    Entries(const std::vector<CkptEntry> &entries, std::string source) : m_source(std::move(source))
    {
        for (const auto &e : entries)
            m_byName[e.name] = &e;
    }
    const Tensor &tensor(const std::string &name, DType type, const Shape &shape) const
    {
        auto it = m_byName.find(name);
        if (it == m_byName.end() || it->second->isString)
            throw Error("Cannot resume from \"" + m_source + "\": it has no entry \"" + name + "\".");
        const Tensor &t = it->second->tensor;
        if (t.dtype() != type || t.shape() != shape)
            throw Error("Cannot resume from \"" + m_source + "\": entry \"" + name + "\" is " + dtypeName(t.dtype()) + " "
                        + shapeToString(t.shape()) + ", expected " + dtypeName(type) + " " + shapeToString(shape) + ".");
        return t;
    }
    int64_t i64(const std::string &name) const { return tensor(name, DType::Int64, {}).dataAs<int64_t>()[0]; }
    double f64(const std::string &name) const { return tensor(name, DType::Float64, {}).dataAs<double>()[0]; }
    Rng::State rng(const std::string &name) const
    {
        Rng::State s;
        std::memcpy(s.data(), tensor(name, DType::UInt64, {4}).raw(), sizeof(uint64_t) * 4);
        return s;
    }
    std::map<std::string, Tensor> withPrefixes(std::initializer_list<const char *> prefixes) const
    {
        std::map<std::string, Tensor> out;
        for (const auto &[name, e] : m_byName)
            for (const char *p : prefixes)
                if (name.rfind(p, 0) == 0 && !e->isString)
                    out[name] = e->tensor;
        return out;
    }

private:
    std::string m_source;
    std::map<std::string, const CkptEntry *> m_byName;
};

} // namespace

std::vector<CkptEntry> captureTrainingState(const Trainer &trainer)
{
    std::vector<CkptEntry> out;
    const Graph &g = trainer.graph();
    for (const auto &[name, t] : g.initializers)
        if (t.dtype() == DType::Float32) // parameters and buffers (not the constant shape operands)
            out.push_back(CkptEntry::ofTensor(name, t.clone()));
    for (const auto &[name, t] : trainer.optimizer().state())
        out.push_back(CkptEntry::ofTensor(name, t));
    const TrainerProgress p = trainer.progress();
    const auto &s = trainer.settings();
    out.push_back(CkptEntry::ofTensor("learning_rate", Tensor::full({}, static_cast<float>(s.baseLr))));
    for (const auto &[name, value] : trainer.optimizer().hyperparameters())
        out.push_back(CkptEntry::ofTensor(name, Tensor::full({}, value)));
    Tensor step(Shape{1}, DType::Int32);
    step.dataAs<int32_t>()[0] = static_cast<int32_t>(p.globalStep);
    out.push_back(CkptEntry::ofTensor("global_step", step));
    out.push_back(CkptEntry::ofTensor("epoch_num", scalarI64(p.data.epoch + (p.data.position > 0 ? 1 : 0))));
    out.push_back(CkptEntry::ofTensor("step_num", scalarI64(p.globalStep)));
    out.push_back(CkptEntry::ofString("netwright.optimizer", trainer.optimizer().name()));
    out.push_back(CkptEntry::ofTensor("netwright.data.epoch", scalarI64(p.data.epoch)));
    out.push_back(CkptEntry::ofTensor("netwright.data.position", scalarI64(p.data.position)));
    out.push_back(CkptEntry::ofTensor("netwright.data.shuffle_rng", rngState(p.data.shuffleRng)));
    out.push_back(CkptEntry::ofTensor("netwright.rng.dropout", rngState(p.dropout)));
    out.push_back(CkptEntry::ofTensor("netwright.train.global_step", scalarI64(p.globalStep)));
    out.push_back(CkptEntry::ofTensor("netwright.train.epoch_loss_sum", scalarF64(p.epochLossSum)));
    out.push_back(CkptEntry::ofTensor("netwright.train.epoch_correct", scalarI64(p.epochCorrect)));
    out.push_back(CkptEntry::ofTensor("netwright.train.epoch_samples", scalarI64(p.epochSamples)));
    return out;
}

void restoreTrainingState(Trainer &trainer, const std::vector<CkptEntry> &entries, const std::string &source)
{
    const Entries e(entries, source);
    Graph &g = trainer.graph();
    // Check everything before changing anything, so a bad file leaves the trainer as it was.
    std::vector<std::pair<Tensor *, const Tensor *>> copies;
    for (auto &[name, t] : g.initializers)
        if (t.dtype() == DType::Float32)
            copies.emplace_back(&t, &e.tensor(name, t.dtype(), t.shape()));
    for (const auto &entry : entries)
        if (entry.name == "netwright.optimizer" && entry.text != trainer.optimizer().name())
            throw Error("Cannot resume from \"" + source + "\": it was written by the " + entry.text
                        + " optimizer, this run uses " + trainer.optimizer().name() + ".");
    TrainerProgress p;
    p.globalStep = e.i64("netwright.train.global_step");
    p.data.epoch = e.i64("netwright.data.epoch");
    p.data.position = e.i64("netwright.data.position");
    p.data.shuffleRng = e.rng("netwright.data.shuffle_rng");
    p.dropout = e.rng("netwright.rng.dropout");
    p.epochLossSum = e.f64("netwright.train.epoch_loss_sum");
    p.epochCorrect = e.i64("netwright.train.epoch_correct");
    p.epochSamples = e.i64("netwright.train.epoch_samples");
    const auto slots = e.withPrefixes({"moments.", "moment1.", "moment2.", "beta1_power", "beta2_power"});
    trainer.restoreProgress(p);
    trainer.optimizer().loadState(slots);
    for (auto &[dst, src] : copies)
        dst->copyFrom(*src); // in place: the executor aliases these tensors
}

} // namespace netwright
