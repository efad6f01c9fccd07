// SPDX-License-Identifier: Apache-2.0
// Encrypted MindSpore files (../shared/formats/mindspore-ckpt.md section 7): MindSpore 1.7's
// encrypted MindIR fixture opens with its key (the 12-byte-IV quirk) and shows its plaintext
// twin's graph; a missing key, a wrong key, an altered block and a malformed block each get their
// own sentence, none holding the key; our AES-GCM/AES-CBC/SM4-CBC blocks are opened block by block
// by python3-cryptography (and its blocks by us); hostile block headers fail cleanly.
#include "core/error.h"
#include "formats/mindspore/ckpt_file.h"
#include "formats/mindspore/ms_encryption.h"
#include "formats/registry.h"
#include "support/error_of.h"

#include <QFile>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

#include <cstring>
#include <random>

using namespace netwright;
using namespace netwright::mindspore;
using netwright::testing::errorOf;

namespace {

const std::string kFixtureKey = "0123456789ABCDEF";

std::string fixture(const char *name)
{
    return qEnvironmentVariable("NETWRIGHT_SHARED_DIR").toStdString() + "/fixtures/mindir/" + name;
}

std::string readAll(const std::string &path)
{
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const QByteArray b = f.readAll();
    return std::string(b.constData(), static_cast<size_t>(b.size()));
}

void writeAll(const QString &path, const std::string &bytes)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    QCOMPARE(f.write(bytes.data(), static_cast<qint64>(bytes.size())), static_cast<qint64>(bytes.size()));
}

EncryptionKey key(const std::string &bytes, std::optional<EncMode> mode = std::nullopt)
{
    EncryptionKey k;
    k.bytes = bytes;
    k.mode = mode;
    return k;
}

std::string randomBytes(size_t n, unsigned seed)
{
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto &c : s)
        c = static_cast<char>(rng() & 0xff);
    return s;
}

// The parameter's name without MindSpore's per-export graph prefix ("3_1_construct_wrapper.3:x_" → "x_").
QString shortName(const std::string &name)
{
    const auto colon = name.rfind(':');
    return QString::fromStdString(colon == std::string::npos ? name : name.substr(colon + 1));
}

QString describeGraph(const ModelDescription &d)
{
    // Output names are the export's node numbers ("…:4:1"), which differ between the two exports.
    QString s = QStringLiteral("nodes %1:").arg(d.nodes.size());
    for (const auto &n : d.nodes)
        s += QStringLiteral(" %1(%2 in)").arg(QString::fromStdString(n.opType)).arg(n.inputs.size());
    auto values = [&](const char *what, const std::vector<ValueDescription> &list, bool names) {
        s += QStringLiteral("; %1 %2:").arg(what).arg(list.size());
        for (const auto &v : list) {
            s += " " + (names ? shortName(v.name) : QString()) + " " + QString::fromStdString(v.dtype) + " [";
            for (const int64_t x : v.shape)
                s += QString::number(x) + ",";
            s += "]";
        }
    };
    values("inputs", d.inputs, true);
    values("outputs", d.outputs, false);
    values("parameters", d.parameters, true);
    return s;
}

// Runs /usr/bin/python3 with `script`; returns its stdout, fails the test on an error.
QString python(const QString &script, const QStringList &args)
{
    QProcess p;
    p.start(QStringLiteral("/usr/bin/python3"), QStringList{QStringLiteral("-c"), script} + args);
    if (!p.waitForFinished(120000) || p.exitCode() != 0)
        return QStringLiteral("PYTHON FAILED: ") + QString::fromUtf8(p.readAllStandardError());
    return QString::fromUtf8(p.readAllStandardOutput()).trimmed();
}

// Python: walk MindSpore's blocks and decrypt each with python3-cryptography (AESGCM, or AES/SM4
// CBC with PKCS#7), written to argv[3]; prints the block count.
const QString kPythonDecrypt = QStringLiteral(R"(
import struct, sys
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives import padding
data = open(sys.argv[1], 'rb').read(); key = open(sys.argv[2], 'rb').read()
out = b''; at = 0; blocks = 0
while at < len(data):
    magic = struct.unpack_from('<I', data, at)[0]
    if magic == 0x7F3A5ED8:
        tag = data[at+4:at+20]; block_len, iv_len = struct.unpack_from('<ii', data, at+20)
        iv = data[at+28:at+28+iv_len]; (clen,) = struct.unpack_from('<i', data, at+28+iv_len)
        ct = data[at+32+iv_len:at+32+iv_len+clen]
        assert block_len == 4 + iv_len + 4 + clen
        out += AESGCM(key).decrypt(iv, ct + tag, None); at += 24 + block_len
    else:
        algo = algorithms.AES(key) if magic == 0x7F3A5ED9 else algorithms.SM4(key)
        block_len, iv_len = struct.unpack_from('<ii', data, at+4)
        iv = data[at+12:at+12+iv_len]; (clen,) = struct.unpack_from('<i', data, at+12+iv_len)
        ct = data[at+16+iv_len:at+16+iv_len+clen]
        d = Cipher(algo, modes.CBC(iv)).decryptor(); p = d.update(ct) + d.finalize()
        u = padding.PKCS7(128).unpadder(); out += u.update(p) + u.finalize(); at += 8 + block_len
    blocks += 1
open(sys.argv[3], 'wb').write(out)
print(blocks)
)");

// Python: encrypt argv[1] with argv[2] in MindSpore's layout (mode argv[4], pieces of argv[5] bytes) into argv[3].
const QString kPythonEncrypt = QStringLiteral(R"(
import os, struct, sys
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives import padding
plain = open(sys.argv[1], 'rb').read(); key = open(sys.argv[2], 'rb').read(); mode = sys.argv[4]; piece = int(sys.argv[5])
out = b''
for at in range(0, len(plain), piece):
    p = plain[at:at+piece]; iv = os.urandom(16)
    if mode == 'AES-GCM':
        sealed = AESGCM(key).encrypt(iv, p, None); ct, tag = sealed[:-16], sealed[-16:]
        out += struct.pack('<I', 0x7F3A5ED8) + tag + struct.pack('<ii', 4 + 16 + 4 + len(ct), 16) + iv + struct.pack('<i', len(ct)) + ct
    else:
        algo = algorithms.AES(key) if mode == 'AES-CBC' else algorithms.SM4(key)
        pd = padding.PKCS7(128).padder(); p = pd.update(p) + pd.finalize()
        e = Cipher(algo, modes.CBC(iv)).encryptor(); ct = e.update(p) + e.finalize()
        magic = 0x7F3A5ED9 if mode == 'AES-CBC' else 0x7F3A5EDA
        out += struct.pack('<Iii', magic, 4 + 16 + 4 + len(ct), 16) + iv + struct.pack('<i', len(ct)) + ct
open(sys.argv[3], 'wb').write(out)
)");

std::vector<CkptEntry> sampleEntries()
{
    std::vector<CkptEntry> entries;
    Tensor w(Shape{64, 33}, DType::Float32);
    std::mt19937 rng(3);
    std::normal_distribution<float> normal;
    for (int64_t i = 0; i < w.numel(); ++i)
        w.dataAs<float>()[i] = normal(rng);
    entries.push_back(StateEntry::ofTensor("conv1.weight", w));
    Tensor step(Shape{}, DType::Int64);
    step.dataAs<int64_t>()[0] = 42;
    entries.push_back(StateEntry::ofTensor("global_step", step));
    entries.push_back(StateEntry::ofString("netwright.data.task", "classification"));
    return entries;
}

} // namespace

class MsEncryptionTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

    QString path(const QString &n) const { return m_dir.filePath(n); }

private slots:
    void fixtureOpensWithItsKeyAsItsPlaintextTwin()
    {
        const std::string enc = fixture("ms_ut_add_encrpty_key_0123456789ABCDEF.mindir");
        const ModelDescription opened = describeFile(enc, key(kFixtureKey));
        const ModelDescription plain = describeFile(fixture("ms_ut_add_no_encrpty.mindir"));
        QCOMPARE(opened.format, plain.format);
        QVERIFY(!opened.nodes.empty());
        // The same graph: nodes with op types and input counts, inputs, outputs and parameters with
        // names (less the export's graph prefix), dtypes and shapes.
        QCOMPARE(describeGraph(opened), describeGraph(plain));
        qInfo("%s", qPrintable(describeGraph(opened)));
        bool noted = false;
        for (const auto &[k, v] : opened.properties)
            noted |= k == "encryption" && v == "AES-GCM, 1 block";
        QVERIFY(noted);
        // The blocks as MindSpore 1.7 wrote them: 16 IV bytes stored, the first 12 used.
        const EncryptedLayout l = encryptedLayout(readAll(enc), enc);
        QCOMPARE(l.blocks, int64_t(1));
        QVERIFY(l.mode == EncMode::AesGcm);
        // The key from a file with a trailing newline (echo 0123456789ABCDEF > key) works alike.
        writeAll(path("fixture.key"), kFixtureKey + "\n");
        QCOMPARE(describeGraph(describeFile(enc, readKeyFile(path("fixture.key").toStdString()))), describeGraph(plain));
    }

    void missingWrongAlteredAndMalformedEachSayWhat()
    {
        const std::string enc = fixture("ms_ut_add_encrpty_key_0123456789ABCDEF.mindir");
        const QString missing = errorOf([&] { describeFile(enc); });
        QVERIFY2(missing.contains("is an encrypted MindSpore MindIR file (AES-GCM, 1 block); a key is needed: give its key with --key-file FILE"),
                 qPrintable(missing));
        const QString wrong = errorOf([&] { describeFile(enc, key("FEDCBA9876543210")); });
        QVERIFY2(wrong.contains("the key does not open block 1 (the AES-GCM tag does not match); wrong key or altered file"), qPrintable(wrong));
        QVERIFY(!wrong.contains("FEDCBA9876543210")); // the right key's absence is checked below, less the fixture's name
        const QString length = errorOf([&] { describeFile(enc, key("short")); });
        QVERIFY2(length.contains("the key given is 5 bytes long; AES-GCM takes 16, 24 or 32 bytes") && !length.contains("short\""),
                 qPrintable(length));
        const QString mode = errorOf([&] { describeFile(enc, key(kFixtureKey, EncMode::AesCbc)); });
        QVERIFY2(mode.contains("it was written with AES-GCM, not the AES-CBC that was asked for"), qPrintable(mode));

        // One flipped byte: in the ciphertext, GCM's tag cannot tell a wrong key from an altered
        // single-block file (same sentence as the wrong key, with the right key); in a later block
        // of a file whose block 1 opens, it names the altered block; in a header, the malformed length.
        std::string bytes = readAll(enc);
        std::string flipped = bytes;
        flipped[100] = static_cast<char>(flipped[100] ^ 0x01);
        writeAll(path("flipped.mindir"), flipped);
        const QString altered = errorOf([&] { describeFile(path("flipped.mindir").toStdString(), key(kFixtureKey)); });
        QVERIFY2(altered.contains("the key does not open block 1") && altered.contains("altered file"), qPrintable(altered));
        std::string header = bytes;
        header[44] = static_cast<char>(header[44] ^ 0x01); // cipher_len 466 → 467
        writeAll(path("header.mindir"), header);
        const QString malformed = errorOf([&] { describeFile(path("header.mindir").toStdString(), key(kFixtureKey)); });
        QVERIFY2(malformed.contains("block 1 at byte 0 declares cipher_len 467, which does not match block_len 490"), qPrintable(malformed));

        const std::string plain = randomBytes(10000, 1);
        std::string multi = encryptMindspore(plain, key(kFixtureKey), 4096); // 3 blocks
        QCOMPARE(encryptedLayout(multi, "m.ckpt").blocks, int64_t(3));
        multi[multi.size() - 10] = static_cast<char>(multi[multi.size() - 10] ^ 0x80);
        const QString later = errorOf([&] { decryptMindspore(multi, key(kFixtureKey), "m.ckpt"); });
        QVERIFY2(later.contains("block 3 does not open (the AES-GCM tag does not match) although the key opened block 1; the file was altered or damaged"),
                 qPrintable(later));
        for (QString m : {missing, wrong, length, mode, altered, malformed, later}) {
            m.remove(QStringLiteral("ms_ut_add_encrpty_key_0123456789ABCDEF")); // the fixture's name holds its key
            QVERIFY2(!m.contains(QString::fromStdString(kFixtureKey)), qPrintable(m));
        }
        // Four distinct sentences: no key, a key that does not open block 1, an altered later block, a malformed header.
        QCOMPARE(QSet<QString>({missing.section(':', -1), wrong.section(':', -1), later.section(':', -1), malformed.section(':', -1)}).size(), 4);
    }

    void everyModeRoundTripsAndPythonOpensOurBlocks()
    {
        const std::string plain = randomBytes(70000, 2);
        writeAll(path("plain.bin"), plain);
        struct Case {
            EncMode mode;
            size_t keyBytes;
        };
        for (const Case c : {Case{EncMode::AesGcm, 16}, Case{EncMode::AesGcm, 24}, Case{EncMode::AesGcm, 32}, Case{EncMode::AesCbc, 16},
                             Case{EncMode::AesCbc, 32}, Case{EncMode::Sm4Cbc, 16}}) {
            const std::string k = randomBytes(c.keyBytes, static_cast<unsigned>(c.keyBytes) + static_cast<unsigned>(c.mode));
            const std::string what = encModeName(c.mode) + " with " + std::to_string(c.keyBytes) + "-byte key";
            const std::string sealed = encryptMindspore(plain, key(k, c.mode), 16384); // 5 blocks
            const uint32_t magic = c.mode == EncMode::AesGcm ? 0x7F3A5ED8 : c.mode == EncMode::AesCbc ? 0x7F3A5ED9 : 0x7F3A5EDA;
            uint32_t first = 0;
            std::memcpy(&first, sealed.data(), 4);
            QVERIFY2(first == magic, what.c_str());
            QCOMPARE(encryptedLayout(sealed, "x.ckpt").blocks, int64_t(5));
            QVERIFY2(decryptMindspore(sealed, key(k), "x.ckpt") == plain, what.c_str());
            // Two encryptions differ (a fresh random IV per block) and both decrypt.
            QVERIFY(encryptMindspore(plain, key(k, c.mode), 16384) != sealed);
            // python3-cryptography opens our blocks, and we open its.
            writeAll(path("k.bin"), k);
            writeAll(path("ours.enc"), sealed);
            QCOMPARE(python(kPythonDecrypt, {path("ours.enc"), path("k.bin"), path("ours.dec")}), QStringLiteral("5"));
            QVERIFY2(readAll(path("ours.dec").toStdString()) == plain, what.c_str());
            QCOMPARE(python(kPythonEncrypt, {path("plain.bin"), path("k.bin"), path("theirs.enc"), QString::fromStdString(encModeName(c.mode)),
                                             QStringLiteral("30000")}),
                     QString());
            QVERIFY2(decryptMindspore(readAll(path("theirs.enc").toStdString()), key(k), "theirs.ckpt") == plain, what.c_str());
            // A wrong key of the right length does not open block 1 (CBC: the padding is wrong, or,
            // by chance, right and then caught by the checkpoint parser).
            const QString wrong = errorOf([&] { decryptMindspore(sealed, key(randomBytes(c.keyBytes, 99)), "x.ckpt"); });
            if (c.mode == EncMode::AesGcm)
                QVERIFY2(wrong.contains("does not open block 1") && wrong.contains("wrong key or altered file"), qPrintable(wrong));
            else // CBC has no tag: block 1's padding may pass by chance (1 in 256), a later block's then fails
                QVERIFY2(wrong.contains("the key does not open block") && wrong.contains("wrong key or altered file"), qPrintable(wrong));
        }
        QVERIFY(errorOf([&] { encryptMindspore(plain, key(randomBytes(24, 1), EncMode::Sm4Cbc)); }).contains("SM4-CBC takes 16 bytes"));
    }

    void encryptedCheckpointOpensBlockByBlockInPython()
    {
        // One of OUR encrypted checkpoints (AES-GCM, several blocks), decrypted by python3-cryptography
        // block by block, is byte for byte the plaintext .ckpt we write for the same entries.
        const auto entries = sampleEntries();
        CkptWriteOptions options;
        options.key = key(randomBytes(32, 5));
        options.encryptPieceBytes = 3000;
        const std::string file = path("enc.ckpt").toStdString();
        writeCkpt(file, entries, options);
        writeAll(path("ckpt.key"), options.key.bytes);
        const std::string expected = encodeCkpt(entries);
        const QString blocks = python(kPythonDecrypt, {path("enc.ckpt"), path("ckpt.key"), path("enc.dec")});
        QCOMPARE(blocks, QString::number((expected.size() + 2999) / 3000));
        QVERIFY(readAll(path("enc.dec").toStdString()) == expected);
        const std::string bytes = readAll(file);
        QVERIFY(bytes.find("conv1.weight") == std::string::npos && bytes.find("global_step") == std::string::npos);
        // We read it back with the key; without it, the sentence says so.
        const CkptFile back = readCkpt(file, true, options.key);
        QCOMPARE(back.entries.size(), entries.size());
        QVERIFY(std::memcmp(back.entries[0].tensor.raw(), entries[0].tensor.raw(), entries[0].tensor.byteSize()) == 0);
        QCOMPARE(back.entries[2].text, std::string("classification"));
        const QString none = errorOf([&] { readCkpt(file); });
        QVERIFY2(none.contains("is an encrypted MindSpore checkpoint (AES-GCM, " + QString::number((expected.size() + 2999) / 3000)
                               + " blocks); a key is needed: give its key with --key-file FILE"),
                 qPrintable(none));
        options.crc = true;
        QVERIFY(errorOf([&] { writeCkpt(file, entries, options); }).contains("either encrypted or given a CRC trailer"));
    }

    void keyFiles()
    {
        writeAll(path("raw.key"), std::string("\x00\x01\x02\n\r\xff", 6) + randomBytes(10, 4)); // 16 raw bytes, a newline inside
        QCOMPARE(readKeyFile(path("raw.key").toStdString()).bytes.size(), size_t(16));
        writeAll(path("crlf.key"), "0123456789ABCDEF0123456789ABCDEF\r\n");
        QCOMPARE(readKeyFile(path("crlf.key").toStdString()).bytes, std::string("0123456789ABCDEF0123456789ABCDEF"));
        writeAll(path("odd.key"), "secret-of-20-bytes!!");
        const QString odd = errorOf([&] { readKeyFile(path("odd.key").toStdString()); });
        QVERIFY2(odd.contains("is 20 bytes long; AES-GCM takes 16, 24 or 32 bytes") && !odd.contains("secret"), qPrintable(odd));
        QVERIFY(errorOf([&] { readKeyFile(path("raw.key").toStdString(), "AES-XTS"); }).contains("AES-GCM, AES-CBC and SM4-CBC"));
        QVERIFY(readKeyFile(path("raw.key").toStdString(), "sm4-cbc").mode == EncMode::Sm4Cbc);
    }

    void hostileBlockHeadersFailCleanly()
    {
        const std::string sealed = encryptMindspore(randomBytes(5000, 7), key(kFixtureKey), 1000);
        // Every cut and every single-byte change of the header fields fails with an Error, never more.
        for (size_t n = 0; n < sealed.size(); n += 7) {
            const std::string cut = sealed.substr(0, n);
            if (n >= 4 && n % 1048 != 0) // a cut between blocks leaves whole blocks (48 + 1000 bytes each)
                QVERIFY(!errorOf([&] { decryptMindspore(cut, key(kFixtureKey), "cut.ckpt"); }).isEmpty());
        }
        for (size_t at = 0; at < 48; ++at)
            for (const unsigned char v : {0x00, 0x7f, 0x80, 0xff}) {
                std::string bad = sealed;
                bad[at] = static_cast<char>(v);
                if (bad == sealed)
                    continue;
                QVERIFY(!errorOf([&] { decryptMindspore(bad, key(kFixtureKey), "bad.ckpt"); }).isEmpty());
            }
        std::string huge = sealed;
        huge[20] = huge[21] = huge[22] = '\xff';
        huge[23] = '\x7f'; // block_len 2 GiB - 1
        QVERIFY(errorOf([&] { encryptedLayout(huge, "huge.ckpt"); }).contains("declares block_len 2147483647 but only"));
    }
};

QTEST_GUILESS_MAIN(MsEncryptionTest)
#include "ms_encryption_test.moc"
