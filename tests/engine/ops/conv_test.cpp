// SPDX-License-Identifier: Apache-2.0
// Conv: forward against a direct 7-loop reference, gradients by finite differences, for
// padding, strides, dilations, groups, 1×1, auto_pad and a missing bias; 1-D, 3-D and depthwise
// (with a channel multiplier) against PyTorch's conv1d/conv3d/conv2d values.
#include "engine/ops/gradcheck.h"
#include "engine/ops/op_test_util.h"

#include "core/error.h"
#include "core/parallel.h"
#include "ops/conv_dnnl.h"

#include <cmath>

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

Node attrNode(std::map<std::string, Attribute> attrs)
{
    return Node{"conv", "Conv", {}, {}, std::move(attrs)};
}

using V = std::vector<int64_t>;

// torch.nn.functional (float64), inputs wave(x, 1), wave(w, 2), wave(b, 3):
// conv1d(stride=2, padding=1, dilation=2, groups=2), x [2,4,9], w [6,2,3]
const std::vector<float> kConv1d{1.977637, 2.026211, 0.5761164, -0.1004329, -1.322311, -0.9721093, -0.3079011, -0.2929501, -1.074806, -1.54681, -0.8998124, -0.2413406, 0.5801543, 0.4618654, -1.228972, -1.813535, -2.301836, -1.82607, -0.5716591, -0.4987085, -0.7881273, -1.245089, -1.070965, -0.5746082, 1.144862, 0.5444668, -1.128733, -1.222096, -0.9120042, -0.2940377, 0.4098461, 0.05675978, -0.7381339, -0.8849251, -0.06279421, 0.4574869, -0.5601045, -1.26097, -2.727736, -2.656424, -1.336126, -0.548464, 0.4860958, 0.06616019, -0.815513, -1.067013, -0.8511381, -0.4147043}; // shape [2, 6, 4]
// conv3d(stride=(1,2,1), padding=(1,0,1), dilation=(1,1,2)), x [1,2,5,4,4], w [3,2,3,2,3]
const std::vector<float> kConv3d{0.7662574, 0.1755355, -0.4771346, 0.08167811, 0.3490137, 0.3327757, 0.1643911, 0.1408452, -0.1125507, -0.04999514, 0.6168481, 0.5173402, -0.5410211, -0.407833, 1.007242, 0.8447535, -0.4096566, 0.1522057, 0.3876166, -0.1252891, 1.368585, 0.8537226, -1.754275, -1.191063, -0.7593932, -0.9209661, 0.5572546, 0.6893613, -1.235051, -1.333347, 0.9739713, 1.035224, -1.579123, -1.601318, 1.234084, 1.216492, -0.6512017, -0.09099174, -0.0926188, -0.6840897, 1.137732, 0.9775684, -2.173318, -1.910731, -1.54851, -1.767914, 0.5563381, 0.772551, -1.780654, -1.986567, 0.711629, 0.9004697, -1.853986, -2.019544, 0.700589, 0.8374214, -0.6320514, -0.3768921, -0.6146761, -0.9643836}; // shape [1, 3, 5, 2, 2]
// conv2d(stride=(2,1), padding=1, dilation=(1,2), groups=3), x [2,3,6,5], w [6,1,3,3]: depthwise ×2
const std::vector<float> kDepthwise{0.0430253, 0.5171684, 0.68081, -1.132883, -2.004747, -1.815354, 2.621679, 3.934287, 3.16064, 0.1968275, -0.1186346, -0.4451489, 0.6268994, 1.349433, 1.410522, -2.296996, -3.555489, -3.019198, -2.472309, -3.361264, -2.48521, 1.733548, 2.981781, 1.931462, -2.169362, -2.866929, -1.869644, 0.9776239, 1.908651, 1.124569, -2.897201, -4.212738, -3.259561, 0.8525731, 1.706986, 0.6602375, -0.04716786, -0.03981916, -0.626291, -1.128414, -0.7032798, -0.1099102, -1.796276, -2.845113, -2.877329, -2.167607, -2.346754, -1.643344, -0.3159201, -0.5235423, -1.341213, -0.7707273, 0.09157206, 0.3867903, 1.997772, 2.580964, 1.623957, -1.980119, -2.740584, -1.698258, 0.8665106, 0.8953581, 0.2957451, -2.17876, -2.892977, -1.92861, 1.928911, 2.865629, 1.790859, -1.209177, -1.440421, -0.6793566, -0.4862424, 0.01563546, 0.1153711, -1.885142, -2.918107, -2.785661, 1.61006, 3.004017, 2.329454, -0.5854042, -0.9370487, -1.202862, -0.03830422, 0.8362725, 0.9705022, -2.510131, -3.834429, -3.394365, -2.910409, -3.812695, -2.937997, 0.7892104, 1.894011, 0.8654236, -2.251759, -2.76234, -1.736066, 0.8302694, 1.779526, 0.9941416, -2.620445, -3.78857, -2.821521, 0.4877474, 1.162306, 0.052738}; // shape [2, 6, 3, 3]

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

    // The oneDNN primitives Conv runs on (ops/conv_dnnl.h) exist for the common geometries at this
    // CPU level — the setup script reruns this at the baseline level — and compute the definition:
    // y, and dx, dw, db as the adjoint sums of the same loop.
    void oneDnnPrimitivesComputeTheDefinition_data()
    {
        QTest::addColumn<int>("index");
        for (int i : {0, 1, 2, 3})
            QTest::newRow(cases()[i].name) << i;
    }
    void oneDnnPrimitivesComputeTheDefinition()
    {
        QFETCH(int, index);
        setThreadCount(2);
        const ConvCase &c = cases()[index];
        Rng rng(31 + index);
        const Tensor x = randomTensor(c.x, rng), w = randomTensor(c.w, rng), b = randomTensor({c.w[0]}, rng);
        const int64_t N = c.x[0], C = c.x[1], H = c.x[2], W = c.x[3], M = c.w[0], kh = c.w[2], kw = c.w[3];
        const int64_t pt = c.pads[0], pl = c.pads[1];
        const int64_t oh = (H + c.pads[0] + c.pads[2] - c.dilations[0] * (kh - 1) - 1) / c.strides[0] + 1;
        const int64_t ow = (W + c.pads[1] + c.pads[3] - c.dilations[1] * (kw - 1) - 1) / c.strides[1] + 1;
        convdnnl::Geometry g;
        g.N = N, g.C = C, g.M = M, g.group = c.group;
        g.in = {H, W}, g.out = {oh, ow}, g.kernel = {kh, kw}, g.strides = c.strides, g.dilations = c.dilations;
        g.padBegin = {c.pads[0], c.pads[1]}, g.padEnd = {c.pads[2], c.pads[3]};

        Tensor y({N, M, oh, ow});
        QVERIFY2(convdnnl::forward(g, true, x.data(), w.data(), c.bias ? b.data() : nullptr, y.data()), "no oneDNN forward");
        QVERIFY(maxAbsDiff(y, reference(c, x, w, b, pt, pl, oh, ow)) < 1e-4);

        const Tensor dy = randomTensor({N, M, oh, ow}, rng);
        Tensor dx({N, C, H, W}), dw(c.w), db({M});
        QVERIFY2(convdnnl::backwardData(g, w.data(), dy.data(), dx.data()), "no oneDNN data gradient");
        QVERIFY2(convdnnl::backwardWeights(g, x.data(), dy.data(), dw.data(), db.data()), "no oneDNN weight gradient");
        std::vector<double> rx(static_cast<size_t>(dx.numel())), rw(static_cast<size_t>(dw.numel())), rb(static_cast<size_t>(M));
        const int64_t Cg = C / c.group, Mg = M / c.group;
        for (int64_t n = 0; n < N; ++n)
            for (int64_t m = 0; m < M; ++m)
                for (int64_t oy = 0; oy < oh; ++oy)
                    for (int64_t ox = 0; ox < ow; ++ox) {
                        const double d = dy.data()[((n * M + m) * oh + oy) * ow + ox];
                        rb[static_cast<size_t>(m)] += d;
                        for (int64_t ci = 0; ci < Cg; ++ci)
                            for (int64_t i = 0; i < kh; ++i)
                                for (int64_t j = 0; j < kw; ++j) {
                                    const int64_t iy = oy * c.strides[0] - pt + i * c.dilations[0];
                                    const int64_t ix = ox * c.strides[1] - pl + j * c.dilations[1];
                                    if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                                        continue;
                                    const size_t xi = static_cast<size_t>(((n * C + (m / Mg) * Cg + ci) * H + iy) * W + ix);
                                    const size_t wi = static_cast<size_t>(((m * Cg + ci) * kh + i) * kw + j);
                                    rx[xi] += d * w.data()[wi];
                                    rw[wi] += d * x.data()[xi];
                                }
                    }
        auto worst = [](const Tensor &t, const std::vector<double> &r) {
            double e = 0;
            for (size_t i = 0; i < r.size(); ++i)
                e = std::max(e, std::abs(t.data()[i] - r[i]));
            return e;
        };
        QVERIFY2(worst(dx, rx) < 1e-4, qPrintable(QString::number(worst(dx, rx))));
        QVERIFY2(worst(dw, rw) < 1e-4, qPrintable(QString::number(worst(dw, rw))));
        QVERIFY2(worst(db, rb) < 1e-4, qPrintable(QString::number(worst(db, rb))));
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

    void oneAndThreeDimensionsAndDepthwiseMatchPyTorch()
    {
        for (int threads : {1, 2}) {
            setThreadCount(threads);
            const Tensor y1 = runNode(attrNode({{"strides", V{2}}, {"pads", V{1, 1}}, {"dilations", V{2}}, {"group", int64_t(2)}}),
                                      {wave({2, 4, 9}, 1), wave({6, 2, 3}, 2), wave({6}, 3)});
            QCOMPARE(y1.shape(), (Shape{2, 6, 4}));
            QVERIFY2(maxAbsDiff(y1, Tensor::fromVector(y1.shape(), kConv1d)) < 1e-5, "conv1d");
            const Tensor y3 = runNode(attrNode({{"strides", V{1, 2, 1}}, {"pads", V{1, 0, 1, 1, 0, 1}}, {"dilations", V{1, 1, 2}}}),
                                      {wave({1, 2, 5, 4, 4}, 1), wave({3, 2, 3, 2, 3}, 2), wave({3}, 3)});
            QCOMPARE(y3.shape(), (Shape{1, 3, 5, 2, 2}));
            QVERIFY2(maxAbsDiff(y3, Tensor::fromVector(y3.shape(), kConv3d)) < 1e-5, "conv3d");
            const Tensor yd = runNode(attrNode({{"strides", V{2, 1}}, {"pads", V{1, 1, 1, 1}}, {"dilations", V{1, 2}}, {"group", int64_t(3)}}),
                                      {wave({2, 3, 6, 5}, 1), wave({6, 1, 3, 3}, 2), wave({6}, 3)});
            QCOMPARE(yd.shape(), (Shape{2, 6, 3, 3}));
            QVERIFY2(maxAbsDiff(yd, Tensor::fromVector(yd.shape(), kDepthwise)) < 1e-5, "depthwise");
        }
    }

    void autoPadInOneAndThreeDimensions()
    {
        // SAME_LOWER puts the odd padding cell first: 1-D, 5 wide, kernel 2 → pads {1, 0}.
        Tensor x = Tensor::fromVector({1, 1, 5}, {1, 2, 3, 4, 5}), w = Tensor::fromVector({1, 1, 2}, {10, 1});
        const Tensor lower = runNode(attrNode({{"auto_pad", std::string("SAME_LOWER")}}), {x, w, Tensor()});
        QCOMPARE(lower.shape(), (Shape{1, 1, 5}));
        const std::vector<float> wantLower{1, 12, 23, 34, 45}, wantUpper{12, 23, 34, 45, 50};
        for (int i = 0; i < 5; ++i)
            QCOMPARE(lower.data()[i], wantLower[static_cast<size_t>(i)]);
        const Tensor upper = runNode(attrNode({{"auto_pad", std::string("SAME_UPPER")}}), {x, w, Tensor()});
        for (int i = 0; i < 5; ++i)
            QCOMPARE(upper.data()[i], wantUpper[static_cast<size_t>(i)]);
        const Tensor valid = runNode(attrNode({{"auto_pad", std::string("VALID")}, {"strides", V{2, 2, 2}}}),
                                     {wave({1, 1, 5, 4, 3}, 1), wave({2, 1, 3, 2, 1}, 2), Tensor()});
        QCOMPARE(valid.shape(), (Shape{1, 2, 2, 2, 2}));
    }

    void gradientsInOneAndThreeDimensionsAndDepthwise_data()
    {
        QTest::addColumn<int>("variant");
        QTest::newRow("1-D groups dilation") << 0;
        QTest::newRow("3-D stride pads") << 1;
        QTest::newRow("depthwise x2 stride dilation") << 2;
        QTest::newRow("depthwise 1-D same_upper") << 3;
        QTest::newRow("3-D groups same_lower") << 4;
    }
    void gradientsInOneAndThreeDimensionsAndDepthwise()
    {
        QFETCH(int, variant);
        setThreadCount(2);
        Rng rng(21 + variant);
        Node n;
        Shape xs, ws;
        switch (variant) {
        case 0: n = attrNode({{"strides", V{2}}, {"pads", V{1, 2}}, {"dilations", V{2}}, {"group", int64_t(2)}}); xs = {2, 4, 9}; ws = {6, 2, 3}; break;
        case 1: n = attrNode({{"strides", V{1, 2, 1}}, {"pads", V{1, 0, 1, 0, 1, 1}}}); xs = {2, 2, 4, 5, 4}; ws = {3, 2, 2, 3, 2}; break;
        case 2: n = attrNode({{"strides", V{2, 1}}, {"pads", V{1, 0, 1, 2}}, {"dilations", V{1, 2}}, {"group", int64_t(3)}}); xs = {2, 3, 6, 5}; ws = {6, 1, 3, 3}; break;
        case 3: n = attrNode({{"auto_pad", std::string("SAME_UPPER")}, {"group", int64_t(4)}}); xs = {3, 4, 7}; ws = {4, 1, 4}; break;
        default: n = attrNode({{"auto_pad", std::string("SAME_LOWER")}, {"strides", V{2, 1, 2}}, {"group", int64_t(2)}}); xs = {1, 4, 3, 4, 5}; ws = {2, 2, 2, 2, 3}; break;
        }
        std::vector<Tensor> in{randomTensor(xs, rng), randomTensor(ws, rng), randomTensor({ws[0]}, rng)};
        NW_GRADCHECK(n, in, (std::set<size_t>{0, 1, 2}), false);
        NW_GRADCHECK(n, in, (std::set<size_t>{0, 1, 2}), true);
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
