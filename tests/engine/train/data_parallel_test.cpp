// SPDX-License-Identifier: Apache-2.0
// The Trainer's data-parallel step without MPI: three ranks as three threads over an in-process
// Communicator, on 602 real Fashion-MNIST images with batch 20, so the last batch of each epoch
// (2 samples) leaves rank 0 without a row. Every rank ends with bit-identical parameters — the
// BatchNorm running statistics included — and reports the same metrics and a shared evaluation
// of the whole test split; lenet5 ends within 1e-6 of one process, cnn-bn (per-rank batch
// statistics) still learns; a batch smaller than the rank count is refused.
#include "config/run_config.h"
#include "core/error.h"
#include "core/parallel.h"
#include "data/minibatch_source.h"
#include "dist/communicator.h"
#include "train/trainer.h"
#include "zoo/model_zoo.h"

#include "support/thread_communicator.h"

#include "support/short_run.h"

#include <QTest>

#include <cmath>
#include <cstring>

using namespace netwright;
using namespace netwright::testing;

namespace {

struct Outcome {
    std::map<std::string, std::vector<float>> parameters;
    std::vector<float> losses;
    EvalInfo eval;
};

class Recorder final : public TrainingObserver {
public:
    explicit Recorder(std::vector<float> &losses) : m_losses(losses) {}
    void onStep(const StepInfo &s) override { m_losses.push_back(s.loss); }

private:
    std::vector<float> &m_losses;
};

Outcome train(const std::string &model, int64_t batch, Communicator *comm, std::shared_ptr<Dataset> trainSet,
              std::shared_ptr<Dataset> testSet)
{
    const RunConfig defaults = defaultRunConfig();
    const Normalization norm{defaults.data.scale, defaults.data.mean, defaults.data.std};
    ModelSpec spec;
    spec.name = model;
    OptimizerSettings opt;
    opt.momentum = 0.9;
    Trainer t(buildZooModel(spec, InitScheme::KaimingUniform, 5),
              std::make_unique<DatasetSource>(trainSet, batch, true, false, 7, norm),
              std::make_unique<DatasetSource>(testSet, 100, false, false, 0, norm), makeOptimizer(opt),
              TrainerSettings{1, 1, 0.02, {}});
    t.setCommunicator(comm);
    Outcome o;
    Recorder rec(o.losses);
    t.addObserver(&rec);
    const TrainEndInfo end = t.run();
    o.eval = *end.lastEvaluation;
    for (const auto &[name, v] : t.graph().initializers)
        if (v.dtype() == DType::Float32)
            o.parameters[name].assign(v.data(), v.data() + v.numel());
    return o;
}

} // namespace

class DataParallelTest : public QObject {
    Q_OBJECT
    std::shared_ptr<Dataset> m_train, m_test;

private slots:
    void initTestCase()
    {
        setThreadCount(1);
        const ShortData data = loadShortData();
        m_train = data.train;
        m_test = data.test;
    }

    void threeRanksAgreeAndMatchOneProcess_data()
    {
        QTest::addColumn<QString>("model");
        QTest::newRow("lenet5") << "lenet5";
        QTest::newRow("cnn-bn (BatchNorm, Dropout)") << "cnn-bn";
    }
    void threeRanksAgreeAndMatchOneProcess()
    {
        QFETCH(QString, model);
        const Outcome single = train(model.toStdString(), 20, nullptr, m_train, m_test);
        std::vector<Outcome> ranks(3);
        const auto errors = onRanks(3, [&](Communicator &comm, int r) {
            ranks[static_cast<size_t>(r)] = train(model.toStdString(), 20, &comm, m_train, m_test);
        });
        for (const auto &e : errors)
            QVERIFY2(e.empty(), e.c_str());
        // Bit-identical parameters and buffers, the same metrics and evaluation on every rank.
        for (int r = 1; r < 3; ++r) {
            QVERIFY(ranks[static_cast<size_t>(r)].parameters == ranks[0].parameters);
            QVERIFY(ranks[static_cast<size_t>(r)].losses == ranks[0].losses);
            QCOMPARE(ranks[static_cast<size_t>(r)].eval.correct, ranks[0].eval.correct);
        }
        QCOMPARE(ranks[0].eval.samples, int64_t(250));
        QCOMPARE(ranks[0].losses.size(), single.losses.size()); // 31 steps, the last of 2 samples
        QCOMPARE(single.losses.size(), size_t(31));
        const double worst = worstRelativeDifference(ranks[0].parameters, single.parameters);
        qInfo("%s, 31 steps, 3 ranks vs 1 process: worst relative parameter difference %.3g, test accuracy %lld vs %lld of 250",
              qPrintable(model), worst, static_cast<long long>(ranks[0].eval.correct), static_cast<long long>(single.eval.correct));
        if (model == "lenet5") {
            QVERIFY2(worst <= 1e-6, qPrintable(QString::number(worst)));
        } else {
            // BatchNorm normalises each rank's rows (6 or 7 here) by their own statistics, so the
            // run is another one than a single process's; it must still learn (chance: 25 of 250).
            QVERIFY2(ranks[0].eval.correct >= 100, qPrintable(QString::number(ranks[0].eval.correct)));
        }
    }

    void batchSmallerThanTheRanksIsRefused()
    {
        const auto errors = onRanks(3, [&](Communicator &comm, int) { train("mlp", 2, &comm, m_train, m_test); });
        for (const auto &e : errors)
            QVERIFY2(e.find("cannot be split across 3 ranks") != std::string::npos, e.c_str());
    }
};

QTEST_GUILESS_MAIN(DataParallelTest)
#include "data_parallel_test.moc"
