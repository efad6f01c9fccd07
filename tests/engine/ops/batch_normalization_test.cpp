// SPDX-License-Identifier: Apache-2.0
// BatchNormalization: inference with running statistics, training with batch statistics and
// the running-statistics update, gradients by finite differences in both modes, for ranks 2
// (BatchNorm1d [N, C]), 3, 4 and 5; ONNX's optional outputs; errors naming the node.
#include "engine/ops/gradcheck.h"

#include "autodiff/executor.h"
#include "core/error.h"
#include "core/parallel.h"
#include "ops/op.h"

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
    void anyRankTraining_data()
    {
        QTest::addColumn<QString>("shape");
        QTest::newRow("[N,C]") << "16,5";
        QTest::newRow("[N,C] wide") << "7,300";
        QTest::newRow("[N,C,L]") << "4,3,6";
        QTest::newRow("[N,C,D,H,W]") << "2,3,2,3,2";
    }
    void anyRankTraining()
    {
        QFETCH(QString, shape);
        setThreadCount(2);
        Shape s;
        for (const auto &p : shape.split(','))
            s.push_back(p.toLongLong());
        const int64_t N = s[0], C = s[1], S = shapeNumel(s) / (N * C);
        Rng rng(11);
        Graph g;
        g.addParameter("x", randomTensor(s, rng, -1.0f, 3.0f), false);
        g.addParameter("gamma", randomTensor({C}, rng, 0.5f, 1.5f));
        g.addParameter("beta", randomTensor({C}, rng));
        g.addParameter("mean", Tensor::zeros({C}), false);
        g.addParameter("var", Tensor::full({C}, 1.0f), false);
        const Tensor x = g.initializers.at("x").clone(), gamma = g.initializers.at("gamma").clone(), beta = g.initializers.at("beta").clone();
        g.addNode("BatchNormalization", "bn", {"x", "gamma", "beta", "mean", "var"}, {"y"}, {{"momentum", 0.8f}, {"epsilon", 1e-3f}});
        Executor e(g);
        e.forward({}, true);
        const Tensor &y = e.value("y");
        for (int64_t c = 0; c < C; ++c) {
            double sum = 0, ss = 0;
            for (int64_t n = 0; n < N; ++n)
                for (int64_t i = 0; i < S; ++i)
                    sum += x.data()[(n * C + c) * S + i];
            const double m = sum / static_cast<double>(N * S);
            for (int64_t n = 0; n < N; ++n)
                for (int64_t i = 0; i < S; ++i)
                    ss += std::pow(x.data()[(n * C + c) * S + i] - m, 2);
            const double var = ss / static_cast<double>(N * S), unbiased = ss / static_cast<double>(N * S - 1);
            for (int64_t n = 0; n < N; ++n)
                for (int64_t i = 0; i < S; ++i) {
                    const int64_t k = (n * C + c) * S + i;
                    const double want = (x.data()[k] - m) / std::sqrt(var + 1e-3) * gamma.data()[c] + beta.data()[c];
                    QVERIFY(std::abs(y.data()[k] - want) < 2e-5);
                }
            QVERIFY(std::abs(g.initializers.at("mean").data()[c] - 0.2 * m) < 1e-5);
            QVERIFY(std::abs(g.initializers.at("var").data()[c] - (0.8 + 0.2 * unbiased)) < 1e-4);
        }
        // Inference with the updated running statistics.
        e.forward({}, false);
        const Tensor &yi = e.value("y");
        for (int64_t k = 0; k < x.numel(); k += 3) {
            const int64_t c = (k / S) % C;
            const double want = (x.data()[k] - g.initializers.at("mean").data()[c])
                                    / std::sqrt(g.initializers.at("var").data()[c] + 1e-3) * gamma.data()[c] + beta.data()[c];
            QVERIFY(std::abs(yi.data()[k] - want) < 2e-5);
        }
    }

    void anyRankGradients_data()
    {
        QTest::addColumn<QString>("shape");
        QTest::addColumn<bool>("training");
        for (const char *shape : {"6,3", "3,2,4", "2,2,2,2,2"}) {
            QTest::newRow(qPrintable(QStringLiteral("[%1] training").arg(shape))) << shape << true;
            QTest::newRow(qPrintable(QStringLiteral("[%1] inference").arg(shape))) << shape << false;
        }
    }
    void anyRankGradients()
    {
        QFETCH(QString, shape);
        QFETCH(bool, training);
        Shape s;
        for (const auto &p : shape.split(','))
            s.push_back(p.toLongLong());
        Rng rng(6);
        const int64_t C = s[1];
        Node n{"bn1", "BatchNormalization", {}, {}, {}};
        const std::vector<Tensor> in{randomTensor(s, rng), randomTensor({C}, rng, 0.5f, 1.5f), randomTensor({C}, rng),
                                     randomTensor({C}, rng), randomTensor({C}, rng, 0.5f, 1.5f)};
        NW_GRADCHECK(n, in, (std::set<size_t>{0, 1, 2}), training);
    }

    void trainingModeOutputs()
    {
        // ONNX's training_mode=1 outputs: running statistics moved by this batch's mean and
        // population variance (as ONNX's reference), the given inputs left unchanged.
        Rng rng(2);
        const Tensor x = randomTensor({5, 2}, rng), gamma = Tensor::full({2}, 1.0f), beta = Tensor::zeros({2});
        const Tensor mean = Tensor::fromVector({2}, {0.5f, -0.5f}), var = Tensor::fromVector({2}, {2.0f, 3.0f});
        Node n{"bn", "BatchNormalization", {}, {"y", "rm", "rv"}, {{"training_mode", int64_t(1)}, {"momentum", 0.7f}}};
        const std::vector<Tensor> out = evaluateNode(n, {&x, &gamma, &beta, &mean, &var});
        for (int c = 0; c < 2; ++c) {
            double s = 0, ss = 0;
            for (int i = 0; i < 5; ++i)
                s += x.data()[i * 2 + c];
            const double m = s / 5;
            for (int i = 0; i < 5; ++i)
                ss += std::pow(x.data()[i * 2 + c] - m, 2);
            QVERIFY(std::abs(out[1].data()[c] - (0.7 * mean.data()[c] + 0.3 * m)) < 1e-6);
            QVERIFY(std::abs(out[2].data()[c] - (0.7 * var.data()[c] + 0.3 * ss / 5)) < 1e-5);
        }
        QCOMPARE(mean.data()[0], 0.5f);
    }

    void wrongParameterShapeNamesTheNode()
    {
        Node n{"bn9", "BatchNormalization", {}, {}, {}};
        try {
            runNode(n, {Tensor::full({2, 3}, 1.0f), Tensor::full({2}, 1.0f), Tensor::zeros({3}), Tensor::zeros({3}), Tensor::full({3}, 1.0f)});
            QFAIL("scale of shape [2] accepted for 3 channels");
        } catch (const Error &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("\"bn9\"")) && QString::fromUtf8(e.what()).contains("scale"), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(BatchNormalizationTest)
#include "batch_normalization_test.moc"
