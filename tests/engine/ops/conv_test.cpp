// SPDX-License-Identifier: Apache-2.0
// Conv: forward against a direct 7-loop reference, gradients by finite differences, for
// padding, strides, dilations, groups, 1×1, auto_pad and a missing bias.
#include "engine/ops/gradcheck.h"

#include "core/error.h"
#include "core/parallel.h"

#include <QElapsedTimer>
#include <QTest>
#include "ops/op.h"

using namespace netwright;
using namespace netwright::testing;

namespace {

struct ConvCase {
    const char *name;
    Shape x, w;
    std::vector<int64_t> strides, pads, dilations;
    int64_t group;
    bool bias;
    std::string autoPad = "NOTSET";
};

Node convNode(const ConvCase &c)
{
    Node n{"conv", "Conv", {}, {}, {}};
    n.attributes["strides"] = c.strides;
    n.attributes["dilations"] = c.dilations;
    n.attributes["group"] = c.group;
    if (c.autoPad == "NOTSET")
        n.attributes["pads"] = c.pads;
    else
        n.attributes["auto_pad"] = c.autoPad;
    return n;
}

// Direct definition: y[n,m,oy,ox] = b[m] + Σ_c,i,j x[n, g·Cg + c, oy·s − p + i·d, …] · w[m,c,i,j].
Tensor reference(const ConvCase &c, const Tensor &x, const Tensor &w, const Tensor &b, int64_t pt, int64_t pl, int64_t oh, int64_t ow)
{
    const int64_t N = c.x[0], C = c.x[1], H = c.x[2], W = c.x[3], M = c.w[0], kh = c.w[2], kw = c.w[3];
    const int64_t Cg = C / c.group, Mg = M / c.group;
    Tensor y({N, M, oh, ow});
    for (int64_t n = 0; n < N; ++n)
        for (int64_t m = 0; m < M; ++m)
            for (int64_t oy = 0; oy < oh; ++oy)
                for (int64_t ox = 0; ox < ow; ++ox) {
                    double s = c.bias ? b.data()[m] : 0.0;
                    const int64_t g = m / Mg;
                    for (int64_t ci = 0; ci < Cg; ++ci)
                        for (int64_t i = 0; i < kh; ++i)
                            for (int64_t j = 0; j < kw; ++j) {
                                const int64_t iy = oy * c.strides[0] - pt + i * c.dilations[0];
                                const int64_t ix = ox * c.strides[1] - pl + j * c.dilations[1];
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                                    continue;
                                s += x.data()[((n * C + g * Cg + ci) * H + iy) * W + ix] * w.data()[((m * Cg + ci) * kh + i) * kw + j];
                            }
                    y.data()[((n * M + m) * oh + oy) * ow + ox] = static_cast<float>(s);
                }
    return y;
}

const std::vector<ConvCase> &cases()
{
    static const std::vector<ConvCase> c = {
        {"3x3 pad1", {2, 3, 6, 5}, {4, 3, 3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1, true},
        {"stride2 asym pads", {2, 2, 7, 6}, {3, 2, 3, 2}, {2, 2}, {1, 0, 2, 1}, {1, 1}, 1, true},
        {"dilation2", {1, 2, 8, 8}, {2, 2, 3, 3}, {1, 1}, {2, 2, 2, 2}, {2, 2}, 1, false},
        {"groups", {2, 4, 5, 5}, {6, 2, 3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, 2, true},
        {"depthwise stride2", {1, 3, 6, 6}, {3, 1, 3, 3}, {2, 1}, {1, 1, 1, 1}, {1, 1}, 3, true},
        {"pointwise 1x1", {3, 4, 3, 4}, {5, 4, 1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1, true},
        {"same_upper stride2", {1, 2, 5, 6}, {2, 2, 3, 3}, {2, 2}, {}, {1, 1}, 1, true, "SAME_UPPER"},
    };
    return c;
}

} // namespace

class ConvTest : public QObject {
    Q_OBJECT
private slots:
    void forwardMatchesDirectDefinition_data()
    {
        QTest::addColumn<int>("index");
        QTest::addColumn<int>("threads");
        for (int i = 0; i < static_cast<int>(cases().size()); ++i)
            for (int t : {1, 2})
                QTest::newRow(qPrintable(QStringLiteral("%1 t%2").arg(cases()[i].name).arg(t))) << i << t;
    }
    void forwardMatchesDirectDefinition()
    {
        QFETCH(int, index);
        QFETCH(int, threads);
        setThreadCount(threads);
        const ConvCase &c = cases()[index];
        Rng rng(7 + index);
        const Tensor x = randomTensor(c.x, rng), w = randomTensor(c.w, rng), b = randomTensor({c.w[0]}, rng);
        const Tensor y = runNode(convNode(c), {x, w, c.bias ? b : Tensor()});
        int64_t pt = c.pads.empty() ? 0 : c.pads[0], pl = c.pads.empty() ? 0 : c.pads[1];
        if (c.autoPad == "SAME_UPPER") { // total pad split with the extra at the end
            const int64_t th = std::max<int64_t>(0, (y.dim(2) - 1) * c.strides[0] + c.w[2] - c.x[2]);
            const int64_t tw = std::max<int64_t>(0, (y.dim(3) - 1) * c.strides[1] + c.w[3] - c.x[3]);
            pt = th / 2;
            pl = tw / 2;
            QCOMPARE(y.dim(2), (c.x[2] + c.strides[0] - 1) / c.strides[0]);
        }
        const Tensor ref = reference(c, x, w, b, pt, pl, y.dim(2), y.dim(3));
        QCOMPARE(y.shape(), ref.shape());
        QVERIFY2(maxAbsDiff(y, ref) < 1e-4, qPrintable(QString::number(maxAbsDiff(y, ref))));
    }

    void gradientsMatchFiniteDifferences_data()
    {
        QTest::addColumn<int>("index");
        for (int i = 0; i < static_cast<int>(cases().size()); ++i)
            QTest::newRow(cases()[i].name) << i;
    }
    void gradientsMatchFiniteDifferences()
    {
        QFETCH(int, index);
        setThreadCount(2);
        const ConvCase &c = cases()[index];
        Rng rng(11 + index);
        std::vector<Tensor> in{randomTensor(c.x, rng), randomTensor(c.w, rng), c.bias ? randomTensor({c.w[0]}, rng) : Tensor()};
        std::set<size_t> wrt{0, 1};
        if (c.bias)
            wrt.insert(2);
        NW_GRADCHECK(convNode(c), in, wrt, false); // columns recomputed in backward
        NW_GRADCHECK(convNode(c), in, wrt, true);  // columns kept from a training forward
    }

    void benchTimings()
    {
        if (!qEnvironmentVariableIsSet("NW_CONV_BENCH"))
            QSKIP("set NW_CONV_BENCH to time");
        setThreadCount(2);
        struct B { const char *name; Shape x, w; int64_t group; };
        for (const B &b : {B{"3x3 64->64 32x32 n8", {8, 64, 32, 32}, {64, 64, 3, 3}, 1},
                           B{"depthwise 128 32x32 n8", {8, 128, 32, 32}, {128, 1, 3, 3}, 128},
                           B{"3x3 16->32 64x64 n8 s2", {8, 16, 64, 64}, {32, 16, 3, 3}, 1}}) {
            Node n{"conv", "Conv", {"x", "w", "b"}, {"y"}, {}};
            n.attributes["pads"] = std::vector<int64_t>{1, 1, 1, 1};
            n.attributes["group"] = b.group;
            Rng rng(1);
            Tensor x = randomTensor(b.x, rng), w = randomTensor(b.w, rng), bias = randomTensor({b.w[0]}, rng);
            const OpKernel &k = kernelFor("Conv", DeviceType::Cpu, n);
            Shape ys = k.inferShapes(n, {b.x, b.w, {b.w[0]}}, {nullptr, nullptr, nullptr})[0];
            Tensor y(ys), dy = randomTensor(ys, rng), dx(b.x), dw(b.w), db({b.w[0]});
            std::vector<Tensor> saved;
            KernelContext ctx{n, {&x, &w, &bias}, {&y}, saved, true};
            ctx.gradOutputs = {&dy};
            ctx.gradInputs = {&dx, &dw, &db};
            QElapsedTimer t;
            double best = 1e9;
            for (int r = 0; r < 5; ++r) {
                t.start();
                for (int i = 0; i < 10; ++i) {
                    k.forward(ctx);
                    k.backward(ctx);
                }
                best = std::min(best, t.nsecsElapsed() / 1e7);
            }
            qInfo("%s: %.3f ms per fwd+bwd", b.name, best);
        }
    }

    void scalarBiasIsRejected()
    {
        ConvCase c{"bias", {1, 1, 3, 3}, {4, 1, 1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1, true};
        Rng rng(1);
        QVERIFY_THROWS_EXCEPTION(Error, runNode(convNode(c), {randomTensor(c.x, rng), randomTensor(c.w, rng), Tensor::full({}, 0.5f)}));
    }

    void mismatchedChannelsNameTheNode()
    {
        ConvCase c{"bad", {1, 3, 5, 5}, {2, 2, 3, 3}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1, false};
        Rng rng(1);
        try {
            runNode(convNode(c), {randomTensor(c.x, rng), randomTensor(c.w, rng), Tensor()});
            QFAIL("a channel mismatch was accepted");
        } catch (const Error &e) {
            const QString msg = QString::fromUtf8(e.what());
            QVERIFY2(msg.contains(QStringLiteral("\"conv\" (Conv)")) && msg.contains(QStringLiteral("input channels")), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(ConvTest)
#include "conv_test.moc"
