// SPDX-License-Identifier: Apache-2.0
// safetensors: a file written byte by byte by Python (json + numpy, no safetensors package) reads
// with the right names, dtypes, shapes and values; the files we write read back in numpy (header
// JSON + np.frombuffer at data_offsets) with every tensor's bytes and the __metadata__ entries; a
// training state round-trips exactly; hostile headers are refused with a message naming the file.
#include "core/error.h"
#include "formats/registry.h"
#include "formats/safetensors/safetensors_file.h"
#include "support/error_of.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <cstring>

using namespace netwright;
using netwright::testing::errorOf;

namespace {

// Runs python3 with `script`; returns its stdout (empty and a failure message on error).
QByteArray python(const QString &script, const QStringList &args = {})
{
    QProcess py;
    py.start(QStringLiteral("/usr/bin/python3"), QStringList{"-c", script} + args);
    if (!py.waitForFinished(60000) || py.exitCode() != 0) {
        qWarning("python failed: %s", py.readAllStandardError().constData());
        return {};
    }
    return py.readAllStandardOutput();
}

std::string le64(uint64_t n)
{
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i)
        s[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    return s;
}

// A file: the header text as given, then `data` bytes.
std::string fileOf(const std::string &header, const std::string &data) { return le64(header.size()) + header + data; }

bool writeFile(const QString &path, const std::string &bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes.data(), static_cast<qint64>(bytes.size())) == static_cast<qint64>(bytes.size());
}

Tensor tensorOf(Shape shape, DType type, const std::vector<uint8_t> &bytes)
{
    Tensor t(std::move(shape), type);
    std::memcpy(t.raw(), bytes.data(), bytes.size());
    return t;
}

} // namespace

class SafetensorsTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void fileWrittenByPythonReads()
    {
        // Keys in the header in another order than the data; a padded header; every dtype we read.
        const QString path = m_dir.filePath("py.safetensors");
        const QByteArray out = python(QStringLiteral(R"PY(
import json, struct, sys
import numpy as np
arrays = [
    ("weight", "F32", np.arange(6, dtype="<f4").reshape(2, 3) * 0.5),
    ("steps", "I64", np.array([1, -2, 3, 1 << 40], dtype="<i8")),
    ("half", "F16", np.array([1.5, -2.0, 65504.0], dtype="<f2")),
    ("bf", "BF16", (np.array([1.0, -3.5], dtype="<f4").view("<u4") >> 16).astype("<u2")),
    ("bytes", "U8", np.array([0, 7, 255], dtype="u1")),
    ("mask", "BOOL", np.array([True, False, True], dtype="?")),
    ("small", "I8", np.array([-128, 127], dtype="i1")),
    ("scalar", "F64", np.array(2.25, dtype="<f8")),
    ("empty", "F32", np.zeros((0, 2), dtype="<f4")),
    ("i32", "I32", np.array([[-5], [6]], dtype="<i4")),
    ("i16", "I16", np.array([-300], dtype="<i2")),
]
header, data = {}, b""
for name, dtype, a in arrays:
    raw = a.tobytes()
    header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [len(data), len(data) + len(raw)]}
    data += raw
header["__metadata__"] = {"format": "pt", "note": "written by hand"}
order = sorted(header, reverse=True)            # header keys in an order unlike the data's
text = json.dumps({k: header[k] for k in order}).encode()
text += b" " * ((8 - (8 + len(text)) % 8) % 8)  # the reference writer's padding
open(sys.argv[1], "wb").write(struct.pack("<Q", len(text)) + text + data)
print(len(data))
)PY"), {path});
        QVERIFY(!out.isEmpty());
        const auto file = safetensors::readSafetensors(path.toStdString());
        QCOMPARE(file.tensors.size(), size_t(11));
        // In data-buffer order.
        QCOMPARE(QString::fromStdString(file.tensors[0].name), QStringLiteral("weight"));
        QCOMPARE(QString::fromStdString(file.tensors[10].name), QStringLiteral("i16"));
        auto find = [&](const char *name) -> const safetensors::SafetensorsTensor & {
            for (const auto &t : file.tensors)
                if (t.name == name)
                    return t;
            throw Error(std::string("missing ") + name);
        };
        const auto &w = find("weight");
        QCOMPARE(w.dtype, std::string("F32"));
        QCOMPARE(w.tensor.shape(), (Shape{2, 3}));
        for (int i = 0; i < 6; ++i)
            QCOMPARE(w.tensor.data()[i], 0.5f * i);
        const auto &steps = find("steps");
        QCOMPARE(steps.tensor.dtype(), DType::Int64);
        QCOMPARE(steps.tensor.dataAs<int64_t>()[1], int64_t(-2));
        QCOMPARE(steps.tensor.dataAs<int64_t>()[3], int64_t(1) << 40);
        const auto &half = find("half");
        QCOMPARE(half.tensor.dtype(), DType::Float16);
        QCOMPARE(half.tensor.dataAs<uint16_t>()[0], uint16_t(0x3e00)); // 1.5 in IEEE half
        QCOMPARE(half.tensor.dataAs<uint16_t>()[2], uint16_t(0x7bff)); // 65504
        const auto &bf = find("bf");
        QCOMPARE(bf.tensor.dtype(), DType::BFloat16);
        QCOMPARE(bf.tensor.dataAs<uint16_t>()[0], uint16_t(0x3f80)); // 1.0
        QCOMPARE(bf.tensor.dataAs<uint16_t>()[1], uint16_t(0xc060)); // -3.5
        QCOMPARE(find("bytes").tensor.dataAs<uint8_t>()[2], uint8_t(255));
        QCOMPARE(find("mask").tensor.dtype(), DType::Bool);
        QCOMPARE(find("mask").tensor.dataAs<uint8_t>()[1], uint8_t(0));
        QCOMPARE(find("small").tensor.dataAs<int8_t>()[0], int8_t(-128));
        QCOMPARE(find("scalar").tensor.shape(), Shape{});
        QCOMPARE(find("scalar").tensor.dataAs<double>()[0], 2.25);
        QCOMPARE(find("empty").tensor.shape(), (Shape{0, 2}));
        QCOMPARE(find("i32").tensor.dataAs<int32_t>()[0], -5);
        QCOMPARE(find("i16").tensor.dataAs<int16_t>()[0], int16_t(-300));
        QCOMPARE(file.metadata.size(), size_t(2));
        QCOMPARE(file.metadata[0].first, std::string("format"));
        QCOMPARE(file.metadata[0].second, std::string("pt"));
        // A file from elsewhere as a training state: its tensors, then its metadata as strings.
        const TrainingState state = safetensors::stateFromSafetensors(file, path.toStdString());
        QCOMPARE(state.size(), size_t(13));
        QVERIFY(state[11].isString && state[11].name == "format" && state[11].text == "pt");
        // Detected by content, whatever its name.
        const QString renamed = m_dir.filePath("weights.bin");
        QVERIFY(QFile::copy(path, renamed));
        QCOMPARE(QString::fromStdString(describeFile(renamed.toStdString()).format), QStringLiteral("safetensors"));
    }

    void ourFileReadsInNumpy()
    {
        TrainingState state;
        Tensor w(Shape{3, 2}, DType::Float32);
        for (int i = 0; i < 6; ++i)
            w.data()[i] = 0.1f * static_cast<float>(i) - 0.25f;
        state.push_back(StateEntry::ofTensor("fc.weight", w));
        state.push_back(StateEntry::ofString("netwright.optimizer", "Momentum"));
        state.push_back(StateEntry::ofTensor("global_step", tensorOf({1}, DType::Int32, {7, 0, 0, 0})));
        state.push_back(StateEntry::ofTensor("netwright.rng.dropout",
                                             tensorOf({4}, DType::UInt64, std::vector<uint8_t>(32, 0xab))));
        state.push_back(StateEntry::ofTensor("moments.fc.weight", Tensor::full({3, 2}, -1.5f)));
        const QString path = m_dir.filePath("ours.safetensors");
        safetensors::writeSafetensorsState(path.toStdString(), state);
        const QByteArray out = python(QStringLiteral(R"PY(
import json, struct, sys
import numpy as np
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
meta = h.pop("__metadata__")
buf = b[8 + n:]
types = {"F32": "<f4", "I32": "<i4", "I64": "<i8", "U64": "<u8"}
out = {"aligned": (8 + n) % 8 == 0, "meta": meta, "tensors": {}}
for k, v in h.items():
    s, e = v["data_offsets"]
    a = np.frombuffer(buf[s:e], dtype=types[v["dtype"]]).reshape(v["shape"])
    out["tensors"][k] = {"dtype": v["dtype"], "shape": list(a.shape), "values": a.ravel().tolist(), "hex": buf[s:e].hex()}
print(json.dumps(out))
)PY"), {path});
        QVERIFY(!out.isEmpty());
        const QJsonObject o = QJsonDocument::fromJson(out).object();
        QVERIFY(o["aligned"].toBool());
        const QJsonObject tensors = o["tensors"].toObject();
        QCOMPARE(tensors.size(), 3); // fc.weight, global_step, moments.fc.weight
        const QJsonObject fw = tensors["fc.weight"].toObject();
        QCOMPARE(fw["dtype"].toString(), QStringLiteral("F32"));
        QCOMPARE(fw["shape"].toArray(), (QJsonArray{3, 2}));
        QCOMPARE(fw["hex"].toString(), QString(QByteArray(static_cast<const char *>(w.raw()), 24).toHex()));
        QCOMPARE(tensors["global_step"].toObject()["values"].toArray(), QJsonArray{7});
        QCOMPARE(tensors["moments.fc.weight"].toObject()["values"].toArray().at(5).toDouble(), -1.5);
        const QJsonObject meta = o["meta"].toObject();
        QCOMPARE(meta["netwright.optimizer"].toString(), QStringLiteral("Momentum"));
        QCOMPARE(meta["netwright.rng.dropout"].toString(), QStringLiteral("U64 [4] ") + QStringLiteral("ab").repeated(32));
        QVERIFY(meta.contains("netwright.layout"));
        // And it reads back as the same state, in the same order.
        const TrainingState back = safetensors::readSafetensorsState(path.toStdString());
        QCOMPARE(back.size(), state.size());
        for (size_t i = 0; i < state.size(); ++i) {
            QCOMPARE(back[i].name, state[i].name);
            QCOMPARE(back[i].isString, state[i].isString);
            QCOMPARE(back[i].text, state[i].text);
            if (!state[i].isString) {
                QCOMPARE(back[i].tensor.dtype(), state[i].tensor.dtype());
                QCOMPARE(back[i].tensor.shape(), state[i].tensor.shape());
                QVERIFY(std::memcmp(back[i].tensor.raw(), state[i].tensor.raw(), state[i].tensor.byteSize()) == 0);
            }
        }
        // Writing the state read back gives the same bytes.
        QCOMPARE(safetensors::encodeSafetensorsState(back), safetensors::encodeSafetensorsState(state));
    }

    void hostileHeadersAreRefused_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("expected");
        const std::string ok4 = std::string(4, '\0');
        auto row = [](const char *name, const std::string &b, const char *expected) {
            QTest::newRow(name) << QByteArray(b.data(), static_cast<qsizetype>(b.size())) << QString::fromUtf8(expected);
        };
        row("offset past end", fileOf(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", ok4), "past the end of the 4-byte data buffer");
        row("overlap",
            fileOf(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                   std::string(8, '\0')),
            "overlaps the tensor before it");
        row("gap", fileOf(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", std::string(8, '\0')), "leaving a gap");
        row("huge header length", le64(uint64_t(1) << 40) + "{}", "more than the limit of 100000000");
        row("header longer than the file", le64(1000) + "{}", "only 2 bytes follow it");
        row("bad dtype", fileOf(R"({"a":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}})", ok4), "dtype \"F8_E4M3\"");
        row("bad JSON", fileOf(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]})", ok4), "not valid JSON");
        row("byte count", fileOf(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", ok4), "needs 8 bytes");
        row("negative dim", fileOf(R"({"a":{"dtype":"U8","shape":[-4],"data_offsets":[0,4]}})", ok4), "not a non-negative integer");
        row("overflowing shape",
            fileOf(R"({"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", ok4), "overflows");
        row("deep nesting", fileOf("{\"a\":" + std::string(50, '[') + std::string(50, ']') + "}", ""), "nests deeper");
        row("metadata not strings", fileOf(R"({"__metadata__":{"k":1}})", ""), "is not a string");
        row("not an object", fileOf(R"({"a":[1,2]})", ""), "is not an object");
        row("bytes left over", fileOf(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", ok4), "cover 2 bytes of the 4-byte");
        row("too short", std::string(5, '\0'), "fewer than the 8-byte header length");
        row("layout lies",
            fileOf("{\"__metadata__\":{\"netwright.layout\":\"[[\\\"x\\\",\\\"tensor\\\"]]\"}}", ""), "lists the tensor \"x\"");
        row("metadata tensor too short",
            fileOf("{\"__metadata__\":{\"netwright.layout\":\"[[\\\"s\\\",\\\"metadata-tensor\\\"]]\",\"s\":\"I64 [2] 0100\"}}", ""),
            "holds 2 bytes, expected 16");
    }

    void hostileHeadersAreRefused()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expected);
        const QString path = m_dir.filePath("hostile.safetensors");
        QVERIFY(writeFile(path, bytes.toStdString()));
        const QString e = errorOf([&] { safetensors::readSafetensorsState(path.toStdString()); });
        QVERIFY2(e.contains(path) && e.contains("safetensors") && e.contains(expected), qPrintable(e));
    }

    void detectionByContent()
    {
        // A plausible length then '{' is safetensors, whatever the name.
        const std::string good = fileOf(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "x");
        QCOMPARE(detectFormat(good, good.size(), "x.bin").id, std::string("safetensors"));
        // A length past the file before a '{' is a damaged one: the reader says what is wrong.
        const std::string bad = le64(1u << 20) + good.substr(8);
        const QString path = m_dir.filePath("cut.safetensors");
        QVERIFY(writeFile(path, bad));
        const QString e = errorOf([&] { describeFile(path.toStdString()); });
        QVERIFY2(e.contains(path) && e.contains("the header length is 1048576 bytes, but only"), qPrintable(e));
        // Without the '{' it is nothing Netwright reads.
        std::string notJson = good;
        notJson[8] = '[';
        const QString e2 = errorOf([&] { (void)detectFormat(notJson, notJson.size(), "x.safetensors"); });
        QVERIFY2(e2.contains("is not a file Netwright reads"), qPrintable(e2));
    }
};

QTEST_GUILESS_MAIN(SafetensorsTest)
#include "safetensors_test.moc"
