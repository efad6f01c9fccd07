// SPDX-License-Identifier: Apache-2.0
// The executor's autodiff plumbing: gradients summed over several consumers (also the same value
// twice in one node), gradients handed on without a copy only where nothing writes them after,
// GELU written out as five nodes run as one, no gradient for data inputs, a whole zoo model checked against finite
// differences, validation errors that name the node, and fused Conv → Relu → MaxPool blocks that
// compute what the nodes do one by one.
#include "autodiff/executor.h"
#include "core/blas.h"
#include "core/cpu_level.h"
#include "core/error.h"
#include "core/parallel.h"
#include "engine/ops/gradcheck.h"
#include "engine/ops/op_test_util.h"
#include "ops/conv_block.h"
#include "zoo/model_zoo.h"

#include <QTest>

#include <optional>

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

    void identityDropoutWithAnUnreadMaskIsAliased()
    {
        // PyTorch exports nn.Dropout(0.0) as Dropout(x, ratio 0, training True) → (y, mask), the
        // mask read by nothing: y is x's storage, not a copy, and the gradient passes through.
        // With the mask a graph output it is written (all ones) and y is a copy.
        for (const bool maskIsOutput : {false, true}) {
            Graph g;
            Rng rng(6);
            const Tensor x = randomTensor({3, 5}, rng), w = randomTensor({3, 5}, rng);
            g.addParameter("x", x);
            g.addParameter("w", w, false);
            g.addParameter("ratio", Tensor::full({}, 0.0f), false);
            Tensor trainingMode({}, DType::Bool);
            trainingMode.dataAs<uint8_t>()[0] = 1;
            g.addParameter("training_mode", trainingMode, false);
            g.addNode("Mul", "scale", {"x", "w"}, {"xs"});
            g.addNode("Dropout", "drop", {"xs", "ratio", "training_mode"}, {"y", "mask"});
            g.addNode("ReduceSum", "sum", {"y"}, {"loss"}, {{"keepdims", int64_t(0)}});
            if (maskIsOutput)
                g.outputs.push_back(ValueInfo{"mask", {3, 5}, DType::Bool});
            Executor e(g);
            Rng stream(2);
            e.setDropoutRng(&stream);
            for (int pass = 0; pass < 2; ++pass) {
                e.forward({}, true);
                e.backward("loss");
                QCOMPARE(e.value("y").data() == e.value("xs").data(), !maskIsOutput);
                QCOMPARE(e.value("mask").defined(), maskIsOutput);
                if (maskIsOutput)
                    for (int64_t i = 0; i < 15; ++i)
                        QCOMPARE(int(e.value("mask").dataAs<uint8_t>()[i]), 1);
                for (int64_t i = 0; i < 15; ++i) {
                    QCOMPARE(e.value("y").data()[i], x.data()[i] * w.data()[i]);
                    QCOMPARE(e.gradient("x").data()[i], w.data()[i]);
                }
            }
        }
    }

    void slicesAddTheirWindowsIntoOneGradient()
    {
        // x [2, 12] is read by a Mul, by four Slices along axis 1 — [0:4], [4:8], [8:12] (an
        // attention in-projection's q, k, v) and [2:7], overlapping two of them — and by another
        // Mul; loss = Σ of every reader's output times its own weights. The gradient reaching x
        // is the sum of each reader's, whichever order they write it in: the slices run backward
        // before and after the Muls have theirs, each adding its window. Twice, the same values.
        Graph g;
        Rng rng(7);
        const Tensor x = randomTensor({2, 12}, rng), before = randomTensor({2, 12}, rng), after = randomTensor({2, 12}, rng);
        g.addParameter("x", x);
        g.addParameter("before", before, false);
        g.addParameter("after", after, false);
        g.addNode("Mul", "mul_before", {"x", "before"}, {"mb"});
        g.addNode("ReduceSum", "sum_before", {"mb"}, {"lb"}, {{"keepdims", int64_t(0)}});
        const std::vector<std::pair<int64_t, int64_t>> windows{{0, 4}, {4, 8}, {8, 12}, {2, 7}};
        std::vector<Tensor> weights;
        std::string total = "lb";
        for (size_t i = 0; i < windows.size(); ++i) {
            const std::string k = std::to_string(i);
            g.addParameter("starts" + k, ints({windows[i].first}), false);
            g.addParameter("ends" + k, ints({windows[i].second}), false);
            g.addParameter("axes" + k, ints({1}), false);
            weights.push_back(randomTensor({2, windows[i].second - windows[i].first}, rng));
            g.addParameter("w" + k, weights.back(), false);
            g.addNode("Slice", "slice" + k, {"x", "starts" + k, "ends" + k, "axes" + k}, {"s" + k});
            g.addNode("Mul", "mul" + k, {"s" + k, "w" + k}, {"m" + k});
            g.addNode("ReduceSum", "sum" + k, {"m" + k}, {"l" + k}, {{"keepdims", int64_t(0)}});
            g.addNode("Add", "total" + k, {total, "l" + k}, {"t" + k});
            total = "t" + k;
        }
        g.addNode("Mul", "mul_after", {"x", "after"}, {"ma"});
        g.addNode("ReduceSum", "sum_after", {"ma"}, {"la"}, {{"keepdims", int64_t(0)}});
        g.addNode("Add", "loss", {total, "la"}, {"loss"});
        Executor e(g);
        for (int pass = 0; pass < 2; ++pass) {
            e.forward({}, true);
            e.backward("loss");
            const Tensor &dx = e.gradient("x");
            for (int64_t r = 0; r < 2; ++r)
                for (int64_t c = 0; c < 12; ++c) {
                    double want = double(before.data()[r * 12 + c]) + after.data()[r * 12 + c];
                    for (size_t i = 0; i < windows.size(); ++i)
                        if (c >= windows[i].first && c < windows[i].second) {
                            const int64_t w = windows[i].second - windows[i].first;
                            want += weights[i].data()[r * w + (c - windows[i].first)];
                        }
                    QVERIFY2(std::abs(dx.data()[r * 12 + c] - want) < 1e-5,
                             qPrintable(QStringLiteral("pass %1, dx[%2,%3] = %4, want %5").arg(pass).arg(r).arg(c).arg(dx.data()[r * 12 + c]).arg(want)));
                }
        }
    }

    void sharedGradientsOnlyWhereNothingWritesThemAfter()
    {
        // s = a + b → t = reshape(s) → d = dropout(t, ratio 0) → p = d·c + d → loss = p·r.
        // The Dropout's output is its input's storage; t, s take d's gradient and m takes p's
        // without a copy (one storage); d, read twice,
        // sums its own; the parameters a and b each get their own buffer. Twice, the same values.
        Graph g;
        Rng rng(5);
        const Tensor a = randomTensor({2, 3}, rng), b = randomTensor({2, 3}, rng), c = randomTensor({6}, rng);
        const Tensor r = randomTensor({6, 1}, rng);
        g.addParameter("a", a);
        g.addParameter("b", b);
        g.addParameter("c", c, false);
        g.addParameter("r", r, false);
        Tensor shape({1}, DType::Int64);
        shape.dataAs<int64_t>()[0] = 6;
        g.addParameter("shape", shape, false);
        g.addNode("Add", "add", {"a", "b"}, {"s"});
        g.addNode("Reshape", "reshape", {"s", "shape"}, {"t"});
        g.addNode("Dropout", "drop", {"t"}, {"d"}, {{"ratio", 0.0f}});
        g.addNode("Mul", "mul", {"d", "c"}, {"m"});
        g.addNode("Add", "add2", {"m", "d"}, {"p"});
        g.addNode("Flatten", "flat", {"p"}, {"pf"}, {{"axis", int64_t(0)}});
        g.addNode("Gemm", "dot", {"pf", "r"}, {"loss"});
        Executor e(g);
        Rng dropoutStream(9);
        e.setDropoutRng(&dropoutStream);
        for (int pass = 0; pass < 2; ++pass) {
            e.forward({}, true);
            e.backward("loss");
            for (const char *name : {"a", "b", "s", "t", "d"})
                for (int i = 0; i < 6; ++i) {
                    const float want = r.data()[i] * (c.data()[i] + 1.0f);
                    QVERIFY2(std::abs(e.gradient(name).data()[i] - want) < 1e-6, qPrintable(QStringLiteral("%1[%2]").arg(name).arg(i)));
                }
            for (int i = 0; i < 6; ++i)
                QCOMPARE(e.gradient("m").data()[i], r.data()[i]);
            QCOMPARE(e.gradient("s").shape(), (Shape{2, 3}));
            QVERIFY(e.gradient("s").data() == e.gradient("d").data() && e.gradient("t").data() == e.gradient("d").data());
            QVERIFY(e.gradient("m").data() == e.gradient("p").data());
            QVERIFY(e.value("d").data() == e.value("t").data()); // the identity Dropout aliased, not copied
            QVERIFY(e.gradient("d").data() != e.gradient("p").data());
            QVERIFY(e.gradient("a").data() != e.gradient("b").data() && e.gradient("a").data() != e.gradient("s").data());
        }
    }

    void exportedGeluRunsAsOneNode_data()
    {
        QTest::addColumn<int>("form");
        QTest::newRow("(x*(1+erf(x/sqrt2)))*0.5, PyTorch's export") << 0;
        QTest::newRow("((1+erf(x*(1/sqrt2)))*0.5)*x") << 1;
        QTest::newRow("(0.5*x)*(1+erf(x/sqrt2))") << 2;
        QTest::newRow("erf also read elsewhere: not fused") << 3;
    }
    void exportedGeluRunsAsOneNode()
    {
        // GELU written out as five nodes runs as one Gelu node: its value and gradient are the
        // formula's, its intermediate values are not kept. A chain whose inner value has another
        // reader runs node by node, with the same results.
        QFETCH(int, form);
        Graph g;
        Rng rng(7);
        const Tensor x = randomTensor({3, 5}, rng, -3.0f, 3.0f), r = randomTensor({15, 1}, rng);
        g.addParameter("x", x);
        g.addParameter("r", r, false);
        auto scalar = [&g](const char *name, float v) { g.addParameter(name, Tensor::full({}, v), false); };
        scalar("sqrt2", 1.41421356f);
        scalar("inv_sqrt2", 0.70710678f);
        scalar("one", 1.0f);
        scalar("half", 0.5f);
        if (form == 1)
            g.addNode("Mul", "scale", {"x", "inv_sqrt2"}, {"xs"});
        else
            g.addNode("Div", "scale", {"x", "sqrt2"}, {"xs"});
        g.addNode("Erf", "erf", {"xs"}, {"e"});
        g.addNode("Add", "plus1", {"one", "e"}, {"e1"});
        std::string y = "y";
        if (form == 0 || form == 3) {
            g.addNode("Mul", "m1", {"x", "e1"}, {"m"});
            g.addNode("Mul", "m2", {"m", "half"}, {"y"});
        } else if (form == 1) {
            g.addNode("Mul", "m1", {"e1", "half"}, {"m"});
            g.addNode("Mul", "m2", {"m", "x"}, {"y"});
        } else {
            g.addNode("Mul", "halfx", {"half", "x"}, {"hx"});
            g.addNode("Mul", "m1", {"hx", "e1"}, {"y"});
        }
        if (form == 3) { // y2 = y + e: the Erf's output has a second reader
            g.addNode("Add", "extra", {"y", "e"}, {"y2"});
            y = "y2";
        }
        g.addNode("Flatten", "flat", {y}, {"yf"}, {{"axis", int64_t(0)}});
        g.addNode("Gemm", "dot", {"yf", "r"}, {"loss"});
        Executor e(g);
        e.forward({}, true);
        e.backward("loss");
        QCOMPARE(e.value("e").defined(), form == 3);
        for (int i = 0; i < 15; ++i) {
            const double v = x.data()[i], cdf = 0.5 * (1 + std::erf(v / std::sqrt(2.0)));
            const double pdf = std::exp(-0.5 * v * v) / std::sqrt(2 * M_PI);
            const double want = v * cdf + (form == 3 ? std::erf(v / std::sqrt(2.0)) : 0.0);
            const double dwant = r.data()[i] * (cdf + v * pdf + (form == 3 ? 2 * pdf : 0.0));
            QVERIFY2(std::abs(e.value(y).data()[i] - want) < 1e-5, qPrintable(QStringLiteral("y[%1]").arg(i)));
            QVERIFY2(std::abs(e.gradient("x").data()[i] - dwant) < 1e-5, qPrintable(QStringLiteral("dx[%1]").arg(i)));
        }
    }

    void attentionTransposesRunInsideTheProduct_data()
    {
        QTest::addColumn<int>("form");
        QTest::newRow("PyTorch's attention: q/c, kᵀ, v, merge") << 0;
        QTest::newRow("c*q, kᵀ by (0,2,1), no merge") << 1;
        QTest::newRow("A's batch 1 at run time, 2 ahead: unfused inside") << 2;
        QTest::newRow("q by perm (2,0,1): not folded") << 3;
        QTest::newRow("transposed q read twice: not folded") << 4;
        QTest::newRow("q by perm (1,2,0): A read column-wise") << 5;
        QTest::newRow("PyTorch's attention, 70 positions: oneDNN's strided batch") << 6;
        QTest::newRow("B a 2-D weight: not folded") << 7;
        QTest::newRow("q by perm (1,2,0), kᵀ stored as it is read") << 8;
    }
    void attentionTransposesRunInsideTheProduct()
    {
        // The head split and merge around attention's products run inside the product (strided
        // operands, a folded constant scale): the output and every gradient are those of the
        // nodes run one by one (an executor built with NETWRIGHT_FUSION=0), and the transposed
        // values are not kept. Forms the product cannot read through strides keep their nodes.
        QFETCH(int, form);
        const int64_t S = form == 6 ? 70 : 5, BH = form == 6 ? 3 : form == 2 ? 2 : 6, D = form == 6 ? 8 : 3;
        std::string out = "o";
        // Built twice, the same values: an executor sorts its graph's nodes and points at them.
        auto build = [&](Graph &g) {
            Rng rng(11);
            g.addParameter("q0", randomTensor(form == 5 || form == 8 ? Shape{D, BH, S} : Shape{S, form == 2 ? 1 : BH, D}, rng));
            g.addParameter("k0", randomTensor(form == 1 ? Shape{BH, S, D} : form == 8 ? Shape{BH, D, S} : Shape{S, BH, D}, rng));
            g.addParameter("v0", randomTensor({S, BH, D}, rng));
            g.addParameter("c", Tensor::full({}, form == 1 ? 0.7f : 1.7f), false);
            if (form == 3) {
                g.addParameter("q3", randomTensor({S, D, BH}, rng));
                g.addNode("Transpose", "tq", {"q3"}, {"qt"}, {{"perm", std::vector<int64_t>{2, 0, 1}}});
            } else if (form == 2) { // q0·ones: batch 2 when the executor probes the shapes, 1 when run
                g.inputs.push_back({"ones", {S, -1, D}, DType::Float32});
                g.addNode("Mul", "spread", {"q0", "ones"}, {"qb"});
                g.addNode("Transpose", "tq", {"qb"}, {"qt"}, {{"perm", std::vector<int64_t>{1, 0, 2}}});
            } else {
                g.addNode("Transpose", "tq", {"q0"}, {"qt"}, {{"perm", form == 5 || form == 8 ? std::vector<int64_t>{1, 2, 0} : std::vector<int64_t>{1, 0, 2}}});
            }
            if (form == 1)
                g.addNode("Mul", "scale", {"c", "qt"}, {"qs"});
            else
                g.addNode("Div", "scale", {"qt", "c"}, {"qs"});
            if (form == 1)
                g.addNode("Transpose", "tk", {"k0"}, {"kt"}, {{"perm", std::vector<int64_t>{0, 2, 1}}});
            else if (form == 7)
                g.addParameter("kt", randomTensor({D, S}, rng));
            else if (form == 8)
                g.addNode("Identity", "tk", {"k0"}, {"kt"});
            else
                g.addNode("Transpose", "tk", {"k0"}, {"kt"}, {{"perm", std::vector<int64_t>{1, 2, 0}}});
            g.addNode("MatMul", "scores", {"qs", "kt"}, {"p"});
            g.addNode("Softmax", "softmax", {"p"}, {"a"}, {{"axis", int64_t(-1)}});
            g.addNode("Transpose", "tv", {"v0"}, {"vt"}, {{"perm", std::vector<int64_t>{1, 0, 2}}});
            g.addNode("MatMul", "mix", {"a", "vt"}, {"o"});
            if (form != 1) {
                g.addNode("Transpose", "merge", {"o"}, {"om"}, {{"perm", std::vector<int64_t>{1, 0, 2}}});
                out = "om";
            }
            if (form == 4) {
                g.addNode("Add", "again", {"qt", "qt"}, {"q2"});
                g.addNode("ReduceSum", "sum", {"q2"}, {"qsum"}, {{"keepdims", int64_t(0)}});
                g.addNode("Flatten", "flat0", {out}, {"of0"}, {{"axis", int64_t(0)}});
                g.addNode("Mul", "mulq", {"of0", "qsum"}, {"of"});
            } else {
                g.addNode("Flatten", "flat", {out}, {"of"}, {{"axis", int64_t(0)}});
            }
            g.addParameter("r", randomTensor({S * BH * D, 1}, rng), false);
            g.addNode("Gemm", "dot", {"of", "r"}, {"loss"});
        };
        Graph g, g2;
        build(g);
        build(g2);

        const char *fusionWas = std::getenv("NETWRIGHT_FUSION");
        const std::string keep = fusionWas ? fusionWas : "";
        ::setenv("NETWRIGHT_FUSION", "0", 1);
        Executor plain(g2);
        ::unsetenv("NETWRIGHT_FUSION");
        Executor e(g);
        if (fusionWas)
            ::setenv("NETWRIGHT_FUSION", keep.c_str(), 1);
        const int64_t fallbacksBefore = transposedMatMulFallbacks();
        const std::map<std::string, Tensor> feeds{{"ones", Tensor::full({S, 1, D}, 1.0f)}};
        for (Executor *x : {&plain, &e}) {
            x->forward(form == 2 ? feeds : std::map<std::string, Tensor>{}, true);
            x->backward("loss");
        }
        // The strided product ran, except where A's batch differs from B's at run time.
        QCOMPARE(transposedMatMulFallbacks() - fallbacksBefore, form == 2 ? int64_t(1) : int64_t(0));
        QCOMPARE(e.value("qt").defined(), form == 3 || form == 4 || form == 7);
        QCOMPARE(e.value("qs").defined(), form == 7); // the scale, folded into the product wherever it fused
        QCOMPARE(e.value("kt").defined(), form == 7 || form == 8);
        QVERIFY(!e.value("vt").defined());
        QCOMPARE(e.value("o").defined(), form == 1);
        QVERIFY(plain.value("qt").defined() && plain.value("kt").defined() && plain.value("o").defined());
        QCOMPARE(e.value(out).shape(), plain.value(out).shape());
        auto near = [](const Tensor &a, const Tensor &b, const char *what) {
            QCOMPARE(a.shape(), b.shape());
            for (int64_t i = 0; i < a.numel(); ++i)
                QVERIFY2(std::abs(a.data()[i] - b.data()[i]) <= 1e-5f * (1.0f + std::abs(b.data()[i])),
                         qPrintable(QStringLiteral("%1[%2]: %3 against %4").arg(what).arg(i).arg(a.data()[i]).arg(b.data()[i])));
        };
        near(e.value(out), plain.value(out), "output");
        near(e.value("loss"), plain.value("loss"), "loss");
        for (const char *p : {form == 7 ? "kt" : "k0", "v0"})
            near(e.gradient(p), plain.gradient(p), p);
        near(e.gradient(form == 3 ? "q3" : "q0"), plain.gradient(form == 3 ? "q3" : "q0"), "q");
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

    // Two Conv → Relu → MaxPool chains (odd sizes: the pooling drops a row and a column; 20
    // channels: oneDNN's blocked layout pads them to 32; the second conv without a bias) trained
    // fused and node by node: the same loss and the same gradients for every parameter in fp32;
    // in bf16, where the CPU has it, the same loss and gradients pointing the same way. A chain
    // whose ReLU output feeds a second node is not fused.
    void fusedConvBlocksComputeWhatTheNodesDo_data()
    {
        QTest::addColumn<QString>("precision");
        QTest::addColumn<int>("threads");
        QTest::newRow("fp32, 1 thread") << "fp32" << 1;
        QTest::newRow("fp32, 2 threads") << "fp32" << 2;
        if (cpu::hasBf16()) // a CPU level without bf16 refuses the precision (train_bf16_cli_test)
            QTest::newRow("bf16, 2 threads") << "bf16" << 2;
        else
            qInfo("bf16 is not compared: this CPU level has no bf16 instructions");
    }
    void fusedConvBlocksComputeWhatTheNodesDo()
    {
        QFETCH(QString, precision);
        QFETCH(int, threads);
        const bool bf16 = precision == "bf16";
        setThreadCount(threads);
        Rng rng(11);
        Graph g;
        g.inputs.push_back({"x", {-1, 3, 13, 14}, DType::Float32});
        g.inputs.push_back({"labels", {-1}, DType::Int64});
        g.addParameter("w1", randomTensor({20, 3, 3, 3}, rng, -0.4f, 0.4f));
        g.addParameter("b1", randomTensor({20}, rng, -0.1f, 0.1f));
        g.addParameter("w2", randomTensor({16, 20, 3, 3}, rng, -0.2f, 0.2f));
        g.addParameter("w3", randomTensor({16, 16, 1, 1}, rng, -0.3f, 0.3f));
        g.addParameter("fc", randomTensor({5, 16 * 3 * 3}, rng, -0.1f, 0.1f));
        const std::map<std::string, Attribute> pool{{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}};
        g.addNode("Conv", "conv1", {"x", "w1", "b1"}, {"c1"}, {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
        g.addNode("Relu", "relu1", {"c1"}, {"r1"});
        g.addNode("MaxPool", "pool1", {"r1"}, {"p1"}, pool); // 13×14 → 6×7
        g.addNode("Conv", "conv2", {"p1", "w2"}, {"c2"}, {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
        g.addNode("Relu", "relu2", {"c2"}, {"r2"});
        g.addNode("MaxPool", "pool2", {"r2"}, {"p2"}, pool); // 6×7 → 3×3
        g.addNode("Conv", "conv3", {"p2", "w3"}, {"c3"}); // its ReLU also feeds the Add: not fused
        g.addNode("Relu", "relu3", {"c3"}, {"r3"});
        g.addNode("MaxPool", "pool3", {"r3"}, {"p3"}, {{"kernel_shape", std::vector<int64_t>{1, 1}}, {"strides", std::vector<int64_t>{1, 1}}});
        g.addNode("Add", "skip", {"p3", "r3"}, {"s3"});
        g.addNode("Flatten", "flat", {"s3"}, {"f"});
        g.addNode("Gemm", "fc", {"f", "fc"}, {"logits"}, {{"transB", int64_t(1)}});
        g.addNode("SoftmaxCrossEntropyLoss", "loss", {"logits", "labels"}, {"loss"});
        g.outputs.push_back({"loss", {}, DType::Float32});
        const Tensor x = randomTensor({6, 3, 13, 14}, rng);
        const Tensor labels = Tensor::fromInt64({6}, {0, 4, 2, 1, 3, 4});
        Graph h = g; // the same parameters, run node by node
        Executor fused(g), plain(h);
        plain.setFusion(false);
        auto step = [&](Executor &e) {
            std::optional<blas::PrecisionScope> scope;
            if (bf16)
                scope.emplace(blas::Precision::Bf16);
            e.forward({{"x", x}, {"labels", labels}}, true);
            e.backward("loss");
        };
        const int64_t lanePoolingsBefore = ConvReluPoolBlock::lanePoolings();
        for (int k = 0; k < 2; ++k) { // the second step reuses every plan and buffer
            step(fused);
            step(plain);
            QVERIFY2(!fused.value("c1").defined() && !fused.value("r2").defined(), "the chains did not run fused");
            QCOMPARE(fused.fusedLastForward(), 2);
            QCOMPARE(fused.linkedLastForward(), 1); // pool1's output stays in oneDNN's layout for conv2
            QVERIFY(!fused.value("p1").defined());
            QVERIFY2(fused.value("r3").defined() && plain.value("c1").defined(), "a chain ran fused where it must not");
            const double lf = fused.value("loss").data()[0], lp = plain.value("loss").data()[0];
            QVERIFY2(std::abs(lf - lp) <= 1e-5 * std::abs(lp), qPrintable(QStringLiteral("loss %1 against %2").arg(lf).arg(lp)));
            for (const char *p : {"w1", "b1", "w2", "w3", "fc"}) {
                const Tensor &a = fused.gradient(p), &b = plain.gradient(p);
                double scale = 0, dot = 0, aa = 0, bb = 0;
                for (int64_t i = 0; i < b.numel(); ++i) {
                    const double u = a.data()[i], v = b.data()[i];
                    scale = std::max(scale, std::abs(v));
                    dot += u * v;
                    aa += u * u;
                    bb += v * v;
                }
                // bf16: the block pools the convolution's bf16 output (as PyTorch's autocast does),
                // where two cells of a window can round to one value and the first wins; the
                // gradient then flows through another cell. Measured: cosine 0.9989 (w1) to 1.
                const double cosine = dot / std::sqrt(aa * bb);
                QVERIFY2(scale > 0 && (bf16 ? cosine >= 0.995 : maxAbsDiff(a, b) <= 1e-5 * scale),
                         qPrintable(QStringLiteral("%1: max |fused - plain| %2, max |plain| %3, cosine %4")
                                        .arg(p).arg(maxAbsDiff(a, b)).arg(scale).arg(cosine, 0, 'f', 6)));
            }
        }
        // With AVX-512 oneDNN blocks the 20 (padded to 32) channels by sixteen, and both blocks pool
        // with the sixteen-lane loops (ops/pool_isa.h); below it, with oneDNN's pooling. With AMX
        // oneDNN's bf16 convolutions may lay their output out otherwise: either pooling is right there.
        const int64_t lanePoolings = ConvReluPoolBlock::lanePoolings() - lanePoolingsBefore;
        if (cpu::activeLevel() < cpu::Level::Avx512)
            QCOMPARE(lanePoolings, int64_t(0));
        else if (!bf16 || cpu::activeLevel() < cpu::Level::Amx)
            QCOMPARE(lanePoolings, int64_t(4));
        // Evaluation runs node by node: every value is there.
        fused.forward({{"x", x}, {"labels", labels}}, false);
        QVERIFY(fused.value("c1").defined());
        QCOMPARE(fused.fusedLastForward(), 0);
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
