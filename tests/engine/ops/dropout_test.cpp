// SPDX-License-Identifier: Apache-2.0
// Dropout: identity in inference; in training about `ratio` of the values are zeroed and the rest
// scaled by 1/(1−ratio); the mask depends only on the seed; gradients by finite differences.
#include "engine/ops/gradcheck.h"

#include "autodiff/executor.h"
#include "core/parallel.h"
#include "ops/dropout_mask.h"

#include <QTest>

using namespace netwright;
using namespace netwright::testing;

class DropoutTest : public QObject {
    Q_OBJECT
private slots:
    void inferenceIsIdentity()
    {
        Rng rng(1);
        const Tensor x = randomTensor({4, 50}, rng);
        Node n{"d", "Dropout", {}, {}, {{"ratio", 0.5f}}};
        QCOMPARE(maxAbsDiff(runNode(n, {x}, false), x), 0.0);
    }
    void trainingDropsAndScales()
    {
        const Tensor x = Tensor::full({100, 100}, 1.0f);
        Node n{"d", "Dropout", {}, {}, {{"ratio", 0.3f}}};
        const Tensor y = runNode(n, {x}, true);
        int64_t zeros = 0;
        for (int64_t i = 0; i < y.numel(); ++i) {
            const float v = y.data()[i];
            QVERIFY(v == 0.0f || std::abs(v - 1.0f / 0.7f) < 1e-6);
            zeros += v == 0.0f;
        }
        QVERIFY2(zeros > 2800 && zeros < 3200, qPrintable(QString::number(zeros)));
        // The same stream state gives the same mask; ratio from the optional input wins.
        QCOMPARE(maxAbsDiff(runNode(n, {x}, true), y), 0.0);
        const Tensor y2 = runNode(n, {x, Tensor::full({}, 0.0f)}, true);
        QCOMPARE(maxAbsDiff(y2, x), 0.0);
    }
    void differentSeedsGiveDifferentMasks()
    {
        Graph g;
        g.addParameter("x", Tensor::full({1000}, 1.0f), false);
        g.addNode("Dropout", "d", {"x"}, {"y"}, {{"ratio", 0.5f}});
        Executor e(g);
        Rng a(1), b(2);
        e.setDropoutRng(&a);
        e.forward({}, true);
        const Tensor ya = e.value("y").clone();
        e.setDropoutRng(&b);
        e.forward({}, true);
        QVERIFY(maxAbsDiff(ya, e.value("y")) > 0.0);
    }
    // Over the threads, the mask is still dropoutUniform(key, index) ≥ ratio at every index (what
    // the CUDA kernel and every data-parallel rank draw), key being the stream's next draw; the
    // optional mask output agrees, and the gradient is dy times the same scale.
    void maskIsTheIndexDrawOverThreads()
    {
        setThreadCount(2);
        const int64_t rows = 64, cols = 1000; // 64,000 elements: split over both threads
        Rng rng(8);
        const Tensor x = randomTensor({rows, cols}, rng);
        Graph g;
        g.addParameter("x", x);
        g.addNode("Dropout", "d", {"x"}, {"y", "mask"}, {{"ratio", 0.25f}});
        g.addNode("ReduceSum", "sum", {"y"}, {"loss"}, {{"keepdims", int64_t(0)}});
        Executor e(g);
        Rng stream(21), copy(21);
        e.setDropoutRng(&stream);
        e.forward({}, true);
        e.backward("loss");
        const uint64_t key = copy.nextU64();
        const Tensor &y = e.value("y"), &mask = e.value("mask"), &dx = e.gradient("x");
        int64_t dropped = 0;
        for (int64_t i = 0; i < rows * cols; ++i) {
            const bool keep = dropoutUniform(key, static_cast<uint64_t>(i)) >= 0.25f;
            const float scale = keep ? 1.0f / 0.75f : 0.0f;
            QVERIFY2(y.data()[i] == x.data()[i] * scale && dx.data()[i] == scale
                         && mask.dataAs<uint8_t>()[i] == static_cast<uint8_t>(keep),
                     qPrintable(QStringLiteral("element %1").arg(i)));
            dropped += !keep;
        }
        QVERIFY2(dropped > 15000 && dropped < 17000, qPrintable(QString::number(dropped)));
    }
    void gradient()
    {
        Rng rng(3);
        Node n{"d", "Dropout", {}, {}, {{"ratio", 0.4f}}};
        NW_GRADCHECK(n, (std::vector<Tensor>{randomTensor({6, 7}, rng)}), (std::set<size_t>{0}), true);
    }
};

QTEST_GUILESS_MAIN(DropoutTest)
#include "dropout_test.moc"
