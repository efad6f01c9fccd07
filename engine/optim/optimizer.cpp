// SPDX-License-Identifier: Apache-2.0
#include "optim/optimizer.h"

#include "core/error.h"
#include "core/parallel.h"
#include "optim/update_isa.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace netwright {

namespace {

// The slot `key` for parameter `like`, created as zeros — or moved — where the parameter lives
// (a checkpoint's slots arrive on the host).
Tensor &slot(std::map<std::string, Tensor> &slots, const std::string &key, const Tensor &like)
{
    Tensor &t = slots[key];
    if (!t.defined())
        t = Tensor::zeros(like.shape(), DType::Float32, like.device());
    check(t.shape() == like.shape(), "Optimizer state \"" + key + "\" has shape " + shapeToString(t.shape())
                                         + " but its parameter has " + shapeToString(like.shape()) + ".");
    if (t.device() != like.device())
        t = t.to(like.device());
    return t;
}

// Deep host copies: a snapshot must not change when training goes on, nor a loaded map be
// mutated; and a checkpoint holds host tensors whatever device trained.
std::map<std::string, Tensor> cloneAll(const std::map<std::string, Tensor> &in)
{
    std::map<std::string, Tensor> out;
    for (const auto &[k, v] : in)
        out[k] = v.hostCopy();
    return out;
}

// Runs `update(w, g, slots…)` over host memory for tensors on a device whose backend has no
// update of its own: copies down, updates, copies the written tensors back. The same bits as the
// CPU path.
template<typename Update> void onHost(Tensor &w, const Tensor &g, std::vector<Tensor *> slots, Update update)
{
    Tensor hw = w.to(Device::cpu()), hg = g.to(Device::cpu());
    std::vector<Tensor> hs;
    for (Tensor *s : slots)
        hs.push_back(s ? s->to(Device::cpu()) : Tensor());
    std::vector<float *> ptrs;
    for (Tensor &t : hs)
        ptrs.push_back(t.defined() ? t.data() : nullptr);
    update(hw.data(), hg.data(), ptrs);
    w.copyFrom(hw);
    for (size_t i = 0; i < slots.size(); ++i)
        if (slots[i])
            slots[i]->copyFrom(hs[i]);
}

// One host parameter's arrays: the value, its gradient and up to two optimizer slots.
struct HostParameter {
    float *w;
    const float *g;
    float *s0, *s1;
};

// The elements of several host arrays as one range: one parallel region for a whole step (a model
// has tens of parameter tensors, most of them small), each thread running `fn(k, i0, i1)` on the
// part of array k that falls in its share. Every element's update is independent of the others,
// so the split does not change a bit.

void forEachPart(const std::vector<int64_t> &sizes, const std::function<void(size_t, int64_t, int64_t)> &fn)
{
    std::vector<int64_t> start(sizes.size() + 1, 0);
    for (size_t k = 0; k < sizes.size(); ++k)
        start[k + 1] = start[k] + sizes[k];
    parallelFor(start.back(), [&](int64_t a, int64_t b, int) {
        auto k = static_cast<size_t>(std::upper_bound(start.begin(), start.end(), a) - start.begin() - 1);
        for (; k < sizes.size() && start[k] < b; ++k) {
            const int64_t lo = std::max(a, start[k]) - start[k], hi = std::min(b, start[k + 1]) - start[k];
            if (lo < hi)
                fn(k, lo, hi);
        }
    }, 8192);
}

class Sgd final : public Optimizer {
public:
    explicit Sgd(const OptimizerSettings &s) : m_s(s) {}
    std::string name() const override { return "sgd"; }
    std::map<std::string, float> hyperparameters() const override
    {
        if (m_s.momentum == 0.0)
            return {};
        return {{"momentum", static_cast<float>(m_s.momentum)}};
    }

    void step(const std::vector<ParameterRef> &params, double lr) override
    {
        const float mu = static_cast<float>(m_s.momentum), wd = static_cast<float>(m_s.weightDecay), rate = static_cast<float>(lr);
        const bool nesterov = m_s.nesterov;
        const optim::SgdUpdate sgd = optim::sgdUpdate(); // the CPU level's loop
        std::vector<HostParameter> host;
        std::vector<int64_t> sizes;
        for (const auto &p : params) {
            const int64_t n = p.value->numel();
            Tensor *buf = mu != 0.0f ? &slot(m_slots, "moments." + p.name, *p.value) : nullptr;
            auto update = [=](float *w, const float *g, const std::vector<float *> &slots) {
                parallelFor(n, [=](int64_t i0, int64_t i1, int) { sgd(w, g, slots[0], i0, i1, rate, mu, wd, nesterov); }, 8192);
            };
            const DeviceType device = p.value->device().type;
            if (device == DeviceType::Cpu) {
                host.push_back({p.value->data(), p.grad->data(), buf ? buf->data() : nullptr, nullptr});
                sizes.push_back(n);
            } else if (const DeviceArithmetic *a = deviceArithmetic(device); a && a->sgdUpdate) {
                a->sgdUpdate(p.value->data(), p.grad->data(), buf ? buf->data() : nullptr, n, rate, mu, wd, nesterov);
            } else {
                onHost(*p.value, *p.grad, {buf}, update);
            }
        }
        forEachPart(sizes, [&](size_t k, int64_t i0, int64_t i1) {
            sgd(host[k].w, host[k].g, host[k].s0, i0, i1, rate, mu, wd, nesterov);
        });
    }
    std::map<std::string, Tensor> state() const override { return cloneAll(m_slots); }
    void loadState(const std::map<std::string, Tensor> &state) override
    {
        for (const auto &[k, v] : state)
            check(k.rfind("moments.", 0) == 0 && v.dtype() == DType::Float32,
                  "Optimizer state \"" + k + "\" does not belong to SGD.");
        m_slots = cloneAll(state);
    }

private:
    OptimizerSettings m_s;
    std::map<std::string, Tensor> m_slots;
};

class Adam final : public Optimizer {
public:
    Adam(const OptimizerSettings &s, bool decoupled) : m_s(s), m_decoupled(decoupled) {}
    std::string name() const override { return m_decoupled ? "adamw" : "adam"; }

    void step(const std::vector<ParameterRef> &params, double lr) override
    {
        // The powers are float32, as MindSpore keeps beta1_power/beta2_power, so a checkpoint holds
        // them exactly.
        m_beta1Power *= static_cast<float>(m_s.beta1);
        m_beta2Power *= static_cast<float>(m_s.beta2);
        const float b1 = static_cast<float>(m_s.beta1), b2 = static_cast<float>(m_s.beta2);
        const float eps = static_cast<float>(m_s.eps), wd = static_cast<float>(m_s.weightDecay);
        const float c1 = 1.0f - m_beta1Power, c2 = std::sqrt(1.0f - m_beta2Power);
        const float rate = static_cast<float>(lr);
        const bool decoupled = m_decoupled;
        const optim::AdamUpdate adam = optim::adamUpdate(); // the CPU level's loop
        std::vector<HostParameter> host;
        std::vector<int64_t> sizes;
        for (const auto &p : params) {
            const int64_t n = p.value->numel();
            Tensor *m1 = &slot(m_slots, "moment1." + p.name, *p.value);
            Tensor *m2 = &slot(m_slots, "moment2." + p.name, *p.value);
            auto update = [=](float *w, const float *g, const std::vector<float *> &slots) {
                parallelFor(n, [=](int64_t i0, int64_t i1, int) {
                    adam(w, g, slots[0], slots[1], i0, i1, rate, b1, b2, eps, wd, c1, c2, decoupled);
                }, 8192);
            };
            const DeviceType device = p.value->device().type;
            if (device == DeviceType::Cpu) {
                host.push_back({p.value->data(), p.grad->data(), m1->data(), m2->data()});
                sizes.push_back(n);
            } else if (const DeviceArithmetic *a = deviceArithmetic(device); a && a->adamUpdate) {
                a->adamUpdate(p.value->data(), p.grad->data(), m1->data(), m2->data(), n, rate, b1, b2, eps, wd, c1, c2, decoupled);
            } else {
                onHost(*p.value, *p.grad, {m1, m2}, update);
            }
        }
        forEachPart(sizes, [&](size_t k, int64_t i0, int64_t i1) {
            adam(host[k].w, host[k].g, host[k].s0, host[k].s1, i0, i1, rate, b1, b2, eps, wd, c1, c2, decoupled);
        });
    }

    std::map<std::string, Tensor> state() const override
    {
        auto s = cloneAll(m_slots);
        s["beta1_power"] = Tensor::full({}, m_beta1Power);
        s["beta2_power"] = Tensor::full({}, m_beta2Power);
        return s;
    }
    void loadState(const std::map<std::string, Tensor> &state) override
    {
        std::map<std::string, Tensor> slots;
        float b1 = 1.0f, b2 = 1.0f;
        for (const auto &[k, v] : state) {
            check(v.dtype() == DType::Float32, "Optimizer state \"" + k + "\" must be float32.");
            if (k == "beta1_power" || k == "beta2_power") {
                check(v.numel() == 1, "Optimizer state \"" + k + "\" must be a scalar.");
                (k == "beta1_power" ? b1 : b2) = v.data()[0];
            } else {
                check(k.rfind("moment1.", 0) == 0 || k.rfind("moment2.", 0) == 0,
                      "Optimizer state \"" + k + "\" does not belong to " + name() + ".");
                slots[k] = v.hostCopy();
            }
        }
        m_slots = std::move(slots);
        m_beta1Power = b1;
        m_beta2Power = b2;
    }

private:
    OptimizerSettings m_s;
    bool m_decoupled;
    std::map<std::string, Tensor> m_slots;
    float m_beta1Power = 1.0f, m_beta2Power = 1.0f;
};

} // namespace

std::unique_ptr<Optimizer> makeOptimizer(const OptimizerSettings &s)
{
    check(s.momentum >= 0.0 && s.momentum < 1.0, "optimizer.momentum must be in [0, 1), got " + std::to_string(s.momentum) + ".");
    check(s.weightDecay >= 0.0, "optimizer.weight_decay must not be negative.");
    check(!s.nesterov || s.momentum > 0.0, "optimizer.nesterov needs a momentum above 0.");
    if (s.name == "sgd")
        return std::make_unique<Sgd>(s);
    check(s.beta1 >= 0.0 && s.beta1 < 1.0 && s.beta2 >= 0.0 && s.beta2 < 1.0,
          "optimizer.beta1 and optimizer.beta2 must be in [0, 1).");
    check(s.eps > 0.0, "optimizer.eps must be positive.");
    if (s.name == "adam")
        return std::make_unique<Adam>(s, false);
    if (s.name == "adamw")
        return std::make_unique<Adam>(s, true);
    throw Error("Unknown optimizer \"" + s.name + "\" (expected sgd, adam or adamw).");
}

} // namespace netwright
