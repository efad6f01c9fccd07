// SPDX-License-Identifier: Apache-2.0
// Hostile input (DESIGN idea 4): every real fixture, truncated at many points and with bits
// flipped at random, goes through the registry and the readers. Each damaged file either still
// reads (a flip in tensor data) or fails with an Error that names the file — no crash, no hang,
// no other exception, no allocation beyond what the file can hold.
#include "core/error.h"
#include "formats/registry.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <random>

using namespace netwright;

class HostileFilesTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

    // Writes `bytes` under the fixture's name and reads it; returns false (with a message) when
    // the failure was not a clean Error naming the file.
    bool survives(const QString &name, const QByteArray &bytes, QString &problem)
    {
        const QString path = m_dir.filePath(name);
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
            return false;
        f.write(bytes);
        f.close();
        try {
            describeFile(path.toStdString());
            return true;
        } catch (const Error &e) {
            if (QString::fromUtf8(e.what()).contains(name))
                return true;
            problem = name + ": the error does not name the file: " + e.what();
        } catch (const std::exception &e) {
            problem = name + ": not a clean Error: " + e.what();
        }
        return false;
    }

private slots:
    void truncatedAndBitFlippedFixtures()
    {
        const QString fixtures = qEnvironmentVariable("NETWRIGHT_SHARED_DIR") + "/fixtures";
        QDirIterator it(fixtures, QDir::Files, QDirIterator::Subdirectories);
        std::mt19937_64 rng(20261124);
        int files = 0, variants = 0;
        QStringList problems;
        while (it.hasNext()) {
            const QString path = it.next();
            if (path.endsWith("README.md"))
                continue;
            QFile f(path);
            QVERIFY(f.open(QIODevice::ReadOnly));
            const QByteArray original = f.readAll();
            if (original.size() > 4 * 1024 * 1024)
                continue; // the multi-MiB files add time, not new structure
            ++files;
            const QString name = QFileInfo(path).fileName();
            // Truncations: the first bytes, the middle, one byte short.
            for (qsizetype cut : {qsizetype(0), qsizetype(1), qsizetype(7), qsizetype(64), original.size() / 3, original.size() / 2,
                                  original.size() - 1}) {
                if (cut < 0 || cut >= original.size())
                    continue;
                QString problem;
                if (!survives(name, original.left(cut), problem))
                    problems << problem + QStringLiteral(" (truncated to %1 bytes)").arg(cut);
                ++variants;
            }
            // Bit flips: 24 variants of 1–8 flipped bits, biased towards the headers.
            for (int v = 0; v < 24; ++v) {
                QByteArray b = original;
                const int flips = 1 + static_cast<int>(rng() % 8);
                for (int k = 0; k < flips; ++k) {
                    const qsizetype span = v % 2 ? std::min<qsizetype>(b.size(), 256) : b.size();
                    const qsizetype at = static_cast<qsizetype>(rng() % static_cast<uint64_t>(span));
                    b[at] = static_cast<char>(b[at] ^ (1 << (rng() % 8)));
                }
                QString problem;
                if (!survives(name, b, problem))
                    problems << problem + QStringLiteral(" (bit-flip variant %1)").arg(v);
                ++variants;
            }
        }
        qInfo("%d fixtures, %d damaged variants read", files, variants);
        QVERIFY(files >= 25);
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join("\n")));
    }
};

QTEST_GUILESS_MAIN(HostileFilesTest)
#include "hostile_files_test.moc"
