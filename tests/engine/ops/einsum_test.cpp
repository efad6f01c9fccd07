// SPDX-License-Identifier: Apache-2.0
// Einsum: outputs against torch.einsum (the values below are its results for inputs
// x_t[i] = sin(0.7 i + 0.3 t + 0.1)) for batch matmul, attention, transpose, sums, inner/outer
// products, diagonals, ellipsis with broadcasting, three operands and implicit outputs; double
// input; gradients by finite differences on the GEMM path and the general loop; an error.
#include "engine/ops/gradcheck.h"

#include "core/error.h"
#include "core/parallel.h"
#include "ops/op.h"

#include <QTest>

#include <cmath>

using namespace netwright;
using namespace netwright::testing;

namespace {

struct Case {
    const char *equation;
    std::vector<Shape> inputs;
    Shape out;
    std::vector<float> want; // torch.einsum
};

// clang-format off
const Case kCases[] = {
{"bij,bjk->bik", {Shape{2,3,4}, Shape{2,4,5}}, {2,3,5}, {-0.3628461f, -0.3216518f, -0.1291796f, 0.1240478f, 0.3189335f, 0.5287009f, 0.5533996f, 0.3178259f, -0.06722638f, -0.420661f, -0.6334615f, -0.7211993f, -0.4697458f, 0.002636552f, 0.4737788f, 0.5476633f, 0.03509504f, -0.493979f, -0.790727f, -0.7155837f, -0.5814503f, -0.09339195f, 0.4385901f, 0.7642963f, 0.7305421f, 0.5480476f, 0.1408969f, -0.3325198f, -0.6495473f, -0.6610825f}},
{"ij->ji", {Shape{3,4}}, {4,3}, {0.09983341f, 0.2392493f, -0.5506855f, 0.7173561f, -0.4425204f, 0.1165492f, 0.997495f, -0.9161659f, 0.728969f, 0.8084964f, -0.9589243f, 0.9985433f}},
{"ij->i", {Shape{3,4}}, {3}, {2.623181f, -2.078362f, 1.293376f}},
{"i,i", {Shape{5}, Shape{5}}, {}, {2.119495f}},
{"i,j->ij", {Shape{3}, Shape{4}}, {3,4}, {0.03887696f, 0.08897227f, 0.09722254f, 0.05974751f, 0.2793516f, 0.639313f, 0.6985955f, 0.4293176f, 0.3884428f, 0.8889748f, 0.9714081f, 0.5969729f}},
{"ii->i", {Shape{4,4}}, {4}, {0.09983341f, -0.4425204f, 0.728969f, -0.9227754f}},
{"...ii->...i", {Shape{2,3,3}}, {2,3}, {0.09983341f, 0.2392493f, -0.5506855f, 0.1165492f, 0.2228899f, -0.5365729f}},
{"bhqd,bhkd->bhqk", {Shape{2,2,3,4}, Shape{2,2,5,4}}, {2,2,3,5}, {2.133461f, -2.163288f, 1.943136f, -1.498444f, 0.8805989f, -1.767305f, 1.998852f, -1.999421f, 1.768946f, -1.33406f, 1.196928f, -1.603438f, 1.824662f, -1.835037f, 1.633364f, 1.597248f, -1.266002f, 0.7884619f, -0.2198112f, -0.3742399f, -1.766979f, 1.676809f, -1.392876f, 0.9479877f, -0.393555f, 1.732525f, -1.893853f, 1.836335f, -1.56662f, 1.115873f, 1.216758f, -0.5836677f, -0.1168682f, 0.8038993f, -1.398036f, -1.756732f, 1.205359f, -0.5147011f, -0.2354338f, 0.9583631f, 2.093707f, -1.687765f, 1.086794f, -0.3602375f, -0.4079463f, -0.5569704f, 1.239191f, -1.778216f, 2.111759f, -2.201277f, -0.0794099f, -0.6156138f, 1.2395f, -1.720155f, 2.002038f, 0.7066138f, -0.07910046f, -0.5575534f, 1.129779f, -1.571453f}},
{"...ij,...jk", {Shape{2,1,3,4}, Shape{5,4,2}}, {2,5,3,2}, {-0.1241511f, -0.8406386f, 0.6685755f, 1.376574f, -1.135742f, -1.753439f, 0.6344045f, -0.1435956f, -0.3293011f, 0.6910629f, -0.01385492f, -1.158674f, 1.108196f, 0.6179029f, -1.179365f, -0.3046444f, 1.114252f, -0.04381746f, 1.084553f, 1.102044f, -1.500049f, -1.163607f, 1.742206f, 1.090708f, 0.5740894f, 1.091513f, -1.147409f, -1.500263f, 1.588139f, 1.735649f, 1.471668f, 1.927685f, -1.637535f, -1.879176f, 1.614176f, 1.613519f, 0.3554099f, 1.492395f, -0.6558954f, -1.653661f, 0.8805885f, 1.623838f, -0.9203808f, 0.3872159f, 0.620155f, -0.6858696f, -0.2482671f, 0.9052674f, -1.783042f, -0.8917716f, 1.617837f, 0.5897867f, -1.265684f, -0.2196488f, -1.845352f, -1.770471f, 1.889324f, 1.600707f, -1.714975f, -1.245972f}},
{"ij,jk,kl->il", {Shape{2,3}, Shape{3,4}, Shape{4,2}}, {2,2}, {-0.7031171f, -0.7941407f, 0.6874032f, 0.5033653f}},
{"bij,bjk", {Shape{2,3,4}, Shape{2,4,5}}, {3,5}, {0.1848172f, -0.2865568f, -0.6231586f, -0.6666793f, -0.3966502f, -0.05274936f, 0.4600077f, 0.756416f, 0.6970699f, 0.3098811f, -0.08541388f, -0.5803024f, -0.8022655f, -0.6469107f, -0.1873037f}},
{"ij,kj->ik", {Shape{3,4}, Shape{5,4}}, {3,5}, {2.133461f, -2.163288f, 1.943136f, -1.498444f, 0.8805989f, -1.767305f, 1.998852f, -1.999421f, 1.768946f, -1.33406f, 1.196928f, -1.603438f, 1.824662f, -1.835037f, 1.633364f}},
};
// clang-format on

Tensor sinTensor(const Shape &s, int t)
{
    Tensor x(s);
    for (int64_t i = 0; i < x.numel(); ++i)
        x.data()[i] = static_cast<float>(std::sin(0.7 * static_cast<double>(i) + 0.3 * t + 0.1));
    return x;
}

Node einsum(const char *equation)
{
    return Node{"e", "Einsum", {}, {}, {{"equation", std::string(equation)}}};
}

} // namespace

class EinsumTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { setThreadCount(2); }

    void againstTorch_data()
    {
        QTest::addColumn<int>("index");
        for (int i = 0; i < int(std::size(kCases)); ++i)
            QTest::newRow(kCases[i].equation) << i;
    }
    void againstTorch()
    {
        QFETCH(int, index);
        const Case &c = kCases[index];
        std::vector<Tensor> xs;
        for (size_t t = 0; t < c.inputs.size(); ++t)
            xs.push_back(sinTensor(c.inputs[t], static_cast<int>(t)));
        const Tensor y = runNode(einsum(c.equation), xs);
        QCOMPARE(y.shape(), c.out);
        for (size_t i = 0; i < c.want.size(); ++i)
            QVERIFY2(std::abs(y.data()[i] - c.want[i]) < 2e-5, qPrintable(QStringLiteral("element %1: %2 vs %3").arg(i).arg(y.data()[i]).arg(c.want[i])));
        std::set<size_t> wrt;
        for (size_t t = 0; t < xs.size(); ++t)
            wrt.insert(t);
        NW_GRADCHECK(einsum(c.equation), xs, wrt);
    }

    void doubleInput()
    {
        Tensor a(Shape{2, 2}, DType::Float64), b(Shape{2}, DType::Float64);
        const double av[] = {1.5, -2.0, 0.25, 4.0}, bv[] = {2.0, 3.0};
        std::copy(av, av + 4, a.dataAs<double>());
        std::copy(bv, bv + 2, b.dataAs<double>());
        Node n = einsum("ij,j->i");
        n.inputs = {"a", "b"};
        n.outputs = {"y"};
        const auto y = evaluateNode(n, {&a, &b});
        QCOMPARE(y[0].dtype(), DType::Float64);
        QCOMPARE(y[0].dataAs<double>()[0], 1.5 * 2.0 - 2.0 * 3.0);
        QCOMPARE(y[0].dataAs<double>()[1], 0.25 * 2.0 + 4.0 * 3.0);
    }

    void errorsNameTheNode()
    {
        try {
            runNode(einsum("ij,jk->ik"), {sinTensor({2, 3}, 0), sinTensor({4, 2}, 1)});
            QFAIL("mismatched label sizes were accepted");
        } catch (const Error &e) {
            QVERIFY2(QString(e.what()).contains("\"e\"") && QString(e.what()).contains("sizes differ"), e.what());
        }
        QVERIFY_THROWS_EXCEPTION(Error, runNode(einsum("ij->k"), {sinTensor({2, 3}, 0)}));
    }
};

QTEST_GUILESS_MAIN(EinsumTest)
#include "einsum_test.moc"
