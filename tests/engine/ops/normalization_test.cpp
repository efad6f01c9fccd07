// SPDX-License-Identifier: Apache-2.0
// LayerNormalization, InstanceNormalization, GroupNormalization, LpNormalization,
// MeanVarianceNormalization and LRN: values against PyTorch (torch.nn.functional, float64, on
// x_i = s·sin(a·i + b) as seq() below builds them) or the formulas, the optional outputs,
// gradients to every differentiable input by finite differences, and errors naming the node.
#include "engine/ops/gradcheck.h"

#include "core/error.h"
#include "core/parallel.h"
#include "ops/op.h"

#include <QTest>

#include <cmath>

using namespace netwright;
using namespace netwright::testing;

namespace {

// layer_norm(seq([2,3,4]), (3,4), w, b) with w = 1 + seq([3,4], 0.5, 0.3, 1), b = seq([3,4], 0.9, 0.2, 0.5);
// on x = seq([2,6,2,2]) with w = 1 + seq([6], 0.5, 0.3, 1), b = seq([6], 0.9, 0.2, 0.5):
// group_norm(x, 3, w, b), instance_norm(x, w, b), local_response_norm(x, 3, alpha=0.1,
// beta=0.75, k=2), normalize(x, p=2, dim=1), normalize(x, p=1, dim=1).
const std::vector<float> kLayerNormAxis1{-0.34383332f, 0.86935822f, 1.8946113f, 2.1958166f, 1.7176224f, 0.88942556f, 0.28459343f, 0.19266041f, 0.41811326f, 0.44731592f, -0.14502547f, -1.3496137f, -1.7502431f, -1.9957719f, -1.9831543f, -1.6802158f, -1.1389301f, -0.49507293f, 0.076502387f, 0.43595164f, 0.54103585f, 0.45559144f, 0.29233163f, 0.12528164f};
const std::vector<float> kGroupNorm{-2.4130177f, -0.84722648f, 0.44671655f, 1.2936822f, 2.4071147f, 1.9897113f, 0.83312761f, -0.90609816f, 4.482826f, 2.4226596f, 0.57922313f, -0.79798293f, -1.8679452f, -1.8416887f, -1.0643552f, 0.35884691f, -3.7911228f, -2.2711244f, -0.81092567f, 0.39184243f, 0.63207909f, 0.8281662f, 0.59536495f, -0.03481612f, 2.5542506f, 1.6244899f, 0.66828781f, -0.18493816f, -0.77268939f, -1.2106718f, -1.1858999f, -0.70172651f, -3.0540542f, -1.8935809f, -0.61337601f, 0.61329063f, 1.2914802f, 1.946129f, 2.1544406f, 1.888221f, 2.629847f, 1.7860963f, 0.78025346f, -0.25154537f, -1.1604734f, -1.6806035f, -1.9483662f, -1.9275212f};
const std::vector<float> kInstanceNorm{-1.7824383f, -0.33316042f, 0.86449797f, 1.6484394f, 2.2193289f, 1.6610524f, 0.11412298f, -2.2120895f, 3.2355487f, 1.1975472f, -0.62605606f, -1.988445f, -1.5486969f, -1.4913734f, 0.20570946f, 3.3128595f, -2.7220616f, -1.0302732f, 0.59495707f, 1.9336619f, 0.02261148f, 0.83022026f, -0.1286002f, -2.724078f, 1.8529581f, 0.67889802f, -0.52855103f, -1.6059665f, 1.8886871f, -1.3516143f, -1.1683459f, 2.4136879f, -2.1432221f, -0.48413905f, 1.3461195f, 3.0998366f, -3.1318532f, 0.89506003f, 2.1764384f, 0.53885342f, 1.9467189f, 0.58294275f, -1.0428271f, -2.7105503f, 1.6812542f, -0.50569011f, -1.631528f, -1.5438826f};
const std::vector<float> kLrn{0.11306047f, 0.51149605f, 0.8401248f, 1.0568087f, 1.132091f, 1.0452356f, 0.81199339f, 0.47669425f, 0.088327665f, -0.30922689f, -0.67371137f, -0.95811775f, -1.1138784f, -1.1081761f, -0.9423018f, -0.65084443f, -0.28268227f, 0.11556336f, 0.50176656f, 0.83170167f, 1.0653904f, 1.1322808f, 1.0462669f, 0.82086739f, 0.48921675f, 0.084731413f, -0.32898383f, -0.69653795f, -0.96228805f, -1.1152882f, -1.106505f, -0.93792686f, -0.64460454f, -0.27548605f, 0.12291324f, 0.50849702f, 0.83694295f, 1.0590529f, 1.1318215f, 1.0390182f, 0.80114467f, 0.46304334f, 0.073591875f, -0.32350889f, -0.70837935f, -0.98171987f, -1.1198372f, -1.1055242f};
const std::vector<float> kLpNorm{0.05827732f, 0.25633331f, 0.41337981f, 0.51977637f, 0.5837209f, 0.52579054f, 0.40648961f, 0.24243913f, 0.047576524f, -0.16098475f, -0.33966566f, -0.47581167f, -0.57509322f, -0.55498403f, -0.46808569f, -0.32872436f, -0.1518658f, 0.060342143f, 0.25478148f, 0.41619972f, 0.54755338f, 0.56592667f, 0.51428859f, 0.40419937f, 0.25962008f, 0.044235299f, -0.1669991f, -0.34504703f, -0.51891479f, -0.58400923f, -0.56202273f, -0.46930111f, -0.35372177f, -0.15014143f, 0.065080074f, 0.25994244f, 0.45476973f, 0.5567821f, 0.57382457f, 0.51643992f, 0.43619119f, 0.2511101f, 0.038979137f, -0.16628955f, -0.3756694f, -0.51124497f, -0.56675596f, -0.54659541f};
const std::vector<float> kL1Norm{0.029671453f, 0.1206637f, 0.1724794f, 0.21773924f, 0.29719705f, 0.24750521f, 0.16960453f, 0.10156005f, 0.024223225f, -0.075780301f, -0.14172277f, -0.19932201f, -0.29280433f, -0.26124746f, -0.19530499f, -0.13770575f, -0.077321313f, 0.028404838f, 0.10630553f, 0.17435f, 0.27878263f, 0.26639849f, 0.21458278f, 0.16932294f, 0.10822522f, 0.021089302f, -0.084613849f, -0.149785f, -0.21631481f, -0.27842803f, -0.28476145f, -0.20372372f, -0.14745245f, -0.071580345f, 0.032974282f, 0.11284107f, 0.18957531f, 0.26544742f, 0.29074111f, 0.22418669f, 0.18183066f, 0.11971744f, 0.019749656f, -0.072186332f, -0.15660154f, -0.24373747f, -0.28715965f, -0.23727719f};

Tensor seq(const Shape &shape, double a = 0.37, double b = 0.1, double s = 2.0, double offset = 0.0)
{
    Tensor t(shape);
    for (int64_t i = 0; i < t.numel(); ++i)
        t.data()[i] = static_cast<float>(std::sin(a * static_cast<double>(i) + b) * s + offset);
    return t;
}

void expectNear(const Tensor &y, const std::vector<float> &want, double tol)
{
    QCOMPARE(y.numel(), static_cast<int64_t>(want.size()));
    for (int64_t i = 0; i < y.numel(); ++i)
        QVERIFY2(std::abs(y.data()[i] - want[i]) < tol * std::max(1.0, std::abs(static_cast<double>(want[i]))),
                 qPrintable(QStringLiteral("element %1: %2, want %3").arg(i).arg(y.data()[i]).arg(want[i])));
}

void expectErrorNaming(const Node &n, const std::vector<Tensor> &in, const char *text)
{
    try {
        runNode(n, in);
        QFAIL("accepted");
    } catch (const Error &e) {
        const QString what = QString::fromUtf8(e.what());
        QVERIFY2(what.contains(QString::fromStdString("\"" + n.name + "\"")) && what.contains(QString::fromUtf8(text)), e.what());
    }
}

} // namespace

class NormalizationTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { setThreadCount(2); }

    void layerNormMatchesPyTorchWithStatistics()
    {
        Node n{"ln", "LayerNormalization", {}, {"y", "mean", "inv"}, {{"axis", int64_t(1)}}};
        const Tensor x = seq({2, 3, 4}), w = seq({3, 4}, 0.5, 0.3, 1.0, 1.0), b = seq({3, 4}, 0.9, 0.2, 0.5);
        const std::vector<Tensor> out = evaluateNode(n, {&x, &w, &b});
        expectNear(out[0], kLayerNormAxis1, 2e-5);
        QCOMPARE(out[1].shape(), (Shape{2, 1, 1}));
        QCOMPARE(out[2].shape(), (Shape{2, 1, 1}));
        for (int r = 0; r < 2; ++r) {
            double s = 0, ss = 0;
            for (int k = 0; k < 12; ++k)
                s += x.data()[r * 12 + k];
            const double m = s / 12;
            for (int k = 0; k < 12; ++k)
                ss += (x.data()[r * 12 + k] - m) * (x.data()[r * 12 + k] - m);
            QVERIFY(std::abs(out[1].data()[r] - m) < 1e-6);
            QVERIFY(std::abs(out[2].data()[r] - 1.0 / std::sqrt(ss / 12 + 1e-5)) < 1e-4);
        }
    }

    void layerNormGradients_data()
    {
        QTest::addColumn<int>("axis");
        QTest::addColumn<QString>("scaleShape");
        QTest::addColumn<bool>("withBias");
        QTest::newRow("last axis") << -1 << "5" << true;
        QTest::newRow("axis 1") << 1 << "4,5" << true;
        QTest::newRow("axis 1, broadcast scale") << 1 << "1,5" << true;
        QTest::newRow("no bias") << -1 << "5" << false;
    }
    void layerNormGradients()
    {
        QFETCH(int, axis);
        QFETCH(QString, scaleShape);
        QFETCH(bool, withBias);
        Shape ps;
        for (const auto &p : scaleShape.split(','))
            ps.push_back(p.toLongLong());
        Rng rng(21);
        Node n{"ln", "LayerNormalization", {}, {}, {{"axis", int64_t(axis)}}};
        const std::vector<Tensor> in{randomTensor({3, 4, 5}, rng, -2, 2), randomTensor(ps, rng, 0.5f, 1.5f),
                                     withBias ? randomTensor(ps, rng) : Tensor()};
        NW_GRADCHECK(n, in, (withBias ? std::set<size_t>{0, 1, 2} : std::set<size_t>{0, 1}));
    }

    void layerNormLongRowsInParallel()
    {
        // The transformer shape: 96 rows of 256, each row normalised to mean 0, variance 1.
        Rng rng(8);
        const Tensor x = randomTensor({96, 256}, rng, -3, 5);
        const Tensor y = runNode(Node{"ln", "LayerNormalization", {}, {}, {}}, {x, Tensor::full({256}, 1.0f), Tensor::zeros({256})});
        for (int r = 0; r < 96; ++r) {
            double s = 0, ss = 0;
            for (int k = 0; k < 256; ++k) {
                s += y.data()[r * 256 + k];
                ss += y.data()[r * 256 + k] * y.data()[r * 256 + k];
            }
            QVERIFY(std::abs(s / 256) < 1e-5);
            QVERIFY(std::abs(ss / 256 - 1) < 1e-3);
        }
    }

    void groupNormMatchesPyTorch()
    {
        const Tensor x = seq({2, 6, 2, 2}), w = seq({6}, 0.5, 0.3, 1.0, 1.0), b = seq({6}, 0.9, 0.2, 0.5);
        expectNear(runNode(Node{"gn", "GroupNormalization", {}, {}, {{"num_groups", int64_t(3)}}}, {x, w, b}), kGroupNorm, 2e-5);
        // Opset 18's per-group scale and bias: the same as per-channel values repeated.
        const Tensor wg = Tensor::fromVector({3}, {0.5f, 1.5f, -1.0f}), bg = Tensor::fromVector({3}, {0.1f, 0.0f, 2.0f});
        Tensor wc({6}), bc({6});
        for (int c = 0; c < 6; ++c) {
            wc.data()[c] = wg.data()[c / 2];
            bc.data()[c] = bg.data()[c / 2];
        }
        const Node gn{"gn", "GroupNormalization", {}, {}, {{"num_groups", int64_t(3)}}};
        QVERIFY(maxAbsDiff(runNode(gn, {x, wg, bg}), runNode(gn, {x, wc, bc})) < 1e-6);
    }

    void instanceNormMatchesPyTorch()
    {
        const Tensor x = seq({2, 6, 2, 2}), w = seq({6}, 0.5, 0.3, 1.0, 1.0), b = seq({6}, 0.9, 0.2, 0.5);
        expectNear(runNode(Node{"in", "InstanceNormalization", {}, {}, {}}, {x, w, b}), kInstanceNorm, 2e-5);
    }

    void groupedGradients_data()
    {
        QTest::addColumn<QString>("op");
        QTest::addColumn<int>("params");
        QTest::newRow("InstanceNormalization") << "InstanceNormalization" << 4;
        QTest::newRow("GroupNormalization per channel") << "GroupNormalization" << 4;
        QTest::newRow("GroupNormalization per group") << "GroupNormalization" << 2;
    }
    void groupedGradients()
    {
        QFETCH(QString, op);
        QFETCH(int, params);
        Rng rng(5);
        Node n{"norm", op.toStdString(), {}, {}, {}};
        if (op == "GroupNormalization")
            n.attributes["num_groups"] = int64_t(2);
        const std::vector<Tensor> in{randomTensor({2, 4, 3}, rng, -2, 2), randomTensor({params}, rng, 0.5f, 1.5f), randomTensor({params}, rng)};
        NW_GRADCHECK(n, in, (std::set<size_t>{0, 1, 2}));
    }

    void lrnMatchesPyTorchAndDifferentiates()
    {
        Node n{"lrn", "LRN", {}, {}, {{"size", int64_t(3)}, {"alpha", 0.1f}, {"beta", 0.75f}, {"bias", 2.0f}}};
        expectNear(runNode(n, {seq({2, 6, 2, 2})}), kLrn, 2e-5);
        Rng rng(9);
        NW_GRADCHECK(n, (std::vector<Tensor>{randomTensor({2, 5, 3}, rng, -2, 2)}), (std::set<size_t>{0}));
        Node even{"lrn", "LRN", {}, {}, {{"size", int64_t(4)}, {"alpha", 0.5f}}}; // window one longer above than below
        NW_GRADCHECK(even, (std::vector<Tensor>{randomTensor({1, 6, 2, 2}, rng, -2, 2)}), (std::set<size_t>{0}));
    }

    void lpNormMatchesPyTorchAndDifferentiates()
    {
        const Tensor x = seq({2, 6, 2, 2});
        expectNear(runNode(Node{"lp", "LpNormalization", {}, {}, {{"axis", int64_t(1)}}}, {x}), kLpNorm, 2e-6);
        expectNear(runNode(Node{"lp", "LpNormalization", {}, {}, {{"axis", int64_t(1)}, {"p", int64_t(1)}}}, {x}), kL1Norm, 2e-6);
        Rng rng(4);
        for (int64_t p : {1, 2})
            for (int64_t axis : {-1, 1})
                NW_GRADCHECK((Node{"lp", "LpNormalization", {}, {}, {{"axis", axis}, {"p", p}}}),
                             (std::vector<Tensor>{randomTensor({2, 3, 4}, rng, 0.2f, 2.0f)}), (std::set<size_t>{0}));
        // A zero vector stays zero (no 0/0).
        const Tensor z = runNode(Node{"lp", "LpNormalization", {}, {}, {}}, {Tensor::zeros({2, 3})});
        for (int i = 0; i < 6; ++i)
            QCOMPARE(z.data()[i], 0.0f);
    }

    void meanVarianceNormalization()
    {
        // Default axes [0, 2, 3]: per channel over batch and space, (x − mean)/(std + 1e−9).
        const Tensor x = seq({2, 3, 2, 2});
        const Tensor y = runNode(Node{"mvn", "MeanVarianceNormalization", {}, {}, {}}, {x});
        for (int c = 0; c < 3; ++c) {
            double s = 0, ss = 0;
            for (int n = 0; n < 2; ++n)
                for (int i = 0; i < 4; ++i)
                    s += x.data()[(n * 3 + c) * 4 + i];
            const double m = s / 8;
            for (int n = 0; n < 2; ++n)
                for (int i = 0; i < 4; ++i)
                    ss += std::pow(x.data()[(n * 3 + c) * 4 + i] - m, 2);
            const double sd = std::sqrt(ss / 8);
            for (int n = 0; n < 2; ++n)
                for (int i = 0; i < 4; ++i) {
                    const int64_t k = (n * 3 + c) * 4 + i;
                    QVERIFY(std::abs(y.data()[k] - (x.data()[k] - m) / (sd + 1e-9)) < 1e-5);
                }
        }
        Rng rng(12);
        NW_GRADCHECK((Node{"mvn", "MeanVarianceNormalization", {}, {}, {}}), (std::vector<Tensor>{randomTensor({2, 3, 2, 2}, rng, -2, 2)}),
                     (std::set<size_t>{0}));
        NW_GRADCHECK((Node{"mvn", "MeanVarianceNormalization", {}, {}, {{"axes", std::vector<int64_t>{-1}}}}),
                     (std::vector<Tensor>{randomTensor({3, 5}, rng, -2, 2)}), (std::set<size_t>{0}));
    }

    void errorsNameTheNode()
    {
        expectErrorNaming(Node{"gn3", "GroupNormalization", {}, {}, {{"num_groups", int64_t(4)}}},
                          {Tensor::full({1, 6, 2}, 1.0f), Tensor::full({6}, 1.0f), Tensor::zeros({6})}, "num_groups 4");
        expectErrorNaming(Node{"ln2", "LayerNormalization", {}, {}, {}}, {Tensor::full({2, 3}, 1.0f), Tensor::full({4}, 1.0f)}, "Scale");
        expectErrorNaming(Node{"lp2", "LpNormalization", {}, {}, {{"p", int64_t(3)}}}, {Tensor::full({2, 3}, 1.0f)}, "p must be 1 or 2");
        expectErrorNaming(Node{"lrn2", "LRN", {}, {}, {}}, {Tensor::full({1, 3, 2}, 1.0f)}, "size");
    }
};

QTEST_GUILESS_MAIN(NormalizationTest)
#include "normalization_test.moc"
