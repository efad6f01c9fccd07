// SPDX-License-Identifier: Apache-2.0
// Resize (with Upsample's meaning too) and MaxUnpool: nearest / linear (1-D, 2-D, 3-D, half_pixel and align_corners)
// against PyTorch's interpolate, cubic and tf_crop_and_resize against hand values, gradients by
// finite differences for every mode, and an error that names the node.
#include "engine/ops/gradcheck.h"
#include "engine/ops/op_test_util.h"

#include "core/error.h"
#include "core/parallel.h"

#include <QTest>

#include <cmath>

using namespace netwright;
using namespace netwright::testing;

namespace {

Node resize(std::map<std::string, Attribute> attrs)
{
    return Node{"resize", "Resize", {}, {}, std::move(attrs)};
}

Tensor sizes(const std::vector<int64_t> &v)
{
    return Tensor::fromInt64({static_cast<int64_t>(v.size())}, v);
}

Tensor scales(const std::vector<float> &v)
{
    return Tensor::fromVector({static_cast<int64_t>(v.size())}, v);
}

// torch.nn.functional.interpolate (float64) on wave(x, 1):
// x [1,2,3,4], size (5,7), mode nearest (= asymmetric coordinates, floor)
const std::vector<float> kNearest{0.841471, 0.841471, 0.979908, 0.979908, 0.9857192, 0.9857192, 0.8581178, 0.841471, 0.841471, 0.979908, 0.979908, 0.9857192, 0.9857192, 0.8581178, 0.6143743, 0.6143743, 0.287478, 0.287478, -0.07832703, -0.07832703, -0.4335309, 0.6143743, 0.6143743, 0.287478, 0.287478, -0.07832703, -0.07832703, -0.4335309, -0.7300584, -0.7300584, -0.9277759, -0.9277759, -0.9999232, -0.9999232, -0.9367357, -0.7467654, -0.7467654, -0.4557239, -0.4557239, -0.1030023, -0.1030023, 0.2636602, -0.7467654, -0.7467654, -0.4557239, -0.4557239, -0.1030023, -0.1030023, 0.2636602, 0.5946375, 0.5946375, 0.8451334, 0.8451334, 0.9812445, 0.9812445, 0.9845487, 0.5946375, 0.5946375, 0.8451334, 0.8451334, 0.9812445, 0.9812445, 0.9845487, 0.8545989, 0.8545989, 0.6089832, 0.6089832, 0.2809443, 0.2809443, -0.08511892}; // shape [1, 2, 5, 7]
// x [1,2,5], size 8, linear, align_corners False (= half_pixel) / True
const std::vector<float> kLinear1dHalf{0.841471, 0.9020372, 0.9802712, 0.9839032, 0.9458438, 0.8660929, 0.7210121, 0.6143743, 0.287478, 0.1274383, -0.1005273, -0.3225297, -0.5261957, -0.7115254, -0.8412745, -0.9277759}; // shape [1, 2, 8]
const std::vector<float> kLinear1dCorners{0.841471, 0.9205779, 0.9807382, 0.9840589, 0.9492617, 0.8763466, 0.7536563, 0.6143743, 0.287478, 0.07844655, -0.1290704, -0.3320441, -0.518253, -0.6876973, -0.8147944, -0.9277759}; // shape [1, 2, 8]
// x [2,1,3,4], bilinear, align_corners False, size (7,6) / (2,3)
const std::vector<float> kBilinear{0.841471, 0.9106895, 0.9808766, 0.9847507, 0.9219185, 0.8581178, 0.8090286, 0.845009, 0.87311, 0.8415921, 0.7536546, 0.6735966, 0.7117014, 0.6479676, 0.5498102, 0.4121163, 0.2488628, 0.1200328, 0.6143743, 0.4509261, 0.2265105, -0.01735952, -0.255929, -0.4335309, 0.03818886, -0.09757811, -0.273337, -0.4333049, -0.5612435, -0.6491901, -0.5379966, -0.6460824, -0.7731846, -0.8492502, -0.866558, -0.8648493, -0.7300584, -0.8289171, -0.9398004, -0.9878987, -0.9683295, -0.9367357, -0.7467654, -0.6012447, -0.396937, -0.1617892, 0.08032895, 0.2636602, -0.5551364, -0.4125118, -0.2162576, -0.001739443, 0.2092672, 0.3666443, 0.01975054, 0.1536868, 0.3257805, 0.4784099, 0.5960819, 0.6755965, 0.5946375, 0.7198855, 0.8678186, 0.9585593, 0.9828966, 0.9845487, 0.7060495, 0.7249878, 0.7334578, 0.6915842, 0.6036178, 0.5261197, 0.8174615, 0.7300902, 0.599097, 0.4246092, 0.224339, 0.06769075, 0.8545989, 0.731791, 0.55431, 0.3356175, 0.09791271, -0.08511892}; // shape [2, 1, 7, 6]
const std::vector<float> kBilinearDown{0.7883807, 0.7632541, 0.565956, -0.4322856, -0.6967433, -0.8040328, -0.3645972, 0.01877491, 0.3979118, 0.7693439, 0.5620201, 0.2279182}; // shape [2, 1, 2, 3]
// x [1,1,2,3,4], size (3,5,6), trilinear, align_corners True
const std::vector<float> kTrilinear{0.841471, 0.9245332, 0.9810703, 0.984557, 0.9346786, 0.8581178, 0.7279226, 0.6713849, 0.5976936, 0.4896955, 0.357135, 0.2122935, 0.6143743, 0.4182365, 0.214317, -0.005166024, -0.2204086, -0.4335309, -0.05784205, -0.2152262, -0.3639442, -0.4953299, -0.5975284, -0.6851333, -0.7300584, -0.8486889, -0.9422053, -0.9854938, -0.9746482, -0.9367357, 0.04735276, 0.1761963, 0.2979453, 0.4055052, 0.4891707, 0.560889, 0.3259293, 0.3788911, 0.4206408, 0.4399667, 0.4351247, 0.418199, 0.6045059, 0.5815858, 0.5433363, 0.4744281, 0.3810788, 0.2755089, 0.3333881, 0.255428, 0.1719607, 0.07747865, -0.01949289, -0.1177092, 0.06227025, -0.07072971, -0.199415, -0.3194708, -0.4200646, -0.5109273, -0.7467654, -0.5721405, -0.3851796, -0.1735466, 0.0436627, 0.2636602, -0.07606396, 0.08639727, 0.243588, 0.3902378, 0.5131144, 0.6241045, 0.5946375, 0.7449351, 0.8723556, 0.9540223, 0.9825662, 0.9845487, 0.7246182, 0.7260823, 0.7078655, 0.6502872, 0.5585426, 0.4497149, 0.8545989, 0.7072294, 0.5433754, 0.3465521, 0.134519, -0.08511892}; // shape [1, 1, 3, 5, 6]

} // namespace

class ResizeTest : public QObject {
    Q_OBJECT
private slots:
    void matchesPyTorch()
    {
        setThreadCount(2);
        const Node nearest = resize({{"mode", std::string("nearest")}, {"coordinate_transformation_mode", std::string("asymmetric")},
                                     {"nearest_mode", std::string("floor")}});
        const Tensor yn = runNode(nearest, {wave({1, 2, 3, 4}, 1), Tensor(), Tensor(), sizes({1, 2, 5, 7})});
        QCOMPARE(yn.shape(), (Shape{1, 2, 5, 7}));
        QVERIFY2(maxAbsDiff(yn, Tensor::fromVector(yn.shape(), kNearest)) < 1e-6, "nearest");
        const Node half = resize({{"mode", std::string("linear")}});
        const Node corners = resize({{"mode", std::string("linear")}, {"coordinate_transformation_mode", std::string("align_corners")}});
        const Tensor x1 = wave({1, 2, 5}, 1);
        const Tensor l1 = runNode(half, {x1, Tensor(), Tensor(), sizes({1, 2, 8})});
        QVERIFY2(maxAbsDiff(l1, Tensor::fromVector({1, 2, 8}, kLinear1dHalf)) < 1e-6, "linear half_pixel");
        const Tensor l1c = runNode(corners, {x1, Tensor(), Tensor(), sizes({1, 2, 8})});
        QVERIFY2(maxAbsDiff(l1c, Tensor::fromVector({1, 2, 8}, kLinear1dCorners)) < 1e-6, "linear align_corners");
        const Tensor x2 = wave({2, 1, 3, 4}, 1);
        const Tensor b = runNode(half, {x2, Tensor(), Tensor(), sizes({2, 1, 7, 6})});
        QVERIFY2(maxAbsDiff(b, Tensor::fromVector({2, 1, 7, 6}, kBilinear)) < 1e-6, "bilinear");
        const Tensor bd = runNode(half, {x2, Tensor(), Tensor(), sizes({2, 1, 2, 3})});
        QVERIFY2(maxAbsDiff(bd, Tensor::fromVector({2, 1, 2, 3}, kBilinearDown)) < 1e-6, "bilinear down");
        const Tensor t = runNode(corners, {wave({1, 1, 2, 3, 4}, 1), Tensor(), Tensor(), sizes({1, 1, 3, 5, 6})});
        QVERIFY2(maxAbsDiff(t, Tensor::fromVector({1, 1, 3, 5, 6}, kTrilinear)) < 1e-6, "trilinear");
    }

    void nearestModesScalesAndUpsample()
    {
        const Tensor x = Tensor::fromVector({1, 4}, {10, 20, 30, 40});
        // scales 1.5 → 6 outputs; half_pixel coordinates (o + 0.5)/1.5 − 0.5 = −1/6, 1/2, 7/6, 11/6, 5/2, 19/6.
        const std::map<std::string, std::vector<float>> want{{"round_prefer_floor", {10, 10, 20, 30, 30, 40}},
                                                             {"round_prefer_ceil", {10, 20, 20, 30, 40, 40}},
                                                             {"floor", {10, 10, 20, 20, 30, 40}},
                                                             {"ceil", {10, 20, 30, 30, 40, 40}}};
        for (const auto &[mode, values] : want) {
            const Tensor y = runNode(resize({{"nearest_mode", mode}}), {x, Tensor(), scales({1.0f, 1.5f})});
            QCOMPARE(y.shape(), (Shape{1, 6}));
            for (size_t i = 0; i < values.size(); ++i)
                QCOMPARE(y.data()[i], values[i]);
        }
        // Upsample's meaning, which the ONNX importer gives an Upsample node: asymmetric, floor.
        const Tensor u = runNode(resize({{"coordinate_transformation_mode", std::string("asymmetric")}, {"nearest_mode", std::string("floor")}}),
                                 {x, Tensor(), scales({1.0f, 1.5f})});
        const std::vector<float> wantUp{10, 10, 20, 30, 30, 40};
        for (size_t i = 0; i < wantUp.size(); ++i)
            QCOMPARE(u.data()[i], wantUp[i]);
    }

    void cubicAndCropAndResize()
    {
        // Cubic on a line reproduces the line (the kernel's weights sum to 1 and it is exact on
        // linear functions) away from the edges; asymmetric ×2 at o = 3 samples x = 1.5.
        Tensor line({1, 8});
        for (int i = 0; i < 8; ++i)
            line.data()[i] = 2.0f * static_cast<float>(i) + 1.0f;
        const Tensor c = runNode(resize({{"mode", std::string("cubic")}, {"coordinate_transformation_mode", std::string("asymmetric")}}),
                                 {line, Tensor(), scales({1.0f, 2.0f})});
        QCOMPARE(c.shape(), (Shape{1, 16}));
        for (int o = 2; o < 11; ++o)
            QVERIFY2(std::abs(c.data()[o] - (static_cast<float>(o) + 1.0f)) < 1e-5, qPrintable(QString::number(o)));
        // tf_crop_and_resize: roi [0.5, 1.5] of a 3-wide line, 3 outputs at x = 1, 2, 3 (3 is outside).
        const Tensor x = Tensor::fromVector({1, 3}, {0, 10, 20});
        const Tensor crop = runNode(resize({{"mode", std::string("linear")}, {"coordinate_transformation_mode", std::string("tf_crop_and_resize")},
                                            {"extrapolation_value", -1.0f}}),
                                    {x, Tensor::fromVector({4}, {0.0f, 0.5f, 1.0f, 1.5f}), Tensor(), sizes({1, 3})});
        const std::vector<float> want{10, 20, -1};
        for (size_t i = 0; i < 3; ++i)
            QCOMPARE(crop.data()[i], want[i]);
    }

    void gradients_data()
    {
        QTest::addColumn<int>("variant");
        QTest::newRow("nearest 2-D up") << 0;
        QTest::newRow("linear 2-D down") << 1;
        QTest::newRow("linear 3-D align_corners") << 2;
        QTest::newRow("cubic 2-D exclude_outside") << 3;
        QTest::newRow("nearest 1-D down scales") << 4;
        QTest::newRow("MaxUnpool output_shape") << 5;
    }
    void gradients()
    {
        QFETCH(int, variant);
        setThreadCount(2);
        Rng rng(50 + variant);
        Node n;
        std::vector<Tensor> in;
        switch (variant) {
        case 0: n = resize({}); in = {randomTensor({2, 2, 3, 3}, rng), Tensor(), Tensor(), sizes({2, 2, 7, 5})}; break;
        case 1: n = resize({{"mode", std::string("linear")}}); in = {randomTensor({1, 2, 6, 7}, rng), Tensor(), Tensor(), sizes({1, 2, 4, 3})}; break;
        case 2:
            n = resize({{"mode", std::string("linear")}, {"coordinate_transformation_mode", std::string("align_corners")}});
            in = {randomTensor({1, 1, 2, 3, 3}, rng), Tensor(), Tensor(), sizes({1, 1, 3, 4, 5})};
            break;
        case 3:
            n = resize({{"mode", std::string("cubic")}, {"exclude_outside", int64_t(1)}, {"cubic_coeff_a", -0.5f}});
            in = {randomTensor({1, 2, 4, 4}, rng), Tensor(), scales({1.0f, 1.0f, 1.5f, 0.75f})};
            break;
        case 4: n = resize({}); in = {randomTensor({2, 9}, rng), Tensor(), scales({1.0f, 0.5f})}; break;
        default:
            n = Node{"unpool", "MaxUnpool", {}, {}, {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}}};
            in = {randomTensor({1, 2, 2, 2}, rng), Tensor::fromInt64({1, 2, 2, 2}, {0, 3, 9, 14, 17, 18, 24, 31}), sizes({1, 2, 5, 5})};
            break;
        }
        NW_GRADCHECK(n, in, (std::set<size_t>{0}));
    }

    void maxUnpoolPlacesValues()
    {
        // Indices point into the 4x4 pooled input; output_shape 5x5 keeps their coordinates.
        const Tensor x = Tensor::fromVector({1, 1, 2, 2}, {5, 6, 7, 8});
        const Tensor idx = Tensor::fromInt64({1, 1, 2, 2}, {5, 7, 13, 15});
        Node n{"unpool", "MaxUnpool", {}, {}, {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}}};
        const Tensor y4 = runNode(n, {x, idx});
        QCOMPARE(y4.shape(), (Shape{1, 1, 4, 4}));
        QCOMPARE(y4.data()[13], 7.0f);
        const Tensor y5 = runNode(n, {x, idx, sizes({1, 1, 5, 5})});
        QCOMPARE(y5.shape(), (Shape{1, 1, 5, 5}));
        QCOMPARE(y5.data()[6], 5.0f);
        QCOMPARE(y5.data()[18], 8.0f);
        QCOMPARE(y5.data()[5], 0.0f);
    }

    void scalesAndSizesTogetherNameTheNode()
    {
        try {
            runNode(resize({}), {wave({1, 4}, 1), Tensor(), scales({1.0f, 2.0f}), sizes({1, 8})});
            QFAIL("scales and sizes together were accepted");
        } catch (const Error &e) {
            const QString msg = QString::fromUtf8(e.what());
            QVERIFY2(msg.contains(QStringLiteral("\"resize\" (Resize)")) && msg.contains(QStringLiteral("scales and sizes")), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(ResizeTest)
#include "resize_test.moc"
