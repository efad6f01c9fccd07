// SPDX-License-Identifier: Apache-2.0
// What the CLI tests share: the netwright binary under test, a small real Fashion-MNIST split
// (the Debian package's first N images, as uncompressed IDX files) and whole-file reads.
#pragma once

#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QString>
#include <QFileInfo>
#include <QStringList>
#include <QThread>

#include <zlib.h>

namespace netwright::test {

inline QString binary()
{
    return QString::fromLocal8Bit(qgetenv("NETWRIGHT_BINARY"));
}

// What a run of the netwright binary printed and how it ended (-2: crashed, -1: timed out).
struct RunResult {
    int exitCode = -1;
    QString out, err;
};

inline RunResult runNetwrightWith(const QStringList &args, const QProcessEnvironment &env, int timeoutMs = 600000)
{
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(binary(), args);
    if (!p.waitForFinished(timeoutMs))
        return {};
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2, QString::fromUtf8(p.readAllStandardOutput()),
            QString::fromUtf8(p.readAllStandardError())};
}

inline RunResult runNetwright(const QStringList &args, int timeoutMs = 600000)
{
    return runNetwrightWith(args, QProcessEnvironment::systemEnvironment(), timeoutMs);
}

// A run with NETWRIGHT_CPU_LEVEL=level (an empty level: unset, the CPU's best level).
inline RunResult runNetwrightAtLevel(const QStringList &args, const QString &level, int timeoutMs = 600000)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    if (level.isEmpty())
        env.remove(QStringLiteral("NETWRIGHT_CPU_LEVEL"));
    else
        env.insert(QStringLiteral("NETWRIGHT_CPU_LEVEL"), level);
    return runNetwrightWith(args, env, timeoutMs);
}

// Runs tests/support/SCRIPT with Debian's /usr/bin/python3 (the tests' independent oracle: torch,
// numpy, onnx) on `args`, its stderr forwarded; true when it exits 0.
inline bool runSupportScript(const QString &script, const QStringList &args, int timeoutMs = 600000)
{
    QProcess py;
    py.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    py.start(QStringLiteral("/usr/bin/python3"), QStringList{qEnvironmentVariable("NETWRIGHT_SOURCE_DIR") + "/tests/support/" + script} + args);
    return py.waitForFinished(timeoutMs) && py.exitStatus() == QProcess::NormalExit && py.exitCode() == 0;
}

// The next command of a kill-and-resume loop on run directory `dir`: `resume dir`, or `train
// --config config --out dir` while dir has no config.json — a train killed before it wrote one
// left no run to resume (resume says so), and a user starts it again.
inline QStringList trainOrResume(const QString &config, const QString &dir)
{
    if (!QFileInfo::exists(dir + QStringLiteral("/config.json")))
        return {QStringLiteral("train"), QStringLiteral("--config"), config, QStringLiteral("--out"), dir};
    return {QStringLiteral("resume"), dir};
}

inline QByteArray contents(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// Waits until a running `netwright train` has logged at least `lines` records to its
// metrics.jsonl (one per step), the process has ended, or `timeoutMs` has passed; returns the
// number of records seen. Tests that signal a run mid-way wait on its progress rather than on a
// fixed time: a CI machine running other tests beside this one can be many times slower.
inline qsizetype waitForLoggedSteps(const QString &metrics, qsizetype lines, const QProcess &run, int timeoutMs = 240000)
{
    QElapsedTimer waited;
    waited.start();
    qsizetype seen = 0;
    while ((seen = contents(metrics).count('\n')) < lines && run.state() == QProcess::Running && waited.elapsed() < timeoutMs)
        QThread::msleep(10);
    return seen;
}

// The first n records of a Fashion-MNIST IDX file, written uncompressed.
inline bool sliceIdx(const QString &src, const QString &dst, int n, int header, int per)
{
    gzFile f = gzopen(src.toLocal8Bit().constData(), "rb");
    if (!f)
        return false;
    QByteArray b(header + n * per, '\0');
    const int got = gzread(f, b.data(), static_cast<unsigned>(b.size()));
    gzclose(f);
    b[4] = char((n >> 24) & 0xff);
    b[5] = char((n >> 16) & 0xff);
    b[6] = char((n >> 8) & 0xff);
    b[7] = char(n & 0xff);
    QFile out(dst);
    return got == b.size() && out.open(QIODevice::WriteOnly) && out.write(b) == b.size();
}

// Writes <dir>/ti, tl, vi, vl: `train` training and `test` test images with their labels, and
// returns the run-config "data" block that reads them.
inline QString fashionMnistSlice(const QString &dir, int train, int test)
{
    const QString fm = "/usr/share/datasets/fashion-mnist/";
    const bool ok = sliceIdx(fm + "train-images-idx3-ubyte.gz", dir + "/ti", train, 16, 784)
                    && sliceIdx(fm + "train-labels-idx1-ubyte.gz", dir + "/tl", train, 8, 1)
                    && sliceIdx(fm + "t10k-images-idx3-ubyte.gz", dir + "/vi", test, 16, 784)
                    && sliceIdx(fm + "t10k-labels-idx1-ubyte.gz", dir + "/vl", test, 8, 1);
    if (!ok)
        return {};
    return QStringLiteral(R"("data": {"dataset": "idx", "train_images": "%1", "train_labels": "%2", "test_images": "%3", "test_labels": "%4"})")
        .arg(dir + "/ti", dir + "/tl", dir + "/vi", dir + "/vl");
}

} // namespace netwright::test
