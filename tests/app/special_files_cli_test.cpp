// SPDX-License-Identifier: Apache-2.0
// `netwright inspect` on what is not a model file, as a user may hand it: a directory, a FIFO, a
// device, a symlink loop, gigabytes of zeros (refused from a bounded prefix, at once and in little
// memory), and truncated ONNX, MindIR, graph.meta and CNTK files (named as such, with the byte
// and the field where the file ends). Nothing here blocks, and protobuf's own log stays quiet.
#include "support/cli_support.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>
#include <unistd.h>

using namespace netwright::test;

class SpecialFilesCliTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;

    QString path(const QString &name) const { return m_tmp.filePath(name); }
    static QString shared(const QString &relative) { return qEnvironmentVariable("NETWRIGHT_SHARED_DIR") + "/fixtures/" + relative; }

    // The first `percent` % of `source`, written to `name`.
    QString cut(const QString &source, const QString &name, int percent)
    {
        const QByteArray bytes = contents(source);
        QFile out(path(name));
        if (bytes.isEmpty() || !out.open(QIODevice::WriteOnly))
            return {};
        out.write(bytes.left(bytes.size() * percent / 100));
        return path(name);
    }

private slots:
    void nonFilesAreNamedAsWhatTheyAre_data()
    {
        QTest::addColumn<QString>("target");
        QTest::addColumn<QString>("said");
        QTest::newRow("directory") << "DIR" << "is a directory, not a file";
        QTest::newRow("fifo") << "FIFO" << "is a FIFO (named pipe), not a regular file";
        QTest::newRow("device") << "/dev/zero" << "is a character device, not a regular file";
        QTest::newRow("symlink loop") << "LOOP" << "is a symbolic link loop";
        QTest::newRow("missing") << "MISSING" << "does not exist";
    }
    void nonFilesAreNamedAsWhatTheyAre()
    {
        QFETCH(QString, target);
        QFETCH(QString, said);
        if (target == "DIR") {
            target = path("a-directory");
            QVERIFY(QDir().mkpath(target));
        } else if (target == "FIFO") {
            target = path("model.onnx");
            QFile::remove(target);
            QCOMPARE(::mkfifo(target.toLocal8Bit().constData(), 0600), 0);
        } else if (target == "LOOP") {
            target = path("loop-a");
            QFile::remove(target);
            QFile::remove(path("loop-b"));
            QCOMPARE(::symlink(path("loop-b").toLocal8Bit().constData(), target.toLocal8Bit().constData()), 0);
            QCOMPARE(::symlink(target.toLocal8Bit().constData(), path("loop-b").toLocal8Bit().constData()), 0);
        } else if (target == "MISSING") {
            target = path("no-such.onnx");
        }
        const RunResult r = runNetwright({"inspect", target}, 30000);
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains(target) && r.err.contains(said), qPrintable(r.err));
    }

    // 8 GiB of zeros (a sparse file): refused from its first bytes, quickly and in little memory.
    void gigabytesOfZerosAreRefusedAtOnce()
    {
        const QString zeros = path("zeros.ckpt");
        QFile f(zeros);
        QVERIFY(f.open(QIODevice::WriteOnly));
        QVERIFY(f.resize(qint64(8) << 30));
        f.close();
        QElapsedTimer clock;
        clock.start();
        QProcess p;
        p.start("/usr/bin/time", {"-f", "maxrss_kb=%M", binary(), "inspect", zeros});
        QVERIFY(p.waitForFinished(60000));
        const qint64 ms = clock.elapsed();
        const QString err = QString::fromUtf8(p.readAllStandardError());
        QCOMPARE(p.exitCode(), 1);
        QVERIFY2(err.contains(zeros) && err.contains("00 00 00 00"), qPrintable(err));
        const qint64 rssKb = err.section("maxrss_kb=", 1).trimmed().toLongLong();
        qInfo("inspect of 8 GiB of zeros: %lld ms, peak RSS %lld KiB", ms, rssKb);
        QVERIFY2(rssKb > 0 && rssKb < 200 * 1024, qPrintable(err)); // the program itself, not the file
        QVERIFY2(ms < 5000, qPrintable(QString::number(ms)));
    }

    // A file cut short is named by its format, with the byte and the field where it ends.
    void truncatedFilesSayWhereTheyEnd_data()
    {
        QTest::addColumn<QString>("source");
        QTest::addColumn<QString>("format");
        QTest::newRow("MindIR") << shared("mindir/ms_st_old_version_mindir_2.mindir") << "MindIR";
        QTest::newRow("graph.meta") << shared("mindspore-graph-meta/nolzhou_LeNet_checkpoint_lenet-graph.meta") << "graph.meta";
        QTest::newRow("CNTK") << shared("cntk-v2/pscntk_cifar10.model") << "CNTK v2";
        QTest::newRow("ONNX") << "/usr/share/libonnx-testdata/data/pytorch-operator/test_operator_conv/model.onnx" << "ONNX";
    }
    void truncatedFilesSayWhereTheyEnd()
    {
        QFETCH(QString, source);
        QFETCH(QString, format);
        const QString file = cut(source, "cut-" + QFileInfo(source).fileName(), 60);
        QVERIFY(!file.isEmpty());
        const RunResult r = runNetwright({"inspect", file}, 30000);
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains(file) && r.err.contains(format) && r.err.contains("the file ends at byte "
                                                                                   + QString::number(QFileInfo(file).size()) + " inside field"),
                 qPrintable(r.err));
        QVERIFY2(!r.err.contains("libprotobuf"), qPrintable(r.err));
    }
};

QTEST_GUILESS_MAIN(SpecialFilesCliTest)
#include "special_files_cli_test.moc"
