// SPDX-License-Identifier: Apache-2.0
// ONNX's own backend node tests (Debian's libonnx-testdata: a model.onnx and input/output
// TensorProto files per case) for every op the engine supports: each case whose ops all have
// kernels is imported and run, and its outputs must equal ONNX's expected outputs within the
// backend tests' tolerance (rtol 1e-3, atol 1e-5). The test prints how many cases ran and passed;
// cases outside the engine (other ops, non-float data, opsets before 11) are counted as not run.
#include "autodiff/executor.h"
#include "core/error.h"
#include "core/parallel.h"
#include "formats/format_util.h"
#include "formats/onnx/onnx_import.h"
#include "formats/onnx/onnx_tensor.h"
#include "ops/op.h"

#include <QDir>
#include <QTest>

#include <cmath>
#include <map>

using namespace netwright;

namespace {

const char *kNodeTests = "/usr/share/libonnx-testdata/data/node";

// Cases whose ops have kernels but which the engine does not cover, each with the reason; they
// are reported, not run.
const std::map<QString, const char *> kGaps{
    {"test_averagepool_1d_default", "the engine pools 2-D inputs only"},
    {"test_averagepool_3d_default", "the engine pools 2-D inputs only"},
    {"test_maxpool_1d_default", "the engine pools 2-D inputs only"},
    {"test_maxpool_3d_default", "the engine pools 2-D inputs only"},
};

Tensor readTensor(const QString &path)
{
    onnx::TensorProto p;
    if (!parseMessage(readFileBytes(path.toStdString()), p))
        throw Error("Cannot parse " + path.toStdString());
    auto t = onnx_format::onnxTensor(p, path.toStdString());
    if (!t)
        throw Error("Not a numeric tensor: " + path.toStdString());
    return *t;
}

} // namespace

class OnnxBackendTest : public QObject {
    Q_OBJECT

private slots:
    void nodeTestsOfEverySupportedOp()
    {
        setThreadCount(2);
        const QStringList cases = QDir(kNodeTests).entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
        QVERIFY2(cases.size() > 500, "libonnx-testdata is not installed (packaging/setup.sh test installs it)");
        int ran = 0, passed = 0, notRun = 0;
        QStringList gaps;
        QStringList failures;
        std::map<std::string, int> ranPerOp;
        for (const QString &name : cases) {
            const QString dir = QString(kNodeTests) + "/" + name;
            onnx_format::OnnxImport imported;
            try {
                imported = onnx_format::importOnnxFile((dir + "/model.onnx").toStdString());
            } catch (const Error &) {
                ++notRun; // an opset outside 11–17, a non-tensor or non-numeric value, …
                continue;
            }
            bool runnable = imported.missingOps.empty() && !imported.graph.nodes.empty();
            for (const auto &in : imported.graph.inputs)
                runnable = runnable && in.dtype == DType::Float32;
            for (const auto &out : imported.graph.outputs)
                runnable = runnable && out.dtype == DType::Float32;
            if (!runnable) {
                ++notRun;
                continue;
            }
            if (const auto gap = kGaps.find(name); gap != kGaps.end()) {
                gaps << name + " (" + gap->second + ")";
                ++notRun;
                continue;
            }
            ++ran;
            const QString data = dir + "/test_data_set_0";
            try {
                std::map<std::string, Tensor> feeds;
                for (size_t i = 0; i < imported.graph.inputs.size(); ++i)
                    feeds[imported.graph.inputs[i].name] = readTensor(data + QStringLiteral("/input_%1.pb").arg(i));
                Executor ex(imported.graph);
                ex.forward(feeds, false);
                bool ok = true;
                QString why;
                for (size_t o = 0; o < imported.graph.outputs.size() && ok; ++o) {
                    const Tensor want = readTensor(data + QStringLiteral("/output_%1.pb").arg(o));
                    const Tensor &got = ex.value(imported.graph.outputs[o].name);
                    if (got.numel() != want.numel() || got.shape() != want.shape()) {
                        ok = false;
                        why = QStringLiteral("shape %1, expected %2").arg(QString::fromStdString(shapeToString(got.shape())),
                                                                           QString::fromStdString(shapeToString(want.shape())));
                        break;
                    }
                    for (int64_t i = 0; i < want.numel() && ok; ++i) {
                        const double a = got.data()[i], b = want.data()[i];
                        if (!(std::abs(a - b) <= 1e-5 + 1e-3 * std::abs(b)) && !(std::isnan(a) && std::isnan(b))) {
                            ok = false;
                            why = QStringLiteral("output %1 element %2: %3, expected %4").arg(o).arg(i).arg(a).arg(b);
                        }
                    }
                }
                if (ok) {
                    ++passed;
                    for (const auto &n : imported.graph.nodes)
                        ++ranPerOp[n.opType];
                } else {
                    failures << name + ": " + why;
                }
            } catch (const std::exception &e) {
                failures << name + ": " + QString::fromUtf8(e.what());
            }
        }
        QString ops;
        for (const auto &[op, n] : ranPerOp)
            ops += (ops.isEmpty() ? "" : ", ") + QString::fromStdString(op) + " " + QString::number(n);
        qInfo("ONNX backend node tests: %d of %d cases ran, %d passed (%d not run: ops without kernels, non-float data, "
              "opsets outside 11–17, and %d known gaps: %s). Ops covered: %s",
              ran, int(cases.size()), passed, notRun, int(gaps.size()), qPrintable(gaps.join("; ")), qPrintable(ops));
        QCOMPARE(gaps.size(), static_cast<qsizetype>(kGaps.size())); // every gap listed still exists
        QVERIFY2(failures.isEmpty(), qPrintable(failures.join("\n")));
        QVERIFY(ran >= 50);
    }
};

QTEST_GUILESS_MAIN(OnnxBackendTest)
#include "onnx_backend_test.moc"
