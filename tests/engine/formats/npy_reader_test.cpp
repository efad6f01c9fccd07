// SPDX-License-Identifier: Apache-2.0
// The NumPy readers (.npy, .npz) against numpy itself: python3 + numpy write every dtype, Fortran
// order, big-endian data, a 0-d array, format 2.0/3.0 headers and both kinds of .npz, plus the
// bytes each array holds in C order; we must read exactly those. Hostile files each fail with an
// Error naming the file and the problem; encodeNpy's output reads back bit for bit.
#include "core/error.h"
#include "formats/npy/npy_file.h"
#include "formats/npy/npz_file.h"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>

using namespace netwright;

namespace {

// Writes the files into argv[1]; prints, for each array, its dtype, shape and its bytes in C
// order and little-endian byte order (hex), which is what the reader must produce.
const char *kNumpyScript = R"(
import json, os, struct, sys, zipfile
import numpy as np

d = sys.argv[1]
out = {}

def expect(a):
    c = np.array(a, order="C")  # keeps a 0-d array 0-d
    return {"dtype": c.dtype.name, "shape": list(c.shape), "hex": c.astype(c.dtype.newbyteorder("<")).tobytes().hex()}

def save(name, a, version=None):
    path = os.path.join(d, name)
    if version is None:
        np.save(path, a)
    else:
        with open(path, "wb") as f:
            np.lib.format.write_array(f, a, version=version)
    out[name] = expect(a)

save("float32.npy", np.arange(24, dtype=np.float32).reshape(2, 3, 4) * np.float32(0.25) - np.float32(3))
save("float64.npy", np.linspace(-1, 1, 7))
save("uint8.npy", np.arange(256, dtype=np.uint8).reshape(16, 16))
save("int64.npy", np.array([-2**63, -1, 0, 1, 2**63 - 1], dtype=np.int64))
save("bool.npy", np.array([[True, False, True], [False, False, True]]))
save("float16.npy", np.array([0.5, -2.0, 65504.0, 1e-7, np.inf, -0.0], dtype=np.float16))
for t in ["i1", "i2", "u2", "i4", "u4", "u8"]:
    save("small_" + t + ".npy", (np.arange(-5, 7) * 3).astype(t))
save("fortran.npy", np.asfortranarray(np.arange(60, dtype=np.int32).reshape(3, 4, 5)))
save("bigendian.npy", (np.arange(12).reshape(3, 4) * -1000).astype(">i4"))
save("bigendian_f8.npy", np.linspace(0, 1, 5).astype(">f8"))
save("fortran_bigendian.npy", np.asfortranarray(np.arange(24).reshape(2, 3, 4).astype(">u2")))
save("scalar.npy", np.array(3.5))
save("empty.npy", np.zeros((0, 3), np.float32))
save("version2.npy", np.arange(10, dtype=np.int16) - 5, version=(2, 0))
save("version3.npy", np.arange(6, dtype=np.float32).reshape(2, 3), version=(3, 0))

x = np.arange(400, dtype=np.float32).reshape(100, 4) / np.float32(8)
y = np.arange(100, dtype=np.int64) % 10
np.savez(os.path.join(d, "data.npz"), x=x, y=y)
np.savez_compressed(os.path.join(d, "data_compressed.npz"), x=x, y=y)
out["data.npz"] = out["data_compressed.npz"] = {"x": expect(x), "y": expect(y)}

# Hostile input that only numpy and zipfile make conveniently.
np.save(os.path.join(d, "object.npy"), np.array([1, "a", None], dtype=object), allow_pickle=True)
with zipfile.ZipFile(os.path.join(d, "notnpy.npz"), "w") as z:
    z.writestr("x.npy", b"hello, not an array")
    z.writestr("notes.txt", "a member that is no array")
    z.writestr("short.npy", open(os.path.join(d, "float32.npy"), "rb").read()[:-10])
# A zip bomb's lie: x.npy (4 KB of zeros, deflated to a few bytes) declares 0xF0000000 bytes in
# both its local header and the central directory, so the two agree.
bomb = os.path.join(d, "bomb.npz")
with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("x.npy", open(os.path.join(d, "float32.npy"), "rb").read()[:128] + bytes(4096))
b = bytearray(open(bomb, "rb").read())
b[22:26] = struct.pack("<I", 0xF0000000)
cd = b.rfind(b"PK\x01\x02")
b[cd + 24:cd + 28] = struct.pack("<I", 0xF0000000)
open(bomb, "wb").write(bytes(b))
print(json.dumps(out))
)";

void expectError(const std::function<void()> &fn, const QStringList &parts)
{
    try {
        fn();
        QFAIL("no error");
    } catch (const Error &e) {
        for (const auto &p : parts)
            QVERIFY2(QString::fromUtf8(e.what()).contains(p), qPrintable(QString::fromUtf8(e.what()) + "  (expected: " + p + ")"));
    }
}

std::string readBytes(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void writeBytes(const std::string &path, const std::string &bytes)
{
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

QString hexOf(const Tensor &t)
{
    return QString::fromLatin1(QByteArray(static_cast<const char *>(t.raw()), static_cast<qsizetype>(t.byteSize())).toHex());
}

QJsonArray dimsOf(const Tensor &t)
{
    QJsonArray dims;
    for (int64_t d : t.shape())
        dims.append(static_cast<qint64>(d));
    return dims;
}

// What numpy wrote vs what we read: dtype, shape and every byte.
void compareWithNumpy(const Tensor &t, const QJsonObject &expected, const QString &name)
{
    QVERIFY2(t.defined(), qPrintable(name));
    QCOMPARE(QString::fromStdString(dtypeName(t.dtype())), expected["dtype"].toString());
    QCOMPARE(dimsOf(t), expected["shape"].toArray());
    QCOMPARE(hexOf(t), expected["hex"].toString());
}

// A .npy file with `header` as its dict, unpadded (the reader must not need numpy's padding).
std::string npyWithHeader(const std::string &header, const std::string &data, int version = 1)
{
    std::string out("\x93NUMPY", 6);
    out += static_cast<char>(version);
    out += '\0';
    const size_t n = header.size();
    for (int i = 0; i < (version == 1 ? 2 : 4); ++i)
        out += static_cast<char>((n >> (8 * i)) & 0xff);
    return out + header + data;
}

uint16_t u16At(const std::string &b, size_t offset)
{
    return static_cast<uint16_t>(static_cast<unsigned char>(b[offset]) | static_cast<unsigned char>(b[offset + 1]) << 8);
}

} // namespace

class NpyReaderTest : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    QJsonObject m_expected;

    std::string path(const char *name) const { return m_dir.filePath(QString::fromLatin1(name)).toStdString(); }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QProcess py;
        py.start("/usr/bin/python3", {"-c", QString::fromUtf8(kNumpyScript), m_dir.path()});
        QVERIFY(py.waitForFinished(120000));
        QVERIFY2(py.exitStatus() == QProcess::NormalExit && py.exitCode() == 0, py.readAllStandardError().constData());
        m_expected = QJsonDocument::fromJson(py.readAllStandardOutput()).object();
        QVERIFY(m_expected.contains("float32.npy"));
        QVERIFY(m_expected.contains("data.npz"));
    }

    void everyArrayNumpyWrote()
    {
        int files = 0;
        for (const QString &name : m_expected.keys()) {
            const std::string p = m_dir.filePath(name).toStdString();
            if (name.endsWith(".npy")) {
                compareWithNumpy(readNpy(p), m_expected[name].toObject(), name);
                ++files;
                continue;
            }
            const QJsonObject arrays = m_expected[name].toObject();
            std::vector<std::string> names = npzArrayNames(p);
            QCOMPARE(names, (std::vector<std::string>{"x", "y"}));
            for (const std::string &a : names)
                compareWithNumpy(readNpzArray(p, a), arrays[QString::fromStdString(a)].toObject(), name + ":" + QString::fromStdString(a));
            ++files;
        }
        QCOMPARE(files, 22);
    }

    // The values a user would look at, not only bytes: index arithmetic, byte order, 0-d.
    void valuesByMeaning()
    {
        // The files really are what they are named.
        QVERIFY(readBytes(path("fortran.npy")).find("'fortran_order': True") != std::string::npos);
        QVERIFY(readBytes(path("bigendian.npy")).find("'>i4'") != std::string::npos);
        QCOMPARE(readBytes(path("version2.npy"))[6], char(2));
        QCOMPARE(readBytes(path("version3.npy"))[6], char(3));

        const Tensor f = readNpy(path("fortran.npy"));
        QCOMPARE(f.shape(), (Shape{3, 4, 5}));
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 4; ++j)
                for (int k = 0; k < 5; ++k)
                    QCOMPARE(f.dataAs<int32_t>()[(i * 4 + j) * 5 + k], i * 20 + j * 5 + k);
        const Tensor fb = readNpy(path("fortran_bigendian.npy"));
        QCOMPARE(fb.dtype(), DType::UInt16);
        QCOMPARE(fb.dataAs<uint16_t>()[1 * 12 + 2 * 4 + 3], uint16_t(23));

        const Tensor be = readNpy(path("bigendian.npy"));
        QCOMPARE(be.dtype(), DType::Int32);
        QCOMPARE(be.dataAs<int32_t>()[11], -11000);
        QCOMPARE(readNpy(path("bigendian_f8.npy")).dataAs<double>()[1], 0.25);

        const Tensor s = readNpy(path("scalar.npy"));
        QCOMPARE(s.rank(), 0);
        QCOMPARE(s.numel(), int64_t(1));
        QCOMPARE(s.dataAs<double>()[0], 3.5);

        const Tensor h = readNpy(path("float16.npy"));
        QCOMPARE(h.dtype(), DType::Float16);
        QCOMPARE(h.dataAs<uint16_t>()[0], uint16_t(0x3800)); // 0.5
        QCOMPARE(h.dataAs<uint16_t>()[4], uint16_t(0x7c00)); // inf

        const Tensor b = readNpy(path("bool.npy"));
        QCOMPARE(b.dtype(), DType::Bool);
        QCOMPARE(QByteArray(static_cast<const char *>(b.raw()), 6), QByteArray("\1\0\1\0\0\1", 6));

        QCOMPARE(readNpy(path("empty.npy")).shape(), (Shape{0, 3}));
        QCOMPARE(readNpy(path("int64.npy")).dataAs<int64_t>()[0], std::numeric_limits<int64_t>::min());

        for (const char *npz : {"data.npz", "data_compressed.npz"}) {
            const Tensor x = readNpzArray(path(npz), "x");
            const Tensor y = readNpzArray(path(npz), "y");
            QCOMPARE(x.shape(), (Shape{100, 4}));
            QCOMPARE(x.dtype(), DType::Float32);
            QCOMPARE(x.data()[399], 399.0f / 8);
            QCOMPARE(y.dtype(), DType::Int64);
            QCOMPARE(y.dataAs<int64_t>()[57], int64_t(7));
        }
    }

    // Whitespace, key order and quotes as any writer might put them; Python 2's long literals.
    void tolerantHeader()
    {
        const std::string data("\1\0\2\0\3\0\4\0\5\0\6\0", 12);
        const Tensor t = decodeNpy(npyWithHeader("  {\t\"shape\" : ( 2 ,3 ) ,'fortran_order':False,'descr':'<i2'}\n", data), "t.npy");
        QCOMPARE(t.shape(), (Shape{2, 3}));
        QCOMPARE(t.dataAs<int16_t>()[5], int16_t(6));
        const Tensor l = decodeNpy(npyWithHeader("{'descr': '=u2', 'fortran_order': True, 'shape': (2L, 3L)}", data), "l.npy");
        QCOMPARE(l.dataAs<uint16_t>()[1], uint16_t(3)); // Fortran order: [0][1] is the third element
        const Tensor v = decodeNpy(npyWithHeader("{'descr': '|u1', 'fortran_order': False, 'shape': (12,)}", data, 2), "v.npy");
        QCOMPARE(v.numel(), int64_t(12));
        // Any nonzero byte of a bool array is true, stored as the engine's 1.
        const Tensor b = decodeNpy(npyWithHeader("{'descr': '|b1', 'fortran_order': False, 'shape': (3,)}", std::string("\0\2\1", 3)), "b.npy");
        QCOMPARE(QByteArray(static_cast<const char *>(b.raw()), 3), QByteArray("\0\1\1", 3));
    }

    void hostileNpy_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QStringList>("parts");
        const auto bytes = [](const std::string &s) { return QByteArray(s.data(), static_cast<qsizetype>(s.size())); };
        const std::string f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        const std::string data24(24, '\0');

        Tensor t(Shape{100, 4});
        t.fill(1.5f);
        const std::string full = encodeNpy(t);
        QTest::newRow("truncated data") << bytes(full.substr(0, full.size() - 400))
                                        << QStringList{"truncated: shape (100, 4) float32 needs 1600 bytes of data, the file has 1200."};
        const std::string numpyFile = readBytes(path("float32.npy"));
        QTest::newRow("truncated numpy file") << bytes(numpyFile.substr(0, numpyFile.size() - 10))
                                              << QStringList{"truncated", "needs 96 bytes of data, the file has 86"};
        QTest::newRow("trailing bytes") << bytes(full + "xyz") << QStringList{"3 trailing bytes after the data"};
        QTest::newRow("bad magic") << QByteArray("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16) << QStringList{"does not start with the magic", "\\x89PNG"};
        QTest::newRow("empty file") << QByteArray() << QStringList{"does not start with the magic"};
        QTest::newRow("unknown version") << bytes(npyWithHeader(f4, data24, 4)) << QStringList{"unknown format version 4.0"};
        QTest::newRow("cut in the length") << QByteArray("\x93NUMPY\x02\x00\x10\x00", 10) << QStringList{"ends inside the header length"};
        std::string beyond = npyWithHeader(f4, data24);
        beyond[8] = '\xff';
        beyond[9] = '\xff';
        QTest::newRow("header length beyond the file") << bytes(beyond) << QStringList{"header length 65535 runs past the end of the file"};
        QTest::newRow("header misses shape") << bytes(npyWithHeader("{'descr': '<f4', 'fortran_order': False, }", data24))
                                             << QStringList{"the header misses the key 'shape'"};
        QTest::newRow("header not a dict") << bytes(npyWithHeader("[1, 2, 3]", data24)) << QStringList{"not a Python dict"};
        QTest::newRow("unknown key") << bytes(npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'extra': 1}", data24))
                                     << QStringList{"unexpected key 'extra'"};
        QTest::newRow("key twice") << bytes(npyWithHeader("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", data24))
                                   << QStringList{"'descr' twice"};
        QTest::newRow("text after the dict") << bytes(npyWithHeader(f4 + " 42", data24)) << QStringList{"after its dict"};
        QTest::newRow("1-tuple without comma") << bytes(npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (6)}", data24))
                                               << QStringList{"a number, not a tuple"};
        QTest::newRow("negative dimension") << bytes(npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (-6,)}", data24))
                                            << QStringList{"negative dimension"};
        QTest::newRow("fortran_order not a bool") << bytes(npyWithHeader("{'descr': '<f4', 'fortran_order': 0, 'shape': (6,)}", data24))
                                                  << QStringList{"'fortran_order' is not True or False"};
        QTest::newRow("object array") << bytes(readBytes(path("object.npy")))
                                      << QStringList{"'|O': pickled Python objects are not supported; save numeric arrays"};
        QTest::newRow("strings") << bytes(npyWithHeader("{'descr': '<U2', 'fortran_order': False, 'shape': (3,)}", data24))
                                 << QStringList{"'<U2': strings are not supported"};
        QTest::newRow("structured") << bytes(npyWithHeader("{'descr': [('a', '<i4'), ('b', '<f4')], 'fortran_order': False, 'shape': (3,)}", data24))
                                    << QStringList{"structured dtype"};
        QTest::newRow("complex") << bytes(npyWithHeader("{'descr': '<c8', 'fortran_order': False, 'shape': (3,)}", data24)) << QStringList{"complex"};
        QTest::newRow("unknown dtype") << bytes(npyWithHeader("{'descr': '<f3', 'fortran_order': False, 'shape': (8,)}", data24))
                                       << QStringList{"the dtype '<f3' is not supported"};
        QTest::newRow("shape overflow") << bytes(npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776)}", data24))
                                        << QStringList{"shape (1099511627776, 1099511627776) float32 is too large"};
        QTest::newRow("byte size overflow") << bytes(npyWithHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,)}", data24))
                                            << QStringList{"byte size overflows"};
        QTest::newRow("huge but fits") << bytes(npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1073741824, 1073741824)}", data24))
                                       << QStringList{"needs 4611686018427387904 bytes of data, the file has 24"};
    }
    void hostileNpy()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QStringList, parts);
        const std::string p = path("hostile.npy");
        writeBytes(p, bytes.toStdString());
        expectError([&] { readNpy(p); }, QStringList{"Cannot read \"" + QString::fromStdString(p) + "\" as a NumPy array: "} + parts);
    }

    void hostileNpz()
    {
        const std::string data = readBytes(path("data.npz"));
        const std::string compressed = readBytes(path("data_compressed.npz"));
        const std::string p = path("hostile.npz");

        writeBytes(p, data.substr(0, data.size() / 2));
        expectError([&] { npzArrayNames(p); }, {"hostile.npz", "a truncated or damaged zip archive"});
        writeBytes(p, "x,y\n1,2\n");
        expectError([&] { readNpzArray(p, "x"); }, {"hostile.npz", "not a zip archive"});
        writeBytes(p, "");
        expectError([&] { readNpzArray(p, "x"); }, {"hostile.npz", "empty"});

        // np.savez stores: a flipped byte in x's data is caught by the CRC alone.
        std::string flipped = data;
        const size_t magic = flipped.find("\x93NUMPY");
        QVERIFY(magic != std::string::npos);
        flipped[magic + 128 + 200] ^= 0x10;
        writeBytes(p, flipped);
        expectError([&] { readNpzArray(p, "x"); }, {"hostile.npz", "member \"x.npy\" is corrupt: CRC error"});
        QCOMPARE(readNpzArray(p, "y").numel(), int64_t(100)); // the other member is intact

        // np.savez_compressed deflates: a flipped byte breaks the stream or the CRC.
        std::string deflated = compressed;
        const size_t start = 30 + u16At(deflated, 26) + u16At(deflated, 28);
        deflated[start + 40] ^= 0x5a;
        writeBytes(p, deflated);
        expectError([&] { readNpzArray(p, "x"); }, {"hostile.npz", "member \"x.npy\" is corrupt"});

        expectError([&] { readNpzArray(path("data.npz"), "z"); }, {"data.npz", "no array \"z\"", "the arrays present are \"x\", \"y\""});
        QCOMPARE(npzArrayNames(path("notnpy.npz")), (std::vector<std::string>{"x", "short"}));
        expectError([&] { readNpzArray(path("notnpy.npz"), "x"); },
                    {"notnpy.npz/x.npy\" as a NumPy array", "does not start with the magic", "hello"});
        expectError([&] { readNpzArray(path("notnpy.npz"), "notes.txt"); },
                    {"notnpy.npz", "member \"notes.txt\" is not a .npy array", "the arrays present are \"x\", \"short\""});
        expectError([&] { readNpzArray(path("bomb.npz"), "x"); }, {"bomb.npz", "member \"x.npy\" declares 4026531840 bytes from", "zip bomb"});

        // A truncated .npy inside an intact zip: decodeNpy's message, naming archive and member.
        expectError([&] { readNpzArray(path("notnpy.npz"), "short"); },
                    {"notnpy.npz/short.npy\" as a NumPy array: truncated", "needs 96 bytes of data, the file has 86"});
    }

    void notRegularFiles()
    {
        expectError([&] { readNpy(m_dir.path().toStdString()); }, {"is a directory"});
        expectError([&] { npzArrayNames(m_dir.path().toStdString()); }, {"is a directory"});
        expectError([&] { readNpy(path("absent.npy")); }, {"absent.npy", "does not exist"});
        expectError([&] { readNpzArray(path("absent.npz"), "x"); }, {"absent.npz", "does not exist"});
    }

    // encodeNpy → decodeNpy and writeNpy → readNpy give back every byte, for every dtype numpy has.
    void roundTripEncodeNpy()
    {
        const std::vector<std::pair<DType, Shape>> cases = {
            {DType::Float32, {2, 3}}, {DType::Float64, {}},     {DType::Float16, {7}},   {DType::Int64, {4, 1}},
            {DType::Int32, {3, 2, 2}}, {DType::Int16, {5}},    {DType::Int8, {9}},      {DType::UInt64, {2}},
            {DType::UInt32, {1, 3}},  {DType::UInt16, {0, 4}}, {DType::UInt8, {16, 16}}, {DType::Bool, {2, 5}},
        };
        for (const auto &[dtype, shape] : cases) {
            Tensor t(shape, dtype);
            auto *b = static_cast<unsigned char *>(t.raw());
            for (size_t i = 0; i < t.byteSize(); ++i)
                b[i] = dtype == DType::Bool ? (i * 7) % 3 == 0 : static_cast<unsigned char>(i * 37 + 11);
            const Tensor back = decodeNpy(encodeNpy(t), "round-trip.npy");
            QCOMPARE(back.dtype(), dtype);
            QCOMPARE(back.shape(), shape);
            QCOMPARE(hexOf(back), hexOf(t));
            const std::string p = path("round-trip.npy");
            writeNpy(p, t);
            QCOMPARE(hexOf(readNpy(p)), hexOf(t));
        }
    }
};

QTEST_GUILESS_MAIN(NpyReaderTest)
#include "npy_reader_test.moc"
