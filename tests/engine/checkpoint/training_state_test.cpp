// SPDX-License-Identifier: Apache-2.0
// Exact resume: a run stopped after step k, saved to a .ckpt (encoded and decoded through the real
// MindSpore format), restored into a fresh trainer and finished, ends with parameters, BatchNorm
// statistics and per-step losses bit-identical to the uninterrupted run — mid-epoch, at an epoch
// boundary and just after one. cnn-bn exercises shuffling, Dropout and BatchNorm.
#include "checkpoint/training_state.h"
#include "core/error.h"
#include "formats/mindspore/ckpt_file.h"
#include "train/training_setup.h"

#include <QTest>

#include <cstring>
#include <set>
#include <stop_token>

using namespace netwright;
using namespace netwright::mindspore;

namespace {

std::shared_ptr<Dataset> slice(const Dataset &d, int64_t n)
{
    auto out = std::make_shared<Dataset>();
    out->name = d.name + " (first " + std::to_string(n) + ")";
    Shape s = d.features.shape();
    s[0] = n;
    out->features = Tensor(s, d.features.dtype());
    std::memcpy(out->features.raw(), d.features.raw(), out->features.byteSize());
    out->labels = Tensor({n}, DType::Int64);
    std::memcpy(out->labels.raw(), d.labels.raw(), out->labels.byteSize());
    out->classes = d.classes;
    return out;
}

// Records every step's loss and stops after `stopAt` steps (0 = never).
class Recorder final : public TrainingObserver {
public:
    Recorder(std::stop_source &stop, int64_t stopAt) : m_stop(stop), m_stopAt(stopAt) {}
    void onStep(const StepInfo &s) override
    {
        losses.push_back(s.loss);
        if (s.globalStep == m_stopAt)
            m_stop.request_stop();
    }
    void onEvaluation(const EvalInfo &e) override { evals.push_back(e.loss); }
    std::vector<float> losses;
    std::vector<double> evals;

private:
    std::stop_source &m_stop;
    int64_t m_stopAt;
};

} // namespace

class TrainingStateTest : public QObject {
    Q_OBJECT
    TrainingData m_data;
    RunConfig m_config;

    std::unique_ptr<Trainer> fresh() { return makeTrainer(m_config, m_data); }

private slots:
    void initTestCase()
    {
        const TrainingData full = loadTrainingData(defaultRunConfig());
        m_data.train = slice(*full.train, 1000);
        m_data.test = slice(*full.test, 300);
        m_config = defaultRunConfig();
        m_config.model = "cnn-bn";
        m_config.training.epochs = 2;
        m_config.training.batchSize = 32; // 32 steps an epoch, the last one of 8 samples
        m_config.training.threads = 2;
        m_config.training.seed = 11;
        m_config.optimizer.name = "adamw"; // slots, beta powers and decoupled decay all in the state
        m_config.lr = 1e-3;
        m_config.optimizer.weightDecay = 0.01;
    }

    void resumeIsBitIdentical_data()
    {
        QTest::addColumn<int>("stopAt");
        QTest::newRow("mid-epoch (step 7)") << 7;
        QTest::newRow("last step of epoch 1 (step 32)") << 32;
        QTest::newRow("first step of epoch 2 (step 33)") << 33;
        QTest::newRow("late in epoch 2 (step 50)") << 50;
    }
    void resumeIsBitIdentical()
    {
        QFETCH(int, stopAt);
        // The uninterrupted reference.
        auto ref = fresh();
        std::stop_source never;
        Recorder refLog(never, 0);
        ref->addObserver(&refLog);
        ref->run(never.get_token());
        QCOMPARE(refLog.losses.size(), size_t(64));

        // Stop after `stopAt` steps and save.
        auto first = fresh();
        std::stop_source stop;
        Recorder firstLog(stop, stopAt);
        first->addObserver(&firstLog);
        QVERIFY(first->run(stop.get_token()).stopped);
        const std::string bytes = encodeCkpt(captureTrainingState(*first), {true});
        first.reset();

        // A new process would start here: fresh trainer, state from the file's bytes.
        auto second = fresh();
        restoreTrainingState(*second, decodeCkpt(bytes, "resume.ckpt").entries, "resume.ckpt");
        std::stop_source never2;
        Recorder secondLog(never2, 0);
        second->addObserver(&secondLog);
        second->run(never2.get_token());

        QCOMPARE(firstLog.losses.size() + secondLog.losses.size(), refLog.losses.size());
        for (size_t i = 0; i < secondLog.losses.size(); ++i)
            QCOMPARE(secondLog.losses[i], refLog.losses[stopAt + i]); // exact float equality
        QCOMPARE(firstLog.evals.size() + secondLog.evals.size(), refLog.evals.size());
        QCOMPARE(secondLog.evals.back(), refLog.evals.back());
        for (const auto &[name, t] : ref->graph().initializers) {
            const Tensor &u = second->graph().initializers.at(name);
            QVERIFY2(std::memcmp(t.raw(), u.raw(), t.byteSize()) == 0, name.c_str());
        }
    }

    void stateHasMindSporeNames()
    {
        auto t = fresh();
        std::stop_source stop;
        Recorder log(stop, 1); // optimizer slots exist once a step has been taken
        t->addObserver(&log);
        t->run(stop.get_token());
        const auto entries = captureTrainingState(*t);
        std::set<std::string> names;
        for (const auto &e : entries)
            names.insert(e.name);
        for (const char *n : {"conv1.weight", "bn1.gamma", "bn1.beta", "bn1.moving_mean", "bn1.moving_variance", "fc1.bias",
                              "moment1.fc1.weight", "moment2.conv2.weight", "beta1_power", "beta2_power", "learning_rate",
                              "global_step", "epoch_num", "step_num", "netwright.data.shuffle_rng", "netwright.rng.dropout"})
            QVERIFY2(names.count(n), n);
    }

    void sgdStoresMomentumLikeMindSpore()
    {
        RunConfig c = m_config;
        c.optimizer.name = "sgd";
        c.optimizer.momentum = 0.9;
        auto t = makeTrainer(c, m_data);
        std::stop_source stop;
        Recorder log(stop, 1);
        t->addObserver(&log);
        t->run(stop.get_token());
        bool momentum = false, moments = false;
        for (const auto &e : captureTrainingState(*t)) {
            momentum = momentum || (e.name == "momentum" && e.tensor.data()[0] == 0.9f && e.tensor.shape() == Shape{});
            moments = moments || e.name == "moments.fc1.weight";
        }
        QVERIFY(momentum && moments);
    }

    void mismatchedStateIsRefusedWithoutDamage()
    {
        auto t = fresh();
        auto entries = captureTrainingState(*t);
        for (auto &e : entries)
            if (e.name == "fc1.weight")
                e.tensor = Tensor::zeros({3, 3});
        const Tensor before = t->graph().initializers.at("conv1.weight").clone();
        try {
            restoreTrainingState(*t, entries, "wrong.ckpt");
            QFAIL("accepted a wrong shape");
        } catch (const Error &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains("wrong.ckpt") && QString::fromUtf8(e.what()).contains("fc1.weight"), e.what());
        }
        QCOMPARE(std::memcmp(before.raw(), t->graph().initializers.at("conv1.weight").raw(), before.byteSize()), 0);
    }
};

QTEST_GUILESS_MAIN(TrainingStateTest)
#include "training_state_test.moc"
