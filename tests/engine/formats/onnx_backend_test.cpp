// SPDX-License-Identifier: Apache-2.0
// ONNX's own backend node tests (Debian's libonnx-testdata: a model.onnx and input/output
// TensorProto files per case), in process: each case whose ops all have kernels is imported and
// run, and every output must have ONNX's element type and shape and equal the expected values
// within the backend tests' tolerance (rtol 1e-3, atol 1e-7; integers and booleans exactly). The
// test prints how many cases ran and passed; cases outside the engine (other ops, element types
// a kernel does not compute with, sequences, strings) are counted as not run, with the reason.
// NETWRIGHT_NODE_TESTS=<regex> runs the matching cases only, listing each one's result.
#include "autodiff/executor.h"
#include "core/error.h"
#include "core/parallel.h"
#include "formats/format_util.h"
#include "formats/onnx/onnx_import.h"
#include "formats/onnx/onnx_tensor.h"
#include "ops/op.h"

#include <QDir>
#include <QRegularExpression>
#include <QTest>

#include <cmath>
#include <map>

using namespace netwright;

namespace {

const char *kNodeTests = "/usr/share/libonnx-testdata/data/node";

// Cases whose ops have kernels but which the engine does not cover, each with the reason; they
// are reported, not run.
const std::map<QString, const char *> kGaps{};

// The number of cases that pass today (the full suite, no filter): raised as kernels land.
constexpr int kMinimumPassing = 809;

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

double element(const Tensor &t, int64_t i)
{
    switch (t.dtype()) {
    case DType::Float32: return t.data()[i];
    case DType::Float64: return t.dataAs<double>()[i];
    case DType::Int64: return static_cast<double>(t.dataAs<int64_t>()[i]);
    case DType::Int32: return t.dataAs<int32_t>()[i];
    case DType::Int16: return t.dataAs<int16_t>()[i];
    case DType::Int8: return t.dataAs<int8_t>()[i];
    case DType::UInt64: return static_cast<double>(t.dataAs<uint64_t>()[i]);
    case DType::UInt32: return t.dataAs<uint32_t>()[i];
    case DType::UInt16:
    case DType::Float16:
    case DType::BFloat16: return t.dataAs<uint16_t>()[i]; // bit patterns compare exactly
    case DType::UInt8:
    case DType::Bool: return t.dataAs<uint8_t>()[i];
    }
    return 0.0;
}

// Why a run did not happen, when the engine refuses the case instead of computing it wrongly.
bool outsideEngine(const std::string &message)
{
    return message.find("does not compute with") != std::string::npos || message.find("the engine has no") != std::string::npos;
}

} // namespace

class OnnxBackendTest : public QObject {
    Q_OBJECT

private slots:
    void nodeTestsOfEverySupportedOp()
    {
        setThreadCount(2);
        QStringList cases = QDir(kNodeTests).entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
        QVERIFY2(cases.size() > 500, "libonnx-testdata is not installed (packaging/setup.sh test installs it)");
        const QString filter = qEnvironmentVariable("NETWRIGHT_NODE_TESTS");
        const bool verbose = !filter.isEmpty();
        if (verbose)
            cases = cases.filter(QRegularExpression(filter));
        int ran = 0, passed = 0, notRun = 0;
        std::map<std::string, int> notRunWhy;
        QStringList gaps, failures;
        std::map<std::string, int> ranPerOp;
        for (const QString &name : cases) {
            const QString dir = QString(kNodeTests) + "/" + name;
            onnx_format::OnnxImport imported;
            auto skip = [&](const std::string &why) {
                ++notRun;
                ++notRunWhy[why];
                if (verbose)
                    qInfo("%s: not run (%s)", qPrintable(name), why.c_str());
            };
            try {
                imported = onnx_format::importOnnxFile((dir + "/model.onnx").toStdString());
            } catch (const Error &e) {
                const std::string m = e.what();
                skip(m.find("opset") != std::string::npos ? "opset" : m.find("is not a tensor") != std::string::npos ? "sequence or optional values"
                     : m.find("element type") != std::string::npos                                                     ? "string or complex values"
                                                                                                                        : "import: " + m);
                continue;
            }
            if (!imported.missingOps.empty()) {
                std::string ops;
                for (const auto &o : imported.missingOps)
                    ops += (ops.empty() ? "" : ", ") + o;
                skip("no kernel: " + ops);
                continue;
            }
            if (const auto gap = kGaps.find(name); gap != kGaps.end()) {
                gaps << name + " (" + gap->second + ")";
                skip("known gap");
                continue;
            }
            const QString data = dir + "/test_data_set_0";
            try {
                std::map<std::string, Tensor> feeds;
                for (size_t i = 0; i < imported.graph.inputs.size(); ++i)
                    feeds[imported.graph.inputs[i].name] = readTensor(data + QStringLiteral("/input_%1.pb").arg(i));
                Executor ex(imported.graph);
                ex.forward(feeds, false);
                QString why;
                for (size_t o = 0; o < imported.graph.outputs.size() && why.isEmpty(); ++o) {
                    const Tensor want = readTensor(data + QStringLiteral("/output_%1.pb").arg(o));
                    const Tensor &got = ex.value(imported.graph.outputs[o].name);
                    if (got.dtype() != want.dtype()) {
                        why = QStringLiteral("output %1 is %2, expected %3").arg(o).arg(QString::fromStdString(dtypeName(got.dtype())),
                                                                                    QString::fromStdString(dtypeName(want.dtype())));
                        break;
                    }
                    if (got.shape() != want.shape()) {
                        why = QStringLiteral("output %1 has shape %2, expected %3").arg(o).arg(QString::fromStdString(shapeToString(got.shape())),
                                                                                          QString::fromStdString(shapeToString(want.shape())));
                        break;
                    }
                    const bool exact = want.dtype() != DType::Float32 && want.dtype() != DType::Float64;
                    for (int64_t i = 0; i < want.numel(); ++i) {
                        const double a = element(got, i), b = element(want, i);
                        const bool same = exact ? a == b : (std::abs(a - b) <= 1e-7 + 1e-3 * std::abs(b) || (std::isnan(a) && std::isnan(b)) || a == b);
                        if (!same) {
                            why = QStringLiteral("output %1 element %2: %3, expected %4").arg(o).arg(i).arg(a, 0, 'g', 9).arg(b, 0, 'g', 9);
                            break;
                        }
                    }
                }
                if (why.isEmpty()) {
                    ++passed;
                    for (const auto &n : imported.graph.nodes)
                        ++ranPerOp[n.opType];
                    if (verbose)
                        qInfo("%s: passed", qPrintable(name));
                } else {
                    failures << name + ": " + why;
                }
            } catch (const std::exception &e) {
                if (outsideEngine(e.what())) {
                    skip(std::string("element type: ") + e.what());
                } else {
                    failures << name + ": " + QString::fromUtf8(e.what());
                }
            }
        }
        QString ops, why;
        for (const auto &[op, n] : ranPerOp)
            ops += (ops.isEmpty() ? "" : ", ") + QString::fromStdString(op) + " " + QString::number(n);
        for (const auto &[w, n] : notRunWhy)
            why += QStringLiteral("\n  %1 × %2").arg(n).arg(QString::fromStdString(w));
        ran = passed + static_cast<int>(failures.size());
        qInfo("ONNX backend node tests: %d of %d cases ran, %d passed, %d failed, %d not run:%s\nOps covered: %s", ran,
              int(cases.size()), passed, int(failures.size()), notRun, qPrintable(why), qPrintable(ops));
        if (!failures.isEmpty())
            qInfo("Failed:\n%s", qPrintable(failures.join("\n")));
        QCOMPARE(gaps.size(), verbose ? gaps.size() : static_cast<qsizetype>(kGaps.size())); // every gap listed still exists
        if (verbose)
            QVERIFY2(failures.isEmpty(), qPrintable(failures.join("\n")));
        else // a ratchet while the op set grows: never fewer passing cases than the last count
            QVERIFY2(passed >= kMinimumPassing, qPrintable(QStringLiteral("%1 cases passed, fewer than %2").arg(passed).arg(kMinimumPassing)));
    }
};

QTEST_GUILESS_MAIN(OnnxBackendTest)
#include "onnx_backend_test.moc"
