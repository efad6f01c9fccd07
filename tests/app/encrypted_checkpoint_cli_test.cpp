// SPDX-License-Identifier: Apache-2.0
// Encrypted checkpoints as a user meets them: a short training run with checkpoint.enc_key_file
// writes checkpoints that start with MindSpore's AES-GCM magic, show no entry name in their bytes,
// cannot be read without the key, and decrypt to exactly the bytes of the same run unencrypted
// (same seed); config.json, the logs and the console never hold the key; resume of the encrypted
// run continues to the same final checkpoint; export --key-file writes an encrypted MindIR that
// inspect and convert open with the key. Uses 600 real Fashion-MNIST images.
#include "formats/mindspore/ckpt_file.h"
#include "formats/mindspore/ms_encryption.h"
#include "support/cli_support.h"
#include "support/fashion_run.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace netwright;
using netwright::test::contents;
using netwright::test::runNetwright;

namespace {

// Printable on purpose: a key that leaked as text into a log would be found by a plain search.
const QByteArray kKey = "Netwright-enc19-secret-key-32byt";

std::string bytesOf(const QString &path)
{
    const QByteArray b = contents(path);
    return std::string(b.constData(), static_cast<size_t>(b.size()));
}

} // namespace

class EncryptedCheckpointCliTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_console; // everything both trainings printed

    QString path(const QString &n) const { return m_dir.filePath(n); }
    mindspore::EncryptionKey key() const { return mindspore::readKeyFile(path("ckpt.key").toStdString()); }

private slots:
    void initTestCase()
    {
        QVERIFY(kKey.size() == 32);
        QFile k(path("ckpt.key"));
        QVERIFY(k.open(QIODevice::WriteOnly));
        k.write(kKey);
        k.close();
        const QString plain = test::writeFashionRunConfig(m_dir.path(), 600, 200, "mlp", R"("epochs": 2, "batch_size": 50, "threads": 2)",
                                                          R"("checkpoint": {"keep_checkpoint_max": 5})");
        QVERIFY(!plain.isEmpty());
        QByteArray json = contents(plain);
        json.replace(R"("keep_checkpoint_max": 5})", QStringLiteral(R"("keep_checkpoint_max": 5, "enc_key_file": "%1"})").arg(path("ckpt.key")).toUtf8());
        QFile enc(path("enc.json"));
        QVERIFY(enc.open(QIODevice::WriteOnly));
        enc.write(json);
        enc.close();
        QVERIFY(contents(path("enc.json")).contains("enc_key_file"));
        for (const auto &[config, out] : {std::pair{plain, QStringLiteral("plain")}, std::pair{path("enc.json"), QStringLiteral("enc")}}) {
            const auto r = runNetwright({"train", "--config", config, "--out", path(out)});
            QVERIFY2(r.exitCode == 0, qPrintable(r.err));
            m_console += r.out + r.err;
        }
    }

    void checkpointsAreEncryptedAndDecryptToThePlainRun()
    {
        const QStringList files = QDir(path("enc")).entryList({"*.ckpt"}, QDir::Files);
        QVERIFY(!files.isEmpty());
        QCOMPARE(QDir(path("plain")).entryList({"*.ckpt"}, QDir::Files), files);
        const auto k = key();
        for (const QString &name : files) {
            const std::string enc = bytesOf(path("enc/") + name), plain = bytesOf(path("plain/") + name);
            QVERIFY2(enc.substr(0, 4) == std::string("\xd8\x5e\x3a\x7f", 4), qPrintable(name));
            // No entry name of the plain checkpoint appears in the encrypted bytes.
            const auto entries = mindspore::decodeCkpt(plain, name.toStdString()).entries;
            QVERIFY(entries.size() > 5);
            for (const auto &e : entries)
                QVERIFY2(enc.find(e.name) == std::string::npos, qPrintable(name + ": " + QString::fromStdString(e.name)));
            // Decrypted, it is byte for byte the checkpoint of the same run unencrypted.
            QVERIFY2(mindspore::decryptMindspore(enc, k, name.toStdString()) == plain, qPrintable(name));
            QVERIFY(mindspore::readCkpt((path("enc/") + name).toStdString(), true, k).entries.size() == entries.size());
        }
        qInfo("%lld encrypted checkpoints, each decrypting to the plain run's bytes", static_cast<long long>(files.size()));

        // Without the key: inspect says what the file is and what to give.
        const auto bare = runNetwright({"inspect", path("enc/") + files.last()});
        QCOMPARE(bare.exitCode, 1);
        QVERIFY2(bare.err.contains("is an encrypted MindSpore checkpoint (AES-GCM, 1 block); a key is needed: give its key with --key-file FILE"),
                 qPrintable(bare.err));
        // With it: the same listing as the plain file, and the encryption named.
        const auto opened = runNetwright({"inspect", "--key-file", path("ckpt.key"), path("enc/") + files.last()});
        QVERIFY2(opened.exitCode == 0, qPrintable(opened.err));
        QVERIFY(opened.out.contains("encryption: AES-GCM, 1 block"));
        const auto plainListing = runNetwright({"inspect", path("plain/") + files.last()});
        auto body = [](QString listing) { // less the first line (path and size) and the encryption property
            return listing.section('\n', 1).remove(QStringLiteral("  encryption: AES-GCM, 1 block\n"));
        };
        QVERIFY(!body(plainListing.out).isEmpty());
        QCOMPARE(body(opened.out), body(plainListing.out));
        // A wrong key of the right length.
        QFile wrong(path("wrong.key"));
        QVERIFY(wrong.open(QIODevice::WriteOnly));
        wrong.write(QByteArray(32, 'x'));
        wrong.close();
        const auto refused = runNetwright({"inspect", "--key-file", path("wrong.key"), path("enc/") + files.last()});
        QCOMPARE(refused.exitCode, 1);
        QVERIFY2(refused.err.contains("the key does not open block 1 (the AES-GCM tag does not match); wrong key or altered file"),
                 qPrintable(refused.err));
    }

    void evalOpensTheRunWithItsConfigsKey()
    {
        const auto enc = runNetwright({"eval", path("enc")}), plain = runNetwright({"eval", path("plain")});
        QVERIFY2(enc.exitCode == 0 && plain.exitCode == 0, qPrintable(enc.err + plain.err));
        auto accuracy = [](const QString &out) {
            for (const QString &line : out.split('\n'))
                if (line.contains(QStringLiteral("accuracy")))
                    return line;
            return QString();
        };
        QVERIFY(!accuracy(enc.out).isEmpty());
        QCOMPARE(accuracy(enc.out), accuracy(plain.out));
        qInfo("%s", qPrintable(accuracy(enc.out)));
    }

    void theKeyIsNowhereButItsFile()
    {
        // config.json names the key's file; no file of the run and nothing printed holds the key.
        QVERIFY(contents(path("enc/config.json")).contains(path("ckpt.key").toUtf8()));
        const QByteArray hex = kKey.toHex();
        const QStringList runFiles = QDir(path("enc")).entryList(QDir::Files | QDir::Hidden);
        QVERIFY(runFiles.contains("config.json") && runFiles.contains("metrics.jsonl"));
        for (const QString &name : runFiles) {
            const QByteArray b = contents(path("enc/") + name);
            QVERIFY2(!b.contains(kKey) && !b.contains(hex) && !b.contains(kKey.toBase64()), qPrintable(name));
        }
        QVERIFY(!m_console.isEmpty());
        QVERIFY(!m_console.toUtf8().contains(kKey) && !m_console.toUtf8().contains(hex));
    }

    void exportWritesAnEncryptedMindirThatOpensWithTheKey()
    {
        // The run's own checkpoints open with the key its config names; --key-file encrypts the export.
        const auto onnx = runNetwright({"export", path("enc"), "-o", path("model.onnx")});
        QVERIFY2(onnx.exitCode == 0, qPrintable(onnx.err));
        const auto exported = runNetwright({"export", path("enc"), "--format", "mindir", "--key-file", path("ckpt.key"), "-o", path("model.mindir")});
        QVERIFY2(exported.exitCode == 0, qPrintable(exported.err));
        QVERIFY2(exported.out.contains("(encrypted, AES-GCM)"), qPrintable(exported.out));
        QVERIFY(contents(path("model.mindir")).startsWith(QByteArray("\xd8\x5e\x3a\x7f", 4)));
        const auto bare = runNetwright({"inspect", path("model.mindir")});
        QVERIFY2(bare.err.contains("is an encrypted MindSpore MindIR file (AES-GCM, 1 block); a key is needed"), qPrintable(bare.err));
        const auto opened = runNetwright({"inspect", "--key-file", path("ckpt.key"), path("model.mindir")});
        QVERIFY2(opened.exitCode == 0 && opened.out.contains("MindSpore MindIR") && opened.out.contains("encryption: AES-GCM, 1 block"),
                 qPrintable(opened.out + opened.err));
        // convert opens it with the key and writes ONNX, verified like every conversion.
        const auto converted = runNetwright({"convert", "--key-file", path("ckpt.key"), path("model.mindir"), path("back.onnx")});
        QVERIFY2(converted.exitCode == 0, qPrintable(converted.err));
        QVERIFY(converted.out.contains("Verified:"));
        const auto noKey = runNetwright({"convert", path("model.mindir"), path("nokey.onnx")});
        QCOMPARE(noKey.exitCode, 1);
        QVERIFY2(noKey.err.contains("a key is needed: give its key with --key-file FILE"), qPrintable(noKey.err));
        QVERIFY(!QFile::exists(path("nokey.onnx")));
    }

    void resumeOfTheEncryptedRunContinues()
    {
        // The epoch-2 checkpoints removed, resume restores epoch 1 from its encrypted file (the key
        // named in config.json) and writes them again: encrypted, and decrypting to the plain run's.
        QStringList removed;
        for (const QString &name : QDir(path("enc")).entryList({"*.ckpt"}, QDir::Files))
            if (name.contains("-2_")) {
                QVERIFY(QFile::remove(path("enc/") + name));
                removed << name;
            }
        QVERIFY(!removed.isEmpty());
        QVERIFY(!QDir(path("enc")).entryList({"*.ckpt"}, QDir::Files).isEmpty());
        const auto r = runNetwright({"resume", path("enc")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY2(!(r.out + r.err).toUtf8().contains(kKey), "resume printed the key");
        const auto k = key();
        for (const QString &name : removed) {
            const std::string enc = bytesOf(path("enc/") + name);
            QVERIFY2(enc.substr(0, 4) == std::string("\xd8\x5e\x3a\x7f", 4), qPrintable(name));
            QVERIFY2(mindspore::decryptMindspore(enc, k, name.toStdString()) == bytesOf(path("plain/") + name), qPrintable(name));
        }
        // Without its key file the run cannot resume, and says which file is missing.
        QVERIFY(QFile::rename(path("ckpt.key"), path("moved.key")));
        for (const QString &name : removed)
            QFile::remove(path("enc/") + name);
        const auto missing = runNetwright({"resume", path("enc")});
        QVERIFY(QFile::rename(path("moved.key"), path("ckpt.key")));
        QVERIFY(missing.exitCode != 0);
        QVERIFY2(missing.err.contains(path("ckpt.key")), qPrintable(missing.err));
    }
};

QTEST_GUILESS_MAIN(EncryptedCheckpointCliTest)
#include "encrypted_checkpoint_cli_test.moc"
