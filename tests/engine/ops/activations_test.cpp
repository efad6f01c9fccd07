// SPDX-License-Identifier: Apache-2.0
// Element-wise activations and PRelu: values against the formulas and against PyTorch (values
// below from torch.nn.functional on x_i = 3·sin(0.37·i + 0.1)), gradients by finite differences,
// float64 forward, Relu on integers, and errors that name the node.
#include "engine/ops/gradcheck.h"

#include "core/error.h"
#include "core/parallel.h"

#include <QTest>

#include <cmath>

using namespace netwright;
using namespace netwright::testing;

namespace {

// PyTorch (float64) on seq(12, 0.37, 0.1, 3): gelu, gelu(tanh), mish, selu, celu(α=1.5),
// hardswish, softplus, elu(α=0.7), hardsigmoid; prelu on seq(24, 0.37, 0.1, 2) as [2,3,4] with
// one slope per channel (0.1, 0.2, 0.3).
const std::vector<float> kGelu{0.18500754f, 1.2402825f, 2.2054605f, 2.7998268f, 2.9958217f, 2.7794635f, 2.1658942f, 1.1845175f, 0.14586783f, -0.16788468f, -0.060960075f, -0.013086746f};
const std::vector<float> kGeluTanh{0.18500505f, 1.2400489f, 2.2057524f, 2.8002913f, 2.9962341f, 2.7799308f, 2.1661577f, 1.1842862f, 0.1458667f, -0.16798603f, -0.060999112f, -0.01262744f};
const std::vector<float> kMish{0.20761022f, 1.2496242f, 2.1925f, 2.7886966f, 2.9864053f, 2.7681679f, 2.1531543f, 1.1959453f, 0.16543813f, -0.29071203f, -0.26971266f, -0.18925084f};
const std::vector<float> kSelu{0.31468521f, 1.4275442f, 2.3471918f, 2.949158f, 3.1519695f, 2.9281767f, 2.3080689f, 1.3755748f, 0.25690317f, -1.00912f, -1.4776439f, -1.6234661f};
const std::vector<float> kCelu{0.29950025f, 1.3586589f, 2.2339294f, 2.806848f, 2.9998729f, 2.7868791f, 2.1966943f, 1.3091972f, 0.24450646f, -0.65073696f, -1.0587972f, -1.2295021f};
const std::vector<float> kHardswish{0.16470019f, 0.98698841f, 1.9487047f, 2.71649f, 2.9998094f, 2.6878888f, 1.9025915f, 0.94026486f, 0.13221713f, -0.30529159f, -0.35623172f, -0.18438518f};
const std::vector<float> kSoftplus{0.8540682f, 1.5873909f, 2.3356794f, 2.8654895f, 3.0484663f, 2.8466688f, 2.3021079f, 1.5482431f, 0.82285479f, 0.35488491f, 0.14800782f, 0.073788312f};
const std::vector<float> kElu{0.29950025f, 1.3586589f, 2.2339294f, 2.806848f, 2.9998729f, 2.7868791f, 2.1966943f, 1.3091972f, 0.24450646f, -0.40178843f, -0.58833463f, -0.64639478f};
const std::vector<float> kHardsigmoid{0.54991671f, 0.72644314f, 0.87232156f, 0.967808f, 0.99997882f, 0.96447986f, 0.86611572f, 0.71819954f, 0.54075108f, 0.35778714f, 0.19407105f, 0.071761013f};
const std::vector<float> kPrelu{0.19966683f, 0.90577257f, 1.4892862f, 1.871232f, 1.9999153f, 1.8579194f, 1.4644629f, 0.87279816f, 0.1630043f, -0.17065543f, -0.36711473f, -0.51388678f, -0.19703556f, -0.19610768f, -0.16863755f, -0.11834312f, -0.104063f, 0.21322339f, 0.91790297f, 1.4983487f, 1.876f, 1.9997434f, 1.852831f, 1.4551466f};

Tensor seq(const Shape &shape, double a, double b, double s)
{
    Tensor t(shape);
    for (int64_t i = 0; i < t.numel(); ++i)
        t.data()[i] = static_cast<float>(std::sin(a * static_cast<double>(i) + b) * s);
    return t;
}

double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }
double softplus(double v) { return std::log1p(std::exp(v)); }

// The formula of each op with the attributes the data-driven test sets.
double reference(const QString &op, double v)
{
    if (op == "Relu") return std::max(0.0, v);
    if (op == "LeakyRelu") return v >= 0 ? v : 0.2 * v;
    if (op == "Sigmoid") return sigmoid(v);
    if (op == "Tanh") return std::tanh(v);
    if (op == "Elu") return v >= 0 ? v : 0.7 * (std::exp(v) - 1);
    if (op == "Selu") // ONNX's defaults, the float32 roundings of PyTorch's constants
        return v > 0 ? 1.05070102214813232421875 * v : 1.05070102214813232421875 * 1.67326319217681884765625 * (std::exp(v) - 1);
    if (op == "Celu") return std::max(0.0, v) + std::min(0.0, 1.5 * (std::exp(v / 1.5) - 1));
    if (op == "Gelu") return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
    if (op == "GeluTanh") return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
    if (op == "HardSigmoid") return std::clamp(0.3 * v + 0.4, 0.0, 1.0);
    if (op == "HardSwish") return v * std::clamp(v / 6 + 0.5, 0.0, 1.0);
    if (op == "Softplus") return softplus(v);
    if (op == "Softsign") return v / (1 + std::abs(v));
    if (op == "Mish") return v * std::tanh(softplus(v));
    if (op == "ThresholdedRelu") return v > 0.8 ? v : 0.0;
    if (op == "Shrink") return v < -0.6 ? v + 0.25 : v > 0.6 ? v - 0.25 : 0.0;
    return NAN;
}

Node nodeFor(const QString &op)
{
    Node n{"act", op == "GeluTanh" ? std::string("Gelu") : op.toStdString(), {}, {}, {}};
    if (op == "LeakyRelu")
        n.attributes["alpha"] = 0.2f;
    if (op == "Elu")
        n.attributes["alpha"] = 0.7f;
    if (op == "Celu")
        n.attributes["alpha"] = 1.5f;
    if (op == "GeluTanh")
        n.attributes["approximate"] = std::string("tanh");
    if (op == "HardSigmoid") {
        n.attributes["alpha"] = 0.3f;
        n.attributes["beta"] = 0.4f;
    }
    if (op == "ThresholdedRelu")
        n.attributes["alpha"] = 0.8f;
    if (op == "Shrink") {
        n.attributes["lambd"] = 0.6f;
        n.attributes["bias"] = 0.25f;
    }
    return n;
}

// Where the derivative jumps, kept clear of the finite-difference step.
std::vector<double> kinks(const QString &op)
{
    if (op == "HardSigmoid") return {-4.0 / 3.0, 2.0};
    if (op == "HardSwish") return {-3.0, 3.0};
    if (op == "ThresholdedRelu") return {0.8};
    if (op == "Shrink") return {-0.6, 0.6};
    return {};
}

} // namespace

class ActivationsTest : public QObject {
    Q_OBJECT
private slots:
    void valuesAndGradients_data()
    {
        QTest::addColumn<QString>("op");
        QTest::addColumn<QString>("shape");
        for (const char *op : {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Elu", "Selu", "Celu", "Gelu", "GeluTanh", "HardSigmoid",
                               "HardSwish", "Softplus", "Softsign", "Mish", "ThresholdedRelu", "Shrink"}) {
            QTest::newRow(qPrintable(QStringLiteral("%1 small").arg(op))) << op << "7";
            QTest::newRow(qPrintable(QStringLiteral("%1 4d").arg(op))) << op << "2,3,4,5";
        }
    }
    void valuesAndGradients()
    {
        QFETCH(QString, op);
        QFETCH(QString, shape);
        setThreadCount(2);
        Shape s;
        for (const auto &p : shape.split(','))
            s.push_back(p.toLongLong());
        Rng rng(13);
        Tensor x = randomTensor(s, rng, -4.0f, 4.0f);
        // Keep kinks (0 for the ReLU family) away from the finite-difference step.
        std::vector<double> k = kinks(op);
        k.push_back(0.0);
        for (int64_t i = 0; i < x.numel(); ++i)
            for (double at : k)
                if (std::abs(x.data()[i] - at) < 0.05)
                    x.data()[i] = static_cast<float>(at + 0.3);
        const Node n = nodeFor(op);
        const Tensor y = runNode(n, {x});
        for (int64_t i = 0; i < x.numel(); ++i) {
            const double want = reference(op, x.data()[i]);
            QVERIFY2(std::abs(want - y.data()[i]) < 2e-6 * std::max(1.0, std::abs(want)),
                     qPrintable(QStringLiteral("x=%1: want %2, got %3").arg(x.data()[i]).arg(want).arg(y.data()[i])));
        }
        NW_GRADCHECK(n, (std::vector<Tensor>{x}), (std::set<size_t>{0}));
    }

    void matchesPyTorch_data()
    {
        QTest::addColumn<QString>("op");
        QTest::addColumn<const std::vector<float> *>("want");
        QTest::newRow("gelu") << "Gelu" << &kGelu;
        QTest::newRow("gelu tanh") << "GeluTanh" << &kGeluTanh;
        QTest::newRow("mish") << "Mish" << &kMish;
        QTest::newRow("selu") << "Selu" << &kSelu;
        QTest::newRow("celu") << "Celu" << &kCelu;
        QTest::newRow("hardswish") << "HardSwish" << &kHardswish;
        QTest::newRow("softplus") << "Softplus" << &kSoftplus;
        QTest::newRow("elu") << "Elu" << &kElu;
    }
    void matchesPyTorch()
    {
        QFETCH(QString, op);
        QFETCH(const std::vector<float> *, want);
        const Tensor y = runNode(nodeFor(op), {seq({12}, 0.37, 0.1, 3.0)});
        for (int64_t i = 0; i < 12; ++i)
            QVERIFY2(std::abs(y.data()[i] - (*want)[i]) < 2e-6, qPrintable(QStringLiteral("element %1: %2 vs %3").arg(i).arg(y.data()[i]).arg((*want)[i])));
    }

    void hardSigmoidMatchesPyTorch()
    {
        // PyTorch's hardsigmoid is ONNX's HardSigmoid with alpha 1/6, beta 1/2.
        Node n{"hs", "HardSigmoid", {}, {}, {{"alpha", 1.0f / 6.0f}, {"beta", 0.5f}}};
        const Tensor y = runNode(n, {seq({12}, 0.37, 0.1, 3.0)});
        for (int64_t i = 0; i < 12; ++i)
            QVERIFY(std::abs(y.data()[i] - kHardsigmoid[i]) < 2e-6);
    }

    void float64Forward()
    {
        const Tensor x32 = seq({12}, 0.37, 0.1, 3.0);
        Tensor x(Shape{12}, DType::Float64);
        for (int64_t i = 0; i < 12; ++i)
            x.dataAs<double>()[i] = std::sin(0.37 * static_cast<double>(i) + 0.1) * 3.0;
        for (const char *op : {"Gelu", "Mish", "Selu", "Softplus", "Sigmoid", "Relu"}) {
            const Tensor y = runNode(nodeFor(op), {x});
            QCOMPARE(y.dtype(), DType::Float64);
            for (int64_t i = 0; i < 12; ++i)
                QVERIFY(std::abs(y.dataAs<double>()[i] - reference(op, x.dataAs<double>()[i])) < 1e-10);
        }
    }

    void reluOnIntegers()
    {
        const Tensor x = Tensor::fromInt64({4}, {-3, 0, 2, -1});
        const Tensor y = runNode(Node{"r", "Relu", {}, {}, {}}, {x});
        QCOMPARE(y.dtype(), DType::Int64);
        const int64_t want[] = {0, 0, 2, 0};
        for (int i = 0; i < 4; ++i)
            QCOMPARE(y.dataAs<int64_t>()[i], want[i]);
    }

    void preluMatchesPyTorchAndDifferentiates()
    {
        setThreadCount(2);
        Node n{"prelu", "PRelu", {}, {}, {}};
        const Tensor x = seq({2, 3, 4}, 0.37, 0.1, 2.0);
        const Tensor slope = Tensor::fromVector({3, 1}, {0.1f, 0.2f, 0.3f}); // per channel, broadcast over the last dim
        const Tensor y = runNode(n, {x, slope});
        for (int64_t i = 0; i < 24; ++i)
            QVERIFY(std::abs(y.data()[i] - kPrelu[i]) < 2e-6);
        // Keep x away from the kink at 0.
        Tensor xg = x.clone();
        for (int64_t i = 0; i < xg.numel(); ++i)
            if (std::abs(xg.data()[i]) < 0.05f)
                xg.data()[i] = 0.3f;
        NW_GRADCHECK(n, (std::vector<Tensor>{xg, slope}), (std::set<size_t>{0, 1}));
        NW_GRADCHECK(n, (std::vector<Tensor>{xg, Tensor::fromVector({1}, {0.25f})}), (std::set<size_t>{0, 1}));
        Rng rng(3);
        NW_GRADCHECK(n, (std::vector<Tensor>{xg, randomTensor({2, 3, 4}, rng)}), (std::set<size_t>{0, 1}));
    }

    void errorsNameTheNode()
    {
        Node gelu{"g1", "Gelu", {}, {}, {{"approximate", std::string("fast")}}};
        try {
            runNode(gelu, {Tensor::full({2}, 1.0f)});
            QFAIL("approximate=fast accepted");
        } catch (const Error &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("\"g1\"")) && QString::fromUtf8(e.what()).contains("approximate"), e.what());
        }
        Node prelu{"p1", "PRelu", {}, {}, {}};
        try {
            runNode(prelu, {Tensor::full({2, 3}, 1.0f), Tensor::full({2}, 1.0f)});
            QFAIL("a slope of shape [2] accepted for X [2,3]");
        } catch (const Error &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("\"p1\"")), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(ActivationsTest)
#include "activations_test.moc"
