// SPDX-License-Identifier: Apache-2.0
// Clip: values against min(max(x, lo), hi) with bounds as scalar inputs (opset 11+, PyTorch's
// ReLU6), as attributes (older exporters) and omitted (no bound); the gradient by finite
// differences, away from the kinks.
#include "engine/ops/gradcheck.h"

#include "core/parallel.h"

#include <QTest>

#include <cmath>
#include <limits>

using namespace netwright;
using namespace netwright::testing;

class ClipTest : public QObject {
    Q_OBJECT
private slots:
    void valuesAndGradients_data()
    {
        QTest::addColumn<QString>("form");
        QTest::newRow("relu6 inputs") << "inputs";
        QTest::newRow("attributes") << "attributes";
        QTest::newRow("min only") << "min-only";
    }
    void valuesAndGradients()
    {
        QFETCH(QString, form);
        setThreadCount(2);
        Rng rng(5);
        Tensor x = randomTensor({2, 3, 4, 5}, rng, -4.0f, 9.0f);
        for (int64_t i = 0; i < x.numel(); ++i) // keep the kinks away from the finite-difference step
            for (float kink : {0.0f, 6.0f})
                if (std::abs(x.data()[i] - kink) < 0.05f)
                    x.data()[i] = kink + 0.3f;
        Node n{"clip", "Clip", {}, {}, {}};
        std::vector<Tensor> inputs{x};
        float lo = 0.0f, hi = 6.0f;
        if (form == "inputs") {
            inputs.push_back(Tensor::full({}, 0.0f));
            inputs.push_back(Tensor::full({}, 6.0f));
        } else if (form == "attributes") {
            n.attributes["min"] = 0.0f;
            n.attributes["max"] = 6.0f;
        } else {
            inputs.push_back(Tensor::full({}, 0.0f));
            hi = std::numeric_limits<float>::infinity();
        }
        const Tensor y = runNode(n, inputs);
        for (int64_t i = 0; i < x.numel(); ++i)
            QCOMPARE(y.data()[i], std::min(std::max(x.data()[i], lo), hi));
        NW_GRADCHECK(n, inputs, (std::set<size_t>{0}));
    }
};

QTEST_GUILESS_MAIN(ClipTest)
#include "clip_test.moc"
