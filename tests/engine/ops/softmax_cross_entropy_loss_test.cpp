// SPDX-License-Identifier: Apache-2.0
// SoftmaxCrossEntropyLoss: mean/sum/none against −log softmax, ignore_index, out-of-range labels
// named in the error, and gradients by finite differences.
#include "engine/ops/gradcheck.h"

#include "autodiff/executor.h"
#include "core/error.h"

#include <QTest>

#include <cmath>

using namespace netwright;
using namespace netwright::testing;

class LossTest : public QObject {
    Q_OBJECT
private slots:
    void values_data()
    {
        QTest::addColumn<QString>("reduction");
        QTest::newRow("mean") << "mean";
        QTest::newRow("sum") << "sum";
        QTest::newRow("none") << "none";
    }
    void values()
    {
        QFETCH(QString, reduction);
        Rng rng(9);
        const Tensor s = randomTensor({4, 5}, rng, -2, 2);
        const Tensor labels = Tensor::fromInt64({4}, {0, 4, 2, 2});
        Node n{"loss", "SoftmaxCrossEntropyLoss", {}, {}, {{"reduction", reduction.toStdString()}}};
        const Tensor y = runNode(n, {s, labels});
        double total = 0;
        std::vector<double> per;
        for (int i = 0; i < 4; ++i) {
            double z = 0;
            for (int c = 0; c < 5; ++c)
                z += std::exp(s.data()[i * 5 + c]);
            per.push_back(std::log(z) - s.data()[i * 5 + labels.dataAs<int64_t>()[i]]);
            total += per.back();
        }
        if (reduction == "none")
            for (int i = 0; i < 4; ++i)
                QVERIFY(std::abs(per[i] - y.data()[i]) < 1e-5);
        else
            QVERIFY(std::abs((reduction == "mean" ? total / 4 : total) - y.data()[0]) < 1e-5);
        if (reduction != "none")
            NW_GRADCHECK(n, (std::vector<Tensor>{s, labels}), (std::set<size_t>{0}));
    }
    void ignoreIndex()
    {
        Rng rng(2);
        const Tensor s = randomTensor({3, 4}, rng);
        Node n{"loss", "SoftmaxCrossEntropyLoss", {}, {}, {{"ignore_index", int64_t(1)}}};
        const Tensor all = runNode(n, {s, Tensor::fromInt64({3}, {0, 1, 3})});
        Node plain{"loss", "SoftmaxCrossEntropyLoss", {}, {}, {{"reduction", std::string("none")}}};
        const Tensor per = runNode(plain, {s, Tensor::fromInt64({3}, {0, 1, 3})});
        QVERIFY(std::abs(all.data()[0] - (per.data()[0] + per.data()[2]) / 2) < 1e-6);
        NW_GRADCHECK(n, (std::vector<Tensor>{s, Tensor::fromInt64({3}, {0, 1, 3})}), (std::set<size_t>{0}));
    }
    void gradientThroughLogProb()
    {
        // loss = Σ r ⊙ log_prob: the gradient reaches the scores through the second output only.
        Rng rng(4);
        Graph g;
        g.addParameter("s", randomTensor({3, 4}, rng));
        g.addParameter("labels", Tensor::fromInt64({3}, {0, 3, 1}), false);
        g.addParameter("r", randomTensor({12, 1}, rng), false);
        g.addNode("SoftmaxCrossEntropyLoss", "sce", {"s", "labels"}, {"l", "lp"});
        g.addNode("Flatten", "f", {"lp"}, {"lpf"}, {{"axis", int64_t(0)}});
        g.addNode("Gemm", "dot", {"lpf", "r"}, {"loss"});
        Executor e(g);
        e.forward({}, false);
        e.backward("loss");
        const Tensor grad = e.gradient("s").clone();
        Tensor &s = g.initializers.at("s");
        for (int64_t k = 0; k < s.numel(); ++k) {
            const float keep = s.data()[k];
            s.data()[k] = keep + 1e-2f;
            e.forward({}, false);
            const double up = e.value("loss").data()[0];
            s.data()[k] = keep - 1e-2f;
            e.forward({}, false);
            const double down = e.value("loss").data()[0];
            s.data()[k] = keep;
            QVERIFY(std::abs((up - down) / 2e-2 - grad.data()[k]) < 2e-3);
        }
    }
    void weightsInputIsRejected()
    {
        Rng rng(2);
        Node n{"loss", "SoftmaxCrossEntropyLoss", {}, {}, {}};
        QVERIFY_THROWS_EXCEPTION(Error, runNode(n, {randomTensor({2, 3}, rng), Tensor::fromInt64({2}, {0, 1}), Tensor::full({3}, 1.0f)}));
    }
    void labelOutOfRange()
    {
        Rng rng(2);
        Node n{"loss", "SoftmaxCrossEntropyLoss", {}, {}, {}};
        try {
            runNode(n, {randomTensor({2, 3}, rng), Tensor::fromInt64({2}, {0, 7})});
            QFAIL("label 7 of 3 classes accepted");
        } catch (const Error &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("label 7")), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(LossTest)
#include "softmax_cross_entropy_loss_test.moc"
