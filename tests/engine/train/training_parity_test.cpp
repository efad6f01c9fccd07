// SPDX-License-Identifier: Apache-2.0
// Training parity with PyTorch (Debian's python3-torch, the independent oracle): a transformer
// encoder classifier (GELU, LayerNorm, multi-head attention), a GRU and a 2-layer LSTM reading
// image rows as sequences, a MobileNet-style block (depthwise conv, BatchNorm, hard-swish,
// squeeze-and-excite, ConvTranspose) and a model whose one weight matrix encodes and, transposed,
// decodes (weight sharing: its gradient is the sum of both uses) are built and exported by
// tests/support/torch_training_parity.py in training mode with the loss inside the graph, and trained by PyTorch for 30
// plain-SGD steps. Netwright imports each export and trains it on the same batches with its own
// executor and SGD: the parameters are the float initializers gradients reach (exactly
// PyTorch's), every step's loss equals PyTorch's within 1e-3 relative, and every final parameter
// and BatchNorm running statistic equals PyTorch's within 1e-3.
#include "autodiff/executor.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "formats/npy/npy_file.h"
#include "formats/npy/npz_file.h"
#include "formats/onnx/onnx_import.h"
#include "optim/optimizer.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <set>

using namespace netwright;

class TrainingParityTest : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    struct ModelRun {
        QString name;
        int steps = 0;
        double lr = 0;
    };
    std::vector<ModelRun> m_models;

    QString path(const QString &file) const { return m_dir.filePath(file); }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QProcess py;
        py.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        py.start(QStringLiteral("/usr/bin/python3"),
                 {qEnvironmentVariable("NETWRIGHT_SOURCE_DIR") + "/tests/support/torch_training_parity.py", m_dir.path(), "30"});
        QVERIFY(py.waitForFinished(600000));
        QVERIFY2(py.exitCode() == 0, "torch_training_parity.py failed");
        QFile list(path("models.txt"));
        QVERIFY(list.open(QIODevice::ReadOnly));
        for (const QByteArray &line : list.readAll().split('\n')) {
            const QList<QByteArray> f = line.split(' ');
            if (f.size() == 3)
                m_models.push_back({QString::fromUtf8(f[0]), f[1].toInt(), f[2].toDouble()});
        }
        QCOMPARE(m_models.size(), size_t(5));
    }

    void trainsLikePyTorch_data()
    {
        QTest::addColumn<int>("index");
        for (size_t i = 0; i < m_models.size(); ++i)
            QTest::newRow(qPrintable(m_models[i].name)) << static_cast<int>(i);
    }

    void trainsLikePyTorch()
    {
        QFETCH(int, index);
        try {
            train(m_models[static_cast<size_t>(index)]);
        } catch (const std::exception &e) {
            QFAIL(e.what());
        }
    }

private:
    void train(const ModelRun &run)
    {
        setThreadCount(2);
        const std::string base = path(run.name).toStdString();
        onnx_format::OnnxImport imported = onnx_format::importOnnxFile(base + ".onnx");
        QVERIFY2(imported.missingOps.empty(), qPrintable(QString::fromStdString(imported.missingOps.empty() ? "" : imported.missingOps.front())));
        Graph &g = imported.graph;

        // The parameters: exactly what PyTorch trains.
        const std::string finalPath = base + "_final.npz";
        const std::vector<std::string> names = npzArrayNames(finalPath);
        const std::set<std::string> torchParams(names.begin(), names.end());
        QVERIFY2(g.trainable == torchParams,
                 qPrintable(QStringLiteral("Netwright trains %1 tensors, PyTorch %2").arg(g.trainable.size()).arg(torchParams.size())));

        Executor ex(g);
        Rng dropout(1);
        ex.setDropoutRng(&dropout);
        OptimizerSettings settings;
        settings.name = "sgd";
        auto sgd = makeOptimizer(settings);
        const Tensor torchLosses = readNpy(base + "_losses.npy");
        double worstLoss = 0;
        for (int k = 0; k < run.steps; ++k) {
            const Tensor x = readNpy(base + "_x_" + std::to_string(k) + ".npy");
            const Tensor y = readNpy(base + "_y_" + std::to_string(k) + ".npy");
            ex.forward({{"x", x}, {"labels", y}}, true);
            const double loss = ex.value("loss").data()[0];
            const double want = torchLosses.dataAs<double>()[k];
            const double rel = std::abs(loss - want) / std::max(1e-6, std::abs(want));
            worstLoss = std::max(worstLoss, rel);
            QVERIFY2(rel <= 1e-3, qPrintable(QStringLiteral("step %1: loss %2, PyTorch %3").arg(k).arg(loss, 0, 'g', 8).arg(want, 0, 'g', 8)));
            ex.backward("loss");
            std::vector<ParameterRef> params;
            for (const auto &name : g.trainable)
                params.push_back({name, &g.initializers.at(name), &ex.gradient(name)});
            sgd->step(params, run.lr);
        }
        double worstParam = 0;
        std::string worstName;
        for (const auto &name : names) {
            const Tensor want = readNpzArray(finalPath, name);
            const Tensor &got = g.initializers.at(name);
            QCOMPARE(got.shape(), want.shape());
            for (int64_t i = 0; i < want.numel(); ++i) {
                const double d = std::abs(double(got.data()[i]) - double(want.data()[i]));
                if (d > worstParam) {
                    worstParam = d;
                    worstName = name;
                }
            }
        }
        // The buffers training updates: BatchNorm's running statistics, by the same momentum.
        const std::string buffersPath = base + "_buffers.npz";
        double worstBuffer = 0;
        for (const auto &name : npzArrayNames(buffersPath)) {
            QVERIFY2(g.initializers.count(name) && !g.trainable.count(name), name.c_str());
            const Tensor want = readNpzArray(buffersPath, name);
            const Tensor &got = g.initializers.at(name);
            for (int64_t i = 0; i < want.numel(); ++i)
                worstBuffer = std::max(worstBuffer, std::abs(double(got.data()[i]) - double(want.data()[i]))
                                                        / std::max(1.0, std::abs(double(want.data()[i]))));
        }
        qInfo("%s: %d SGD steps, worst loss difference %.2e relative, worst final parameter difference %.2e (%s), "
              "worst buffer difference %.2e",
              qPrintable(run.name), run.steps, worstLoss, worstParam, worstName.c_str(), worstBuffer);
        QVERIFY2(worstBuffer <= 1e-3, qPrintable(QStringLiteral("running statistics differ by %1").arg(worstBuffer)));
        QVERIFY2(worstParam <= 1e-3, qPrintable(QStringLiteral("%1 differs by %2").arg(QString::fromStdString(worstName)).arg(worstParam)));
    }
};

QTEST_GUILESS_MAIN(TrainingParityTest)
#include "training_parity_test.moc"
