// SPDX-License-Identifier: Apache-2.0
// The executor's autodiff plumbing: gradients summed over several consumers (also the same value
// twice in one node), no gradient for data inputs, a whole zoo model checked against finite
// differences, and validation errors that name the node.
#include "autodiff/executor.h"
#include "core/error.h"
#include "core/parallel.h"
#include "engine/ops/gradcheck.h"
#include "zoo/model_zoo.h"

#include <QTest>

using namespace netwright;
using namespace netwright::testing;

class ExecutorTest : public QObject {
    Q_OBJECT
private slots:
    void gradientsAccumulateOverConsumers()
    {
        // loss = Σ r ⊙ (x·x + relu(x)·x) → d/dx = r ⊙ (2x + relu'(x)·x + relu(x))
        Graph g;
        Rng rng(1);
        Tensor x = randomTensor({6}, rng);
        const Tensor r = randomTensor({6, 1}, rng);
        g.addParameter("x", x);
        g.addParameter("r", r, false);
        g.addNode("Mul", "sq", {"x", "x"}, {"sq"});
        g.addNode("Relu", "relu", {"x"}, {"rx"});
        g.addNode("Mul", "m2", {"rx", "x"}, {"m2"});
        g.addNode("Add", "sum", {"sq", "m2"}, {"s"});
        g.addNode("Flatten", "flat", {"s"}, {"sf"}, {{"axis", int64_t(0)}});
        g.addNode("Gemm", "dot", {"sf", "r"}, {"loss"});
        Executor e(g);
        e.forward({}, false);
        e.backward("loss");
        const Tensor &dx = e.gradient("x");
        for (int i = 0; i < 6; ++i) {
            const float v = x.data()[i];
            const float want = r.data()[i] * (2 * v + (v > 0 ? 2 * v : 0.0f));
            QVERIFY2(std::abs(dx.data()[i] - want) < 1e-5, qPrintable(QString::number(i)));
        }
        QVERIFY_THROWS_EXCEPTION(Error, e.gradient("r")); // not trainable: no gradient
    }

    void wholeModelGradientMatchesFiniteDifferences_data()
    {
        QTest::addColumn<QString>("model");
        QTest::newRow("lenet5") << "lenet5";
        QTest::newRow("cnn-bn") << "cnn-bn";
    }
    void wholeModelGradientMatchesFiniteDifferences()
    {
        QFETCH(QString, model);
        setThreadCount(2);
        ModelSpec spec;
        spec.name = model.toStdString();
        Graph g = buildZooModel(spec, InitScheme::KaimingUniform, 3);
        g.inputs.push_back({"labels", {-1}, DType::Int64});
        g.addNode("SoftmaxCrossEntropyLoss", "loss", {g.outputs[0].name, "labels"}, {"loss"});
        Executor e(g);
        Rng dropout(5), rng(2);
        e.setDropoutRng(&dropout);
        const Tensor x = randomTensor({3, 1, 28, 28}, rng);
        const Tensor y = Tensor::fromInt64({3}, {1, 7, 3});
        const bool training = model == "cnn-bn";
        auto lossAt = [&] {
            dropout.reseed(5);
            e.forward({{"input", x}, {"labels", y}}, training);
            return static_cast<double>(e.value("loss").data()[0]);
        };
        lossAt();
        e.backward("loss");
        // Spot-check 6 weights of each of two layers by central differences (in double steps).
        for (const char *p : {"conv2.weight", "fc1.weight"}) {
            const Tensor grad = e.gradient(p).clone();
            Tensor &w = g.initializers.at(p);
            for (int k = 0; k < 6; ++k) {
                const int64_t i = (k * 7919) % w.numel();
                const float keep = w.data()[i];
                w.data()[i] = keep + 2e-3f;
                const double up = lossAt();
                w.data()[i] = keep - 2e-3f;
                const double down = lossAt();
                w.data()[i] = keep;
                const double numeric = (up - down) / 4e-3;
                QVERIFY2(std::abs(numeric - grad.data()[i]) <= 2e-3 + 5e-2 * std::abs(numeric),
                         qPrintable(QStringLiteral("%1[%2]: analytic %3 numeric %4").arg(p).arg(i).arg(grad.data()[i]).arg(numeric)));
            }
        }
    }

    void validationNamesTheProblem()
    {
        Graph g;
        g.name = "broken";
        g.addNode("Relu", "r1", {"nowhere"}, {"y"});
        try {
            Executor e(g);
            QFAIL("accepted a dangling input");
        } catch (const Error &err) {
            QVERIFY2(QString::fromUtf8(err.what()).contains(QStringLiteral("\"nowhere\"")), err.what());
        }
        Graph h;
        h.addParameter("x", Tensor::zeros({2}));
        h.addNode("FancyOp", "f1", {"x"}, {"y"});
        try {
            Executor e(h);
            QFAIL("accepted an unknown op");
        } catch (const Error &err) {
            QVERIFY2(QString::fromUtf8(err.what()).contains(QStringLiteral("no kernel for FancyOp (1 node: f1)")), err.what());
        }
        // A shape mismatch inside a model is reported with the node's name at the first forward.
        ModelSpec spec;
        spec.name = "mlp";
        Graph m = buildZooModel(spec, InitScheme::XavierUniform, 1);
        m.initializers["fc2.weight"] = Tensor::zeros({128, 300});
        Executor e(m);
        try {
            e.forward({{"input", Tensor::zeros({2, 1, 28, 28})}}, false);
            QFAIL("accepted a 256→300 mismatch");
        } catch (const Error &err) {
            QVERIFY2(QString::fromUtf8(err.what()).contains(QStringLiteral("\"fc2\" (Gemm)")), err.what());
        }
    }
};

QTEST_GUILESS_MAIN(ExecutorTest)
#include "executor_test.moc"
