// SPDX-License-Identifier: Apache-2.0
// SoftmaxCrossEntropyLoss and NegativeLogLikelihoodLoss: mean/sum/none against −log softmax,
// ignore_index, weights and N-D inputs against PyTorch (cross_entropy / nll_loss), log_prob,
// out-of-range labels named in the error, float64 and int32 labels, and gradients by finite
// differences.
#include "engine/ops/gradcheck.h"

#include "autodiff/executor.h"
#include "core/error.h"
#include "ops/op.h"

#include <QTest>

#include <cmath>

using namespace netwright;
using namespace netwright::testing;

namespace {

// torch.nn.functional.cross_entropy / nll_loss (float64) on scores seq([3,5,2]) =
// 2·sin(0.53·i + 0.4), labels [[0,1],[4,2],[1,3]], weight [0.5,1,2,1.5,0.25], ignore_index 1.
const std::vector<float> kSce_mean{1.1352918f};
const std::vector<float> kSce_sum{4.82499f};
const std::vector<float> kSce_none{0.90245434f, 0.0f, 0.89535408f, 1.6626632f, 0.0f, 1.3645185f};
const std::vector<float> kNll_mean{-1.4546114f};
const std::vector<float> kNll_sum{-6.1820987f};
const std::vector<float> kNll_none{-0.38941834f, 0.0f, 0.24636404f, -3.517938f, 0.0f, -2.5211064f};

Tensor lossScores()
{
    Tensor t({3, 5, 2});
    for (int64_t i = 0; i < t.numel(); ++i)
        t.data()[i] = static_cast<float>(std::sin(0.53 * static_cast<double>(i) + 0.4) * 2.0);
    return t;
}
const std::vector<int64_t> kLossLabels{0, 1, 4, 2, 1, 3};
const std::vector<float> kLossWeights{0.5f, 1.0f, 2.0f, 1.5f, 0.25f};

} // namespace

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
    void weightsIgnoreIndexAndNdMatchPyTorch_data()
    {
        QTest::addColumn<QString>("op");
        QTest::addColumn<QString>("reduction");
        QTest::addColumn<const std::vector<float> *>("want");
        QTest::newRow("sce mean") << "SoftmaxCrossEntropyLoss" << "mean" << &kSce_mean;
        QTest::newRow("sce sum") << "SoftmaxCrossEntropyLoss" << "sum" << &kSce_sum;
        QTest::newRow("sce none") << "SoftmaxCrossEntropyLoss" << "none" << &kSce_none;
        QTest::newRow("nll mean") << "NegativeLogLikelihoodLoss" << "mean" << &kNll_mean;
        QTest::newRow("nll sum") << "NegativeLogLikelihoodLoss" << "sum" << &kNll_sum;
        QTest::newRow("nll none") << "NegativeLogLikelihoodLoss" << "none" << &kNll_none;
    }
    void weightsIgnoreIndexAndNdMatchPyTorch()
    {
        QFETCH(QString, op);
        QFETCH(QString, reduction);
        QFETCH(const std::vector<float> *, want);
        Node n{"loss", op.toStdString(), {}, {}, {{"reduction", reduction.toStdString()}, {"ignore_index", int64_t(1)}}};
        const std::vector<Tensor> in{lossScores(), Tensor::fromInt64({3, 2}, kLossLabels), Tensor::fromVector({5}, kLossWeights)};
        const Tensor y = runNode(n, in);
        QCOMPARE(y.shape(), (reduction == "none" ? Shape{3, 2} : Shape{}));
        for (int64_t i = 0; i < y.numel(); ++i)
            QVERIFY2(std::abs(y.data()[i] - (*want)[i]) < 1e-5, qPrintable(QStringLiteral("%1 vs %2").arg(y.data()[i]).arg((*want)[i])));
        // int32 labels give the same.
        Tensor labels32(Shape{3, 2}, DType::Int32);
        for (int i = 0; i < 6; ++i)
            labels32.dataAs<int32_t>()[i] = static_cast<int32_t>(kLossLabels[i]);
        QVERIFY(maxAbsDiff(runNode(n, {in[0], labels32, in[2]}), y) == 0.0);
        if (reduction != "none")
            NW_GRADCHECK(n, in, (std::set<size_t>{0}));
    }
    void logProbOutputAndNdGradients()
    {
        Rng rng(7);
        const Tensor s = randomTensor({2, 4, 3, 2}, rng, -2, 2);
        const Tensor labels = Tensor::fromInt64({2, 3, 2}, {0, 3, 2, -1, 1, 1, 3, 3, 0, 2, -1, 0});
        Node n{"sce", "SoftmaxCrossEntropyLoss", {}, {"loss", "logp"}, {{"ignore_index", int64_t(-1)}}};
        const std::vector<Tensor> out = evaluateNode(n, {&s, &labels, nullptr});
        QCOMPARE(out[1].shape(), s.shape());
        double total = 0;
        int counted = 0;
        for (int64_t b = 0; b < 2; ++b)
            for (int64_t j = 0; j < 6; ++j) {
                double z = 0;
                for (int64_t c = 0; c < 4; ++c)
                    z += std::exp(s.data()[(b * 4 + c) * 6 + j]);
                for (int64_t c = 0; c < 4; ++c)
                    QVERIFY(std::abs(out[1].data()[(b * 4 + c) * 6 + j] - (s.data()[(b * 4 + c) * 6 + j] - std::log(z))) < 1e-5);
                const int64_t label = labels.dataAs<int64_t>()[b * 6 + j];
                if (label >= 0) {
                    total += std::log(z) - s.data()[(b * 4 + label) * 6 + j];
                    ++counted;
                }
            }
        QVERIFY(std::abs(out[0].data()[0] - total / counted) < 1e-5);
        Node plain{"sce", "SoftmaxCrossEntropyLoss", {}, {}, {{"ignore_index", int64_t(-1)}, {"reduction", std::string("sum")}}};
        NW_GRADCHECK(plain, (std::vector<Tensor>{s, labels, Tensor::fromVector({4}, {1.0f, 0.5f, 2.0f, 1.5f})}), (std::set<size_t>{0}));
        Node nll{"nll", "NegativeLogLikelihoodLoss", {}, {}, {{"ignore_index", int64_t(-1)}}};
        NW_GRADCHECK(nll, (std::vector<Tensor>{s, labels, Tensor::fromVector({4}, {1.0f, 0.5f, 2.0f, 1.5f})}), (std::set<size_t>{0}));
    }
    void float64Forward()
    {
        Tensor s(Shape{3, 5, 2}, DType::Float64);
        for (int64_t i = 0; i < 30; ++i)
            s.dataAs<double>()[i] = std::sin(0.53 * static_cast<double>(i) + 0.4) * 2.0;
        Tensor w(Shape{5}, DType::Float64);
        for (int c = 0; c < 5; ++c)
            w.dataAs<double>()[c] = kLossWeights[c];
        const Tensor labels = Tensor::fromInt64({3, 2}, kLossLabels);
        for (const char *op : {"SoftmaxCrossEntropyLoss", "NegativeLogLikelihoodLoss"}) {
            Node n{"loss", op, {}, {}, {{"ignore_index", int64_t(1)}}};
            const Tensor y = runNode(n, {s, labels, w});
            QCOMPARE(y.dtype(), DType::Float64);
            const float want = std::string(op) == "SoftmaxCrossEntropyLoss" ? kSce_mean[0] : kNll_mean[0];
            QVERIFY(std::abs(y.dataAs<double>()[0] - want) < 1e-6);
        }
    }
    void everythingIgnoredGivesZero()
    {
        Rng rng(2);
        Node n{"loss", "SoftmaxCrossEntropyLoss", {}, {}, {{"ignore_index", int64_t(2)}}};
        const Tensor y = runNode(n, {randomTensor({2, 3}, rng), Tensor::fromInt64({2}, {2, 2})});
        QCOMPARE(y.data()[0], 0.0f);
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
