// SPDX-License-Identifier: Apache-2.0
// Optimizers against their update rules written out by hand (PyTorch's definitions), the state
// round trip, and the learning-rate schedules.
#include "core/error.h"
#include "optim/lr_schedule.h"
#include "optim/optimizer.h"

#include <QTest>

#include <cmath>

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
