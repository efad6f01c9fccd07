// SPDX-License-Identifier: Apache-2.0
// Hostile input (DESIGN idea 4): every real fixture, truncated at many points, with bits flipped
// at random, and behind an absurd length prefix, goes through the registry and the readers. Each
// damaged file either still reads (a flip in tensor data) or fails with an Error that names the
// file — no crash, no hang, no other exception. Then `netwright inspect` runs on every variant
// with its address space capped at 256 MiB plus eight times the file's size (no allocation
// beyond what the file can hold): it exits 0 where the reader succeeded, else 1 with the
// reader's message, which names the file and the problem, on stderr.
#include "core/error.h"
#include "formats/registry.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <QProcess>

#include <random>
#include <sys/resource.h>

using namespace netwright;

// Under AddressSanitizer (the sanitize preset) the in-process reading is what is checked: ASan
// reserves terabytes of address space, so the capped `netwright inspect` runs belong to the
// release build, where the same test runs them.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

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

    // `netwright inspect` on the file just written: the exit status and message the reader's
    // outcome calls for, within the memory cap.
    bool inspectAgrees(const QString &name, qsizetype size, QString &problem)
    {
        if (kSanitized)
            return true;
        const QString path = m_dir.filePath(name);
        QString expected;
        try {
            describeFile(path.toStdString());
        } catch (const Error &e) {
            expected = QString::fromUtf8(e.what());
        }
        QProcess p;
        const rlim_t cap = (rlim_t(256) << 20) + rlim_t(8) * static_cast<rlim_t>(size);
        p.setChildProcessModifier([cap] {
            const rlimit limit{cap, cap};
            setrlimit(RLIMIT_AS, &limit);
        });
        p.start(qEnvironmentVariable("NETWRIGHT_BINARY"), {"inspect", path});
        if (!p.waitForFinished(60000)) {
            problem = name + ": netwright inspect did not finish in 60 s";
            p.kill();
            return false;
        }
        const QString err = QString::fromUtf8(p.readAllStandardError());
        if (p.exitStatus() != QProcess::NormalExit) {
            problem = name + ": netwright inspect crashed: " + err.left(300);
            return false;
        }
        if (expected.isEmpty() ? p.exitCode() != 0 : (p.exitCode() != 1 || !err.contains(expected) || !err.contains(name))) {
            problem = name + QStringLiteral(": netwright inspect exited %1 with \"%2\"; expected %3").arg(p.exitCode()).arg(err.trimmed().left(300),
                                                                                                          expected.isEmpty() ? "success" : expected);
            return false;
        }
        ++m_inspected;
        m_refused += expected.isEmpty() ? 0 : 1;
        return true;
    }

    int m_inspected = 0, m_refused = 0;

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
                if (!survives(name, original.left(cut), problem) || !inspectAgrees(name, cut, problem))
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
                if (!survives(name, b, problem) || !inspectAgrees(name, b.size(), problem))
                    problems << problem + QStringLiteral(" (bit-flip variant %1)").arg(v);
                ++variants;
            }
            // Absurd lengths: a length-delimited field claiming 4 GiB before the real bytes, and
            // the file's own first length prefix (for formats that start with one) set to 2^31.
            const QByteArray huge = QByteArray::fromHex("0a8080808010") + original;
            QByteArray inflated = original;
            if (inflated.size() > 8)
                inflated.replace(1, 4, QByteArray::fromHex("80808080"));
            for (const QByteArray &b : {huge, inflated}) {
                QString problem;
                if (!survives(name, b, problem) || !inspectAgrees(name, b.size(), problem))
                    problems << problem + QStringLiteral(" (absurd length)");
                ++variants;
            }
        }
        if (kSanitized)
            qInfo("sanitizer build: netwright inspect runs are left to the release build");
        qInfo("%d fixtures, %d damaged variants read; netwright inspect ran on %d of them: %d refused with the reader's message, "
              "the others listed",
              files, variants, m_inspected, m_inspected > 0 ? m_refused : 0);
        QVERIFY(files >= 25);
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join("\n")));
    }
};

QTEST_GUILESS_MAIN(HostileFilesTest)
#include "hostile_files_test.moc"
