// SPDX-License-Identifier: Apache-2.0
// The export path `netwright export`, `convert` and the export wizard share (graph_formats.h), on
// the files PyTorch writes by default: an MLP, LeNet-5, resnet18, mobilenet_v2 (ReLU6 as Clip) and
// squeezenet1_0 (ceil-mode pooling, Concat), exported by Debian's python3-torch without
// dynamic_axes from a dummy of batch 1, so the file fixes the batch at 1. Each converts with the
// default options to ONNX, MindIR, AIR and CNTK model-v2, keeps its batch (CNTK's batch axis is
// always dynamic), passes the verification, and the ONNX file computes PyTorch's output.
#include "support/torch_models.h"
#include "autodiff/executor.h"
#include "core/error.h"
#include "core/parallel.h"
#include "formats/graph_formats.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace netwright;

namespace {

Tensor readRaw(const QString &path, const Shape &shape)
{
    return testing::readRawFloats(path, shape);
}

Shape shapeOf(const QJsonArray &a)
{
    return testing::shapeOfJson(a);
}

} // namespace

class GraphFormatsTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QJsonObject m_models;

private slots:
    void initTestCase()
    {
        setThreadCount(2);
        QString error;
        m_models = testing::exportTorchModels(m_dir.path(), true, &error);
        QVERIFY2(!m_models.isEmpty(), qPrintable(error));
        QCOMPARE(m_models.size(), 5);
    }

    void fixedBatchConvertsWithDefaults_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("format");
        for (const char *m : {"mlp", "lenet5", "resnet18", "mobilenet_v2", "squeezenet1_0"})
            for (const auto &f : graphFormats())
                QTest::newRow(qPrintable(QStringLiteral("%1 to %2").arg(m, QString::fromStdString(f.option))))
                    << m << QString::fromStdString(f.option);
    }

    void fixedBatchConvertsWithDefaults()
    {
        QFETCH(QString, model);
        QFETCH(QString, format);
        const QJsonObject meta = m_models[model].toObject();
        const GraphFormat target = *graphFormat(format.toStdString());
        const std::string path = m_dir.filePath(model + "_fixed" + QString::fromStdString(target.extension)).toStdString();
        try {
            const Graph source = importGraphFile(m_dir.filePath(model + "_fixed.onnx").toStdString());
            QCOMPARE(source.inputs.size(), size_t(1));
            QCOMPARE(source.inputs[0].shape.at(0), int64_t(1)); // the batch PyTorch fixed

            // What `netwright export FILE --format F` and the wizard's defaults do: a dynamic batch
            // asked for, the fixed one kept.
            const std::string bytes = exportGraph(target, source, GraphExportOptions{});
            const std::string verified = verifyExport(target, bytes, path, source);
            QVERIFY2(verified.find("bit-identical") != std::string::npos, verified.c_str());
            Graph back = importGraph(target, bytes, path);
            QCOMPARE(back.inputs.size(), size_t(1));
            QCOMPARE(back.inputs[0].shape.at(0), int64_t(target.id == "cntk-model" ? -1 : 1));
            qInfo("%s → %s: %zu bytes; %s", qPrintable(model), target.name.c_str(), bytes.size(), verified.c_str());

            if (target.id != "onnx")
                return;
            // The ONNX file computes PyTorch's output for PyTorch's input (within 1e-4, absolute
            // or relative, as the ONNX import test holds the engine to).
            const Tensor x = readRaw(m_dir.filePath(model + ".input"), shapeOf(meta["input"].toArray()));
            const Tensor want = readRaw(m_dir.filePath(model + ".output"), shapeOf(meta["output"].toArray()));
            Executor ex(back);
            ex.forward({{back.inputs[0].name, x}}, false);
            const Tensor &got = ex.value(back.outputs.at(0).name);
            QCOMPARE(got.shape(), want.shape());
            double worst = 0;
            for (int64_t i = 0; i < want.numel(); ++i) {
                const double a = got.data()[i], b = want.data()[i];
                worst = std::max(worst, std::min(std::abs(a - b), std::abs(a - b) / std::max(1e-12, std::abs(b))));
            }
            qInfo("%s: the exported ONNX file's output differs from PyTorch's by %.2e", qPrintable(model), worst);
            QVERIFY2(worst <= 1e-4, qPrintable(QString::number(worst)));
        } catch (const std::exception &e) {
            QFAIL(e.what());
        }
    }
};

QTEST_GUILESS_MAIN(GraphFormatsTest)
#include "graph_formats_test.moc"
