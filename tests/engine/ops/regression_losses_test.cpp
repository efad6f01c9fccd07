// SPDX-License-Identifier: Apache-2.0
// MeanSquaredErrorLoss, L1Loss, HuberLoss and SigmoidBinaryCrossEntropyLoss: values and gradients
// equal PyTorch's (Debian's python3-torch, float64, the independent oracle) for every reduction,
// gradients by finite differences, targets get none, and the errors name what is wrong.
#include "engine/ops/gradcheck.h"

#include "autodiff/executor.h"
#include "core/error.h"
#include "ops/op.h"

#include <QProcess>
#include <QTest>

#include <cmath>
#include <map>

using namespace netwright;
using namespace netwright::testing;

namespace {

const char *const kOps[] = {"MeanSquaredErrorLoss", "L1Loss", "HuberLoss", "SigmoidBinaryCrossEntropyLoss"};

// Reads tab-separated cases on stdin (tag, op, reduction, delta, rows, cols, inputs, targets) and
// prints, per case, the tag, the loss values and d(Σ loss)/d inputs.
const char *const kTorchScript = R"(
import sys, torch
make = {'MeanSquaredErrorLoss': lambda r, d: torch.nn.MSELoss(reduction=r),
        'L1Loss': lambda r, d: torch.nn.L1Loss(reduction=r),
        'HuberLoss': lambda r, d: torch.nn.HuberLoss(reduction=r, delta=d),
        'SigmoidBinaryCrossEntropyLoss': lambda r, d: torch.nn.BCEWithLogitsLoss(reduction=r)}
for line in sys.stdin:
    tag, op, reduction, delta, rows, cols, x, t = line.rstrip('\n').split('\t')
    shape = (int(rows), int(cols))
    x = torch.tensor([float(v) for v in x.split()], dtype=torch.float64).reshape(shape).requires_grad_()
    t = torch.tensor([float(v) for v in t.split()], dtype=torch.float64).reshape(shape)
    loss = make[op](reduction, float(delta))(x, t)
    loss.sum().backward()
    print(tag, ' '.join(map(repr, loss.detach().reshape(-1).tolist())), ' '.join(map(repr, x.grad.reshape(-1).tolist())), sep='\t')
)";

struct LossCase {
    QString op;
    QString reduction;   // empty: the attribute is left out (mean)
    float delta = -1.0f; // < 0: the attribute is left out (1.0)
    Tensor inputs, targets;
};

struct Reference {
    std::vector<double> loss, grad;
};

Node lossNode(const LossCase &c)
{
    Node n{"loss", c.op.toStdString(), {}, {}, {}};
    if (!c.reduction.isEmpty())
        n.attributes["reduction"] = c.reduction.toStdString();
    if (c.delta > 0)
        n.attributes["delta"] = c.delta;
    return n;
}

// Fixed [4,3] inputs: predictions in [−2, 2]; regression targets 0.05 or more away from the
// prediction and from ±delta (no finite difference straddles a kink); BCE targets with exact 0s
// and 1s, and a case with logits far into saturation.
std::vector<std::pair<QString, LossCase>> makeCases()
{
    Rng rng(31);
    const Tensor predictions = randomTensor({4, 3}, rng, -2.0f, 2.0f);
    const std::vector<float> offsets{0.25f, -1.6f, 0.7f, -0.15f, 2.4f, -0.45f, 1.3f, -2.2f, 0.6f, -0.8f, 1.9f, -0.35f};
    Tensor regressionTargets({4, 3});
    for (int k = 0; k < 12; ++k)
        regressionTargets.data()[k] = predictions.data()[k] + offsets[k];
    Tensor probabilities({4, 3});
    for (int k = 0; k < 12; ++k)
        probabilities.data()[k] = k % 3 == 0 ? 0.0f : k % 3 == 1 ? 1.0f : rng.uniform();
    const Tensor logits = randomTensor({4, 3}, rng, -4.0f, 4.0f);
    const Tensor saturated = Tensor::fromVector({2, 4}, {-100, -30, -12, 0, 12, 30, 100, 100});
    const Tensor saturatedTargets = Tensor::fromVector({2, 4}, {0, 1, 0.5f, 1, 0, 1, 0, 1});

    std::vector<std::pair<QString, LossCase>> cases;
    for (const char *op : kOps) {
        const bool bce = QString(op) == "SigmoidBinaryCrossEntropyLoss";
        for (const char *reduction : {"mean", "sum", "none"})
            cases.push_back({QStringLiteral("%1 %2").arg(op, reduction),
                             {op, reduction, -1.0f, bce ? logits : predictions, bce ? probabilities : regressionTargets}});
        cases.push_back({QStringLiteral("%1 default reduction").arg(op),
                         {op, QString(), -1.0f, bce ? logits : predictions, bce ? probabilities : regressionTargets}});
    }
    cases.push_back({"HuberLoss delta 0.5 mean", {"HuberLoss", "mean", 0.5f, predictions, regressionTargets}});
    cases.push_back({"HuberLoss delta 2 none", {"HuberLoss", "none", 2.0f, predictions, regressionTargets}});
    for (const char *reduction : {"mean", "none"})
        cases.push_back({QStringLiteral("SigmoidBinaryCrossEntropyLoss saturated %1").arg(reduction),
                         {"SigmoidBinaryCrossEntropyLoss", reduction, -1.0f, saturated, saturatedTargets}});
    return cases;
}

QString joined(const Tensor &t)
{
    QStringList values;
    for (int64_t k = 0; k < t.numel(); ++k)
        values << QString::number(double(t.data()[k]), 'g', 9); // 9 digits: the float32 exactly
    return values.join(' ');
}

std::vector<double> parsed(const QString &text)
{
    std::vector<double> values;
    for (const QString &v : text.split(' ', Qt::SkipEmptyParts))
        values.push_back(v.toDouble());
    return values;
}

bool close(double engine, double torch)
{
    return std::abs(engine - torch) <= 1e-5 * std::abs(torch) + 1e-12;
}

// d(Σ loss)/d inputs from Executor::backward (the loss summed through Flatten + Gemm with ones
// when the reduction keeps every element).
Tensor engineGradient(const LossCase &c)
{
    Graph g;
    g.addParameter("x", c.inputs.clone());
    g.addParameter("t", c.targets.clone(), false);
    g.addNode(c.op.toStdString(), "loss", {"x", "t"}, {"l"}, lossNode(c).attributes);
    std::string total = "l";
    if (c.reduction == "none") {
        g.addParameter("ones", Tensor::full({c.inputs.numel(), 1}, 1.0f), false);
        g.addNode("Flatten", "flat", {"l"}, {"lflat"}, {{"axis", int64_t(0)}});
        g.addNode("Gemm", "sum", {"lflat", "ones"}, {"total"});
        total = "total";
    }
    Executor e(g);
    e.forward({}, false);
    e.backward(total);
    return e.gradient("x").clone();
}

QString errorOf(const Node &n, const std::vector<Tensor> &inputs)
{
    try {
        runNode(n, inputs);
    } catch (const Error &e) {
        return QString::fromUtf8(e.what());
    }
    return {};
}

} // namespace

class RegressionLossesTest : public QObject {
    Q_OBJECT
    std::map<QString, LossCase> m_cases;
    std::map<QString, Reference> m_torch;

private slots:
    void initTestCase()
    {
        QString input;
        for (const auto &[tag, c] : makeCases()) {
            m_cases[tag] = c;
            input += QStringList{tag, c.op, c.reduction.isEmpty() ? "mean" : c.reduction, QString::number(c.delta > 0 ? c.delta : 1.0f),
                                 QString::number(c.inputs.dim(0)), QString::number(c.inputs.dim(1)), joined(c.inputs), joined(c.targets)}
                         .join('\t')
                     + '\n';
        }
        QProcess py;
        py.start("/usr/bin/python3", {"-c", kTorchScript});
        QVERIFY(py.waitForStarted(30000));
        py.write(input.toUtf8());
        py.closeWriteChannel();
        QVERIFY(py.waitForFinished(120000));
        QVERIFY2(py.exitStatus() == QProcess::NormalExit && py.exitCode() == 0,
                 qPrintable("PyTorch (Debian's python3-torch) failed: " + QString::fromUtf8(py.readAllStandardError())));
        for (const QString &line : QString::fromUtf8(py.readAllStandardOutput()).split('\n', Qt::SkipEmptyParts)) {
            const QStringList fields = line.split('\t');
            QCOMPARE(fields.size(), 3);
            m_torch[fields[0]] = {parsed(fields[1]), parsed(fields[2])};
        }
        QCOMPARE(m_torch.size(), m_cases.size());
    }

    void matchesPyTorch_data()
    {
        QTest::addColumn<QString>("tag");
        for (const auto &[tag, c] : makeCases())
            QTest::newRow(qPrintable(tag)) << tag;
    }
    void matchesPyTorch()
    {
        QFETCH(QString, tag);
        const LossCase &c = m_cases.at(tag);
        const Reference &torch = m_torch.at(tag);
        const Node n = lossNode(c);

        const Tensor y = runNode(n, {c.inputs, c.targets});
        QCOMPARE(y.shape(), c.reduction == "none" ? c.inputs.shape() : Shape{});
        QCOMPARE(static_cast<size_t>(y.numel()), torch.loss.size());
        for (int64_t k = 0; k < y.numel(); ++k)
            QVERIFY2(close(y.data()[k], torch.loss[k]),
                     qPrintable(QStringLiteral("loss[%1]: engine %2, PyTorch %3").arg(k).arg(y.data()[k], 0, 'g', 9).arg(torch.loss[k], 0, 'g', 12)));

        const Tensor grad = engineGradient(c);
        QCOMPARE(static_cast<size_t>(grad.numel()), torch.grad.size());
        for (int64_t k = 0; k < grad.numel(); ++k)
            QVERIFY2(close(grad.data()[k], torch.grad[k]),
                     qPrintable(QStringLiteral("grad[%1]: engine %2, PyTorch %3").arg(k).arg(grad.data()[k], 0, 'g', 9).arg(torch.grad[k], 0, 'g', 12)));

        NW_GRADCHECK(n, (std::vector<Tensor>{c.inputs, c.targets}), (std::set<size_t>{0}));
    }

    void targetsGetNoGradient_data()
    {
        QTest::addColumn<QString>("op");
        for (const char *op : kOps)
            QTest::newRow(op) << op;
    }
    void targetsGetNoGradient()
    {
        QFETCH(QString, op);
        const Node n{"loss", op.toStdString(), {}, {}, {}};
        const OpKernel &kernel = kernelFor(n.opType, DeviceType::Cpu, n);
        QVERIFY(kernel.differentiable(0));
        QVERIFY(!kernel.differentiable(1));
        // Even trainable targets get no gradient through the loss.
        Graph g;
        g.addParameter("x", Tensor::fromVector({1, 2}, {0.5f, -1.0f}));
        g.addParameter("t", Tensor::fromVector({1, 2}, {1.0f, 0.0f}));
        g.addNode(n.opType, "loss", {"x", "t"}, {"l"});
        Executor e(g);
        e.forward({}, false);
        e.backward("l");
        QCOMPARE(e.gradient("x").numel(), int64_t(2));
        QVERIFY_THROWS_EXCEPTION(Error, e.gradient("t"));
    }

    void shapeMismatch_data()
    {
        QTest::addColumn<QString>("op");
        QTest::addColumn<Shape>("targets");
        for (const char *op : kOps) {
            QTest::newRow(qPrintable(QStringLiteral("%1 [3,2]").arg(op))) << op << Shape{3, 2};
            QTest::newRow(qPrintable(QStringLiteral("%1 [6]").arg(op))) << op << Shape{6};
        }
    }
    void shapeMismatch()
    {
        QFETCH(QString, op);
        QFETCH(Shape, targets);
        const Node n{"loss", op.toStdString(), {}, {}, {}};
        const QString message = errorOf(n, {Tensor::full({2, 3}, 0.5f), Tensor::full(targets, 0.5f)});
        QVERIFY2(message.startsWith(QString::fromStdString(n.describe())), qPrintable(message));
        QVERIFY2(message.contains("[2,3]") && message.contains(QString::fromStdString(shapeToString(targets))), qPrintable(message));
    }

    void targetOutsideUnitInterval_data()
    {
        QTest::addColumn<float>("value");
        QTest::addColumn<int>("row");
        QTest::addColumn<int>("column");
        QTest::newRow("1.5 at row 1, column 2") << 1.5f << 1 << 2;
        QTest::newRow("-0.25 at row 0, column 0") << -0.25f << 0 << 0;
        QTest::newRow("NaN at row 2, column 1") << std::nanf("") << 2 << 1;
    }
    void targetOutsideUnitInterval()
    {
        QFETCH(float, value);
        QFETCH(int, row);
        QFETCH(int, column);
        Tensor targets = Tensor::full({3, 3}, 1.0f);
        targets.data()[row * 3 + column] = value;
        const Node n{"loss", "SigmoidBinaryCrossEntropyLoss", {}, {}, {}};
        const QString message = errorOf(n, {Tensor::zeros({3, 3}), targets});
        QVERIFY2(message.startsWith(QString::fromStdString(n.describe())), qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("row %1, column %2").arg(row).arg(column)), qPrintable(message));
        // The regression losses take any target.
        const Node mse{"loss", "MeanSquaredErrorLoss", {}, {}, {}};
        QVERIFY(errorOf(mse, {Tensor::zeros({3, 3}), targets}).isEmpty());
    }

    void badAttributes()
    {
        const std::vector<Tensor> inputs{Tensor::full({2, 2}, 0.5f), Tensor::full({2, 2}, 0.0f)};
        QVERIFY(errorOf({"loss", "HuberLoss", {}, {}, {{"delta", 0.0f}}}, inputs).contains("delta"));
        QVERIFY(errorOf({"loss", "L1Loss", {}, {}, {{"reduction", std::string("average")}}}, inputs).contains("average"));
    }
};

QTEST_GUILESS_MAIN(RegressionLossesTest)
#include "regression_losses_test.moc"
