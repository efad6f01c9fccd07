// SPDX-License-Identifier: Apache-2.0
// Optimizers against their update rules written out by hand (PyTorch's definitions), the state
// round trip, and the learning-rate schedules. The loops of every CPU level this machine runs
// (optim/update_isa.h) and a whole step over several parameters against the element rule of
// optim/update_rules.h, bit for bit.
#include "core/cpu_level.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "optim/lr_schedule.h"
#include "optim/optimizer.h"
#include "optim/update_isa.h"
#include "optim/update_rules.h"

#include <QTest>

#include <cmath>
#include <cstring>

using namespace netwright;

namespace {
// Three steps on one 2-element parameter with fixed gradients; returns the final values.
std::vector<float> run(Optimizer &opt, std::vector<float> w, const std::vector<std::vector<float>> &grads, double lr)
{
    Tensor p = Tensor::fromVector({2}, w);
    for (const auto &g : grads) {
        const Tensor gt = Tensor::fromVector({2}, g);
        opt.step({{"w", &p, &gt}}, lr);
    }
    return {p.data()[0], p.data()[1]};
}
const std::vector<std::vector<float>> kGrads{{0.5f, -1.0f}, {0.25f, 2.0f}, {-1.0f, 0.5f}};

std::vector<float> uniform(size_t n, Rng &rng, float lo, float hi)
{
    std::vector<float> v(n);
    for (float &x : v)
        x = lo + (hi - lo) * rng.uniform();
    return v;
}

bool sameBytes(const float *a, const float *b, size_t n) { return std::memcmp(a, b, n * sizeof(float)) == 0; }

struct Loops {
    const char *name;
    optim::SgdUpdate sgd;
    optim::AdamUpdate adam;
};

std::vector<Loops> levelsHere()
{
    std::vector<Loops> out{{"x86-64-v2", &optim::isa_v2::sgdUpdate, &optim::isa_v2::adamUpdate}};
    if (cpu::detectedLevel() >= cpu::Level::Avx2)
        out.push_back({"x86-64-v3", &optim::isa_v3::sgdUpdate, &optim::isa_v3::adamUpdate});
    if (cpu::detectedLevel() >= cpu::Level::Avx512)
        out.push_back({"x86-64-v4", &optim::isa_v4::sgdUpdate, &optim::isa_v4::adamUpdate});
    return out;
}
} // namespace

class OptimizerTest : public QObject {
    Q_OBJECT
private slots:
    void sgdVariants_data()
    {
        QTest::addColumn<double>("momentum");
        QTest::addColumn<bool>("nesterov");
        QTest::addColumn<double>("wd");
        QTest::newRow("plain") << 0.0 << false << 0.0;
        QTest::newRow("momentum") << 0.9 << false << 0.0;
        QTest::newRow("nesterov + weight decay") << 0.9 << true << 0.01;
    }
    void sgdVariants()
    {
        QFETCH(double, momentum);
        QFETCH(bool, nesterov);
        QFETCH(double, wd);
        OptimizerSettings s;
        s.momentum = momentum;
        s.nesterov = nesterov;
        s.weightDecay = wd;
        auto opt = makeOptimizer(s);
        const auto got = run(*opt, {1.0f, -2.0f}, kGrads, 0.1);
        for (int i = 0; i < 2; ++i) {
            double w = i == 0 ? 1.0 : -2.0, buf = 0.0;
            for (const auto &g : kGrads) {
                double d = g[i] + wd * w;
                buf = momentum * buf + d;
                d = momentum == 0 ? d : nesterov ? d + momentum * buf : buf;
                w -= 0.1 * d;
            }
            QVERIFY(std::abs(w - got[i]) < 1e-6);
        }
        if (momentum > 0)
            QVERIFY(opt->state().count("moments.w"));
    }
    void adamAndAdamW_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("adam") << "adam";
        QTest::newRow("adamw") << "adamw";
    }
    void adamAndAdamW()
    {
        QFETCH(QString, name);
        OptimizerSettings s;
        s.name = name.toStdString();
        s.weightDecay = 0.1;
        auto opt = makeOptimizer(s);
        const auto got = run(*opt, {1.0f, -2.0f}, kGrads, 0.01);
        for (int i = 0; i < 2; ++i) {
            double w = i == 0 ? 1.0 : -2.0, m = 0, v = 0;
            int t = 0;
            for (const auto &g : kGrads) {
                ++t;
                double d = g[i];
                if (name == "adamw")
                    w -= 0.01 * 0.1 * w;
                else
                    d += 0.1 * w;
                m = 0.9 * m + 0.1 * d;
                v = 0.999 * v + 0.001 * d * d;
                w -= 0.01 * (m / (1 - std::pow(0.9, t))) / (std::sqrt(v / (1 - std::pow(0.999, t))) + 1e-8);
            }
            QVERIFY2(std::abs(w - got[i]) < 1e-5, qPrintable(QStringLiteral("%1 vs %2").arg(w).arg(got[i])));
        }
        const auto st = opt->state();
        QVERIFY(st.count("moment1.w") && st.count("moment2.w") && st.count("beta1_power"));
        QVERIFY(std::abs(st.at("beta1_power").data()[0] - std::pow(0.9, 3)) < 1e-6);
    }
    void stateRoundTripContinuesIdentically()
    {
        OptimizerSettings s;
        s.name = "adam";
        auto a = makeOptimizer(s), b = makeOptimizer(s);
        Tensor pa = Tensor::fromVector({2}, {1, 2});
        const Tensor g = Tensor::fromVector({2}, {0.3f, -0.2f});
        a->step({{"w", &pa, &g}}, 0.01);
        Tensor pb = pa.clone();
        std::map<std::string, Tensor> st;
        for (const auto &[k, v] : a->state())
            st[k] = v.clone();
        b->loadState(st);
        const std::map<std::string, Tensor> snapshot = a->state();
        const float before = snapshot.at("moment1.w").data()[0];
        a->step({{"w", &pa, &g}}, 0.01);
        QCOMPARE(snapshot.at("moment1.w").data()[0], before); // a snapshot does not follow training
        b->step({{"w", &pb, &g}}, 0.01);
        QCOMPARE(pa.data()[0], pb.data()[0]);
        QCOMPARE(pa.data()[1], pb.data()[1]);
    }
    // Each level's loops over [5, n − 7) of arrays of n = 1037 (not a multiple of any vector
    // width) give the rule's bits, element by element, and leave the elements outside untouched.
    void levelLoopsMatchTheRuleBitForBit()
    {
        constexpr int64_t n = 1037, i0 = 5, i1 = n - 7;
        Rng rng(7);
        const auto w0 = uniform(n, rng, -2.0f, 2.0f), g = uniform(n, rng, -1.0f, 1.0f), m0 = uniform(n, rng, -0.5f, 0.5f),
                   v0 = uniform(n, rng, 0.0f, 0.3f);
        for (const Loops &level : levelsHere()) {
            for (int variant = 0; variant < 3; ++variant) { // plain, momentum, Nesterov with decay
                const float mu = variant == 0 ? 0.0f : 0.9f, wd = variant == 2 ? 0.01f : 0.0f;
                auto w = w0, buf = m0, ew = w0, ebuf = m0;
                level.sgd(w.data(), g.data(), variant == 0 ? nullptr : buf.data(), i0, i1, 0.1f, mu, wd, variant == 2);
                for (int64_t i = i0; i < i1; ++i)
                    sgdElement(ew[i], g[i], variant == 0 ? nullptr : &ebuf[i], 0.1f, mu, wd, variant == 2);
                QVERIFY2(sameBytes(w.data(), ew.data(), n) && sameBytes(buf.data(), ebuf.data(), n),
                         qPrintable(QStringLiteral("%1 SGD variant %2").arg(level.name).arg(variant)));
            }
            for (bool decoupled : {false, true}) {
                auto w = w0, m = m0, v = v0, ew = w0, em = m0, ev = v0;
                const float c1 = 1.0f - 0.9f * 0.9f, c2 = std::sqrt(1.0f - 0.999f * 0.999f);
                level.adam(w.data(), g.data(), m.data(), v.data(), i0, i1, 0.01f, 0.9f, 0.999f, 1e-8f, 0.1f, c1, c2, decoupled);
                for (int64_t i = i0; i < i1; ++i)
                    adamElement(ew[i], g[i], em[i], ev[i], 0.01f, 0.9f, 0.999f, 1e-8f, 0.1f, c1, c2, decoupled);
                QVERIFY2(sameBytes(w.data(), ew.data(), n) && sameBytes(m.data(), em.data(), n) && sameBytes(v.data(), ev.data(), n),
                         qPrintable(QStringLiteral("%1 %2").arg(level.name, decoupled ? "AdamW" : "Adam")));
            }
        }
    }

    // A step runs every host parameter in one parallel region split over the sum of their sizes;
    // with two threads the split falls inside the second of these tensors. Every element still
    // gets the rule's bits, once per step.
    void oneRegionOverSeveralParametersMatchesTheRule_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("sgd nesterov") << "sgd";
        QTest::newRow("adam") << "adam";
        QTest::newRow("adamw") << "adamw";
    }
    void oneRegionOverSeveralParametersMatchesTheRule()
    {
        QFETCH(QString, name);
        setThreadCount(2);
        OptimizerSettings s;
        s.name = name.toStdString();
        s.weightDecay = 0.01;
        if (s.name == "sgd") {
            s.momentum = 0.9;
            s.nesterov = true;
        }
        auto opt = makeOptimizer(s);
        const std::vector<int64_t> sizes{3, 20000, 1, 9001};
        Rng rng(11);
        std::vector<Tensor> values, grads;
        std::vector<std::vector<float>> ew, eg, e0(sizes.size()), e1(sizes.size());
        for (int64_t n : sizes) {
            ew.push_back(uniform(static_cast<size_t>(n), rng, -1.0f, 1.0f));
            eg.push_back(uniform(static_cast<size_t>(n), rng, -1.0f, 1.0f));
            values.push_back(Tensor::fromVector({n}, ew.back()));
            grads.push_back(Tensor::fromVector({n}, eg.back()));
        }
        for (size_t k = 0; k < sizes.size(); ++k)
            e0[k].assign(static_cast<size_t>(sizes[k]), 0.0f), e1[k].assign(static_cast<size_t>(sizes[k]), 0.0f);
        std::vector<ParameterRef> refs;
        for (size_t k = 0; k < sizes.size(); ++k)
            refs.push_back({"p" + std::to_string(k), &values[k], &grads[k]});
        float p1 = 1.0f, p2 = 1.0f; // Adam's powers, float32 as the optimizer keeps them
        for (int step = 0; step < 2; ++step) {
            opt->step(refs, 0.01);
            p1 *= 0.9f;
            p2 *= 0.999f;
            for (size_t k = 0; k < sizes.size(); ++k)
                for (size_t i = 0; i < ew[k].size(); ++i) {
                    if (s.name == "sgd")
                        sgdElement(ew[k][i], eg[k][i], &e0[k][i], 0.01f, 0.9f, 0.01f, true);
                    else
                        adamElement(ew[k][i], eg[k][i], e0[k][i], e1[k][i], 0.01f, 0.9f, 0.999f, 1e-8f, 0.01f, 1.0f - p1,
                                    std::sqrt(1.0f - p2), s.name == "adamw");
                }
        }
        for (size_t k = 0; k < sizes.size(); ++k)
            QVERIFY2(sameBytes(values[k].data(), ew[k].data(), ew[k].size()),
                     qPrintable(QStringLiteral("parameter %1 of %2 elements").arg(k).arg(sizes[k])));
        const auto state = opt->state();
        for (size_t k = 0; k < sizes.size(); ++k) {
            const std::string key = (s.name == "sgd" ? "moments.p" : "moment1.p") + std::to_string(k);
            QVERIFY2(sameBytes(state.at(key).data(), e0[k].data(), e0[k].size()), key.c_str());
        }
    }

    void invalidSettings()
    {
        OptimizerSettings s;
        s.name = "rmsprop";
        QVERIFY_THROWS_EXCEPTION(Error, makeOptimizer(s));
        s.name = "sgd";
        s.nesterov = true;
        QVERIFY_THROWS_EXCEPTION(Error, makeOptimizer(s));
        // Adam's slots are not SGD's.
        OptimizerSettings sgd;
        sgd.momentum = 0.9;
        QVERIFY_THROWS_EXCEPTION(Error, makeOptimizer(sgd)->loadState({{"moment1.w", Tensor::zeros({2})}}));
    }
    void schedules()
    {
        ScheduleSettings c;
        QCOMPARE(LrSchedule(c, 0.1, 10, 100).at(57), 0.1);
        ScheduleSettings st;
        st.name = "step";
        st.stepEpochs = 2;
        st.gamma = 0.5;
        const LrSchedule s(st, 0.1, 10, 100);
        QCOMPARE(s.at(19), 0.1);
        QVERIFY(std::abs(s.at(20) - 0.05) < 1e-12);
        QVERIFY(std::abs(s.at(45) - 0.025) < 1e-12);
        ScheduleSettings cos;
        cos.name = "cosine";
        cos.minLr = 0.01;
        cos.warmupSteps = 10;
        const LrSchedule k(cos, 0.1, 10, 110);
        QVERIFY(std::abs(k.at(0) - 0.01) < 1e-12);   // warm-up: 1/10 of the base
        QVERIFY(std::abs(k.at(9) - 0.1) < 1e-12);
        QVERIFY(std::abs(k.at(10) - 0.1) < 1e-12);   // cosine starts at the base
        QVERIFY(std::abs(k.at(60) - 0.055) < 1e-12); // halfway: the midpoint
        QVERIFY(std::abs(k.at(110) - 0.01) < 1e-12); // the floor
        ScheduleSettings bad;
        bad.name = "exp";
        QVERIFY_THROWS_EXCEPTION(Error, LrSchedule(bad, 0.1, 1, 1));
    }
};

QTEST_GUILESS_MAIN(OptimizerTest)
#include "optimizer_test.moc"
