// SPDX-License-Identifier: Apache-2.0
// MindSpore .ckpt: the bytes we write equal, byte for byte, the encodings formats/mindspore-ckpt.md
// prescribes (sections 11.1–11.4), decode with `protoc --decode` against a schema restated from
// the spec, chunk like MindSpore, and carry a correct CRC trailer; every real fixture reads with
// names, dtypes, shapes and values checked by hand (values read with protobuf-python + numpy);
// the parallel-strategy file, encrypted files and damaged files fail with a clear message.
#include "core/error.h"
#include "support/error_of.h"
#include "core/rng.h"
#include "formats/mindspore/ckpt_file.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <cstring>

using namespace netwright;
using netwright::testing::errorOf;
using namespace netwright::mindspore;

namespace {

std::string hex(const std::string &bytes)
{
    static const char *d = "0123456789abcdef";
    std::string s;
    for (unsigned char c : bytes) {
        if (!s.empty())
            s += ' ';
        s += d[c >> 4];
        s += d[c & 15];
    }
    return s;
}

std::string unhex(const std::string &text)
{
    std::string out;
    for (size_t i = 0; i + 1 < text.size();) {
        if (text[i] == ' ') {
            ++i;
            continue;
        }
        out.push_back(static_cast<char>(std::stoi(text.substr(i, 2), nullptr, 16)));
        i += 2;
    }
    return out;
}

Tensor int64Scalar(int64_t v)
{
    Tensor t(Shape{}, DType::Int64);
    t.dataAs<int64_t>()[0] = v;
    return t;
}

std::string fixture(const char *name)
{
    return qEnvironmentVariable("NETWRIGHT_SHARED_DIR").toStdString() + "/fixtures/mindspore-ckpt/" + name;
}

const CkptEntry &entry(const CkptFile &f, const std::string &name)
{
    for (const auto &e : f.entries)
        if (e.name == name)
            return e;
    throw Error("no entry " + name);
}

float halfToFloat(uint16_t h)
{
    const uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    float v = exp == 0 ? std::ldexp(static_cast<float>(man), -24) : std::ldexp(static_cast<float>(man | 0x400), static_cast<int>(exp) - 25);
    return sign ? -v : v;
}


} // namespace

class CkptFileTest : public QObject {
    Q_OBJECT
private slots:
    void specExamplesByteForByte()
    {
        // 11.1: one float32 vector.
        const std::vector<CkptEntry> w{CkptEntry::ofTensor("w", Tensor::fromVector({2}, {1.0f, 2.0f}))};
        QCOMPARE(hex(encodeCkpt(w)), std::string("0a 1a 0a 01 77 12 15 08 02 12 07 46 6c 6f 61 74 33 32 1a 08 00 00 80 3f 00 00 00 40"));
        // 11.2: the same with the CRC trailer (CRC-32 0x117599F0).
        QCOMPARE(hex(encodeCkpt(w, {true})),
                 std::string("0a 1a 0a 01 77 12 15 08 02 12 07 46 6c 6f 61 74 33 32 1a 08 00 00 80 3f 00 00 00 40 "
                             "63 72 63 5f 6e 75 6d 00 00 00 00 00 00 11 75 99 f0"));
        // 11.3: an Int64 scalar (no dims) and a string (dims [0], "str", UTF-32LE).
        QCOMPARE(hex(encodeCkpt({CkptEntry::ofTensor("epoch_num", int64Scalar(1))})),
                 std::string("0a 1e 0a 09 65 70 6f 63 68 5f 6e 75 6d 12 11 12 05 49 6e 74 36 34 1a 08 01 00 00 00 00 00 00 00"));
        QCOMPARE(hex(encodeCkpt({CkptEntry::ofString("note", "hi")})),
                 std::string("0a 19 0a 04 6e 6f 74 65 12 11 08 00 12 03 73 74 72 1a 08 68 00 00 00 69 00 00 00"));
    }

    void smallTrainingCheckpointSizes()
    {
        // 11.4: fc1 (4→8), fc2 (8→3), epoch_num, step_num: 450 bytes, 467 with the trailer.
        const std::vector<CkptEntry> e{
            CkptEntry::ofTensor("fc1.weight", Tensor::zeros({8, 4})), CkptEntry::ofTensor("fc1.bias", Tensor::zeros({8})),
            CkptEntry::ofTensor("fc2.weight", Tensor::zeros({3, 8})), CkptEntry::ofTensor("fc2.bias", Tensor::zeros({3})),
            CkptEntry::ofTensor("epoch_num", int64Scalar(1)),         CkptEntry::ofTensor("step_num", int64Scalar(32))};
        QCOMPARE(encodeCkpt(e).size(), size_t(450));
        QCOMPARE(encodeCkpt(e, {true}).size(), size_t(467));
    }

    void protocDecodesWhatWeWrite()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("t.ckpt").toStdString();
        Tensor i32(Shape{3}, DType::Int32);
        for (int k = 0; k < 3; ++k)
            i32.dataAs<int32_t>()[k] = -k;
        writeCkpt(path, {CkptEntry::ofTensor("conv1.weight", Tensor::fromVector({2, 1, 1, 2}, {0.5f, -1.0f, 2.0f, 4.0f})),
                         CkptEntry::ofTensor("ints", i32), CkptEntry::ofTensor("global_step", int64Scalar(300)),
                         CkptEntry::ofString("note", "Netwright ✓")});
        QProcess protoc;
        protoc.setStandardInputFile(QString::fromStdString(path));
        protoc.start("protoc", {"--proto_path=" + QString::fromLocal8Bit(qgetenv("NETWRIGHT_SOURCE_DIR")) + "/tests/engine/formats",
                                "--decode=Checkpoint", "checkpoint.proto"});
        QVERIFY(protoc.waitForFinished(30000));
        QCOMPARE(protoc.exitCode(), 0);
        const QString text = QString::fromUtf8(protoc.readAllStandardOutput());
        QVERIFY2(text.contains("tag: \"conv1.weight\"") && text.contains("dims: 2\n    dims: 1\n    dims: 1\n    dims: 2")
                     && text.contains("tensor_type: \"Float32\"") && text.contains("tag: \"global_step\"")
                     && text.contains("tensor_type: \"Int64\"") && text.contains("tensor_type: \"Int32\"")
                     && text.contains("tensor_type: \"str\""),
                 qPrintable(text));
        // The scalar has no dims at all.
        const int gs = text.indexOf("tag: \"global_step\"");
        QVERIFY(!text.mid(gs, text.indexOf("}", gs) - gs).contains("dims"));
        // Reading back gives the same values and the UTF-8 string.
        const CkptFile back = readCkpt(path);
        QCOMPARE(back.entries.size(), size_t(4));
        QCOMPARE(entry(back, "conv1.weight").tensor.shape(), (Shape{2, 1, 1, 2}));
        QCOMPARE(entry(back, "conv1.weight").tensor.data()[3], 4.0f);
        QCOMPARE(entry(back, "ints").tensor.dataAs<int32_t>()[2], -2);
        QCOMPARE(entry(back, "global_step").tensor.shape(), Shape{});
        QCOMPARE(entry(back, "global_step").tensor.dataAs<int64_t>()[0], int64_t(300));
        QCOMPARE(entry(back, "note").text, std::string("Netwright ✓"));
    }

    void chunksCarryTheFullDims()
    {
        Rng rng(3);
        Tensor t({3, 5});
        for (int i = 0; i < 15; ++i)
            t.data()[i] = rng.uniform();
        CkptWriteOptions o;
        o.chunkBytes = 16; // 4 floats a chunk: 4 + 4 + 4 + 3
        const std::string bytes = encodeCkpt({CkptEntry::ofTensor("big", t), CkptEntry::ofTensor("after", int64Scalar(7))}, o);
        // Each chunk is its own record with tag "big" and dims 3, 5.
        const std::string record = unhex("0a 03 62 69 67 12");
        size_t count = 0;
        for (size_t at = bytes.find(record); at != std::string::npos; at = bytes.find(record, at + 1))
            ++count;
        QCOMPARE(count, size_t(4));
        QCOMPARE(hex(bytes.substr(0, 14)), std::string("0a 26 0a 03 62 69 67 12 1f 08 03 08 05 12"));
        const CkptFile back = decodeCkpt(bytes, "chunks");
        QCOMPARE(back.entries.size(), size_t(2));
        QCOMPARE(back.entries[0].tensor.shape(), (Shape{3, 5}));
        QCOMPARE(std::memcmp(back.entries[0].tensor.raw(), t.raw(), t.byteSize()), 0);
        // The default size keeps a small tensor in one record.
        QCOMPARE(encodeCkpt({CkptEntry::ofTensor("big", t)}).size(), size_t(2 + 2 + 3 + 2 + 4 + 9 + 2 + 60));
    }

    void crcIsCheckedWhenPresent()
    {
        std::string bytes = encodeCkpt({CkptEntry::ofTensor("w", Tensor::fromVector({2}, {1.0f, 2.0f}))}, {true});
        QVERIFY(decodeCkpt(bytes, "ok.ckpt").hasCrc);
        bytes[24] ^= 0x01; // one bit of the tensor content
        QVERIFY(errorOf([&] { decodeCkpt(bytes, "bad.ckpt"); }).contains("CRC-32"));
        QCOMPARE(decodeCkpt(bytes, "bad.ckpt", false).entries.size(), size_t(1)); // unchecked: still parses
    }

    void fixturesReadWithTheirValues()
    {
        const CkptFile lenet = readCkpt(fixture("mindarmour_checkpoint_lenet-10_1875.ckpt"));
        QCOMPARE(lenet.entries.size(), size_t(18));
        QCOMPARE(entry(lenet, "conv1.weight").tensor.shape(), (Shape{6, 1, 5, 5}));
        QCOMPARE(entry(lenet, "conv1.weight").tensor.data()[0], -0.10214873403310776f);
        QCOMPARE(entry(lenet, "fc3.bias").tensor.data()[1], 0.14816632866859436f);
        QCOMPARE(entry(lenet, "learning_rate").tensor.dtype(), DType::Float64);
        QCOMPARE(entry(lenet, "learning_rate").tensor.dataAs<double>()[0], 0.001);
        QCOMPARE(entry(lenet, "momentum").tensor.dataAs<double>()[0], 0.9);
        QCOMPARE(entry(lenet, "moments.fc1.weight").tensor.shape(), (Shape{120, 400}));

        const CkptFile llama = readCkpt(fixture("goldenstick_llama2-13b-fp16_rank_0_checkpoint_0.ckpt"));
        QCOMPARE(llama.entries.size(), size_t(12));
        const Tensor &emb = entry(llama, "model.tok_embeddings.embedding_weight").tensor;
        QCOMPARE(emb.dtype(), DType::Float16);
        QCOMPARE(emb.shape(), (Shape{32000, 40}));
        QCOMPARE(halfToFloat(emb.dataAs<uint16_t>()[0]), 0.01593017578125f);
        QCOMPARE(halfToFloat(entry(llama, "lm_head.weight").tensor.dataAs<uint16_t>()[1]), -0.0163726806640625f);
        QCOMPARE(entry(llama, "model.norm_out.weight").tensor.dtype(), DType::Float32);

        const CkptFile zero = readCkpt(fixture("contrib_zero_dcepp_epoch99.ckpt"));
        QCOMPARE(zero.entries.size(), size_t(88));
        QCOMPARE(entry(zero, "step").tensor.dtype(), DType::Int32);
        QCOMPARE(entry(zero, "step").tensor.shape(), Shape{}); // stored with dims [0]
        QCOMPARE(entry(zero, "learning_rate").tensor.data()[0], 9.999999747378752e-05f);
        QCOMPARE(entry(zero, "e_conv1.depth_conv.bias").tensor.data()[2], -0.03697970509529114f);

        QCOMPARE(readCkpt(fixture("qishna_LinearNet_10_step.ckpt")).entries[0].tensor.data()[0], 0.8185886144638062f);
        QCOMPARE(entry(readCkpt(fixture("mindscience_percnn_checkpointtrain.ckpt")), "cell.ca").tensor.data()[0], 1.0503984689712524f);
        QCOMPARE(entry(readCkpt(fixture("mindscience_fno1d.ckpt")), "0._convs._w_re").tensor.shape(), (Shape{10, 10, 16}));
        QCOMPARE(entry(readCkpt(fixture("mindquantum_hackathon01_liynn_model.ckpt")), "beta2_power").tensor.data()[0],
                 0.8754080533981323f);
        QCOMPARE(readCkpt(fixture("toolkits_test.ckpt")).entries.size(), size_t(4));
        QCOMPARE(entry(readCkpt(fixture("goldenstick_test_sq_predict_simplenet_2stage_fp.ckpt")), "linear.weight").tensor.shape(),
                 (Shape{8, 4}));
    }

    void fixturesRoundTripByteForByte()
    {
        // Reading and writing again reproduces MindSpore's own bytes (for files written by the
        // byte path with unpacked dims and without [0]-scalars).
        // (The LeNet fixture's Float64 scalars carry dims [0] from an older writer, so it is
        // checked by its values above instead.)
        for (const char *name : {"goldenstick_llama2-13b-fp16_rank_0_checkpoint_0.ckpt",
                                 "mindscience_fno1d.ckpt", "toolkits_test.ckpt", "qishna_LinearNet_10_step.ckpt"}) {
            QFile f(QString::fromStdString(fixture(name)));
            QVERIFY(f.open(QIODevice::ReadOnly));
            const QByteArray original = f.readAll();
            const CkptFile parsed = decodeCkpt(std::string_view(original.constData(), original.size()), name);
            const std::string again = encodeCkpt(parsed.entries);
            QVERIFY2(again == std::string(original.constData(), original.size()), name);
        }
    }

    void refusesWhatIsNotACheckpoint()
    {
        const QString strategy = errorOf([] { readCkpt(fixture("goldenstick_ckpt_strategy_rank_0.ckpt")); });
        QVERIFY2(strategy.contains("goldenstick_ckpt_strategy_rank_0.ckpt") && strategy.contains("not a Checkpoint"),
                 qPrintable(strategy));
        const QString enc = errorOf([] { decodeCkpt(unhex("d8 5e 3a 7f 00 00 00 00"), "secret.ckpt"); });
        QVERIFY2(enc.contains("encrypted") && enc.contains("AES-GCM") && enc.contains("key"), qPrintable(enc));
        QVERIFY(errorOf([] { decodeCkpt(unhex("da 5e 3a 7f 00"), "s.ckpt"); }).contains("SM4-CBC"));
        QVERIFY(errorOf([] { decodeCkpt("", "empty.ckpt"); }).contains("empty"));
        QVERIFY(errorOf([] { readCkpt("/nonexistent/x.ckpt"); }).contains("/nonexistent/x.ckpt"));
    }

    void hostileBytesFailCleanly()
    {
        const std::string good = encodeCkpt({CkptEntry::ofTensor("a", Tensor::fromVector({2, 2}, {1, 2, 3, 4})),
                                             CkptEntry::ofString("s", "text"), CkptEntry::ofTensor("n", int64Scalar(5))});
        // Every truncation either fails with a message naming the file or (at a record boundary)
        // yields a shorter, still-correct file.
        for (size_t cut = 1; cut < good.size(); ++cut) {
            try {
                const CkptFile f = decodeCkpt(good.substr(0, cut), "cut.ckpt");
                QVERIFY(f.entries.size() < 3);
            } catch (const Error &e) {
                QVERIFY2(QString::fromUtf8(e.what()).contains("cut.ckpt"), e.what());
            }
        }
        // Every single-byte corruption fails cleanly or parses; no crash, no huge allocation.
        for (size_t at = 0; at < good.size(); ++at)
            for (unsigned char x : {0x01, 0x80, 0xff}) {
                std::string bad = good;
                bad[at] = static_cast<char>(bad[at] ^ x);
                try {
                    decodeCkpt(bad, "flip.ckpt");
                } catch (const Error &) {
                }
            }
        // A length far beyond the file, and dims that claim more bytes than are there.
        QVERIFY(errorOf([] { decodeCkpt(unhex("0a ff ff ff ff 0f 0a"), "len.ckpt"); }).contains("runs past the end"));
        const std::string lying = unhex("0a 1a 0a 01 77 12 15 08 09 12 07 46 6c 6f 61 74 33 32 1a 08 00 00 80 3f 00 00 00 40");
        QVERIFY(errorOf([&] { decodeCkpt(lying, "dims.ckpt"); }).contains("needs 36 bytes but holds 8"));
    }

    void failedWriteKeepsThePreviousFile()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("keep.ckpt").toStdString();
        writeCkpt(path, {CkptEntry::ofTensor("w", Tensor::fromVector({1}, {1.0f}))});
        // An entry that cannot be encoded (invalid UTF-8) makes the save fail part-way: the old file stays.
        QVERIFY(!errorOf([&] {
                     std::vector<CkptEntry> e{CkptEntry::ofTensor("x", Tensor::fromVector({1}, {2.0f})), CkptEntry::ofString("s", "\xff")};
                     writeCkpt(path, e);
                 }).isEmpty());
        QCOMPARE(readCkpt(path).entries[0].tensor.data()[0], 1.0f);
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).size(), 1); // no temp file left
    }

    // readCkpt reads large contents from the file straight into the tensors (pread), a whole-tensor
    // record as soon as it is parsed: it must give what decoding the same bytes in memory gives,
    // for chunked runs, a run that continues a record already read, small and string entries, a
    // CRC trailer, and the same error for a run that does not add up.
    void fileReadMatchesTheBytesDecoded()
    {
        QTemporaryDir dir;
        auto filled = [](Shape shape, uint64_t seed) {
            Tensor t(std::move(shape));
            Rng rng(seed);
            for (int64_t i = 0; i < t.numel(); ++i)
                t.data()[i] = rng.uniform();
            return t;
        };
        auto same = [](const CkptFile &a, const CkptFile &b) {
            if (a.entries.size() != b.entries.size() || a.hasCrc != b.hasCrc)
                return false;
            for (size_t i = 0; i < a.entries.size(); ++i) {
                const CkptEntry &x = a.entries[i], &y = b.entries[i];
                if (x.name != y.name || x.isString != y.isString || x.text != y.text)
                    return false;
                if (!x.isString && (x.tensor.dtype() != y.tensor.dtype() || x.tensor.shape() != y.tensor.shape()
                                    || std::memcmp(x.tensor.raw(), y.tensor.raw(), x.tensor.byteSize()) != 0))
                    return false;
            }
            return true;
        };
        auto check = [&](const std::string &name, const std::string &bytes) {
            const std::string path = dir.filePath(QString::fromStdString(name)).toStdString();
            QFile f(QString::fromStdString(path));
            if (!f.open(QIODevice::WriteOnly) || f.write(bytes.data(), qint64(bytes.size())) != qint64(bytes.size()))
                return QString("cannot write ") + QString::fromStdString(path);
            f.close();
            QString inMemory, fromFile;
            CkptFile a, b;
            inMemory = errorOf([&] { a = decodeCkpt(bytes, path); });
            fromFile = errorOf([&] { b = readCkpt(path); });
            if (inMemory != fromFile)
                return "errors differ: \"" + inMemory + "\" vs \"" + fromFile + "\"";
            if (inMemory.isEmpty() && !same(a, b))
                return QString("entries differ");
            return inMemory.isEmpty() ? QString("ok") : "error: " + inMemory;
        };
        const std::vector<CkptEntry> entries{CkptEntry::ofTensor("big", filled({300, 257}, 1)), CkptEntry::ofTensor("step", int64Scalar(42)),
                                             CkptEntry::ofTensor("small", filled({3, 5}, 2)), CkptEntry::ofString("note", "resume ✓"),
                                             CkptEntry::ofTensor("page", filled({1024}, 3)), CkptEntry::ofTensor("last", filled({4097}, 4))};
        QCOMPARE(check("plain.ckpt", encodeCkpt(entries)), QString("ok"));
        CkptWriteOptions chunked;
        chunked.chunkBytes = 40000; // "big" in 8 records of full dims, the last one short
        QCOMPARE(check("chunked.ckpt", encodeCkpt(entries, chunked)), QString("ok"));
        CkptWriteOptions crc;
        crc.crc = true;
        QCOMPARE(check("crc.ckpt", encodeCkpt(entries, crc)), QString("ok"));
        // A whole [1024] record, then the second chunk of a [2048] tensor under the same tag: one
        // [2048] entry of both contents, the first one copied from where it was read.
        CkptWriteOptions halves;
        halves.chunkBytes = 4096;
        const std::string two = encodeCkpt({CkptEntry::ofTensor("x", filled({2048}, 5))}, halves);
        const std::string joined = encodeCkpt({CkptEntry::ofTensor("x", filled({1024}, 6))}) + two.substr(two.size() / 2);
        QCOMPARE(check("joined.ckpt", joined), QString("ok"));
        const CkptFile back = readCkpt(dir.filePath("joined.ckpt").toStdString());
        QCOMPARE(back.entries.size(), size_t(1));
        QCOMPARE(back.entries[0].tensor.shape(), Shape{2048});
        QCOMPARE(back.entries[0].tensor.data()[0], filled({1024}, 6).data()[0]);
        QCOMPARE(back.entries[0].tensor.data()[1024], filled({2048}, 5).data()[1024]);
        // Two whole records under one tag hold twice what the dims need: the same error either way.
        const std::string twice = encodeCkpt({CkptEntry::ofTensor("w", filled({1024}, 7)), CkptEntry::ofTensor("w", filled({1024}, 8))});
        QVERIFY(check("twice.ckpt", twice).contains("needs 4096 bytes but holds 8192"));
    }
};

QTEST_GUILESS_MAIN(CkptFileTest)
#include "ckpt_file_test.moc"
