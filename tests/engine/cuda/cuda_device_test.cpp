// SPDX-License-Identifier: Apache-2.0
// The CUDA device layer against the CPU reference: cuBLAS GEMM for every transA/transB against
// the engine's Gemm, ReLU forward and backward, bias add and its gradient, the mean softmax
// cross-entropy and its gradient against the engine's SoftmaxCrossEntropyLoss, and the SGD update
// (momentum, Nesterov, weight decay) and Adam/AdamW against the engine's optimizers, Dropout's
// mask bit for bit against the CPU's (the same hash of the global position); cuDNN convolution (strides,
// pads, dilations, groups) against the engine's Conv with its data and filter gradients against
// their definitions, the channel bias, and max and average pooling forward and backward — all
// within 1e-4.
// Without a GPU the test says why and exits 77, which ctest reports as "Skipped" — never passed.
#include "cuda/cuda_device.h"
#include "cuda/cudnn_ops.h"
#include "engine/ops/gradcheck.h"

#include "core/error.h"
#include "ops/dropout_mask.h"
#include "optim/optimizer.h"

#include <QTest>

#include <cstdio>

using namespace netwright;
using namespace netwright::testing;

namespace {

std::vector<float> values(const Tensor &t)
{
    return std::vector<float>(t.data(), t.data() + t.numel());
}

cuda::DeviceBuffer onDevice(const Tensor &t)
{
    cuda::DeviceBuffer b(static_cast<size_t>(t.numel()));
    b.upload(t.data(), b.size());
    return b;
}

std::vector<float> fromDevice(const cuda::DeviceBuffer &b)
{
    std::vector<float> out(b.size());
    b.download(out.data(), out.size());
    return out;
}

double maxDiff(const std::vector<float> &a, const std::vector<float> &b)
{
    double worst = a.size() == b.size() ? 0.0 : 1e30;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i)
        worst = std::max(worst, std::abs(double(a[i]) - double(b[i])));
    return worst;
}

} // namespace

class CudaDeviceTest : public QObject {
    Q_OBJECT
private slots:
    void memoryRoundTrip()
    {
        Rng rng(1);
        const Tensor t = randomTensor({1000, 37}, rng);
        QCOMPARE(fromDevice(onDevice(t)), values(t));
    }

    void tensorsMoveBetweenHostAndDevice()
    {
        cuda::startBackend();
        Rng rng(2);
        const Tensor host = randomTensor({17, 33}, rng);
        const Tensor onGpu = host.to(Device::cuda());
        QCOMPARE(onGpu.device(), Device::cuda());
        QCOMPARE(values(onGpu.clone().to(Device::cpu())), values(host));
        Tensor filled({5, 7}, DType::Float32, Device::cuda());
        filled.fill(2.5f);
        QCOMPARE(values(filled.to(Device::cpu())), std::vector<float>(35, 2.5f));
        Tensor back({17, 33});
        back.copyFrom(onGpu);
        QCOMPARE(values(back), values(host));
    }

    void gemmEqualsTheCpuKernel_data()
    {
        QTest::addColumn<int>("ta");
        QTest::addColumn<int>("tb");
        QTest::newRow("plain") << 0 << 0;
        QTest::newRow("transA") << 1 << 0;
        QTest::newRow("transB") << 0 << 1;
        QTest::newRow("both") << 1 << 1;
    }
    void gemmEqualsTheCpuKernel()
    {
        QFETCH(int, ta);
        QFETCH(int, tb);
        const int64_t M = 67, K = 129, N = 33;
        Rng rng(7);
        const Tensor A = randomTensor(ta ? Shape{K, M} : Shape{M, K}, rng), B = randomTensor(tb ? Shape{N, K} : Shape{K, N}, rng);
        const Tensor C = randomTensor({M, N}, rng);
        Node n{"fc", "Gemm", {}, {}, {{"transA", int64_t(ta)}, {"transB", int64_t(tb)}, {"alpha", 0.5f}, {"beta", 2.0f}}};
        const Tensor expected = runNode(n, {A, B, C});
        cuda::DeviceBuffer a = onDevice(A), b = onDevice(B), c = onDevice(C);
        cuda::gemm(ta, tb, M, N, K, 0.5f, a.data(), b.data(), 2.0f, c.data());
        cuda::synchronize();
        const double worst = maxDiff(fromDevice(c), values(expected));
        qInfo("GEMM %lldx%lldx%lld: worst difference to the CPU kernel %.2g", static_cast<long long>(M), static_cast<long long>(K),
              static_cast<long long>(N), worst);
        QVERIFY2(worst < 1e-4, qPrintable(QString::number(worst)));
    }

    void reluEqualsTheCpuKernel()
    {
        Rng rng(9);
        const Tensor x = randomTensor({3, 5000}, rng), dy = randomTensor({3, 5000}, rng);
        const Tensor expected = runNode(Node{"r", "Relu", {}, {}, {}}, {x});
        cuda::DeviceBuffer dx = onDevice(x), ddy = onDevice(dy), y(static_cast<size_t>(x.numel())), dxOut(static_cast<size_t>(x.numel()));
        cuda::reluForward(dx.data(), y.data(), x.numel());
        cuda::reluBackward(dx.data(), ddy.data(), dxOut.data(), x.numel());
        cuda::synchronize();
        QCOMPARE(fromDevice(y), values(expected));
        std::vector<float> grad(static_cast<size_t>(x.numel()));
        for (int64_t i = 0; i < x.numel(); ++i)
            grad[static_cast<size_t>(i)] = x.data()[i] > 0.0f ? dy.data()[i] : 0.0f;
        QCOMPARE(fromDevice(dxOut), grad);
    }

    void biasEqualsItsDefinition()
    {
        Rng rng(11);
        const int64_t rows = 37, cols = 301;
        const Tensor x = randomTensor({rows, cols}, rng), b = randomTensor({cols}, rng), dy = randomTensor({rows, cols}, rng);
        cuda::DeviceBuffer dx = onDevice(x), db = onDevice(b), ddy = onDevice(dy), y(static_cast<size_t>(x.numel())),
                           grad(static_cast<size_t>(cols));
        cuda::addBiasRows(dx.data(), db.data(), y.data(), rows, cols);
        cuda::biasGradient(ddy.data(), grad.data(), rows, cols);
        cuda::synchronize();
        std::vector<float> ey(static_cast<size_t>(x.numel())), eg(static_cast<size_t>(cols), 0.0f);
        for (int64_t i = 0; i < rows; ++i)
            for (int64_t j = 0; j < cols; ++j) {
                ey[static_cast<size_t>(i * cols + j)] = x.data()[i * cols + j] + b.data()[j];
                eg[static_cast<size_t>(j)] += dy.data()[i * cols + j];
            }
        QCOMPARE(fromDevice(y), ey);
        QVERIFY(maxDiff(fromDevice(grad), eg) < 1e-4);
    }

    void softmaxCrossEntropyEqualsTheCpuKernel()
    {
        Rng rng(13);
        const int64_t n = 64, c = 10;
        const Tensor scores = randomTensor({n, c}, rng, -4.0f, 4.0f);
        std::vector<int64_t> labels(static_cast<size_t>(n));
        for (auto &l : labels)
            l = static_cast<int64_t>(rng.below(static_cast<uint64_t>(c)));
        const Tensor labelTensor = Tensor::fromInt64({n}, labels);
        const Tensor expected = runNode(Node{"loss", "SoftmaxCrossEntropyLoss", {}, {}, {{"reduction", std::string("mean")}}},
                                        {scores, labelTensor});
        cuda::DeviceBuffer ds = onDevice(scores), dl(static_cast<size_t>(n) * 2), loss(1), grad(static_cast<size_t>(n * c)),
            work(static_cast<size_t>(n));
        dl.uploadBytes(labels.data(), labels.size() * sizeof(int64_t));
        cuda::softmaxCrossEntropy(ds.data(), dl.as<int64_t>(), loss.data(), grad.data(), n, c, work.data(), nullptr);
        cuda::synchronize();
        QVERIFY2(std::abs(fromDevice(loss)[0] - expected.data()[0]) < 1e-4, qPrintable(QString::number(fromDevice(loss)[0])));
        // d mean / d scores = (softmax − one-hot) / n
        std::vector<float> eg(static_cast<size_t>(n * c));
        for (int64_t i = 0; i < n; ++i) {
            double mx = scores.data()[i * c], sum = 0.0;
            for (int64_t k = 1; k < c; ++k)
                mx = std::max(mx, double(scores.data()[i * c + k]));
            for (int64_t k = 0; k < c; ++k)
                sum += std::exp(double(scores.data()[i * c + k]) - mx);
            for (int64_t k = 0; k < c; ++k)
                eg[static_cast<size_t>(i * c + k)] = static_cast<float>(
                    (std::exp(double(scores.data()[i * c + k]) - mx) / sum - (k == labels[static_cast<size_t>(i)] ? 1.0 : 0.0)) / double(n));
        }
        QVERIFY(maxDiff(fromDevice(grad), eg) < 1e-4);
    }

    void sgdEqualsTheCpuOptimizer_data()
    {
        QTest::addColumn<double>("momentum");
        QTest::addColumn<bool>("nesterov");
        QTest::newRow("plain") << 0.0 << false;
        QTest::newRow("momentum") << 0.9 << false;
        QTest::newRow("nesterov") << 0.9 << true;
    }
    void sgdEqualsTheCpuOptimizer()
    {
        QFETCH(double, momentum);
        QFETCH(bool, nesterov);
        OptimizerSettings s;
        s.momentum = momentum;
        s.nesterov = nesterov;
        s.weightDecay = 5e-4;
        auto cpu = makeOptimizer(s);
        Rng rng(17);
        Tensor w = randomTensor({4097}, rng);
        cuda::DeviceBuffer dw = onDevice(w), buf(static_cast<size_t>(w.numel()));
        const std::vector<float> zeros(static_cast<size_t>(w.numel()), 0.0f);
        buf.upload(zeros.data(), zeros.size());
        for (int step = 0; step < 5; ++step) {
            const Tensor g = randomTensor({4097}, rng);
            cpu->step({{"w", &w, &g}}, 0.05);
            cuda::DeviceBuffer dg = onDevice(g);
            cuda::sgdUpdate(dw.data(), dg.data(), momentum != 0.0 ? buf.data() : nullptr, w.numel(), 0.05f, static_cast<float>(momentum),
                            5e-4f, nesterov);
        }
        cuda::synchronize();
        QVERIFY(maxDiff(fromDevice(dw), values(w)) < 1e-4);
    }

    void adamEqualsTheCpuOptimizer_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("adam") << "adam";
        QTest::newRow("adamw") << "adamw";
    }
    void adamEqualsTheCpuOptimizer()
    {
        QFETCH(QString, name);
        OptimizerSettings s;
        s.name = name.toStdString();
        s.weightDecay = 0.01;
        auto cpu = makeOptimizer(s);
        Rng rng(29);
        Tensor w = randomTensor({3001}, rng);
        cuda::DeviceBuffer dw = onDevice(w), m(static_cast<size_t>(w.numel())), v(static_cast<size_t>(w.numel()));
        const std::vector<float> zeros(static_cast<size_t>(w.numel()), 0.0f);
        m.upload(zeros.data(), zeros.size());
        v.upload(zeros.data(), zeros.size());
        float b1p = 1.0f, b2p = 1.0f;
        const float b1 = static_cast<float>(s.beta1), b2 = static_cast<float>(s.beta2);
        for (int step = 0; step < 5; ++step) {
            const Tensor g = randomTensor({3001}, rng);
            cpu->step({{"w", &w, &g}}, 0.01);
            b1p *= b1;
            b2p *= b2;
            cuda::DeviceBuffer dg = onDevice(g);
            cuda::adamUpdate(dw.data(), dg.data(), m.data(), v.data(), w.numel(), 0.01f, b1, b2, static_cast<float>(s.eps), 0.01f,
                             1.0f - b1p, std::sqrt(1.0f - b2p), name == "adamw");
        }
        cuda::synchronize();
        QVERIFY(maxDiff(fromDevice(dw), values(w)) < 1e-4);
    }

    void dropoutMaskEqualsTheCpuMask()
    {
        Rng rng(31);
        const Tensor x = randomTensor({8, 500}, rng);
        const uint64_t key = 0x1234abcdULL, first = 3 * 500; // rows 3… of a global batch
        cuda::DeviceBuffer dx = onDevice(x), y(static_cast<size_t>(x.numel())), scale(static_cast<size_t>(x.numel()));
        cuda::dropoutForward(dx.data(), y.data(), scale.data(), x.numel(), key, first, 0.3f);
        cuda::synchronize();
        std::vector<float> es(static_cast<size_t>(x.numel())), ey(static_cast<size_t>(x.numel()));
        for (int64_t i = 0; i < x.numel(); ++i) {
            es[static_cast<size_t>(i)] = dropoutUniform(key, first + static_cast<uint64_t>(i)) >= 0.3f ? 1.0f / 0.7f : 0.0f;
            ey[static_cast<size_t>(i)] = x.data()[i] * es[static_cast<size_t>(i)];
        }
        QCOMPARE(fromDevice(scale), es);
        QCOMPARE(fromDevice(y), ey);
    }

    void convolutionEqualsTheCpuKernel_data()
    {
        QTest::addColumn<int>("stride");
        QTest::addColumn<int>("pad");
        QTest::addColumn<int>("dilation");
        QTest::addColumn<int>("groups");
        QTest::newRow("3x3") << 1 << 1 << 1 << 1;
        QTest::newRow("stride 2, no pad") << 2 << 0 << 1 << 1;
        QTest::newRow("dilation 2") << 1 << 2 << 2 << 1;
        QTest::newRow("2 groups") << 1 << 1 << 1 << 2;
    }
    void convolutionEqualsTheCpuKernel()
    {
        QFETCH(int, stride);
        QFETCH(int, pad);
        QFETCH(int, dilation);
        QFETCH(int, groups);
        cuda::Conv2dShape cs;
        cs.n = 3, cs.c = 4, cs.h = 11, cs.w = 9, cs.k = 6, cs.r = 3, cs.s = 3;
        cs.padH = cs.padW = pad, cs.strideH = cs.strideW = stride, cs.dilationH = cs.dilationW = dilation, cs.groups = groups;
        Rng rng(19);
        const Tensor x = randomTensor({cs.n, cs.c, cs.h, cs.w}, rng), w = randomTensor({cs.k, cs.c / groups, cs.r, cs.s}, rng);
        const Tensor b = randomTensor({cs.k}, rng);
        const int64_t p = pad;
        Node n{"conv", "Conv", {}, {}, {{"strides", std::vector<int64_t>{stride, stride}}, {"pads", std::vector<int64_t>{p, p, p, p}},
                                        {"dilations", std::vector<int64_t>{dilation, dilation}}, {"group", int64_t(groups)}}};
        const Tensor expected = runNode(n, {x, w, b});
        QCOMPARE(expected.shape(), (Shape{cs.n, cs.k, cs.outH(), cs.outW()}));
        cuda::DeviceBuffer dx = onDevice(x), dw = onDevice(w), db = onDevice(b), y(static_cast<size_t>(expected.numel()));
        cuda::conv2dForward(cs, dx.data(), dw.data(), y.data());
        cuda::addBiasChannels(y.data(), db.data(), cs.n, cs.k, cs.outH() * cs.outW());
        cuda::synchronize();
        const double forward = maxDiff(fromDevice(y), values(expected));
        QVERIFY2(forward < 1e-4, qPrintable(QString::number(forward)));

        // Gradients of Σ dy·y by their definitions (double sums over the same index map).
        const Tensor dy = randomTensor(expected.shape(), rng);
        std::vector<double> gx(static_cast<size_t>(x.numel()), 0.0), gw(static_cast<size_t>(w.numel()), 0.0), gb(static_cast<size_t>(cs.k), 0.0);
        const int64_t oh = cs.outH(), ow = cs.outW(), cg = cs.c / groups, kg = cs.k / groups;
        for (int64_t i = 0; i < cs.n; ++i)
            for (int64_t k = 0; k < cs.k; ++k)
                for (int64_t u = 0; u < oh; ++u)
                    for (int64_t v = 0; v < ow; ++v) {
                        const double g = dy.data()[((i * cs.k + k) * oh + u) * ow + v];
                        gb[static_cast<size_t>(k)] += g;
                        for (int64_t c = 0; c < cg; ++c)
                            for (int64_t r = 0; r < cs.r; ++r)
                                for (int64_t q = 0; q < cs.s; ++q) {
                                    const int64_t hh = u * stride - pad + r * dilation, ww = v * stride - pad + q * dilation;
                                    if (hh < 0 || hh >= cs.h || ww < 0 || ww >= cs.w)
                                        continue;
                                    const int64_t ci = (k / kg) * cg + c;
                                    const size_t xi = static_cast<size_t>(((i * cs.c + ci) * cs.h + hh) * cs.w + ww);
                                    const size_t wi = static_cast<size_t>(((k * cg + c) * cs.r + r) * cs.s + q);
                                    gx[xi] += g * w.data()[wi];
                                    gw[wi] += g * x.data()[xi];
                                }
                    }
        cuda::DeviceBuffer ddy = onDevice(dy), gdx(static_cast<size_t>(x.numel())), gdw(static_cast<size_t>(w.numel())),
            gdb(static_cast<size_t>(cs.k));
        cuda::conv2dBackwardData(cs, dw.data(), ddy.data(), gdx.data());
        cuda::conv2dBackwardFilter(cs, dx.data(), ddy.data(), gdw.data());
        cuda::biasGradientChannels(ddy.data(), gdb.data(), cs.n, cs.k, oh * ow);
        cuda::synchronize();
        auto asFloats = [](const std::vector<double> &d) { return std::vector<float>(d.begin(), d.end()); };
        const double data = maxDiff(fromDevice(gdx), asFloats(gx)), filter = maxDiff(fromDevice(gdw), asFloats(gw)),
                     bias = maxDiff(fromDevice(gdb), asFloats(gb));
        qInfo("conv: forward %.2g, d input %.2g, d weight %.2g, d bias %.2g", forward, data, filter, bias);
        QVERIFY(data < 1e-4 && filter < 1e-4 && bias < 1e-4);
    }

    void poolingEqualsTheCpuKernel_data()
    {
        QTest::addColumn<bool>("max");
        QTest::newRow("MaxPool 2x2/2") << true;
        QTest::newRow("AveragePool 3x3/1 pad 1") << false;
    }
    void poolingEqualsTheCpuKernel()
    {
        QFETCH(bool, max);
        cuda::Pool2dShape ps;
        ps.n = 2, ps.c = 3, ps.h = 8, ps.w = 10;
        ps.max = max;
        ps.kernelH = ps.kernelW = max ? 2 : 3;
        ps.strideH = ps.strideW = max ? 2 : 1;
        ps.padH = ps.padW = max ? 0 : 1;
        Rng rng(23);
        const Tensor x = randomTensor({ps.n, ps.c, ps.h, ps.w}, rng);
        const int64_t kk = ps.kernelH, st = ps.strideH, pd = ps.padH;
        Node n{"pool", max ? "MaxPool" : "AveragePool", {}, {},
               {{"kernel_shape", std::vector<int64_t>{kk, kk}}, {"strides", std::vector<int64_t>{st, st}}, {"pads", std::vector<int64_t>{pd, pd, pd, pd}}}};
        const Tensor expected = runNode(n, {x});
        QCOMPARE(expected.shape(), (Shape{ps.n, ps.c, ps.outH(), ps.outW()}));
        cuda::DeviceBuffer dx = onDevice(x), y(static_cast<size_t>(expected.numel()));
        cuda::pool2dForward(ps, dx.data(), y.data());
        cuda::synchronize();
        QVERIFY(maxDiff(fromDevice(y), values(expected)) < 1e-5);

        // Backward by the definition: max routes to the window's arg-max, average spreads over
        // the window's in-bounds inputs (count_include_pad off).
        const Tensor dy = randomTensor(expected.shape(), rng);
        std::vector<float> gx(static_cast<size_t>(x.numel()), 0.0f);
        for (int64_t plane = 0; plane < ps.n * ps.c; ++plane)
            for (int64_t u = 0; u < ps.outH(); ++u)
                for (int64_t v = 0; v < ps.outW(); ++v) {
                    const float g = dy.data()[(plane * ps.outH() + u) * ps.outW() + v];
                    int64_t best = -1, count = 0;
                    for (int64_t r = 0; r < kk; ++r)
                        for (int64_t q = 0; q < kk; ++q) {
                            const int64_t hh = u * st - pd + r, ww = v * st - pd + q;
                            if (hh < 0 || hh >= ps.h || ww < 0 || ww >= ps.w)
                                continue;
                            const int64_t at = (plane * ps.h + hh) * ps.w + ww;
                            if (best < 0 || x.data()[at] > x.data()[best])
                                best = at;
                            ++count;
                        }
                    for (int64_t r = 0; r < kk && !max; ++r)
                        for (int64_t q = 0; q < kk; ++q) {
                            const int64_t hh = u * st - pd + r, ww = v * st - pd + q;
                            if (hh >= 0 && hh < ps.h && ww >= 0 && ww < ps.w)
                                gx[static_cast<size_t>((plane * ps.h + hh) * ps.w + ww)] += g / static_cast<float>(count);
                        }
                    if (max)
                        gx[static_cast<size_t>(best)] += g;
                }
        cuda::DeviceBuffer ddy = onDevice(dy), gdx(static_cast<size_t>(x.numel()));
        cuda::pool2dBackward(ps, dx.data(), y.data(), ddy.data(), gdx.data());
        cuda::synchronize();
        QVERIFY(maxDiff(fromDevice(gdx), gx) < 1e-4);
    }
};

int main(int argc, char **argv)
{
    std::string reason;
    const auto devices = cuda::listDevices(&reason);
    if (devices.empty()) {
        std::printf("SKIP: no CUDA device, so the CUDA kernels were not run (%s).\n", reason.c_str());
        return 77;
    }
    std::printf("CUDA device 0: %s, compute capability %d.%d, %zu MiB\n", devices[0].name.c_str(), devices[0].major,
                devices[0].minor, devices[0].memoryBytes >> 20);
    CudaDeviceTest test;
    return QTest::qExec(&test, argc, argv);
}

#include "cuda_device_test.moc"
