// SPDX-License-Identifier: Apache-2.0
// BatchNormalization: inference with running statistics, training with batch statistics and
// the running-statistics update, gradients by finite differences in both modes.
#include "engine/ops/gradcheck.h"

#include "autodiff/executor.h"
#include "core/parallel.h"

#include <QTest>

#include <cmath>

using namespace netwright;
using namespace netwright::testing;

class BatchNormalizationTest : public QObject {
    Q_OBJECT
private slots:
    void inferenceUsesRunningStatistics()
    {
        Node n{"bn1", "BatchNormalization", {}, {}, {{"epsilon", 1e-5f}}};
        const Tensor x = Tensor::fromVector({1, 2, 1, 2}, {1, 3, 10, 20});
        const Tensor y = runNode(n, {x, Tensor::fromVector({2}, {2, 1}), Tensor::fromVector({2}, {0.5f, -1}),
                                     Tensor::fromVector({2}, {2, 10}), Tensor::fromVector({2}, {4, 25})});
        const float s0 = 2.0f / std::sqrt(4.0f + 1e-5f), s1 = 1.0f / std::sqrt(25.0f + 1e-5f);
        QVERIFY(std::abs(y.data()[0] - ((1 - 2) * s0 + 0.5f)) < 1e-5);
        QVERIFY(std::abs(y.data()[1] - ((3 - 2) * s0 + 0.5f)) < 1e-5);
        QVERIFY(std::abs(y.data()[3] - ((20 - 10) * s1 - 1)) < 1e-5);
    }

    void trainingNormalisesAndUpdatesRunningStatistics()
    {
        setThreadCount(2);
        Node n{"bn1", "BatchNormalization", {}, {}, {{"momentum", 0.9f}}};
        Rng rng(4);
        const Tensor x = randomTensor({4, 3, 2, 2}, rng, 1.0f, 3.0f);
        Graph g;
        g.name = "bn";
        g.addParameter("x", x.clone(), false);
        g.addParameter("gamma", Tensor::full({3}, 1.0f));
        g.addParameter("beta", Tensor::zeros({3}));
        g.addParameter("mean", Tensor::zeros({3}), false);
        g.addParameter("var", Tensor::full({3}, 1.0f), false);
        n.inputs = {"x", "gamma", "beta", "mean", "var"};
        n.outputs = {"y"};
        g.nodes.push_back(n);
        Executor exec(g);
        exec.forward({}, true);
        const Tensor &y = exec.value("y");
        for (int c = 0; c < 3; ++c) {
            double s = 0, ss = 0, xs = 0, xss = 0;
            for (int b = 0; b < 4; ++b)
                for (int i = 0; i < 4; ++i) {
                    const double v = y.data()[(b * 3 + c) * 4 + i], u = x.data()[(b * 3 + c) * 4 + i];
                    s += v; ss += v * v; xs += u; xss += u * u;
                }
            QVERIFY(std::abs(s / 16) < 1e-5);            // zero mean
            QVERIFY(std::abs(ss / 16 - 1.0) < 1e-3);     // unit variance (biased)
            const double mean = xs / 16, unbiased = (xss - 16 * mean * mean) / 15;
            QVERIFY(std::abs(g.initializers.at("mean").data()[c] - 0.1 * mean) < 1e-5);
            QVERIFY(std::abs(g.initializers.at("var").data()[c] - (0.9 + 0.1 * unbiased)) < 1e-4);
        }
    }

    void trainingModeAttributeLeavesRunningStatisticsAlone()
    {
        // An imported node with training_mode=1 normalises with batch statistics, but an
        // inference pass (evaluation) must not change the model's running statistics.
        Graph g;
        Rng rng(3);
        g.addParameter("x", randomTensor({4, 2, 3, 3}, rng), false);
        g.addParameter("gamma", Tensor::full({2}, 1.0f));
        g.addParameter("beta", Tensor::zeros({2}));
        g.addParameter("mean", Tensor::fromVector({2}, {0.5f, -0.5f}), false);
        g.addParameter("var", Tensor::fromVector({2}, {2.0f, 3.0f}), false);
        g.addNode("BatchNormalization", "bn", {"x", "gamma", "beta", "mean", "var"}, {"y"}, {{"training_mode", int64_t(1)}});
        Executor e(g);
        e.forward({}, false);
        QCOMPARE(g.initializers.at("mean").data()[0], 0.5f);
        QCOMPARE(g.initializers.at("var").data()[1], 3.0f);
        e.forward({}, true);
        QVERIFY(g.initializers.at("mean").data()[0] != 0.5f);
    }

    void gradients_data()
    {
        QTest::addColumn<bool>("training");
        QTest::newRow("training") << true;
        QTest::newRow("inference") << false;
    }
    void gradients()
    {
        QFETCH(bool, training);
        setThreadCount(2);
        Rng rng(6);
        Node n{"bn1", "BatchNormalization", {}, {}, {}};
        const std::vector<Tensor> in{randomTensor({3, 2, 3, 2}, rng), randomTensor({2}, rng, 0.5f, 1.5f), randomTensor({2}, rng),
                                     randomTensor({2}, rng), randomTensor({2}, rng, 0.5f, 1.5f)};
        NW_GRADCHECK(n, in, (std::set<size_t>{0, 1, 2}), training);
    }
};

QTEST_GUILESS_MAIN(BatchNormalizationTest)
#include "batch_normalization_test.moc"
