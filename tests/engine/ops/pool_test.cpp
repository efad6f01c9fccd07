// SPDX-License-Identifier: Apache-2.0
// MaxPool, AveragePool, LpPool and the global pools: hand-computed values, ceil_mode and padding
// rules, Indices (both storage orders), 1-D/3-D against PyTorch's max_pool3d/avg_pool1d/lp_pool2d,
// and gradients by finite differences.
#include "engine/ops/gradcheck.h"
#include "engine/ops/op_test_util.h"

#include "core/cpu_level.h"
#include "core/error.h"
#include "core/parallel.h"
#include "ops/op.h"
#include "ops/pool_isa.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include <QTest>

using namespace netwright;
using namespace netwright::testing;

namespace {
Tensor ramp(const Shape &s)
{
    Tensor t(s);
    for (int64_t i = 0; i < t.numel(); ++i)
        t.data()[i] = static_cast<float>(i);
    return t;
}

// Distinct values, shuffled, so max positions are stable under a ±eps perturbation.
Tensor shuffled(const Shape &s, uint64_t seed)
{
    Rng rng(seed);
    Tensor x(s);
    std::vector<float> v(static_cast<size_t>(x.numel()));
    for (size_t i = 0; i < v.size(); ++i)
        v[i] = static_cast<float>(i) * 0.1f - 1.0f;
    for (size_t i = v.size() - 1; i > 0; --i)
        std::swap(v[i], v[rng.below(i + 1)]);
    std::copy(v.begin(), v.end(), x.data());
    return x;
}

using V = std::vector<int64_t>;

// torch.nn.functional (float64) on wave(x, 1):
// max_pool3d(x [1,2,4,5,5], (2,3,3), stride=2, padding=1, return_indices=True)
const std::vector<float> kMaxPool3d{0.979908, 0.9857192, 0.8581178, 0.5946375, 0.9812445, 0.9845487, 0.8545989, 0.9812445, 0.9845487, 0.8523403, 0.9837806, 0.9820707, 0.9833325, 0.9833325, 0.9849801, 0.9807633, 0.8558846, 0.9849801, -0.431294, 0.2898532, 0.6163298, 0.9861339, 0.9861339, 0.840128, 0.2546823, -0.1122438, -0.06905684, 0.8364123, 0.9872419, 0.9872419, 0.8364123, 0.6270052, 0.8662779, 0.9883041, 0.9765679, 0.8662779, 0.9735441, 0.873006, 0.9902906, 0.9735441, 0.9893203, 0.9750786, 0.991215, 0.991215, 0.8211629, 0.221591, -0.1460302, -0.03503121, 0.8172548, 0.9920933, 0.9920933, 0.8172548, 0.5535585, -0.1527684}; // shape [1, 2, 3, 3, 3]
const std::vector<float> kMaxPool3dIdx{1, 2, 3, 16, 18, 19, 20, 18, 19, 51, 52, 53, 36, 36, 69, 70, 68, 69, 81, 83, 84, 86, 86, 88, 90, 91, 99, 5, 3, 3, 5, 18, 19, 20, 21, 19, 55, 53, 54, 55, 37, 38, 71, 71, 73, 75, 76, 84, 90, 88, 88, 90, 91, 93}; // shape [1, 2, 3, 3, 3]
// avg_pool1d(x [1,2,7], 3, 2, 1, ceil_mode=True, count_include_pad=True / False)
const std::vector<float> kAvgPool1dCeilInclude{0.6071263, 0.9412484, 0.5866567, 0.06971699, -0.3878631, -0.8859192, -0.8944748, -0.4008298}; // shape [1, 2, 4]
const std::vector<float> kAvgPool1dCeilExclude{0.9106895, 0.9412484, 0.5866567, 0.1045755, -0.5817946, -0.8859192, -0.8944748, -0.6012447}; // shape [1, 2, 4]
// lp_pool2d(x [1,2,6,5], 2.0, (2,3), stride=(2,1))
const std::vector<float> kLpPool2d{1.707824, 1.842633, 1.914985, 1.890063, 1.916638, 1.849968, 1.893498, 1.787576, 1.644172, 1.71495, 1.580477, 1.522297, 1.537194, 1.537592, 1.642554, 1.581204, 1.715933, 1.848707}; // shape [1, 2, 3, 3]
} // namespace

class PoolTest : public QObject {
    Q_OBJECT
private slots:
    void maxPoolValues()
    {
        // 4x4 ramp, 2x2 stride 2: maxima are the bottom-right of each block.
        Node n{"pool", "MaxPool", {}, {"y", "idx"}, {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}}};
        const Tensor y = runNode(n, {ramp({1, 2, 4, 4})});
        QCOMPARE(y.shape(), (Shape{1, 2, 2, 2}));
        const std::vector<float> want{5, 7, 13, 15, 21, 23, 29, 31};
        for (int i = 0; i < 8; ++i)
            QCOMPARE(y.data()[i], want[i]);
    }
    // The vectorized 2×2 stride-2 loops (ops/pool_isa.cpp) on rows longer than one vector (37
    // wide: 18 outputs, a full sixteen and a masked two), an odd height and width (a row and a
    // column no window covers), many ties and some NaN: every output and index against the
    // definition — the maximum, NaN wins, ties keep the first cell in row-major order.
    void maxPoolStrideTwoMatchesDefinition()
    {
        setThreadCount(2);
        Node n{"pool", "MaxPool", {}, {"y", "idx"}, {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}}};
        const int64_t C = 3, H = 9, W = 37, OH = 4, OW = 18;
        Tensor x({2, C, H, W});
        Rng rng(5);
        for (int64_t i = 0; i < x.numel(); ++i)
            x.data()[i] = static_cast<float>(rng.below(4)) - 1.5f; // four values: ties everywhere
        for (int64_t i : {3, 40, 41, 300, 777, 1500})
            x.data()[i] = std::numeric_limits<float>::quiet_NaN();
        const auto out = evalNode(n, {x}, {"y", "idx"});
        QCOMPARE(out[0].shape(), (Shape{2, C, OH, OW}));
        const int64_t *idx = out[1].dataAs<int64_t>();
        for (int64_t p = 0; p < 2 * C; ++p)
            for (int64_t oy = 0; oy < OH; ++oy)
                for (int64_t ox = 0; ox < OW; ++ox) {
                    int64_t best = -1;
                    for (int64_t dy = 0; dy < 2; ++dy)
                        for (int64_t dx = 0; dx < 2; ++dx) {
                            const int64_t at = p * H * W + (2 * oy + dy) * W + 2 * ox + dx;
                            const float v = x.data()[at];
                            if (best < 0 || (!std::isnan(x.data()[best]) && (std::isnan(v) || v > x.data()[best])))
                                best = at;
                        }
                    const int64_t o = (p * OH + oy) * OW + ox;
                    const float got = out[0].data()[o], want = x.data()[best];
                    if (std::isnan(want)) { // which NaN of the window is not specified, only that it wins
                        QVERIFY2(std::isnan(got) && std::isnan(x.data()[idx[o]]), qPrintable(QString::number(o)));
                    } else {
                        QCOMPARE(got, want);
                        QCOMPARE(idx[o], best);
                    }
                }
    }
    // The sixteen-channel loops the Conv → Relu → MaxPool block pools oneDNN's blocked output with
    // (ops/pool_isa.h, AVX-512 only), float32 and bfloat16: an odd height and width (a row and a
    // column no window covers), ties everywhere and some NaN, two in a window too. Every output and
    // winner against the definition (which NaN of a window wins is not specified); the gradient is dy at the winner and zero in every other cell, the uncovered
    // ones included.
    void maxPoolSixteenLanesMatchDefinition()
    {
        if (cpu::detectedLevel() < cpu::Level::Avx512) // reported as skipped, not as passed
            QSKIP("no AVX-512 here: the loops are not built for this CPU (the conv block pools with oneDNN's kernel)");
        const int64_t planes = 3, H = 5, W = 7, OH = 2, OW = 3;
        std::vector<float> x(static_cast<size_t>(planes * H * W * 16));
        Rng rng(9);
        for (float &v : x)
            v = static_cast<float>(rng.below(4)) - 1.5f; // exact in bfloat16 too
        // NaN: alone in a window, two side by side (plane 0, window (0,0), lane 3), two above each
        // other (plane 1, window (1,2), lane 7), and in the column no window covers.
        auto cell = [&](int64_t p, int64_t r, int64_t c, int64_t lane) { return static_cast<size_t>(((p * H + r) * W + c) * 16 + lane); };
        for (size_t i : {5ul, cell(0, 1, 0, 3), cell(0, 1, 1, 3), cell(1, 2, 4, 7), cell(1, 3, 4, 7), 700ul, cell(2, 4, 6, 0)})
            x[i] = std::numeric_limits<float>::quiet_NaN();
        std::vector<uint16_t> xb(x.size());
        for (size_t i = 0; i < x.size(); ++i)
            xb[i] = static_cast<uint16_t>(std::bit_cast<uint32_t>(x[i]) >> 16);
        const size_t outs = static_cast<size_t>(planes * OH * OW * 16);
        std::vector<float> y(outs), dy(outs), dx(x.size(), 7.0f);
        std::vector<uint16_t> yb(outs), dyb(outs), dxb(x.size(), 0x4000);
        std::vector<uint8_t> arg(outs, 9), argb(outs, 9);
        for (size_t i = 0; i < outs; ++i) {
            dy[i] = 0.25f + static_cast<float>(i);
            dyb[i] = static_cast<uint16_t>(0x3f00 + i);
        }
        for (int64_t p = 0; p < planes; ++p) {
            const int64_t in = p * H * W * 16, out = p * OH * OW * 16;
            pool::isa_v4::maxForward2x2Lanes(x.data() + in, W, OH, OW, y.data() + out, arg.data() + out);
            pool::isa_v4::maxForward2x2Lanes(xb.data() + in, W, OH, OW, yb.data() + out, argb.data() + out);
            pool::isa_v4::maxBackward2x2Lanes(dy.data() + out, arg.data() + out, H, W, OH, OW, dx.data() + in);
            pool::isa_v4::maxBackward2x2Lanes(dyb.data() + out, argb.data() + out, H, W, OH, OW, dxb.data() + in);
        }
        QCOMPARE(argb, arg); // the same values in both types
        std::vector<int64_t> winnerAt(x.size(), -1); // the output each winning input cell feeds
        for (int64_t p = 0; p < planes; ++p)
            for (int64_t oy = 0; oy < OH; ++oy)
                for (int64_t ox = 0; ox < OW; ++ox)
                    for (int64_t c = 0; c < 16; ++c) {
                        int64_t best = -1, place = -1;
                        for (int64_t k = 0; k < 4; ++k) {
                            const int64_t at = ((p * H + 2 * oy + k / 2) * W + 2 * ox + k % 2) * 16 + c;
                            if (best < 0 || (!std::isnan(x[best]) && (std::isnan(x[at]) || x[at] > x[best]))) {
                                best = at;
                                place = k;
                            }
                        }
                        const int64_t o = ((p * OH + oy) * OW + ox) * 16 + c;
                        const QString where = QStringLiteral("plane %1 (%2,%3) lane %4").arg(p).arg(oy).arg(ox).arg(c);
                        if (std::isnan(x[best])) { // which NaN of the window wins is not specified, only that one does
                            QVERIFY2(arg[o] < 4, qPrintable(where));
                            best = ((p * H + 2 * oy + arg[o] / 2) * W + 2 * ox + arg[o] % 2) * 16 + c;
                            QVERIFY2(std::isnan(x[best]), qPrintable(where));
                        }
                        QVERIFY2(arg[o] == place || std::isnan(x[best]), qPrintable(where));
                        QVERIFY2(std::bit_cast<uint32_t>(y[o]) == std::bit_cast<uint32_t>(x[best]), qPrintable(where));
                        QVERIFY2(yb[o] == xb[best], qPrintable(where));
                        winnerAt[best] = o;
                    }
        for (size_t i = 0; i < x.size(); ++i) {
            const int64_t o = winnerAt[i];
            QVERIFY2(dx[i] == (o < 0 ? 0.0f : dy[o]) && !std::signbit(dx[i]), qPrintable(QString::number(i)));
            QVERIFY2(dxb[i] == (o < 0 ? 0 : dyb[o]), qPrintable(QString::number(i)));
        }
    }
    void maxPoolCeilModeAndPads()
    {
        // 5x5, kernel 2, stride 2: floor → 2x2, ceil → 3x3 (last window starts inside).
        Node floorN{"p", "MaxPool", {}, {}, {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}}};
        QCOMPARE(runNode(floorN, {ramp({1, 1, 5, 5})}).shape(), (Shape{1, 1, 2, 2}));
        Node ceilN = floorN;
        ceilN.attributes["ceil_mode"] = int64_t(1);
        const Tensor y = runNode(ceilN, {ramp({1, 1, 5, 5})});
        QCOMPARE(y.shape(), (Shape{1, 1, 3, 3}));
        QCOMPARE(y.data()[8], 24.0f);
        // Padding never wins: all-negative input with pads keeps the real maximum.
        Node padN{"p", "MaxPool", {}, {}, {{"kernel_shape", std::vector<int64_t>{3, 3}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}}}};
        Tensor neg = Tensor::full({1, 1, 2, 2}, -3.0f);
        neg.data()[3] = -1.0f;
        const Tensor yp = runNode(padN, {neg});
        QCOMPARE(yp.shape(), (Shape{1, 1, 2, 2}));
        for (int i = 0; i < 4; ++i)
            QCOMPARE(yp.data()[i], -1.0f);
    }
    void averagePoolCountIncludePad()
    {
        Node n{"avg", "AveragePool", {}, {}, {{"kernel_shape", std::vector<int64_t>{3, 3}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}}}};
        const Tensor ones = Tensor::full({1, 1, 3, 3}, 1.0f);
        const Tensor exclude = runNode(n, {ones});
        QCOMPARE(exclude.data()[0], 1.0f); // corner: 4 real cells averaged
        n.attributes["count_include_pad"] = int64_t(1);
        const Tensor include = runNode(n, {ones});
        QVERIFY(std::abs(include.data()[0] - 4.0f / 9.0f) < 1e-6); // padding counted as zeros
        QVERIFY(std::abs(include.data()[4] - 1.0f) < 1e-6);
    }
    void globalAveragePool()
    {
        Node n{"gap", "GlobalAveragePool", {}, {}, {}};
        const Tensor y = runNode(n, {ramp({2, 3, 2, 2})});
        QCOMPARE(y.shape(), (Shape{2, 3, 1, 1}));
        for (int p = 0; p < 6; ++p)
            QCOMPARE(y.data()[p], static_cast<float>(4 * p) + 1.5f);
    }
    void oneAndThreeDimensionsMatchPyTorch()
    {
        setThreadCount(2);
        Node mp{"pool", "MaxPool", {"x"}, {"y", "i"}, {{"kernel_shape", V{2, 3, 3}}, {"strides", V{2, 2, 2}}, {"pads", V{1, 1, 1, 1, 1, 1}}}};
        const Tensor x3 = wave({1, 2, 4, 5, 5}, 1);
        const auto outs = evaluateNode(mp, {&x3});
        QCOMPARE(outs[0].shape(), (Shape{1, 2, 3, 3, 3}));
        QVERIFY(maxAbsDiff(outs[0], Tensor::fromVector(outs[0].shape(), kMaxPool3d)) < 1e-6);
        for (int64_t o = 0; o < outs[1].numel(); ++o) // PyTorch counts within the plane, ONNX across the tensor
            QCOMPARE(outs[1].dataAs<int64_t>()[o], static_cast<int64_t>(kMaxPool3dIdx[static_cast<size_t>(o)]) + (o / 27) * 100);
        Node avg{"avg", "AveragePool", {}, {}, {{"kernel_shape", V{3}}, {"strides", V{2}}, {"pads", V{1, 1}}, {"ceil_mode", int64_t(1)}}};
        const Tensor x1 = wave({1, 2, 7}, 1);
        const Tensor exclude = runNode(avg, {x1});
        QCOMPARE(exclude.shape(), (Shape{1, 2, 4}));
        QVERIFY(maxAbsDiff(exclude, Tensor::fromVector(exclude.shape(), kAvgPool1dCeilExclude)) < 1e-6);
        avg.attributes["count_include_pad"] = int64_t(1);
        const Tensor include = runNode(avg, {x1});
        QVERIFY(maxAbsDiff(include, Tensor::fromVector(include.shape(), kAvgPool1dCeilInclude)) < 1e-6);
        Node lp{"lp", "LpPool", {}, {}, {{"kernel_shape", V{2, 3}}, {"strides", V{2, 1}}, {"p", int64_t(2)}}};
        const Tensor ylp = runNode(lp, {wave({1, 2, 6, 5}, 1)});
        QCOMPARE(ylp.shape(), (Shape{1, 2, 3, 3}));
        QVERIFY(maxAbsDiff(ylp, Tensor::fromVector(ylp.shape(), kLpPool2d)) < 1e-5);
    }
    void indicesInColumnMajorOrder()
    {
        // 2x3 plane, 1x2 windows with stride (1, 1): maxima on the right; storage_order 1 counts
        // down the columns: (row y, column x) → x·2 + y, plus the plane's offset.
        Node n{"pool", "MaxPool", {"x"}, {"y", "i"}, {{"kernel_shape", V{1, 2}}, {"storage_order", int64_t(1)}}};
        const Tensor x = ramp({1, 2, 2, 3});
        const auto outs = evaluateNode(n, {&x});
        const std::vector<int64_t> want{2, 4, 3, 5, 8, 10, 9, 11};
        for (size_t o = 0; o < want.size(); ++o)
            QCOMPARE(outs[1].dataAs<int64_t>()[o], want[o]);
    }
    void globalMaxAndLpPools()
    {
        Tensor x = wave({2, 3, 2, 2, 2}, 1);
        const Tensor ymax = runNode(Node{"g", "GlobalMaxPool", {}, {}, {}}, {x});
        const Tensor ylp = runNode(Node{"g", "GlobalLpPool", {}, {}, {{"p", int64_t(3)}}}, {x});
        QCOMPARE(ymax.shape(), (Shape{2, 3, 1, 1, 1}));
        QCOMPARE(ylp.shape(), (Shape{2, 3, 1, 1, 1}));
        for (int64_t p = 0; p < 6; ++p) {
            float best = -1e9f;
            double s = 0.0;
            for (int64_t i = 0; i < 8; ++i) {
                best = std::max(best, x.data()[p * 8 + i]);
                s += std::pow(std::fabs(x.data()[p * 8 + i]), 3.0);
            }
            QCOMPARE(ymax.data()[p], best);
            QVERIFY(std::abs(ylp.data()[p] - std::cbrt(s)) < 1e-5);
        }
    }
    void gradientsInOneAndThreeDimensions_data()
    {
        QTest::addColumn<int>("variant");
        QTest::newRow("MaxPool 3-D pads") << 0;
        QTest::newRow("MaxPool 1-D dilation ceil") << 1;
        QTest::newRow("AveragePool 3-D include pad") << 2;
        QTest::newRow("AveragePool 1-D ceil") << 3;
        QTest::newRow("LpPool p3 2-D") << 4;
        QTest::newRow("LpPool p2 1-D same_upper") << 5;
        QTest::newRow("GlobalMaxPool 3-D") << 6;
        QTest::newRow("GlobalLpPool") << 7;
        QTest::newRow("GlobalAveragePool 1-D") << 8;
        QTest::newRow("MaxPool 2-D same_lower") << 9;
    }
    void gradientsInOneAndThreeDimensions()
    {
        QFETCH(int, variant);
        setThreadCount(2);
        const char *ops[] = {"MaxPool", "MaxPool", "AveragePool", "AveragePool", "LpPool", "LpPool", "GlobalMaxPool", "GlobalLpPool", "GlobalAveragePool", "MaxPool"};
        Node n{"pool", ops[variant], {}, {}, {}};
        Shape xs;
        switch (variant) {
        case 0: n.attributes = {{"kernel_shape", V{2, 2, 3}}, {"strides", V{1, 2, 2}}, {"pads", V{1, 0, 1, 0, 1, 1}}}; xs = {1, 2, 3, 4, 5}; break;
        case 1: n.attributes = {{"kernel_shape", V{2}}, {"strides", V{2}}, {"dilations", V{2}}, {"ceil_mode", int64_t(1)}}; xs = {2, 3, 8}; break;
        case 2: n.attributes = {{"kernel_shape", V{2, 2, 2}}, {"strides", V{2, 1, 2}}, {"pads", V{1, 1, 0, 0, 1, 1}}, {"count_include_pad", int64_t(1)}}; xs = {1, 2, 3, 3, 4}; break;
        case 3: n.attributes = {{"kernel_shape", V{3}}, {"strides", V{2}}, {"pads", V{1, 0}}, {"ceil_mode", int64_t(1)}}; xs = {2, 2, 8}; break;
        case 4: n.attributes = {{"kernel_shape", V{2, 3}}, {"strides", V{1, 2}}, {"pads", V{0, 1, 1, 1}}, {"p", int64_t(3)}}; xs = {1, 2, 4, 5}; break;
        case 5: n.attributes = {{"kernel_shape", V{3}}, {"strides", V{2}}, {"auto_pad", std::string("SAME_UPPER")}}; xs = {2, 2, 7}; break;
        case 6: xs = {2, 2, 2, 3, 2}; break;
        case 7: n.attributes = {{"p", int64_t(3)}}; xs = {2, 2, 3, 3}; break;
        case 8: xs = {2, 3, 5}; break;
        default: n.attributes = {{"kernel_shape", V{3, 2}}, {"strides", V{2, 2}}, {"auto_pad", std::string("SAME_LOWER")}}; xs = {1, 2, 5, 5}; break;
        }
        NW_GRADCHECK(n, (std::vector<Tensor>{shuffled(xs, 30 + static_cast<uint64_t>(variant))}), (std::set<size_t>{0}));
    }
    void missingKernelShapeNamesTheNode()
    {
        try {
            runNode(Node{"pool3", "MaxPool", {}, {}, {}}, {ramp({1, 1, 4, 4, 4})});
            QFAIL("a MaxPool without kernel_shape was accepted");
        } catch (const Error &e) {
            const QString msg = QString::fromUtf8(e.what());
            QVERIFY2(msg.contains(QStringLiteral("\"pool3\" (MaxPool)")) && msg.contains(QStringLiteral("kernel_shape")), e.what());
        }
    }
    void gradients_data()
    {
        QTest::addColumn<QString>("op");
        QTest::addColumn<int>("variant");
        for (int v = 0; v < 3; ++v) {
            QTest::newRow(qPrintable(QStringLiteral("MaxPool %1").arg(v))) << "MaxPool" << v;
            if (v == 0) // 2×2 stride 2 over rows of 37: the vectorized loops' full and masked parts
                QTest::newRow("MaxPool wide") << "MaxPool" << 3;
            QTest::newRow(qPrintable(QStringLiteral("AveragePool %1").arg(v))) << "AveragePool" << v;
        }
        QTest::newRow("GlobalAveragePool") << "GlobalAveragePool" << 0;
    }
    void gradients()
    {
        QFETCH(QString, op);
        QFETCH(int, variant);
        setThreadCount(2);
        Node n{"pool", op.toStdString(), {}, {}, {}};
        if (op != "GlobalAveragePool") {
            n.attributes["kernel_shape"] = std::vector<int64_t>{variant == 1 ? 3 : 2, 2};
            n.attributes["strides"] = std::vector<int64_t>{variant == 2 ? 1 : 2, 2};
            if (variant == 1)
                n.attributes["pads"] = std::vector<int64_t>{1, 0, 1, 1};
            if (variant == 2) {
                n.attributes["ceil_mode"] = int64_t(1);
                n.attributes["dilations"] = std::vector<int64_t>{2, 1};
            }
        }
        Rng rng(8 + variant);
        // Distinct values so max positions are stable under a ±eps perturbation.
        Tensor x(variant == 3 ? Shape{1, 2, 5, 37} : Shape{2, 2, 5, 5});
        std::vector<float> v(static_cast<size_t>(x.numel()));
        for (size_t i = 0; i < v.size(); ++i)
            v[i] = static_cast<float>(i) * 0.1f;
        for (size_t i = v.size() - 1; i > 0; --i)
            std::swap(v[i], v[rng.below(i + 1)]);
        std::copy(v.begin(), v.end(), x.data());
        NW_GRADCHECK(n, (std::vector<Tensor>{x}), (std::set<size_t>{0}));
    }
};

QTEST_GUILESS_MAIN(PoolTest)
#include "pool_test.moc"
